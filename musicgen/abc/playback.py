"""Lay the events of one voice out in time: notes in beats, ties joined.

Choices the standard leaves to the player (docs/converter.md):

* Grace notes (section 4.12) take their time from the start of the note or
  rest after them, so the bar keeps its length. Each lasts a quarter of the
  unit length (scaled with a tuplet they are written in). A group that
  would take all of its note's sounding time is not played, nor is one
  written before a bar line, as in abc2midi 4.84.
* The staccato dot sounds the first half of its slot. On a note tied to the
  next one it is ignored; on the last note of a tie it shortens that note.
* A trill or roll stays one note that carries the ornament;
  :mod:`musicgen.abc.ornaments` turns it into the notes heard.
* The voice overlay ``&`` (section 7.4) starts its notes again from the last
  bar line; the bar ends where its first layer ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from operator import itemgetter

from musicgen.abc import quirks as q
from musicgen.abc.errors import Reporter
from musicgen.abc.events import (
    BarEvent,
    Event,
    KeyEvent,
    MeterEvent,
    NoteEvent,
    OverlayEvent,
    TempoEvent,
)
from musicgen.abc.model import (
    ChordSymbol,
    KeyChange,
    Lyric,
    MeterChange,
    Note,
    Ornament,
    TempoChange,
)
from musicgen.abc.repeats import playing_order
from musicgen.abc.ticks import beats

_NO_BEND = Fraction(0)


@dataclass(slots=True)
class Performance:
    """The notes and changes of one voice as played.

    Attributes:
        notes: The notes, in onset order.
        tempos: Tempo changes by time in beats.
        meters: Meter changes by time in beats.
        keys: Key signature changes by time in beats.
        lyrics: Sung syllables by time in beats.
        chord_symbols: Chord symbols by time in beats.
        bar_starts: The time of each bar line played, starting with 0.
        bar_count: Bars played, counting each bar of a multi-measure rest.
        duration: The playing time in beats.
    """

    notes: list[Note] = field(default_factory=list)
    tempos: list[TempoChange] = field(default_factory=list)
    meters: list[MeterChange] = field(default_factory=list)
    keys: list[KeyChange] = field(default_factory=list)
    lyrics: list[Lyric] = field(default_factory=list)
    chord_symbols: list[ChordSymbol] = field(default_factory=list)
    bar_starts: list[Fraction] = field(default_factory=lambda: [Fraction(0)])
    bar_count: int = 0
    duration: Fraction = Fraction(0)


# One note while the player works, times in ticks:
# [pitch, start, duration, velocity, bend, ornament].
_Raw = list


@dataclass(slots=True)
class _Player:
    voice: int
    quirks: frozenset[str]
    result: Performance = field(default_factory=Performance)
    # Times in ticks.
    time: int = 0
    bar_start: int = 0
    # The end of a bar's first layer while an overlay (&) plays, else None.
    layer_end: int | None = None
    notes: list[_Raw] = field(default_factory=list)
    # Indices in notes of notes tied to whatever starts when they end, by pitch.
    tied: dict[int, int] = field(default_factory=dict)
    # How many times each written event has been played, for the verse to sing.
    plays: dict[int, int] = field(default_factory=dict)

    def play(self, event: Event, index: int) -> None:
        if isinstance(event, NoteEvent):
            self.play_note_event(event, index)
        elif isinstance(event, BarEvent):
            self.end_layers()
            if self.time > self.bar_start:
                self.result.bar_count += 1
                self.result.bar_starts.append(beats(self.time))
            self.result.bar_count += event.rest_bars
            self.bar_start = self.time
        elif isinstance(event, OverlayEvent):
            if self.layer_end is None:
                self.layer_end = self.time
            self.time = self.bar_start
        elif isinstance(event, TempoEvent):
            _append_change(self.result.tempos, TempoChange(beats(self.time), event.qpm))
        elif isinstance(event, MeterEvent):
            _append_change(self.result.meters, MeterChange(beats(self.time), event.meter))
        elif isinstance(event, KeyEvent):
            change = KeyChange(beats(self.time), event.sharps, event.is_minor)
            _append_change(self.result.keys, change)

    def end_layers(self) -> None:
        if self.layer_end is not None:
            self.time = self.layer_end
            self.layer_end = None

    def play_note_event(self, event: NoteEvent, index: int) -> None:
        start = self.time
        sounds = event.sounds
        if (
            len(sounds) == 1
            and not event.graces
            and not event.staccato
            and event.ornament is None
            and event.chord_symbol is None
            and event.lyrics is None
        ):
            # A plain note: the common case, without the general path's steps.
            sound = sounds[0]
            pitch = sound.pitch
            if self.tied and pitch in self.tied:
                self.add(pitch, start, sound.length, event.velocity, sound.tie, sound.bend)
            else:
                # As add() does for a note that no tie joins.
                if sound.tie:
                    self.tied[pitch] = len(self.notes)
                self.notes.append([pitch, start, sound.length, event.velocity, sound.bend, None])
            self.time = start + event.advance
            return
        if event.chord_symbol is not None:
            self.result.chord_symbols.append(ChordSymbol(beats(start), event.chord_symbol))
        staccato = event.staccato
        # The time the note has to sound: staccato leaves the first half of its
        # slot, as abc2midi 4.84 plays it.
        room = event.advance // 2 if staccato else event.advance
        if event.graces:
            start = self.play_graces(event, start, room)
        if event.lyrics:
            count = self.plays.get(index, 0)
            self.plays[index] = count + 1
            text = event.lyrics[min(count, len(event.lyrics) - 1)]
            if text is not None:
                self.result.lyrics.append(Lyric(beats(start), text, self.voice))
        for sound in event.sounds:
            length = sound.length - (start - self.time)
            tie = sound.tie
            if staccato and tie and q.STACCATO_TIE in self.quirks:
                tie = False
            if staccato and not tie:
                length -= sound.length - sound.length // 2
            if length <= 0:
                continue
            ornament = event.ornament
            if ornament is not None:
                ornament = replace(
                    ornament, length=beats(sound.length), grace_time=beats(start - self.time)
                )
            self.add(sound.pitch, start, length, event.velocity, tie, sound.bend, ornament)
        self.time += event.advance

    def play_graces(self, event: NoteEvent, start: int, room: int) -> int:
        """Play the grace notes of ``event`` from ``start``; return when they end."""
        total = sum(grace.length for grace in event.graces)
        if total >= room:
            return start
        for grace in event.graces:
            self.add(grace.pitch, start, grace.length, event.velocity, False, grace.bend)
            start += grace.length
        return start

    def add(
        self,
        pitch: int,
        start: int,
        length: int,
        velocity: int,
        tie: bool,
        bend: Fraction = _NO_BEND,
        ornament: Ornament | None = None,
    ) -> None:
        # ABC 2.1 section 4.11: a tie joins a note to the next of the same pitch.
        notes = self.notes
        index = self.tied.pop(pitch, None)
        # A trill or roll on the note tied to starts an ornament of its own.
        if index is not None and ornament is None:
            previous = notes[index]
            if previous[1] + previous[2] == start:
                previous[2] = start + length - previous[1]
                if tie:
                    self.tied[pitch] = index
                return
        if tie:
            self.tied[pitch] = len(notes)
        notes.append([pitch, start, length, velocity, bend, ornament])

    def finish(self) -> Performance:
        """Close the voice and return its performance, times in beats."""
        self.end_layers()
        result = self.result
        if self.time > self.bar_start:
            result.bar_count += 1
        result.duration = beats(self.time)
        self.notes.sort(key=itemgetter(1, 0))
        voice, new, notes = self.voice, object.__new__, []
        for pitch, start, length, velocity, bend, ornament in self.notes:
            # Note(...) four times faster than its frozen __init__, which sets each
            # field through object.__setattr__: the same object, equal and
            # hashable. The onset and length in ticks ride along as "ticks", which
            # musicgen.midi reads instead of converting the Fractions again; a
            # frozen note never changes, so they stay true.
            note = new(Note)
            note.__dict__.update({
                "pitch": pitch, "start": beats(start), "duration": beats(length),
                "velocity": velocity, "voice": voice, "bend": bend, "ornament": ornament,
                "ticks": (start, length),
            })  # fmt: skip
            notes.append(note)
        result.notes = notes
        return result


def _append_change(changes: list, change: TempoChange | MeterChange | KeyChange) -> None:
    """Append ``change``, replacing a change at the same time."""
    if changes and changes[-1].time == change.time:
        changes[-1] = change
    else:
        changes.append(change)


def perform(
    events: list[Event],
    reporter: Reporter,
    voice: int = 0,
    quirks: frozenset[str] = frozenset(),
    single_voice: bool = True,
) -> Performance:
    """Play the events of one voice.

    Args:
        events: The voice's events in written order.
        reporter: Receives repeat problems.
        voice: The voice index stored in each note.
        quirks: abc2midi behaviours to imitate (see :mod:`musicgen.abc.quirks`).
        single_voice: False when the tune has several voices or parts; only
            used to imitate abc2midi's repeats.

    Returns:
        The notes and changes in time, with repeats unrolled and ties joined.
    """
    player = _Player(voice, quirks)
    if q.TIE_INTO_ENDING in quirks:
        q.tie_in_written_order(events)
    if quirks & q.REPEAT_QUIRKS:
        order: Iterable[int] = q.abc2midi_order(events, quirks, single_voice)
    else:
        order = playing_order(events, reporter)
    play, play_note_event = player.play, player.play_note_event
    for index in order:
        event = events[index]
        if type(event) is NoteEvent:  # the common case, without play()'s dispatch
            play_note_event(event, index)
        else:
            play(event, index)
    return player.finish()
