"""Musical time inside the converter: integer ticks, exact for everything ABC writes.

The performer and the player count time in ticks of 1/:data:`TICKS_PER_BEAT`
of a quarter note, because integer arithmetic is about twenty times faster
than :class:`fractions.Fraction` and converting a corpus is dominated by it.
The resolution, 2^12 * 3^3 * 5^2 * 7^2 * 11 * 13, divides every length that
unit lengths down to 1/1024, tuplets up to 13 (nested too), broken rhythm,
grace notes and staccato make, so the times stay exact. A length outside that
(a 17-tuplet, say) is rounded to the nearest tick, 5e-11 of a beat. Results
leave the converter as Fractions of a beat (see :func:`beats`).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

TICKS_PER_BEAT = 2**12 * 3**3 * 5**2 * 7**2 * 11 * 13


def to_ticks(beats: Fraction) -> int:
    """Return ``beats`` quarter notes in ticks, rounded to the nearest tick."""
    return scale(TICKS_PER_BEAT, beats.numerator, beats.denominator)


# Cached: onsets and lengths repeat from tune to tune, and building a Fraction
# costs more than looking one up.
@lru_cache(maxsize=1 << 16)
def beats(ticks: int) -> Fraction:
    """Return ``ticks`` as quarter-note beats."""
    return Fraction(ticks, TICKS_PER_BEAT)


def sort_key(time: Fraction) -> int:
    """Return a time made by :func:`beats` in ticks again, with integer arithmetic only."""
    return time.numerator * (TICKS_PER_BEAT // time.denominator)


def scale(ticks: int, numerator: int, denominator: int) -> int:
    """Return ``ticks * numerator / denominator``, rounded to the nearest tick."""
    product = ticks * numerator
    if product % denominator == 0:
        return product // denominator
    return (2 * product + denominator) // (2 * denominator)
