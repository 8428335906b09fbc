"""Each known failure of abc2midi, note-seq and music21, played as ABC 2.1 says.

Notes are (MIDI pitch, onset, duration) as heard, times in quarter-note beats.
Where abc2midi is installed, its failures are also checked to still happen,
so that each case keeps testing a real difference.
"""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction as F
from pathlib import Path

import mido
import pytest

from musicgen.abc import parse_tune
from musicgen.abc.oracle import abc2midi_path, compare, run_abc2midi, tune_ticks
from musicgen.abc.ornaments import played_notes
from musicgen.midi import TICKS_PER_QUARTER, write_midi

ROOT = Path(__file__).resolve().parent.parent


def heard(header: str, body: str) -> list[tuple[int, F, F]]:
    tune = parse_tune(f"X:1\n{header}\nK:C\n{body}\n", strict=True)
    return [(n.pitch, n.start, n.duration) for n in played_notes(tune.notes)]


def seq(pitches: list[int], length: F = F(1), start: F = F(0)) -> list[tuple[int, F, F]]:
    return [(pitch, start + index * length, length) for index, pitch in enumerate(pitches)]


C, D, E, F_, G, A, B, c, d, e, f = 60, 62, 64, 65, 67, 69, 71, 72, 74, 76, 77

# (failure as the notes describe it, header, body, the notes by ABC 2.1)
ABC2MIDI = [
    ("|:: ::| plays twice (4.8)", "L:1/4", "|:: C ::| D", seq([C, C, C, D])),
    (".B>c not dotted (4.4)", "L:1/8", ".B>c d2",
     [(B, F(0), F(3, 8)), (c, F(3, 4), F(1, 4)), (d, F(1), F(1))]),
    ("a tie at the end of a first ending swallows the second (4.11)", "L:1/4",
     "|: C |1 E2- :|2 E2 ||", [(C, 0, 1), (E, 1, 2), (C, 3, 1), (E, 4, 2)]),
    (":| after || jumps back to the older |: (4.8)", "L:1/4", "|: C |1 D :|2 E || F :| G",
     seq([C, D, C, E, F_, F_, G])),
    ("a mid-tune K: ... exp keeps old sharps (3.1.14)", "L:1/4", "[K:D] f [K:D exp _b] f b",
     seq([78, f, 82])),
    ("!staccato! ignored (4.14)", "L:1/4", "!staccato!c d", [(c, 0, F(1, 2)), (d, 1, 1)]),
]  # fmt: skip

NOTE_SEQ = [
    ("rests rejected (4.5)", "L:1/4", "z c x c", [(c, 1, 1), (c, 3, 1)]),
    ("chords rejected (4.17)", "L:1/4", "[CEG] c", [(C, 0, 1), (E, 0, 1), (G, 0, 1), (c, 1, 1)]),
    ("tuplets rejected (4.13)", "L:1/4", "(3cde f", [*seq([c, d, e], F(2, 3)), (f, 2, 1)]),
    ("grace notes rejected (4.12)", "L:1/4", "{g}a", [(79, 0, F(1, 4)), (81, F(1, 4), F(3, 4))]),
    ("variant endings rejected (4.9)", "L:1/4", "|: c |1 d :|2 e ||", seq([c, d, c, e])),
    ("parts rejected (3.1.11)", "L:1/4\nP:BA", "P:A\nc|\nP:B\nd|", seq([d, c])),
    ("voices rejected (7)", "L:1/4", "[V:1] c d [V:2] C D",
     [(c, 0, 1), (C, 0, 1), (d, 1, 1), (D, 1, 1)]),
    ("^^ rejected (4.2)", "L:1/4", "^^f", [(79, 0, 1)]),
    ("K:none rejected (3.1.14)", "L:1/4", "[K:none] f c", seq([f, c])),
    ("a>>b gives 1.25 + 0.75 (4.4)", "L:1/8", "c>>d c2",
     [(c, F(0), F(7, 8)), (d, F(7, 8), F(1, 8)), (c, F(1), F(1))]),
    ("ties not merged (4.11)", "L:1/4", "c2- c | d", [(c, 0, 3), (d, 3, 1)]),
]  # fmt: skip

MUSIC21 = [
    ("x and Z rests dropped (4.5)", "M:4/4\nL:1/4", "c x c Z2 | c",
     [(c, 0, 1), (c, 2, 1), (c, 11, 1)]),
    ("notes after H dropped (4.14)", "L:1/4", "Hc d", [(c, 0, 2), (d, 2, 1)]),
    ("inline [K:] and [L:] dropped (3.2)", "L:1/4", "f [K:D] f [L:1/8] f f",
     [(f, 0, 1), (78, 1, 1), (78, 2, F(1, 2)), (78, F(5, 2), F(1, 2))]),
    ("P: order dropped (3.1.11)", "L:1/4\nP:BAB", "P:A\nc|\nP:B\nd|", seq([d, c, d])),
    ("key modifiers dropped (3.1.14)", "L:1/4", "[K:D =c] c f", seq([c, 78])),
    ("clef=bass plays two octaves low (4.6)", "L:1/4", "[K:C clef=bass] C, c", seq([48, c])),
    ("inline voices played one after another (7)", "L:1/4", "[V:1] c d [V:2] C D",
     [(c, 0, 1), (C, 0, 1), (d, 1, 1), (D, 1, 1)]),
    ("bar accidentals carry only with %abc-2.1 (4.2)", "L:1/4", "^c c | c", seq([73, 73, c])),
    ("third endings lost (4.9)", "L:1/4", "|: c |1 d :|2 e :|3 f ||", seq([c, d, c, e, c, f])),
]  # fmt: skip

CASES = [("abc2midi", *case) for case in ABC2MIDI] + [("note-seq", *case) for case in NOTE_SEQ]
CASES += [("music21", *case) for case in MUSIC21]


@pytest.mark.parametrize(
    ("converter", "failure", "header", "body", "expected"),
    CASES,
    ids=[f"{converter}: {failure}" for converter, failure, *_ in CASES],
)
def test_converter_plays_what_others_get_wrong(converter, failure, header, body, expected):
    assert heard(header, body) == expected


@pytest.mark.skipif(abc2midi_path() is None, reason="abc2midi is not installed")
@pytest.mark.parametrize(
    ("failure", "header", "body", "expected"), ABC2MIDI, ids=[case[0] for case in ABC2MIDI]
)
def test_abc2midi_still_fails(failure, header, body, expected):
    text = f"X:1\n{header}\nK:C\n{body}\n"
    assert not compare(tune_ticks(parse_tune(text)), run_abc2midi(text)).identical


def test_summed_beat_tempo_is_read():
    # abc2midi rejects Q:1/4 1/8=40; the beat is 3/8, so 60 quarter notes per minute.
    assert parse_tune("X:1\nQ:1/4 1/8=40\nK:C\nc|\n", strict=True).tempo_qpm == 60


def test_tenuto_keeps_and_accent_raises():
    # abc2midi ignores !tenuto! and accents; the note keeps its length, the accent sounds louder.
    tune = parse_tune("X:1\nL:1/4\nK:C\n!tenuto!c Ld c\n", strict=True)
    assert [(n.duration, n.velocity) for n in tune.notes] == [(1, 90), (1, 110), (1, 90)]


def test_file_header_fields_apply():
    # abc2midi ignores fields above the first X:; ABC 2.1 section 2.2.2 applies them.
    tune = parse_tune("M:6/8\nL:1/4\n\nX:1\nK:G\nc f|\n", strict=True)
    assert (tune.meter, tune.unit_length) == ((6, 8), F(1, 4))
    assert [n.pitch for n in tune.notes] == [c, 78]


def test_failed_conversion_exits_non_zero(tmp_path):
    # abc2midi exits with status 0 even when it reports errors.
    book = tmp_path / "bad.abc"
    book.write_text("X:1\nT:no key\ncde|\n")
    completed = subprocess.run(
        [sys.executable, "-m", "musicgen", "convert", str(book), "-o", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 1
    assert "failed tunes:" in completed.stdout and "no K:" in completed.stdout


def test_midi_defaults(tmp_path):
    # abc2midi writes 480 ticks per quarter, starts every note a tick late, staggers
    # chord notes by 10 ticks and accents beats 105/95/80. Here: 10,080 ticks, on
    # time, chords together, every note at the velocity of its dynamics (mf = 90).
    tune = parse_tune("X:1\nL:1/4\nK:C\n[CEG] c d e|\n", strict=True)
    midi = mido.MidiFile(str(write_midi(tune, tmp_path / "t.mid")))
    assert midi.ticks_per_beat == TICKS_PER_QUARTER
    now, onsets = 0, []
    for message in midi.tracks[1]:
        now += message.time
        if message.type == "note_on" and message.velocity:
            onsets.append((now, message.velocity))
    assert onsets == [(0, 90), (0, 90), (0, 90), (10080, 90), (20160, 90), (30240, 90)]


def test_every_oneills_tune_converts_to_midi():
    # Some O'Neill's tunes crash music21's MIDI export.
    music21 = pytest.importorskip("music21")
    from musicgen.abc import parse_tunebook
    from musicgen.midi import midi_bytes

    folder = Path(music21.__file__).parent / "corpus" / "oneills1850"
    books = sorted(folder.glob("*.abc"))
    if not books:
        pytest.skip("music21 corpus not found")
    count = 0
    for path in books:
        book = parse_tunebook(path.read_text(encoding="utf-8"), source=path.name)
        assert not book.errors, [str(error) for error in book.errors]
        for tune in book.tunes:
            assert midi_bytes(tune).startswith(b"MThd")
            count += 1
    assert count == 2009
