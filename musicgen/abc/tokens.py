"""The tokens of a tune body line, as the lexer finds them.

Every token carries the 1-based line and column of its first character in the
tunebook file. Lengths are multiples of the unit note length, as written, kept
as (numerator, denominator) pairs of ints in lowest terms, because reading
the parts of a Fraction costs a Python call each and the performer reads them
for every note.
"""

from __future__ import annotations

from dataclasses import dataclass

# A length as (numerator, denominator), in lowest terms.
Ratio = tuple[int, int]


@dataclass(slots=True)
class NoteToken:
    """A note such as ``^c'3/2-``.

    Attributes:
        letter: The note name as written, ``A``-``G`` or ``a``-``g``.
        accidental: ``^^ ^ = _ __``, or None when none is written.
        octave: Octave marks: +1 per ``'``, -1 per ``,``.
        length: Multiple of the unit note length, as (numerator, denominator).
        tie: True when a ``-`` follows the note.
        decorations: Decorations written before the note inside a chord; the
            lexer emits those outside chords as DecorationToken.
    """

    line: int
    column: int
    letter: str
    accidental: str | None
    octave: int
    length: Ratio
    tie: bool = False
    decorations: tuple[str, ...] = ()


@dataclass(slots=True)
class RestToken:
    """A rest ``z`` or invisible rest ``x`` of ``length`` unit lengths (numerator, denominator)."""

    line: int
    column: int
    length: Ratio


@dataclass(slots=True)
class MultiRestToken:
    """A multi-measure rest ``Z`` or ``X`` of ``bars`` whole bars."""

    line: int
    column: int
    bars: int


@dataclass(slots=True)
class ChordToken:
    """A chord ``[CEG]2``: its notes, the outer length and a tie on the whole chord."""

    line: int
    column: int
    notes: list[NoteToken]
    length: Ratio
    tie: bool = False


@dataclass(slots=True)
class GraceToken:
    """Grace notes ``{ag}``, or an acciaccatura ``{/g}``."""

    line: int
    column: int
    notes: list[NoteToken]
    acciaccatura: bool = False


@dataclass(slots=True)
class TupletToken:
    """A tuplet ``(p:q:r``: p notes in the time of q, for the next r notes.

    ``q`` and ``r`` are None when not written; the performer fills the defaults.
    """

    line: int
    column: int
    p: int
    q: int | None
    r: int | None


@dataclass(slots=True)
class BrokenRhythmToken:
    """A broken rhythm ``>``, ``>>``, ``>>>`` (``direction`` 1) or ``<`` (-1)."""

    line: int
    column: int
    direction: int
    count: int


@dataclass(slots=True)
class BarToken:
    """A bar line, with the repeat marks and variant ending it carries.

    Attributes:
        text: The bar line as written, such as ``":|"`` or ``"||"``.
        end_repeats: Colons before the bar: each one ends a repeat; two or more
            ask for that many extra passes.
        start_repeats: Colons after the bar.
        double: True for ``||``, ``|]`` and ``[|``, which end a section.
        endings: Variant ending numbers that start here, or None.
    """

    line: int
    column: int
    text: str
    end_repeats: int = 0
    start_repeats: int = 0
    double: bool = False
    endings: list[int] | None = None


@dataclass(slots=True)
class EndingToken:
    """A variant ending ``[1`` or ``[1,3`` written apart from a bar line."""

    line: int
    column: int
    endings: list[int]


@dataclass(slots=True)
class FieldToken:
    """An inline field ``[K:G]``, or a field on its own line in the body."""

    line: int
    column: int
    name: str
    value: str


@dataclass(slots=True)
class DecorationToken:
    """A decoration such as ``!p!``, ``.`` or ``~``, by name; it applies to what follows.

    ``attached`` is False when something other than a note, chord, rest,
    decoration or annotation follows it, such as a space or a slur ``(``;
    ``before_note`` is True only when a note, chord, rest or one-character
    decoration follows it. ``symbol`` is True for a one-character form such
    as ``.``, False for ``!name!`` and ``+name+``.
    """

    line: int
    column: int
    name: str
    attached: bool = True
    before_note: bool = True
    symbol: bool = False


@dataclass(slots=True)
class TieToken:
    """A ``-`` that is not written right after a note."""

    line: int
    column: int


@dataclass(slots=True)
class ChordSymbolToken:
    """A chord symbol such as ``"Am7"`` or ``"G/B"``, as written between the quotes."""

    line: int
    column: int
    text: str


@dataclass(slots=True)
class OverlayToken:
    """The voice overlay ``&``."""

    line: int
    column: int


Token = (
    NoteToken
    | RestToken
    | MultiRestToken
    | ChordToken
    | GraceToken
    | TupletToken
    | BrokenRhythmToken
    | BarToken
    | EndingToken
    | FieldToken
    | DecorationToken
    | TieToken
    | OverlayToken
    | ChordSymbolToken
)
