"""MIDI files written from converted tunes, read back with mido."""

from __future__ import annotations

from fractions import Fraction as F

import mido
import pytest

from musicgen.abc import Note, parse_tune
from musicgen.abc.model import TempoChange
from musicgen.midi import (
    TICKS_PER_QUARTER,
    beats_to_seconds,
    beats_to_ticks,
    key_number,
    remove_overlaps,
    write_midi,
)

TUNE = """X:7
T:The Test Jig
M:6/8
L:1/8
Q:3/8=80
K:Ador
A>B c (3ded z|
"""


def read_back(path):
    """Return the meta messages and the notes (pitch, start tick, end tick) of a MIDI file."""
    midi = mido.MidiFile(str(path))
    metas, programs, notes, starts = [], [], [], {}
    for track in midi.tracks:
        now = 0
        for message in track:
            now += message.time
            if message.is_meta:
                metas.append((now, message))
            elif message.type == "program_change":
                programs.append(message.program)
            elif message.type == "note_on" and message.velocity > 0:
                starts[message.note] = (now, message.velocity)
            elif message.type in ("note_on", "note_off"):
                start, velocity = starts.pop(message.note)
                notes.append((message.note, start, now, velocity))
    return midi, metas, programs, sorted(notes, key=lambda n: (n[1], n[0]))


def test_midi_round_trip(tmp_path):
    path = write_midi(parse_tune(TUNE), tmp_path / "jig.mid", program=73)
    midi, metas, programs, notes = read_back(path)
    assert midi.ticks_per_beat == TICKS_PER_QUARTER
    by_type = {message.type: message for _, message in metas}
    assert by_type["track_name"].name == "The Test Jig"
    # 3/8=80 is 120 quarter notes per minute: 500,000 microseconds per quarter.
    assert by_type["set_tempo"].tempo == 500_000
    assert (by_type["time_signature"].numerator, by_type["time_signature"].denominator) == (6, 8)
    assert by_type["key_signature"].key == "G"
    assert programs == [73]
    eighth = TICKS_PER_QUARTER // 2
    third = TICKS_PER_QUARTER // 3
    assert notes == [
        (69, 0, 3 * eighth // 2, 90),
        (71, 3 * eighth // 2, 2 * eighth, 90),
        (72, 2 * eighth, 3 * eighth, 90),
        (74, 3 * eighth, 3 * eighth + third, 90),
        (76, 3 * eighth + third, 3 * eighth + 2 * third, 90),
        (74, 3 * eighth + 2 * third, 5 * eighth, 90),
    ]


def test_write_refuses_to_overwrite(tmp_path):
    tune = parse_tune(TUNE)
    path = write_midi(tune, tmp_path / "jig.mid")
    with pytest.raises(FileExistsError, match="already exists"):
        write_midi(tune, path)
    write_midi(tune, path, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["jig.mid"]


def test_write_rejects_invalid_program(tmp_path):
    with pytest.raises(ValueError, match="program"):
        write_midi(parse_tune(TUNE), tmp_path / "jig.mid", program=128)
    assert not list(tmp_path.iterdir())


def test_ticks_are_exact_for_small_tuplets():
    for divisor in (3, 5, 7, 9, 32):
        assert F(beats_to_ticks(F(1, divisor)), TICKS_PER_QUARTER) == F(1, divisor)


def test_seconds_follow_tempo_changes():
    tempos = [TempoChange(F(0), 120.0), TempoChange(F(4), 60.0)]
    assert beats_to_seconds(F(2), tempos) == 1.0
    assert beats_to_seconds(F(6), tempos) == 4.0


def test_overlapping_notes_trim_the_earlier():
    notes = [Note(60, F(0), F(2)), Note(60, F(1), F(1)), Note(62, F(0), F(0)), Note(60, F(1), F(3))]
    assert remove_overlaps(notes) == [Note(60, F(0), F(1)), Note(60, F(1), F(3))]


def test_key_numbers():
    assert key_number(0, False) == 0
    assert key_number(1, True) == 12 + 4  # E minor
    assert key_number(-3, False) == 3  # E flat major


def test_minor_key_signature(tmp_path):
    tune = parse_tune("X:1\nT:t\nM:none\nK:Em\nE|")
    _, metas, _, _ = read_back(write_midi(tune, tmp_path / "t.mid"))
    assert next(m for _, m in metas if m.type == "key_signature").key == "Em"
