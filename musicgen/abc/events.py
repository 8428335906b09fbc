"""Events of one voice in written order, with lengths in ticks and pitches resolved.

The performer (:mod:`musicgen.abc.performer`) turns tokens into these events.
The player (:mod:`musicgen.abc.playback`) then follows repeats, endings and
parts to lay them out in time. All lengths are integer ticks
(:data:`musicgen.abc.ticks.TICKS_PER_BEAT` per quarter note).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from musicgen.abc.model import Ornament
from musicgen.abc.ticks import scale


@dataclass(slots=True)
class Sound:
    """One pitch of a note or chord event.

    Attributes:
        pitch: The MIDI note number.
        length: How long it sounds, in ticks.
        tie: True when it is tied to the same pitch of the next event.
        name: The note name (upper case) and octave it was written as, so
            that a note tied to it keeps its pitch.
        bend: A microtone's pitch bend in semitones, 0 for none.
    """

    pitch: int
    length: int
    tie: bool = False
    name: tuple[str, int] | None = None
    bend: Fraction = Fraction(0)


@dataclass(frozen=True, slots=True)
class Grace:
    """A grace note: its pitch, length in ticks and pitch bend in semitones."""

    pitch: int
    length: int
    bend: Fraction = Fraction(0)


@dataclass(slots=True)
class NoteEvent:
    """A note, chord or rest that takes ``advance`` beats of time.

    Attributes:
        sounds: The pitches; empty for a rest.
        advance: The time to the next event, in ticks.
        velocity: The MIDI velocity from the dynamics and accents in force.
        line: The line of the token, for messages.
        column: The column of the token, for messages.
        staccato: True when the note is played shorter than its slot.
        dotted: True for a note (not a rest) with the one-character staccato
            ``.``, which abc2midi counts as half its length in broken rhythm.
        graces: Grace notes before it, which take their time from its start.
        ornament: A trill or roll to play instead of the single note, or None.
        chord_symbol: The chord symbol written before it, such as ``"Am7"``.
        lyrics: The syllable sung on it in each verse (None where none is),
            or None when no w: line reaches it.
        tie_continuation: True when every sound continues a tied note.
    """

    sounds: list[Sound]
    advance: int
    velocity: int
    line: int
    column: int
    staccato: bool = False
    dotted: bool = False
    graces: tuple[Grace, ...] = ()
    ornament: Ornament | None = None
    chord_symbol: str | None = None
    lyrics: list[str | None] | None = None
    tie_continuation: bool = False

    def scale(self, factor: tuple[int, int]) -> None:
        """Multiply the event's time and every sound's length by ``factor`` (num, den)."""
        numerator, denominator = factor
        self.advance = scale(self.advance, numerator, denominator)
        for sound in self.sounds:
            sound.length = scale(sound.length, numerator, denominator)


@dataclass(slots=True)
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


@dataclass(slots=True)
class OverlayEvent:
    """The voice overlay ``&``: the notes after it start again from the bar line."""

    line: int
    column: int


@dataclass(slots=True)
class TempoEvent:
    """A tempo change to ``qpm`` quarter notes per minute."""

    qpm: float


@dataclass(slots=True)
class MeterEvent:
    """A meter change; None for ``M:none``."""

    meter: tuple[int, int] | None


@dataclass(slots=True)
class KeyEvent:
    """A key signature change: sharps (-7 to 7) and mode."""

    sharps: int
    is_minor: bool


@dataclass(slots=True)
class PartEvent:
    """The start of part ``name`` (``P:`` in the body)."""

    name: str
    line: int
    column: int


Event = NoteEvent | BarEvent | OverlayEvent | TempoEvent | MeterEvent | KeyEvent | PartEvent
