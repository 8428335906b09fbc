"""Events of one voice in written order, with lengths in beats and pitches resolved.

The performer (:mod:`musicgen.abc.performer`) turns tokens into these events.
The player (:mod:`musicgen.abc.playback`) then follows repeats, endings and
parts to lay them out in time. All lengths are quarter-note beats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from musicgen.abc.model import Ornament


@dataclass
class Sound:
    """One pitch of a note or chord event.

    Attributes:
        pitch: The MIDI note number.
        length: How long it sounds, in beats.
        tie: True when it is tied to the same pitch of the next event.
        name: The note name (upper case) and octave it was written as, so
            that a note tied to it keeps its pitch.
        bend: A microtone's pitch bend in semitones, 0 for none.
    """

    pitch: int
    length: Fraction
    tie: bool = False
    name: tuple[str, int] | None = None
    bend: Fraction = Fraction(0)


@dataclass(frozen=True)
class Grace:
    """A grace note: its pitch, length in beats and pitch bend in semitones."""

    pitch: int
    length: Fraction
    bend: Fraction = Fraction(0)


@dataclass
class NoteEvent:
    """A note, chord or rest that takes ``advance`` beats of time.

    Attributes:
        sounds: The pitches; empty for a rest.
        advance: The time to the next event, in beats.
        velocity: The MIDI velocity from the dynamics and accents in force.
        line: The line of the token, for messages.
        column: The column of the token, for messages.
        staccato: True when the note is played shorter than its slot.
        graces: Grace notes before it, which take their time from its start.
        ornament: A trill or roll to play instead of the single note, or None.
        chord_symbol: The chord symbol written before it, such as ``"Am7"``.
        lyrics: The syllable sung on it in each verse (None where none is).
        tie_continuation: True when every sound continues a tied note.
    """

    sounds: list[Sound]
    advance: Fraction
    velocity: int
    line: int
    column: int
    staccato: bool = False
    graces: list[Grace] = field(default_factory=list)
    ornament: Ornament | None = None
    chord_symbol: str | None = None
    lyrics: list[str | None] = field(default_factory=list)
    tie_continuation: bool = False

    def scale(self, factor: Fraction) -> None:
        """Multiply the event's time and every sound's length by ``factor``."""
        self.advance *= factor
        for sound in self.sounds:
            sound.length *= factor


@dataclass
class BarEvent:
    """A bar line with its repeat marks and variant endings (see BarToken)."""

    line: int
    column: int
    end_repeats: int = 0
    start_repeats: int = 0
    double: bool = False
    endings: list[int] | None = None
    rest_bars: int = 0
    text: str = ""


@dataclass
class OverlayEvent:
    """The voice overlay ``&``: the notes after it start again from the bar line."""

    line: int
    column: int


@dataclass
class TempoEvent:
    """A tempo change to ``qpm`` quarter notes per minute."""

    qpm: float


@dataclass
class MeterEvent:
    """A meter change; None for ``M:none``."""

    meter: tuple[int, int] | None


@dataclass
class KeyEvent:
    """A key signature change: sharps (-7 to 7) and mode."""

    sharps: int
    is_minor: bool


@dataclass
class PartEvent:
    """The start of part ``name`` (``P:`` in the body)."""

    name: str
    line: int
    column: int


Event = NoteEvent | BarEvent | OverlayEvent | TempoEvent | MeterEvent | KeyEvent | PartEvent
