"""Read the values of the ``M:``, ``L:`` and ``Q:`` fields.

Each reader takes the field value without its ``M:`` prefix and raises
ValueError with a message naming the value and the accepted forms. The caller
adds the position and turns it into an :class:`~musicgen.abc.errors.AbcError`.
"""

from __future__ import annotations

import re
from fractions import Fraction

_QUOTED = re.compile(r'"[^"]*"?')
_METER = re.compile(r"^\(?(\d+(?:\s*\+\s*\d+)*)\)?\s*/\s*(\d+)$")
_FRACTION = re.compile(r"^(\d+)\s*/\s*(\d+)$")
_SUMMED_BEAT = re.compile(r"^((?:\d+\s*/\s*\d+\s*)+)=\s*(\d+(?:\.\d*)?)$")
_BARE_TEMPO = re.compile(r"^(?:[Cc](\d*)\s*=\s*)?(\d+(?:\.\d*)?)$")

# Conventional tempos for tempo names with no number; abcm2ps and abc2midi
# have no standard table, so these are common metronome values (estimates).
TEMPO_NAMES = {
    "grave": 40.0,
    "largo": 50.0,
    "lento": 55.0,
    "adagio": 70.0,
    "andante": 90.0,
    "moderato": 110.0,
    "allegretto": 115.0,
    "allegro": 130.0,
    "vivace": 160.0,
    "presto": 180.0,
}


# ABC 2.1 section 3.1.6: M: is a fraction, C (4/4), C| (2/2), none, or a sum
# of numerators over one denominator such as 2+3/8.
def parse_meter(value: str) -> tuple[int, int] | None:
    """Read a meter.

    Args:
        value: The field value, such as ``"6/8"``, ``"C|"`` or ``"none"``.

    Returns:
        (numerator, denominator), or None for ``M:none`` (free meter).

    Raises:
        ValueError: The value is not one of the forms above.
    """
    text = value.strip()
    if text in ("", "none"):
        return None
    if text == "C":
        return (4, 4)
    if text == "C|":
        return (2, 2)
    match = _METER.match(text)
    if not match:
        raise ValueError(f"invalid meter {value!r}: write a fraction like 6/8, C, C| or none")
    numerator = sum(int(part) for part in match.group(1).split("+"))
    denominator = int(match.group(2))
    if numerator == 0 or denominator == 0:
        raise ValueError(f"invalid meter {value!r}: numerator and denominator must be above 0")
    return (numerator, denominator)


# ABC 2.1 section 3.1.7: L: is a fraction of a whole note, such as 1/8.
def parse_unit_length(value: str) -> Fraction:
    """Read a unit note length.

    Args:
        value: The field value, such as ``"1/8"`` or ``"1"``.

    Returns:
        The unit length as a fraction of a whole note, above zero.

    Raises:
        ValueError: The value is not a positive fraction.
    """
    text = value.strip()
    match = _FRACTION.match(text)
    if match:
        numerator, denominator = int(match.group(1)), int(match.group(2))
    elif text.isdigit():
        numerator, denominator = int(text), 1
    else:
        raise ValueError(f"invalid unit note length {value!r}: write a fraction like 1/8")
    if numerator == 0 or denominator == 0:
        raise ValueError(f"invalid unit note length {value!r}: it must be above 0")
    return Fraction(numerator, denominator)


# ABC 2.1 section 3.1.7: without L:, a meter below 0.75 gives 1/16, else 1/8.
def default_unit_length(meter: tuple[int, int] | None) -> Fraction:
    """Return the unit note length that applies when a tune has no ``L:`` field."""
    if meter is not None and Fraction(meter[0], meter[1]) < Fraction(3, 4):
        return Fraction(1, 16)
    return Fraction(1, 8)


# ABC 2.1 section 3.1.8: Q: is one or more beat lengths, "=", and beats per
# minute, with optional quoted text. The beat is the sum of the lengths. The
# deprecated bare Q:120 and Q:C=120 count unit lengths per minute.
def parse_tempo(value: str, unit_length: Fraction) -> float | None:
    """Read a tempo.

    Args:
        value: The field value, such as ``"1/4=120"`` or ``'"Allegro" 3/8=60'``.
        unit_length: The unit note length (fraction of a whole note) in force,
            used by the deprecated forms.

    Returns:
        Quarter notes per minute, or None for text with no tempo name known
        in :data:`TEMPO_NAMES`.

    Raises:
        ValueError: The value has a number in a form this reader does not know,
            or a tempo of zero.
    """
    texts = [quoted.strip('"').strip().lower() for quoted in _QUOTED.findall(value)]
    rest = _QUOTED.sub(" ", value).strip()
    if not rest:
        for text in texts:
            if text.split()[:1] and text.split()[0] in TEMPO_NAMES:
                return TEMPO_NAMES[text.split()[0]]
        return None

    summed = _SUMMED_BEAT.match(rest)
    bare = _BARE_TEMPO.match(rest)
    if summed:
        beats = re.findall(r"(\d+)\s*/\s*(\d+)", summed.group(1))
        beat = sum((Fraction(int(n), int(d)) for n, d in beats), Fraction(0))
        per_minute = float(summed.group(2))
    elif bare:
        beat = unit_length * int(bare.group(1)) if bare.group(1) else unit_length
        per_minute = float(bare.group(2))
    else:
        raise ValueError(f"invalid tempo {value!r}: write the beat and its rate, like 1/4=120")
    if beat == 0 or per_minute <= 0:
        raise ValueError(f"invalid tempo {value!r}: the beat and the rate must be above 0")
    # A beat of 3/8 at 50 per minute is 50 * (3/8) / (1/4) = 75 quarter notes per minute.
    return per_minute * float(beat * 4)
