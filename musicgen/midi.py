"""Write converted ABC tunes as standard MIDI files with pretty_midi.

Times stay exact fractions of a quarter note until the small functions at the
top of this module turn them into ticks and seconds. The resolution of 10,080
ticks per quarter note (2^5 * 3^2 * 5 * 7) puts every tuplet up to 9 and every
note down to 1/128 on an exact tick.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import pretty_midi

from musicgen.abc.model import KeyChange, MeterChange, Note, TempoChange, Tune

logger = logging.getLogger(__name__)

TICKS_PER_QUARTER = 10080
DEFAULT_PROGRAM = 0  # General MIDI acoustic grand piano


def beats_to_ticks(beats: Fraction) -> int:
    """Return the MIDI tick of a time in quarter-note beats, rounded to the nearest tick."""
    return round(beats * TICKS_PER_QUARTER)


def beats_to_seconds(beats: Fraction, tempos: list[TempoChange]) -> float:
    """Return the seconds from the start of the tune to ``beats`` under a tempo map.

    Args:
        beats: A time in quarter-note beats.
        tempos: Tempo changes sorted by time; the first one is at time 0.

    Returns:
        The time in seconds; 120 quarter notes per minute when ``tempos`` is empty.
    """
    seconds = 0.0
    previous_time, qpm = Fraction(0), 120.0
    for change in tempos:
        if change.time >= beats:
            break
        seconds += float(change.time - previous_time) * 60.0 / qpm
        previous_time, qpm = change.time, change.qpm
    return seconds + float(beats - previous_time) * 60.0 / qpm


def remove_overlaps(notes: Iterable[Note]) -> list[Note]:
    """Return the notes with no zero-length notes and no overlaps of one pitch in a voice.

    When two notes of the same pitch and voice overlap, the earlier one is cut
    at the start of the later one. Of two starting together, the longer stays.
    """
    result: list[Note] = []
    latest: dict[tuple[int, int], int] = {}
    for note in sorted(notes, key=lambda n: (n.start, n.duration)):
        if note.duration <= 0:
            continue
        key = (note.voice, note.pitch)
        index = latest.get(key)
        if index is not None and result[index].end > note.start:
            earlier = result[index]
            result[index] = Note(
                earlier.pitch,
                earlier.start,
                note.start - earlier.start,
                earlier.velocity,
                earlier.voice,
            )
        latest[key] = len(result)
        result.append(note)
    return [note for note in result if note.duration > 0]


def key_number(sharps: int, is_minor: bool) -> int:
    """Return pretty_midi's key number (0-11 major, 12-23 minor) for a signature."""
    major_tonic = (7 * sharps) % 12
    return (major_tonic + 9) % 12 + 12 if is_minor else major_tonic


def _set_tempo_map(midi: pretty_midi.PrettyMIDI, tempos: list[TempoChange]) -> None:
    """Store every tempo change in ``midi``.

    pretty_midi has no public call to add tempo changes, so this sets its
    tick scales, as its own MIDI reader does.
    """
    # NOTE: uses pretty_midi 0.2.10 internals (_tick_scales, _update_tick_to_time),
    # which build an array of one float per tick up to the last tempo change.
    scales = [(beats_to_ticks(t.time), 60.0 / (t.qpm * TICKS_PER_QUARTER)) for t in tempos]
    midi._tick_scales = scales
    midi._update_tick_to_time(scales[-1][0] + 1)


def _time_signatures(meters: list[MeterChange], tempos: list[TempoChange]) -> list:
    return [
        pretty_midi.TimeSignature(m.meter[0], m.meter[1], beats_to_seconds(m.time, tempos))
        for m in meters
        if m.meter is not None
    ]


def _key_signatures(keys: list[KeyChange], tempos: list[TempoChange]) -> list:
    return [
        pretty_midi.KeySignature(key_number(k.sharps, k.is_minor), beats_to_seconds(k.time, tempos))
        for k in keys
    ]


def _instruments(tune: Tune, program: int, tempos: list[TempoChange]) -> list:
    instruments = []
    for index, voice in enumerate(tune.voices):
        name = tune.title or f"X:{tune.reference}"
        if len(tune.voices) > 1:
            name = f"{name} ({voice.name})"
        chosen = voice.program if voice.program is not None else program
        instrument = pretty_midi.Instrument(program=chosen, name=name)
        for note in remove_overlaps(n for n in tune.notes if n.voice == index):
            start = beats_to_seconds(note.start, tempos)
            end = beats_to_seconds(note.end, tempos)
            instrument.notes.append(pretty_midi.Note(note.velocity, note.pitch, start, end))
        instruments.append(instrument)
    return instruments


def tune_to_midi(tune: Tune, *, program: int = DEFAULT_PROGRAM) -> pretty_midi.PrettyMIDI:
    """Build a MIDI file in memory for a converted tune.

    Args:
        tune: The tune.
        program: The General MIDI program (0-127) for voices without ``%%MIDI program``.

    Returns:
        One instrument per voice, named after the tune title, with the tempo,
        time signature and key signature changes, at 10,080 ticks per quarter.

    Raises:
        ValueError: ``program`` is outside 0 to 127.
    """
    if not 0 <= program <= 127:
        raise ValueError(f"invalid MIDI program {program}: use 0 to 127")
    tempos = tune.tempo_changes or [TempoChange(Fraction(0), tune.tempo_qpm)]
    midi = pretty_midi.PrettyMIDI(resolution=TICKS_PER_QUARTER, initial_tempo=tempos[0].qpm)
    if len(tempos) > 1:
        _set_tempo_map(midi, tempos)
    meters = tune.meter_changes or [MeterChange(Fraction(0), tune.meter)]
    keys = tune.key_changes or [KeyChange(Fraction(0), tune.key_sharps, tune.key_is_minor)]
    midi.time_signature_changes.extend(_time_signatures(meters, tempos))
    midi.key_signature_changes.extend(_key_signatures(keys, tempos))
    midi.instruments.extend(_instruments(tune, program, tempos))
    return midi


def write_midi(
    tune: Tune, path: Path, *, program: int = DEFAULT_PROGRAM, overwrite: bool = False
) -> Path:
    """Write a tune as a MIDI file, atomically.

    The file is written to a temporary file in the same folder and then moved
    into place, so ``path`` never contains a half-written file.

    Args:
        tune: The tune.
        path: The ``.mid`` file to write; its folder must exist.
        program: The General MIDI program, 0-127.
        overwrite: Replace ``path`` if it exists.

    Returns:
        ``path``.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
        ValueError: ``program`` is outside 0 to 127.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it")
    midi = tune_to_midi(tune, program=program)
    handle, temporary = tempfile.mkstemp(suffix=".mid.tmp", dir=path.parent or Path("."))
    os.close(handle)
    try:
        midi.write(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    logger.debug("wrote %s", path)
    return path
