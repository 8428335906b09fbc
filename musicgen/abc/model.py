"""The converter's results: notes in beats, tunes and tunebooks.

All times are :class:`fractions.Fraction` counts of quarter-note beats from the
start of the tune, as played (repeats unrolled). Conversion to seconds or MIDI
ticks happens only in :mod:`musicgen.midi`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from musicgen.abc.errors import AbcError, AbcWarning

# ABC 2.1 section 4.14: without a dynamics mark a note is played mf.
DEFAULT_VELOCITY = 90
# ABC 2.1 section 3.1.8: without Q: the tempo is 120 quarter notes per minute.
DEFAULT_TEMPO_QPM = 120.0


@dataclass(frozen=True)
class Note:
    """One sounding note.

    Attributes:
        pitch: The MIDI note number, 0 to 127 (60 is middle C, ABC ``C``).
        start: The onset in quarter-note beats from the start of the tune.
        duration: The sounding length in quarter-note beats, above zero.
        velocity: The MIDI velocity, 1 to 127.
        voice: The index of the voice in :attr:`Tune.voices`.
    """

    pitch: int
    start: Fraction
    duration: Fraction
    velocity: int = DEFAULT_VELOCITY
    voice: int = 0

    @property
    def end(self) -> Fraction:
        """The time the note stops, in quarter-note beats."""
        return self.start + self.duration


@dataclass(frozen=True)
class TempoChange:
    """A tempo in quarter notes per minute, in effect from ``time`` (beats) on."""

    time: Fraction
    qpm: float


@dataclass(frozen=True)
class MeterChange:
    """A meter in effect from ``time`` (beats) on, or None for ``M:none``."""

    time: Fraction
    meter: tuple[int, int] | None


@dataclass(frozen=True)
class KeyChange:
    """A key signature from ``time`` (beats) on: sharps (-7 to 7) and mode."""

    time: Fraction
    sharps: int
    is_minor: bool


@dataclass(frozen=True)
class Voice:
    """One ABC voice, which becomes one MIDI track.

    Attributes:
        name: The ``V:`` identifier, or ``"1"`` for a tune without voices.
        program: The General MIDI program from ``%%MIDI program``, or None.
        channel: The MIDI channel from ``%%MIDI channel`` (0-based), or None.
    """

    name: str
    program: int | None = None
    channel: int | None = None


@dataclass
class Tune:
    """One converted tune.

    Attributes:
        reference: The ``X:`` value as written.
        title: The first ``T:`` value, or an empty string.
        meter: The first meter as (numerator, denominator), or None for
            ``M:none``. A tune without ``M:`` is taken as 4/4, as abc2midi does.
        unit_length: The first unit note length, as a fraction of a whole note.
        key: The first ``K:`` value as written, such as ``"Ador"``.
        key_sharps: Sharps (positive) or flats (negative) of the first key signature.
        key_is_minor: True when the first key is minor (``m``, ``min``, ``aeo``).
        tempo_qpm: The first tempo in quarter notes per minute.
        notes: The notes as played, sorted by start time then pitch.
        warnings: Problems worked around in lenient mode.
        bar_count: The number of bars as played, counting each ``Z`` bar.
        duration: The playing time of the tune in quarter-note beats.
        tempo_changes: Every tempo, the first one at time 0.
        meter_changes: Every meter, the first one at time 0.
        key_changes: Every key signature, the first one at time 0.
        voices: The voices; notes refer to them by index.
        source: The tunebook label.
        line: The line of the ``X:`` field in the tunebook.
    """

    reference: str
    title: str
    meter: tuple[int, int] | None
    unit_length: Fraction
    key: str
    key_sharps: int
    key_is_minor: bool
    tempo_qpm: float
    notes: list[Note] = field(default_factory=list)
    warnings: list[AbcWarning] = field(default_factory=list)
    bar_count: int = 0
    duration: Fraction = Fraction(0)
    tempo_changes: list[TempoChange] = field(default_factory=list)
    meter_changes: list[MeterChange] = field(default_factory=list)
    key_changes: list[KeyChange] = field(default_factory=list)
    voices: list[Voice] = field(default_factory=lambda: [Voice("1")])
    source: str = "<string>"
    line: int = 1


@dataclass
class Tunebook:
    """The tunes of one tunebook that converted, and the errors of those that did not.

    Attributes:
        tunes: The converted tunes in file order.
        errors: One error per tune that could not be converted.
        source: The tunebook label.
    """

    tunes: list[Tune] = field(default_factory=list)
    errors: list[AbcError] = field(default_factory=list)
    source: str = "<string>"
