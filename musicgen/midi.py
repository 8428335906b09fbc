"""Write converted ABC tunes as standard MIDI files.

Times stay exact fractions of a quarter note until the small functions at the
top of this module turn them into ticks and seconds. The resolution of 10,080
ticks per quarter note (2^5 * 3^2 * 5 * 7) puts every tuplet up to 9 and every
note down to 1/128 on an exact tick.

A file is type 1: a first track with the tempo, time signature and key
signature changes, then one track per voice with its name, program, notes
(trills and rolls played out), microtone pitch bends and lyrics, each voice
on its own MIDI channel (the one ``%%MIDI channel`` asks for, else the lowest
free one, never the percussion channel 10). With ``accompaniment=True`` a
last track plays the chord symbols (see :mod:`musicgen.abc.accompaniment`).
The bytes are written here directly: pretty_midi picks channels itself, and
building mido messages one by one costs more time than converting the tune.
"""

from __future__ import annotations

import io
import logging
import struct
from collections.abc import Iterable
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from musicgen.abc.accompaniment import accompaniment_notes
from musicgen.abc.model import KeyChange, Lyric, MeterChange, Note, TempoChange, Tune, Voice
from musicgen.abc.ornaments import played_notes
from musicgen.abc.ticks import TICKS_PER_BEAT
from musicgen.files import write_bytes_atomic

if TYPE_CHECKING:
    import pretty_midi

logger = logging.getLogger(__name__)

TICKS_PER_QUARTER = 10080
DEFAULT_PROGRAM = 0  # General MIDI acoustic grand piano
ACCOMPANIMENT_PROGRAM = 24  # General MIDI nylon-string guitar
PERCUSSION_CHANNEL = 9  # channel 10 as musicians count
# A pitch bend of 8192 means no bend, and the default bend range is 2 semitones each way.
BEND_CENTER = 8192
BEND_PER_SEMITONE = 4096

# One MIDI event: (tick, order at that tick, bytes). Note-offs sort first.
_Event = tuple[int, int, bytes]
_OFF, _META, _BEND, _ON = 0, 1, 2, 3


def beats_to_ticks(beats: Fraction) -> int:
    """Return the MIDI tick of a time in quarter-note beats, rounded to the nearest tick."""
    # Integer arithmetic on the fraction's parts: many times faster than Fraction's.
    numerator, denominator = beats.numerator * TICKS_PER_QUARTER, beats.denominator
    return (2 * numerator + denominator) // (2 * denominator)


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
                earlier.bend,
            )
        latest[key] = len(result)
        result.append(note)
    return [note for note in result if note.duration > 0]


def key_number(sharps: int, is_minor: bool) -> int:
    """Return pretty_midi's key number (0-11 major, 12-23 minor) for a signature."""
    major_tonic = (7 * sharps) % 12
    return (major_tonic + 9) % 12 + 12 if is_minor else major_tonic


# Converter ticks per MIDI tick, an even number, so that adding half of it
# before dividing rounds to the nearest MIDI tick.
_PER_MIDI_TICK = TICKS_PER_BEAT // TICKS_PER_QUARTER
_HALF_MIDI_TICK = _PER_MIDI_TICK // 2


def _midi_tick(ticks: int) -> int:
    """Return the MIDI tick of a time in the converter's ticks, rounded to the nearest."""
    return (ticks + _HALF_MIDI_TICK) // _PER_MIDI_TICK


def bend_value(semitones: Fraction) -> int:
    """Return the 14-bit MIDI pitch bend (8192 means no bend) for a bend in semitones."""
    if not semitones:
        return BEND_CENTER
    return max(0, min(16383, BEND_CENTER + round(semitones * BEND_PER_SEMITONE)))


@lru_cache(maxsize=4096)
def _variable_length(value: int) -> bytes:
    """Encode a MIDI variable-length quantity."""
    encoded = bytearray([value & 0x7F])
    value >>= 7
    while value:
        encoded.insert(0, (value & 0x7F) | 0x80)
        value >>= 7
    return bytes(encoded)


# Most time steps between events fit in one byte.
_SMALL_DELTAS = [bytes([delta]) for delta in range(0x80)]


def _meta(kind: int, data: bytes) -> bytes:
    return bytes([0xFF, kind]) + _variable_length(len(data)) + data


def _text(text: str) -> bytes:
    return text.encode("latin-1", errors="replace")


def _track(events: list[_Event]) -> bytes:
    """Return a track chunk for ``events``, ended by an end-of-track event."""
    events.sort()
    parts: list[bytes] = []
    now = 0
    for tick, _, data in events:
        delta = tick - now
        parts.append(_SMALL_DELTAS[delta] if delta < 0x80 else _variable_length(delta))
        parts.append(data)
        now = tick
    parts.append(b"\x00\xff\x2f\x00")
    body = b"".join(parts)
    return b"MTrk" + struct.pack(">I", len(body)) + body


def _conductor_events(tune: Tune) -> list[_Event]:
    tempos = tune.tempo_changes or [TempoChange(Fraction(0), tune.tempo_qpm)]
    meters = tune.meter_changes or [MeterChange(Fraction(0), tune.meter)]
    keys = tune.key_changes or [KeyChange(Fraction(0), tune.key_sharps, tune.key_is_minor)]
    events: list[_Event] = []
    for tempo in tempos:
        microseconds = min(0xFFFFFF, max(1, round(60_000_000 / tempo.qpm)))
        data = microseconds.to_bytes(3, "big")
        events.append((beats_to_ticks(tempo.time), _META, _meta(0x51, data)))
    for meter in meters:
        if meter.meter is None or meter.meter[1] & (meter.meter[1] - 1) or meter.meter[0] > 255:
            continue  # M:none, or a denominator MIDI cannot write
        power = meter.meter[1].bit_length() - 1
        data = bytes([meter.meter[0], power, 24, 8])
        events.append((beats_to_ticks(meter.time), _META, _meta(0x58, data)))
    for key in keys:
        data = struct.pack(">bB", max(-7, min(7, key.sharps)), int(key.is_minor))
        events.append((beats_to_ticks(key.time), _META, _meta(0x59, data)))
    return events


# A note in MIDI ticks: (start, end, pitch, velocity, bend value).
_TickNote = tuple[int, int, int, int, int]


def _tick_notes(notes: Iterable[Note]) -> list[_TickNote]:
    """Return notes in MIDI ticks, sorted, without empty notes or overlaps of one pitch.

    As :func:`remove_overlaps`, in ticks: the earlier of two overlapping notes
    of one pitch is cut where the later one starts.
    """
    ticked: list[_TickNote] = []
    append = ticked.append
    for note in notes:
        # The converter's own ticks ride along on the notes it makes (see playback).
        exact = note.__dict__.get("ticks")
        if exact is not None:
            onset, length = exact
            start = (onset + _HALF_MIDI_TICK) // _PER_MIDI_TICK
            end = (onset + length + _HALF_MIDI_TICK) // _PER_MIDI_TICK
        else:
            start = beats_to_ticks(note.start)
            end = start + beats_to_ticks(note.duration)
        bend = note.bend
        value = bend_value(bend) if bend else BEND_CENTER
        append((start, end, note.pitch, note.velocity, value))
    ticked.sort()
    result: list[_TickNote] = []
    latest: dict[int, int] = {}
    for item in ticked:
        start, end, pitch = item[0], item[1], item[2]
        if end <= start:
            continue
        index = latest.get(pitch)
        if index is not None and result[index][1] > start:
            earlier = result[index]
            result[index] = (earlier[0], start, *earlier[2:])
        latest[pitch] = len(result)
        result.append(item)
    return [item for item in result if item[1] > item[0]]


class _ChannelMessages(dict[int, bytes]):
    """The bytes of 3-byte channel messages, keyed by the message read as a big-endian int.

    Most messages of a corpus repeat (the same note on and off, again and
    again), so each is built once and then looked up.
    """

    def __missing__(self, message: int) -> bytes:
        data = self[message] = message.to_bytes(3, "big")
        return data


_MESSAGES = _ChannelMessages()


def _voice_events(
    name: str, program: int, channel: int, notes: list[_TickNote], lyrics: list[Lyric]
) -> list[_Event]:
    events: list[_Event] = [
        (0, _META, _meta(0x03, _text(name))),
        (0, _META, bytes([0xC0 | channel, program])),
    ]
    append, messages = events.append, _MESSAGES
    bend = BEND_CENTER
    on, off, wheel = (0x90 | channel) << 16, (0x80 | channel) << 16, (0xE0 | channel) << 16
    for start, end, pitch, velocity, value in notes:
        if value != bend:
            append((start, _BEND, messages[wheel | (value & 0x7F) << 8 | value >> 7]))
            bend = value
        append((start, _ON, messages[on | pitch << 8 | velocity]))
        append((end, _OFF, messages[off | pitch << 8]))
    for lyric in lyrics:
        append((beats_to_ticks(lyric.time), _META, _meta(0x05, _text(lyric.text))))
    return events


def _channels(voices: list[Voice]) -> list[int]:
    """Return a MIDI channel (0-15) for each voice: its own, or the lowest free one."""
    taken = {voice.channel for voice in voices if voice.channel is not None}
    free = [c for c in range(16) if c not in taken and c != PERCUSSION_CHANNEL] or [0]
    channels: list[int] = []
    for voice in voices:
        if voice.channel is not None:
            channels.append(voice.channel)
        else:
            channels.append(free[0])
            free = free[1:] or free
    return channels


def midi_bytes(tune: Tune, *, program: int = DEFAULT_PROGRAM, accompaniment: bool = False) -> bytes:
    """Return a tune as the bytes of a standard MIDI file.

    Args:
        tune: The tune.
        program: The General MIDI program (0-127) for voices without ``%%MIDI program``.
        accompaniment: Add a track that plays the chord symbols.

    Returns:
        A type 1 file at 10,080 ticks per quarter note: a track of tempo, time
        and key signatures, one track per voice and the accompaniment track.

    Raises:
        ValueError: ``program`` is outside 0 to 127.
    """
    if not 0 <= program <= 127:
        raise ValueError(f"invalid MIDI program {program}: use 0 to 127")
    voices = list(tune.voices)
    extra: list[Note] = []
    if accompaniment:
        extra = accompaniment_notes(tune, len(voices))
        if extra:
            voices.append(Voice("accompaniment", ACCOMPANIMENT_PROGRAM))
    title = tune.title or f"X:{tune.reference}"
    tracks = [_track(_conductor_events(tune))]
    by_voice: list[list[Note]] = [[] for _ in voices]
    for note in tune.notes:
        if note.ornament is None:
            by_voice[note.voice].append(note)
        else:
            for played in played_notes([note]):
                by_voice[played.voice].append(played)
    for note in extra:
        by_voice[note.voice].append(note)
    for index, (voice, channel) in enumerate(zip(voices, _channels(voices), strict=True)):
        name = f"{title} ({voice.name})" if len(voices) > 1 else title
        chosen = voice.program if voice.program is not None else program
        lyrics = [lyric for lyric in tune.lyrics if lyric.voice == index]
        ticked = _tick_notes(by_voice[index])
        tracks.append(_track(_voice_events(name, chosen, channel, ticked, lyrics)))
    header = b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks), TICKS_PER_QUARTER)
    return header + b"".join(tracks)


def tune_to_midi(
    tune: Tune, *, program: int = DEFAULT_PROGRAM, accompaniment: bool = False
) -> pretty_midi.PrettyMIDI:
    """Build a MIDI file in memory for a converted tune, as pretty_midi reads it back.

    Args:
        tune: The tune.
        program: The General MIDI program (0-127) for voices without ``%%MIDI program``.
        accompaniment: Add an instrument that plays the chord symbols.

    Returns:
        One instrument per voice, named after the tune title, with the tempo,
        time signature and key signature changes, at 10,080 ticks per quarter.

    Raises:
        ValueError: ``program`` is outside 0 to 127.
    """
    import pretty_midi  # slow to import, and only this function needs it

    data = midi_bytes(tune, program=program, accompaniment=accompaniment)
    return pretty_midi.PrettyMIDI(io.BytesIO(data))


def write_midi(
    tune: Tune,
    path: Path,
    *,
    program: int = DEFAULT_PROGRAM,
    overwrite: bool = False,
    accompaniment: bool = False,
) -> Path:
    """Write a tune as a MIDI file, atomically.

    The file is written to a temporary file in the same folder and then moved
    into place, so ``path`` never contains a half-written file.

    Args:
        tune: The tune.
        path: The ``.mid`` file to write; its folder must exist.
        program: The General MIDI program, 0-127.
        overwrite: Replace ``path`` if it exists.
        accompaniment: Add a track that plays the chord symbols.

    Returns:
        ``path``.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
        ValueError: ``program`` is outside 0 to 127.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it")
    write_bytes_atomic(path, midi_bytes(tune, program=program, accompaniment=accompaniment))
    logger.debug("wrote %s", path)
    return path
