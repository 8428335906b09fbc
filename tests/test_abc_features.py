"""Features beyond plain notes, one small tune each under tests/data (ABC 2.1 sections named).

Times are quarter-note beats; notes are (MIDI pitch, onset, duration) as heard,
trills and rolls played out. The choices the standard leaves open are in
docs/converter.md.
"""

from __future__ import annotations

from fractions import Fraction as F
from pathlib import Path

import mido
import pytest

from musicgen.abc import Tune, parse_tune, parse_tunebook
from musicgen.abc.accompaniment import accompaniment_notes, beat_grid
from musicgen.abc.chords import parse_chord_symbol
from musicgen.abc.decorations import ACCENT_BOOST, FERMATA_FACTOR
from musicgen.abc.lyrics import split_syllables
from musicgen.abc.ornaments import played_notes
from musicgen.midi import write_midi

DATA = Path(__file__).parent / "data"


def tunes(file_name: str) -> list[Tune]:
    """Return the tunes of a test tunebook, converted in strict mode."""
    book = parse_tunebook((DATA / file_name).read_text(), strict=True, source=file_name)
    assert not book.errors, [str(error) for error in book.errors]
    return book.tunes


def heard(tune: Tune) -> list[tuple[int, F, F]]:
    return [(note.pitch, note.start, note.duration) for note in played_notes(tune.notes)]


def midi_messages(path: Path) -> list[list[tuple[int, mido.Message]]]:
    """Return each track's messages with their absolute tick."""
    tracks = []
    for track in mido.MidiFile(str(path)).tracks:
        now, messages = 0, []
        for message in track:
            now += message.time
            messages.append((now, message))
        tracks.append(messages)
    return tracks


# ABC 2.1 section 7.4: the notes after & start again at the bar line, and the
# bar ends where its first layer ends.
def test_voice_overlay_sounds_with_the_bar():
    (tune,) = tunes("overlay.abc")
    assert sorted(heard(tune)) == sorted([
        (72, F(0), F(1)), (74, F(1), F(1)), (76, F(2), F(1)), (77, F(3), F(1)),
        (60, F(0), F(2)), (55, F(2), F(2)), (79, F(4), F(4)),
    ])  # fmt: skip
    assert tune.duration == 8


# ABC 2.1 section 4.2: ^/ raises by half a semitone and _3/4 lowers by three
# quarters, here and in K:; the note keeps its natural pitch and bends.
def test_microtones_bend_the_pitch(tmp_path):
    (tune,) = tunes("microtones.abc")
    notes = [(n.pitch, n.bend) for n in tune.notes]
    assert notes == [(72, F(1, 2)), (74, F(-3, 4)), (77, F(1, 2)), (77, 0), (77, F(1, 2)), (72, 0)]
    tracks = midi_messages(write_midi(tune, tmp_path / "micro.mid"))
    bends = [(tick, m.pitch) for tick, m in tracks[1] if m.type == "pitchwheel"]
    # mido counts bends from 0; 4096 is a semitone with the default range of 2.
    assert bends == [(0, 2048), (10080, -3072), (20160, 2048), (30240, 0), (40320, 2048),
                     (50400, 0)]  # fmt: skip


# ABC 2.1 section 4.14: a fermata makes its note, and the music, wait twice as
# long; an accent adds ACCENT_BOOST to the velocity.
def test_fermata_lengthens_and_accents_raise_velocity():
    (tune,) = tunes("fermata_accents.abc")
    assert FERMATA_FACTOR == 2
    assert ACCENT_BOOST == 20
    assert [(n.pitch, n.start, n.duration, n.velocity) for n in tune.notes] == [
        (72, 0, 2, 90), (74, 2, 1, 90), (76, 3, 2, 90), (77, 5, 1, 90),
        (72, 6, 1, 110), (74, 7, 1, 110), (76, 8, 1, 110), (77, 9, 1, 90),
    ]  # fmt: skip


# ABC 2.1 section 4.14 leaves ornaments to the player. Here: a roll on a note
# of three units is note, upper, note, lower, note; a trill alternates the
# upper note and the note in pieces of 1/8 beat at 120 per minute; a roll on
# a shorter note is a cut; mordents and turns are not played.
def test_ornaments_follow_the_documented_rule():
    (tune,) = tunes("ornaments.abc")
    trill = [(74 if i % 2 == 0 else 72, F(3, 2) + F(i, 8), F(1, 8)) for i in range(8)]
    assert heard(tune) == [
        (72, F(0), F(1, 2)), (74, F(1, 2), F(1, 8)), (72, F(5, 8), F(3, 8)),
        (71, F(1), F(1, 8)), (72, F(9, 8), F(3, 8)), *trill,
        (72, F(5, 2), F(1, 2)), (74, F(3), F(1, 2)), (76, F(7, 2), F(1, 2)),
        (72, F(4), F(1, 8)), (71, F(33, 8), F(3, 8)),
    ]  # fmt: skip
    # The tune's notes stay the written ones; the ornament rides on its note.
    assert [n.ornament.kind for n in tune.notes if n.ornament] == ["roll", "trill", "roll"]


# ABC 2.1 section 5.1: a syllable per note, "-" inside words, "*" skips a note,
# "_" holds one over the next; tied continuations take none; the second w:
# line is the second pass through the repeat.
def test_lyrics_become_syllables_per_pass(tmp_path):
    (tune,) = tunes("lyrics.abc")
    assert [(lyric.time, lyric.text) for lyric in tune.lyrics] == [
        (0, "Twin-"), (1, "kle"), (2, "lit-"), (5, "tle"), (7, "star"),
        (8, "How"), (9, "I"), (10, "won"), (14, "der"),
    ]  # fmt: skip
    tracks = midi_messages(write_midi(tune, tmp_path / "lyrics.mid"))
    lyrics = [(tick // 10080, m.text) for tick, m in tracks[1] if m.type == "lyrics"]
    assert lyrics[:3] == [(0, "Twin-"), (1, "kle"), (2, "lit-")]


def test_lyric_symbols():
    # A hyphen after a space or another hyphen is a syllable of its own: a note without words.
    assert split_syllables("a-b c~d e\\-f * g_ | h--i -") == [
        "a-", "b", "c d", "e-f", "*", "g", "*", "|", "h-", "*", "i", "*",
    ]  # fmt: skip


def test_lyrics_repeat_the_last_verse_and_skip_to_the_bar():
    tune = parse_tune("X:1\nL:1/4\nK:C\n|: c d | e f :|\nw: la | li\n", strict=True)
    assert [(lyric.time, lyric.text) for lyric in tune.lyrics] == [
        (0, "la"), (2, "li"), (4, "la"), (6, "li"),
    ]  # fmt: skip


# ABC 2.1 section 4.18: chord symbols never sound in the tune's own notes.
def test_chord_symbols_are_silent_without_accompaniment(tmp_path):
    first, _ = tunes("chord_symbols.abc")
    assert [note.pitch for note in first.notes] == [67, 69, 71, 72, 71]
    assert [(c.time, c.text) for c in first.chord_symbols] == [(0, "G"), (2, "D7"), (4, "Em")]
    assert len(midi_messages(write_midi(first, tmp_path / "plain.mid"))) == 2


def test_accompaniment_in_four_four():
    first, _ = tunes("chord_symbols.abc")
    hits = [(n.pitch, n.start, n.duration) for n in accompaniment_notes(first, 1)]
    assert hits == [
        (43, 0, 1),  # G: bass on beat 1
        (43, 1, 1), (47, 1, 1), (50, 1, 1),  # G chord on beat 2
        (45, 2, 1),  # D7 from beat 3: the bass plays its fifth, A
        (50, 3, 1), (54, 3, 1), (57, 3, 1), (60, 3, 1),  # D7 chord on beat 4
        (40, 4, 1), (52, 5, 1), (55, 5, 1), (59, 5, 1),  # Em bar
        (47, 6, 1), (52, 7, 1), (55, 7, 1), (59, 7, 1),
    ]  # fmt: skip


def test_accompaniment_in_six_eight_with_pickup():
    _, second = tunes("chord_symbols.abc")
    assert beat_grid((6, 8)) == (2, F(3, 2))
    hits = [(n.pitch, n.start, n.duration) for n in accompaniment_notes(second, 1)]
    # The pickup has no chord; each dotted beat plays bass then chord; N.C. is silent.
    assert hits == [
        (38, F(1, 2), F(3, 2)), (45, 2, F(3, 2)), (49, 2, F(3, 2)), (52, 2, F(3, 2)),
        (38, F(7, 2), F(3, 2)),
    ]  # fmt: skip


def test_accompaniment_track_has_its_own_channel(tmp_path):
    first, _ = tunes("chord_symbols.abc")
    tracks = midi_messages(write_midi(first, tmp_path / "band.mid", accompaniment=True))
    channels = [{m.channel for _, m in track if m.type == "note_on"} for track in tracks[1:]]
    assert channels == [{0}, {1}]
    names = [m.name for track in tracks for _, m in track if m.type == "track_name"]
    assert names == ["Chords in 4/4 (1)", "Chords in 4/4 (accompaniment)"]


@pytest.mark.parametrize(
    ("text", "root", "intervals", "bass"),
    [("Am7", 9, (0, 3, 7, 10), 9), ("G/B", 7, (0, 4, 7), 11), ("F#m", 6, (0, 3, 7), 6),
     ("Bbmaj7", 10, (0, 4, 7, 11), 10), ("D(Em)", 2, (0, 4, 7), 2), ("Cdim", 0, (0, 3, 6), 0)],
)  # fmt: skip
def test_chord_symbols_read(text, root, intervals, bass):
    chord = parse_chord_symbol(text)
    assert chord is not None
    assert (chord.root, chord.intervals, chord.bass) == (root, intervals, bass)


@pytest.mark.parametrize("text", ["4", "Fine", "D.C.", "segue", "N.C."])
def test_text_that_is_no_chord(text):
    assert parse_chord_symbol(text) is None


# abc2midi's %%MIDI channel: each voice on the channel asked for (1-16);
# others take the lowest free channel, never the percussion channel 10.
def test_midi_channel_directive(tmp_path):
    (tune,) = tunes("midi_channels.abc")
    assert [voice.channel for voice in tune.voices] == [2, 9, None]
    tracks = midi_messages(write_midi(tune, tmp_path / "channels.mid"))
    channels = [{m.channel for _, m in track if m.type == "note_on"} for track in tracks[1:]]
    assert channels == [{2}, {9}, {0}]


# ABC 2.1 sections 4.11 and 4.14: a tie holds through a staccato mark on the
# note tied onward; a staccato on the last note of a tie halves that note.
def test_tied_staccato():
    (tune,) = tunes("tied_staccato.abc")
    assert heard(tune) == [
        (72, F(0), F(2)), (74, F(2), F(1)), (72, F(3), F(1)),
        (72, F(4), F(3, 2)), (74, F(6), F(2)),
    ]  # fmt: skip


def test_tunebook_converts_good_tunes_and_lists_bad_ones():
    book = parse_tunebook((DATA / "tunebook_mixed.abc").read_text(), source="mixed.abc")
    assert [tune.title for tune in book.tunes] == ["Good one", "Bad length", "Good two"]
    assert [(error.tune, type(error).__name__) for error in book.errors] == [
        ("2", "MissingFieldError"), ("4", "EmptyTuneError"),
    ]  # fmt: skip
    strict = parse_tunebook((DATA / "tunebook_mixed.abc").read_text(), strict=True)
    assert [tune.title for tune in strict.tunes] == ["Good one", "Good two"]
    assert [error.tune for error in strict.errors] == ["2", "3", "4"]
