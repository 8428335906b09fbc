"""Keep one performer per ABC voice and gather their notes into the tune.

ABC 2.1 section 7: ``V:`` on its own line or inline (``[V:2]``) switches to
another voice, which has its own key, meter and unit length. Each voice starts
from the settings of the tune header. The tempo is shared by all voices.
"""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction
from typing import TypeVar

from musicgen.abc.errors import InvalidFieldError, Reporter
from musicgen.abc.events import PartEvent
from musicgen.abc.keys import parse_key
from musicgen.abc.model import KeyChange, MeterChange, TempoChange, Tune, Voice
from musicgen.abc.performer import Performer
from musicgen.abc.playback import perform
from musicgen.abc.ticks import sort_key
from musicgen.abc.voicestate import VoiceState

_Change = TypeVar("_Change", TempoChange, MeterChange, KeyChange)

_MIDI_PROGRAM = re.compile(r"^%%MIDI\s+program\s+(?:(\d+)\s+)?(\d+)")
_MIDI_CHANNEL = re.compile(r"^%%MIDI\s+channel\s+(\d+)")
_MIDI_TRANSPOSE = re.compile(r"^%%MIDI\s+transpose\s+(-?\d+)")
_PITCH_SETTING = re.compile(r"(?:transpose|octave)=-?\d+|clef=\S*[+-]8|\S+[+-]8")

# The name of the voice of a tune that has no V: field.
DEFAULT_VOICE = "1"


class VoiceSet:
    """The performers of a tune's voices, in order of first appearance.

    Args:
        state: The settings of the tune header, copied for each new voice.
        reporter: Where problems go.
        directives: ``%%`` lines of the header, for the default MIDI program.
        quirks: abc2midi behaviours to imitate (see :mod:`musicgen.abc.quirks`).
    """

    def __init__(
        self,
        state: VoiceState,
        reporter: Reporter,
        directives: list[str],
        quirks: frozenset[str] = frozenset(),
    ) -> None:
        self.initial = state
        self.reporter = reporter
        self.quirks = quirks
        # True when the last music line ended with "\\" and goes on in the next.
        self.continued = False
        # The part being written (P: in the body), which a new voice starts in.
        self.part: PartEvent | None = None
        self.performers: dict[str, Performer] = {}
        self.programs: dict[str, int] = {}
        self.channels: dict[str, int] = {}
        self.default_program: int | None = None
        self.current = self.switch(DEFAULT_VOICE)
        self.current_name = DEFAULT_VOICE
        for directive in directives:
            self.directive(directive, header=True)

    def switch(self, value: str, line: int | None = None) -> Performer:
        """Make the voice named by a ``V:`` value current, creating it if new."""
        words = value.split()
        name = words[0] if words else DEFAULT_VOICE
        if name not in self.performers:
            performer = Performer(replace(self.initial), self.reporter, self.quirks)
            if self.part is not None:
                performer.events.append(self.part)
            self.performers[name] = performer
        performer = self.performers[name]
        settings = _PITCH_SETTING.findall(value)
        if settings:
            # A V: line with transpose=, octave= or a +8/-8 clef sets the voice's transposition.
            try:
                transpose = parse_key(" ".join(settings)).transpose
                performer.state.key = replace(performer.state.key, transpose=transpose)
            except ValueError as error:
                self.reporter.problem(InvalidFieldError, str(error), line, 3, "skipped")
        self.current = self.performers[name]
        self.current_name = name
        return self.current

    # ABC 2.1 section 3.1.11: P: in the body starts a part in every voice.
    def start_part(self, name: str, line: int, column: int) -> None:
        """Mark the start of part ``name`` in every voice."""
        self.part = PartEvent(name.strip(), line, column)
        for performer in self.performers.values():
            performer.events.append(self.part)

    # abc2midi's %%MIDI program [channel] n, channel n and transpose n directives.
    def directive(self, text: str, header: bool = False) -> None:
        """Apply a ``%%`` directive to the current voice, or to all voices in the header."""
        program = _MIDI_PROGRAM.match(text)
        channel = _MIDI_CHANNEL.match(text)
        transpose = _MIDI_TRANSPOSE.match(text)
        if transpose:
            semitones = int(transpose.group(1))
            if header:
                self.initial.key = replace(self.initial.key, transpose=semitones)
            state = self.current.state
            state.key = replace(state.key, transpose=semitones)
            return
        if program and 0 <= int(program.group(2)) <= 127:
            if header:
                self.default_program = int(program.group(2))
            else:
                self.programs[self.current_name] = int(program.group(2))
        elif channel and 1 <= int(channel.group(1)) <= 16:
            self.channels[self.current_name] = int(channel.group(1)) - 1
        elif text.startswith("%%propagate-accidentals") or "propagate-accidentals" in text:
            mode = text.split()[-1]
            if mode in ("not", "octave", "pitch"):
                self.current.state.propagate = mode


def assemble(tune: Tune, voices: VoiceSet, reporter: Reporter, has_parts: bool = False) -> None:
    """Play every voice and store the notes, voices and changes in ``tune``."""
    tune.tempo_changes = [TempoChange(Fraction(0), tune.tempo_qpm)]
    tune.meter_changes = [MeterChange(Fraction(0), tune.meter)]
    tune.key_changes = [KeyChange(Fraction(0), tune.key_sharps, tune.key_is_minor)]
    tune.voices = []
    first = True
    played = [(name, p) for name, p in voices.performers.items() if p.events]
    single_voice = len(played) == 1 and not has_parts
    for name, performer in played:
        performance = perform(
            performer.events, reporter, len(tune.voices), voices.quirks, single_voice
        )
        program = voices.programs.get(name, voices.default_program)
        tune.voices.append(Voice(name, program, voices.channels.get(name)))
        tune.notes.extend(performance.notes)
        tune.lyrics.extend(performance.lyrics)
        tune.tempo_changes.extend(performance.tempos)
        tune.duration = max(tune.duration, performance.duration)
        if first:
            tune.meter_changes.extend(performance.meters)
            tune.key_changes.extend(performance.keys)
            tune.chord_symbols = performance.chord_symbols
            tune.bar_starts = performance.bar_starts
            tune.bar_count = performance.bar_count
            first = False
    if not tune.voices:
        tune.voices = [Voice(DEFAULT_VOICE, voices.default_program)]
    if len(tune.voices) > 1:  # each voice's notes are in order already
        tune.notes.sort(key=lambda note: (sort_key(note.start), note.voice, note.pitch))
    tune.lyrics.sort(key=lambda lyric: (lyric.time, lyric.voice))
    tune.tempo_changes = _latest_per_time(tune.tempo_changes)
    tune.meter_changes = _latest_per_time(tune.meter_changes)
    tune.key_changes = _latest_per_time(tune.key_changes)


def _latest_per_time(changes: list[_Change]) -> list[_Change]:
    """Sort changes by time, keeping the last one given for each time."""
    by_time: dict[Fraction, _Change] = {}
    for change in changes:
        by_time[change.time] = change
    return [by_time[time] for time in sorted(by_time)]
