"""Fields changed in the body, accidental scopes, dynamics, decorations and voices."""

from __future__ import annotations

from fractions import Fraction as F

import mido

from musicgen.abc import parse_tune
from musicgen.midi import write_midi


def notes_of(text: str, strict: bool = True):
    return parse_tune(text, strict=strict).notes


def test_inline_key_glued_to_bar_line():
    # ABC 2.1 section 3.2: [K:G] inline, here right after a bar line.
    notes = notes_of("X:1\nL:1/4\nK:C\nf|[K:G]f|[K:F]b [L:1/8]b [M:3/4]b|\n")
    assert [n.pitch for n in notes] == [77, 78, 82, 82, 82]
    assert notes[-1].duration == F(1, 2)


def test_body_key_line_replaces_signature():
    notes = notes_of("X:1\nL:1/4\nK:D\nf c|\nK:F\nf c b|\n")
    assert [n.pitch for n in notes] == [78, 73, 77, 72, 82]


def test_mid_tune_exp_key_drops_old_sharps():
    # abc2midi 4.84 keeps the old sharps after a mid-tune "exp" key.
    notes = notes_of("X:1\nL:1/4\nK:D\nf c|[K:D exp _b]f c b|\n")
    assert [n.pitch for n in notes] == [78, 73, 77, 72, 82]


def test_key_and_meter_changes_recorded():
    tune = parse_tune("X:1\nM:3/4\nL:1/4\nK:G\nabc|[M:2/4][K:Dm]ab|\n", strict=True)
    assert [(c.time, c.meter) for c in tune.meter_changes] == [(0, (3, 4)), (3, (2, 4))]
    assert [(c.time, c.sharps, c.is_minor) for c in tune.key_changes] == [
        (0, 1, False), (3, -1, True),
    ]  # fmt: skip


# ABC 2.1 section 11.3: %%propagate-accidentals.
def test_propagate_accidentals_modes():
    body = "^c c c' | c|"
    expected = {"pitch": [73, 73, 85, 72], "octave": [73, 73, 84, 72], "not": [73, 72, 84, 72]}
    for mode, pitches in expected.items():
        text = f"X:1\nL:1/4\n%%propagate-accidentals {mode}\nK:C\n{body}\n"
        assert [n.pitch for n in notes_of(text)] == pitches, mode


def test_accidental_in_chord_carries_through_bar():
    assert [n.pitch for n in notes_of("X:1\nL:1/4\nK:C\n[^ce] c | c|\n")] == [73, 76, 73, 72]


# ABC 2.1 section 4.14: dynamics set the velocity of the notes after them.
def test_dynamics_velocities():
    marks = ["pppp", "ppp", "pp", "p", "mp", "mf", "f", "ff", "fff", "ffff"]
    body = " ".join(f"!{mark}!c" for mark in marks) + " c"
    velocities = [n.velocity for n in notes_of(f"X:1\nK:C\n{body}|\n")]
    assert velocities == [30, 30, 45, 60, 75, 90, 105, 120, 127, 127, 127]


def test_default_velocity_is_mf():
    assert {n.velocity for n in notes_of("X:1\nK:C\ncde|\n")} == {90}


def test_staccato_keeps_the_slot():
    # abc2midi 4.84 plays !staccato! at full length.
    notes = notes_of("X:1\nL:1/4\nK:C\n!staccato!c .d e|\n")
    assert [(n.start, n.duration) for n in notes] == [(0, F(1, 2)), (1, F(1, 2)), (2, 1)]


def test_user_defined_symbol_is_a_decoration():
    # ABC 2.1 section 4.16: U: makes a letter a decoration, never a note.
    notes = notes_of("X:1\nL:1/4\nU:W=!p!\nU:T=!upbow!\nK:C\nWc Tc|\nU:h=!f!\nhc|\n")
    assert [(n.pitch, n.velocity) for n in notes] == [(72, 60), (72, 60), (72, 105)]


# ABC 2.1 section 7: each voice is laid out from the start of the tune.
VOICES = """X:1
T:Two voices
L:1/4
K:G
V:1
%%MIDI program 40
GA|Bc|
V:2 clef=bass
G,A,|[V:2]B,C|
V:1
de|
"""


def test_voices_play_in_parallel():
    tune = parse_tune(VOICES, strict=True)
    assert [v.name for v in tune.voices] == ["1", "2"]
    upper = [(n.pitch, n.start) for n in tune.notes if n.voice == 0]
    lower = [(n.pitch, n.start) for n in tune.notes if n.voice == 1]
    assert upper == [(67, 0), (69, 1), (71, 2), (72, 3), (74, 4), (76, 5)]
    assert lower == [(55, 0), (57, 1), (59, 2), (60, 3)]


def test_voices_become_tracks(tmp_path):
    path = write_midi(parse_tune(VOICES), tmp_path / "voices.mid", program=0)
    midi = mido.MidiFile(str(path))
    names = [m.name for t in midi.tracks for m in t if m.type == "track_name"]
    programs = [m.program for t in midi.tracks for m in t if m.type == "program_change"]
    assert names == ["Two voices (1)", "Two voices (2)"]
    assert programs == [40, 0]


def test_voice_transpose_changes_pitch():
    notes = notes_of("X:1\nL:1/4\nK:C\nV:1 transpose=-12\nc|\nV:2 octave=1\nc|\n")
    assert [n.pitch for n in notes] == [60, 84]


def test_header_midi_program(tmp_path):
    tune = parse_tune("X:1\n%%MIDI program 71\nK:C\nc|\n")
    assert tune.voices[0].program == 71


def test_tempo_changes_written_to_midi(tmp_path):
    tune = parse_tune("X:1\nL:1/4\nQ:1/4=120\nK:C\nc d [Q:1/4=60] e|\n", strict=True)
    midi = mido.MidiFile(str(write_midi(tune, tmp_path / "t.mid")))
    tempos, now = [], 0
    for message in midi.tracks[0]:
        now += message.time
        if message.type == "set_tempo":
            tempos.append((now, message.tempo))
    assert tempos == [(0, 500_000), (2 * 10080, 1_000_000)]
    notes, now = [], 0
    for message in midi.tracks[1]:
        now += message.time
        if message.type == "note_on" and message.velocity:
            notes.append(now)
    assert notes == [0, 10080, 20160]


def test_midi_transpose_directive():
    # abc2midi's %%MIDI transpose, in the header and in the body; a later K: keeps it.
    notes = notes_of("X:1\nL:1/4\n%%MIDI transpose -12\nK:C\nc|\n%%MIDI transpose 2\nc|\nK:G\nc|\n")
    assert [n.pitch for n in notes] == [60, 74, 74]


def test_midi_nobarlines_keeps_accidentals_local():
    notes = notes_of("X:1\nL:1/4\n%%MIDI nobarlines\nK:C\n^c c c\n")
    assert [n.pitch for n in notes] == [73, 72, 72]
