"""Notes of one small tune per feature, as the ABC 2.1 standard defines them.

Each case names the section of the ABC 2.1 standard it checks. Expected notes
are (MIDI pitch, onset, duration), times in quarter-note beats.
"""

from __future__ import annotations

from fractions import Fraction as F
from pathlib import Path

import pytest

from musicgen.abc import parse_tunebook
from musicgen.abc.ornaments import played_notes

DATA = Path(__file__).parent / "data"


def played(file_name: str, tune_index: int = 0) -> list[tuple[int, F, F]]:
    """Return the notes heard in one tune of a test tunebook, converted in strict mode."""
    path = DATA / file_name
    book = parse_tunebook(path.read_text(), strict=True, source=path.name)
    assert not book.errors, [str(error) for error in book.errors]
    tune = book.tunes[tune_index]
    return [(note.pitch, note.start, note.duration) for note in played_notes(tune.notes)]


def sequence(pitches: list[int], length: F, start: F = F(0)) -> list[tuple[int, F, F]]:
    """Return notes of one length played one after another."""
    return [(pitch, start + index * length, length) for index, pitch in enumerate(pitches)]


CASES = [
    # ABC 2.1 section 4.3: lengths multiply and divide the unit length.
    ("lengths.abc", 0, [
        (69, F(0), F(1)), (69, F(1), F(1, 4)), (69, F(5, 4), F(1, 8)),
        (69, F(11, 8), F(3, 4)), (69, F(17, 8), F(3, 4)), (69, F(23, 8), F(1, 2)),
    ]),
    # ABC 2.1 section 4.1: C is middle C, lower case an octave up, ' up and , down.
    ("octaves.abc", 0, sequence([48, 60, 72, 84, 48, 47], F(1))),
    # ABC 2.1 section 4.2: accidentals hold to the end of the bar, in all octaves.
    ("accidentals.abc", 0, sequence([73, 73, 85, 72, 70, 70, 71, 69, 67, 67], F(1))),
    # ABC 2.1 section 3.1.14: explicit accidentals change the key signature.
    ("key_accidentals.abc", 0, sequence([72, 78, 80, 74], F(1))),
    # ABC 2.1 section 4.5: z and x rest, Z rests whole bars, y takes no time.
    ("rests.abc", 0, [
        (72, F(0), F(1, 2)), (72, F(3, 2), F(1, 2)), (72, F(8), F(1, 2)),
        (72, F(17, 2), F(1, 2)), (72, F(9), F(1, 2)),
    ]),
    # ABC 2.1 section 4.4: > gives 3/2 and 1/2, >> gives 7/4 and 1/4.
    ("broken_rhythm.abc", 0, [
        (72, F(0), F(3, 4)), (74, F(3, 4), F(1, 4)), (72, F(1), F(1, 4)),
        (74, F(5, 4), F(3, 4)), (72, F(2), F(7, 8)), (74, F(23, 8), F(1, 8)),
        (72, F(3), F(1)),
    ]),
    # ABC 2.1 section 4.11: ties join notes, across bars, keeping the accidental.
    ("ties.abc", 0, [
        (72, F(0), F(3)), (73, F(3), F(2)), (74, F(5), F(1)),
        (60, F(6), F(2)), (64, F(6), F(2)),
    ]),
    # ABC 2.1 section 4.13: (3 is 3 in 2, (2 is 2 in 3, (4 is 4 in 3.
    ("tuplets.abc", 0, [
        *sequence([72, 74, 76], F(1, 3)),
        *sequence([72, 74], F(3, 4), F(1)),
        *sequence([72, 74, 76, 77], F(3, 8), F(5, 2)),
    ]),
    # ABC 2.1 section 4.13: (5 is 5 in the time of 3 in compound meter.
    ("tuplets.abc", 1, [
        *sequence([72, 74, 76, 77, 79], F(3, 10)),
        *sequence([72, 74, 76], F(1, 3), F(3, 2)),
    ]),
    # ABC 2.1 section 4.17: inner and outer lengths multiply; accidentals apply.
    ("chords.abc", 0, [
        (60, F(0), F(1)), (64, F(0), F(1)), (67, F(0), F(1)),
        (60, F(1), F(1, 2)), (64, F(1), F(1, 2)),
        (60, F(3, 2), F(3, 4)), (64, F(3, 2), F(3, 4)),
        (62, F(9, 4), F(1, 4)), (65, F(9, 4), F(1, 4)),
        (54, F(5, 2), F(1)), (57, F(5, 2), F(1)), (66, F(7, 2), F(1, 2)),
    ]),
    # ABC 2.1 section 4.12: grace notes take their time from the next note;
    # each lasts a quarter of the unit length.
    ("grace_notes.abc", 0, [
        (79, F(0), F(1, 8)), (72, F(1, 8), F(7, 8)),
        (81, F(1), F(1, 8)), (79, F(9, 8), F(1, 8)), (76, F(5, 4), F(7, 4)),
        (77, F(3), F(1, 8)), (74, F(25, 8), F(7, 8)),
    ]),
    # ABC 2.1 sections 4.14 and 4.18: decorations and chord symbols are never
    # notes; the staccato dot halves the sound and keeps the slot, a fermata
    # doubles its note, a roll on a short note is a cut from the note above,
    # and a trill alternates the note above and the note, here at 120
    # quarter notes per minute in pieces of 1/8 beat.
    ("decorations.abc", 0, [
        (72, F(0), F(1, 2)),
        (76, F(1), F(1, 4)), (74, F(5, 4), F(3, 4)),
        (72, F(2), F(2)), (76, F(4), F(1)),
        *[(79 if i % 2 == 0 else 77, F(5) + F(i, 8), F(1, 8)) for i in range(8)],
        (79, F(6), F(2)), (81, F(8), F(1)), (83, F(9), F(1)),
        *[(74 if i % 2 == 0 else 72, F(10) + F(i, 8), F(1, 8)) for i in range(8)],
        *sequence([72, 72, 74], F(1), F(11)),
    ]),
    # ABC 2.1 sections 4.8 and 4.9: repeats and first and second endings.
    ("repeats.abc", 0, sequence([72, 74, 72, 74, 76, 77, 76, 79], F(1))),
    # ABC 2.1 section 3.1.7: without L:, 2/4 gives 1/16 and 3/4 gives 1/8.
    ("unit_length.abc", 0, [(72, F(0), F(1)), (72, F(1), F(1, 4))]),
    ("unit_length.abc", 1, [(72, F(0), F(2)), (72, F(2), F(1, 2))]),
    # ABC 2.1 section 2.2.2: file header fields apply to every tune.
    ("file_header.abc", 0, [(72, F(0), F(1)), (78, F(1), F(1))]),
    ("file_header.abc", 1, [(72, F(0), F(1, 2)), (77, F(1, 2), F(1, 2))]),
    # ABC 2.1 sections 3 and 5: comments, directives, continuations, lyrics
    # and other text fields are skipped.
    ("skipped_text.abc", 0, sequence([72, 74, 76, 77, 79, 81], F(1))),
]  # fmt: skip


@pytest.mark.parametrize(
    ("file_name", "tune_index", "expected"),
    CASES,
    ids=[f"{name}-{index}" for name, index, _ in CASES],
)
def test_feature_notes(file_name, tune_index, expected):
    assert played(file_name, tune_index) == sorted(expected, key=lambda n: (n[1], n[0]))


def test_file_header_tempo_and_meter():
    book = parse_tunebook((DATA / "file_header.abc").read_text(), strict=True)
    first, second = book.tunes
    assert first.meter == (6, 8)
    assert first.tempo_qpm == 90
    assert first.unit_length == F(1, 4)
    assert second.unit_length == F(1, 8)
    # Q:3/8=50 is 50 dotted quarters, 75 quarters, per minute.
    assert second.tempo_qpm == 75
