"""Lay the events of one voice out in time: notes in beats, ties joined.

Grace notes take their time from the start of the note after them, so the
bar keeps its length. Each lasts a quarter of the unit length, as abc2midi
4.84 plays them, and a group takes at most half of that note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from musicgen.abc.errors import Reporter
from musicgen.abc.events import (
    BarEvent,
    Event,
    KeyEvent,
    MeterEvent,
    NoteEvent,
    TempoEvent,
)
from musicgen.abc.model import KeyChange, MeterChange, Note, TempoChange
from musicgen.abc.repeats import playing_order

# How much of its slot a staccato note sounds. abc2midi 4.84 also halves it.
STACCATO_FRACTION = Fraction(1, 2)


@dataclass
class Performance:
    """The notes and changes of one voice as played.

    Attributes:
        notes: The notes, in onset order.
        tempos: Tempo changes by time in beats.
        meters: Meter changes by time in beats.
        keys: Key signature changes by time in beats.
        bar_count: Bars played, counting each bar of a multi-measure rest.
        duration: The playing time in beats.
    """

    notes: list[Note] = field(default_factory=list)
    tempos: list[TempoChange] = field(default_factory=list)
    meters: list[MeterChange] = field(default_factory=list)
    keys: list[KeyChange] = field(default_factory=list)
    bar_count: int = 0
    duration: Fraction = Fraction(0)


@dataclass
class _Player:
    voice: int
    result: Performance = field(default_factory=Performance)
    time: Fraction = Fraction(0)
    bar_start: Fraction = Fraction(0)
    # Indices in result.notes of notes tied to whatever starts when they end, by pitch.
    tied: dict[int, int] = field(default_factory=dict)

    def play(self, event: Event) -> None:
        if isinstance(event, NoteEvent):
            self.play_note_event(event)
        elif isinstance(event, BarEvent):
            if self.time > self.bar_start:
                self.result.bar_count += 1
            self.result.bar_count += event.rest_bars
            self.bar_start = self.time
        elif isinstance(event, TempoEvent):
            _append_change(self.result.tempos, TempoChange(self.time, event.qpm))
        elif isinstance(event, MeterEvent):
            _append_change(self.result.meters, MeterChange(self.time, event.meter))
        elif isinstance(event, KeyEvent):
            _append_change(self.result.keys, KeyChange(self.time, event.sharps, event.is_minor))

    def play_note_event(self, event: NoteEvent) -> None:
        start = self.time
        grace_total = sum((length for _, length in event.graces), Fraction(0))
        if event.graces and grace_total > 0:
            # A grace group never takes more than half of its note.
            scale = min(Fraction(1), event.advance / 2 / grace_total)
            for pitch, length in event.graces:
                self.add(pitch, start, length * scale, event.velocity, tie=False)
                start += length * scale
        for sound in event.sounds:
            length = sound.length - (start - self.time)
            if event.staccato and not sound.tie:
                length *= STACCATO_FRACTION
            if length > 0:
                self.add(sound.pitch, start, length, event.velocity, sound.tie)
        self.time += event.advance

    def add(self, pitch: int, start: Fraction, length: Fraction, velocity: int, tie: bool) -> None:
        # ABC 2.1 section 4.11: a tie joins a note to the next of the same pitch.
        index = self.tied.pop(pitch, None)
        previous = self.result.notes[index] if index is not None else None
        if index is not None and previous is not None and previous.end == start:
            duration = start + length - previous.start
            self.result.notes[index] = Note(
                pitch, previous.start, duration, previous.velocity, self.voice
            )
        else:
            index = len(self.result.notes)
            self.result.notes.append(Note(pitch, start, length, velocity, self.voice))
        if tie:
            self.tied[pitch] = index


def _append_change(changes: list, change: TempoChange | MeterChange | KeyChange) -> None:
    """Append ``change``, replacing a change at the same time."""
    if changes and changes[-1].time == change.time:
        changes[-1] = change
    else:
        changes.append(change)


def perform(events: list[Event], reporter: Reporter, voice: int = 0) -> Performance:
    """Play the events of one voice.

    Args:
        events: The voice's events in written order.
        reporter: Receives repeat problems.
        voice: The voice index stored in each note.

    Returns:
        The notes and changes in time, with repeats unrolled and ties joined.
    """
    player = _Player(voice)
    for index in playing_order(events, reporter):
        player.play(events[index])
    if player.time > player.bar_start:
        player.result.bar_count += 1
    player.result.duration = player.time
    player.result.notes.sort(key=lambda note: (note.start, note.pitch))
    return player.result
