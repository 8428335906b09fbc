"""The settings in force at a point of a voice: key, meter, unit length, tempo."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from musicgen.abc.keys import KeySignature
from musicgen.abc.ticks import to_ticks


@dataclass(slots=True)
class VoiceState:
    """The settings in force at a point of a voice.

    Attributes:
        key: The key signature.
        meter: (numerator, denominator), or None for free meter.
        unit_length: The unit note length as a fraction of a whole note.
        propagate: ``%%propagate-accidentals``: ``pitch`` (all octaves),
            ``octave`` (that octave only) or ``not`` (that note only).
        qpm: The tempo in quarter notes per minute, which sets the speed of trills.
        unit_ticks: The unit length in ticks, kept in step by :meth:`set_unit_length`.
    """

    key: KeySignature
    meter: tuple[int, int] | None
    unit_length: Fraction
    propagate: str = "pitch"
    qpm: float = 120.0
    unit_ticks: int = 0

    def __post_init__(self) -> None:
        self.set_unit_length(self.unit_length)

    def set_unit_length(self, unit_length: Fraction) -> None:
        """Set the unit note length (a fraction of a whole note)."""
        self.unit_length = unit_length
        self.unit_ticks = to_ticks(unit_length * 4)
