"""The finite languages that constrained sampling draws field values and lengths from.

Each language is a set of complete spellings plus the set of their prefixes,
so that a state machine can tell after every character whether the text so
far can still end as a valid value. All spellings here are accepted by the
converter's readers (``parse_meter``, ``parse_unit_length``, ``parse_tempo``,
``parse_key`` and the lexer's note lengths). The sets are narrower than ABC
2.1 on purpose, so that a value never runs into a dead end.

Field values come in two sets, like lengths: :data:`ALL_FIELD_VALUES` for
the syntax rules, which also take rare spellings that the converter reads
(the keys ``Dmixm`` and ``Dmix=c``, the tempo ``1/4 =50``), and
:data:`PLAIN_FIELD_VALUES` for ``enforce_style``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

from musicgen.abc.fields import parse_meter, parse_tempo, parse_unit_length
from musicgen.abc.keys import parse_key


@dataclass(frozen=True)
class Language:
    """A finite set of spellings and all their prefixes.

    Attributes:
        words: The complete spellings.
        prefixes: Every prefix of every spelling, the empty one and the words included.
    """

    words: frozenset[str]
    prefixes: frozenset[str]

    @classmethod
    def of(cls, words: Iterable[str]) -> Language:
        """Build the language of ``words``."""
        complete = frozenset(words)
        prefixes = {word[:end] for word in complete for end in range(len(word) + 1)}
        return cls(complete, frozenset(prefixes))

    def next_characters(self, prefix: str) -> frozenset[str]:
        """Return the characters that extend ``prefix`` to another prefix."""
        return self._next_table.get(prefix, frozenset())

    @functools.cached_property
    def _next_table(self) -> dict[str, frozenset[str]]:
        """Map each prefix to the characters that extend it, built on first use."""
        table: dict[str, set[str]] = {prefix: set() for prefix in self.prefixes}
        for word in self.words:
            for end in range(len(word)):
                table[word[:end]].add(word[end])
        # Many prefixes share a set, as "Dmi" and "Gmi" share {"n", "x"}.
        shared: dict[frozenset[str], frozenset[str]] = {}
        return {
            prefix: shared.setdefault(frozenset(chars), frozenset(chars))
            for prefix, chars in table.items()
        }


def _valid(reader: object, value: str) -> bool:
    try:
        reader(value)  # type: ignore[operator]
    except ValueError:
        return False
    return True


# ABC 2.1 section 3.1.6: meters as fractions, C, C| and none.
METERS = Language.of(
    [f"{n}/{d}" for n in range(1, 17) for d in (1, 2, 4, 8, 16)] + ["C", "C|", "none"]
)
# ABC 2.1 section 3.1.7: unit note lengths from a whole note to a 1/64.
UNIT_LENGTHS = Language.of(["1"] + [f"1/{d}" for d in (1, 2, 4, 8, 16, 32, 64)])
# ABC 2.1 section 3.1.8: a bare rate (deprecated but common) or beat=rate.
_BEATS = ("1/2", "1/4", "3/8", "1/8")
_RATES = range(20, 301)
TEMPOS = Language.of(
    [str(rate) for rate in _RATES] + [f"{beat}={rate}" for beat in _BEATS for rate in _RATES]
)
# parse_tempo also reads spaces around "=", as in "1/4 =50" (Ryan's). A test
# checks that it reads every one.
ALL_TEMPOS = Language.of(
    TEMPOS.words
    | {f"{beat}{sign}{rate}" for beat in _BEATS for sign in (" =", "= ", " = ") for rate in _RATES}
)
_MODES = ("maj", "min", "ion", "dor", "phr", "lyd", "mix", "aeo", "loc")
_MODE_NAMES: tuple[str, ...] = ("major", "minor", "ionian", "dorian", "phrygian", "lydian")
_MODE_NAMES += ("mixolydian", "aeolian", "locrian")
# parse_key reads a mode word by its first three letters and ignores the rest
# of the word, so it reads "Dmixm" and "Dmix=c" as D mixolydian and ignores
# the glued "=c". The syntax rules allow these endings after a three-letter
# mode: one more letter, or an accidental and its note.
_MODE_WORD_ENDINGS = tuple("abcdefghijklmnopqrstuvwxyz") + tuple(
    accidental + letter for accidental in "=^_" for letter in "abcdefg"
)


def _key_spellings() -> list[str]:
    modes = ["", "m", "M"]
    for word in _MODES + _MODE_NAMES:
        modes += [word, word.capitalize()]
    spellings = ["none"]
    for letter in "ABCDEFG":
        for accidental in ("", "#", "b"):
            for mode in modes:
                spellings.append(f"{letter}{accidental}{mode}")
                if mode:
                    spellings.append(f"{letter}{accidental} {mode}")
    # A key that needs more than 7 sharps or flats, such as C#lyd, is invalid.
    return [spelling for spelling in spellings if _valid(parse_key, spelling)]


def _extended_mode_spellings(keys: Iterable[str]) -> list[str]:
    """Return ``keys`` that end in a three-letter mode, each with every ending of a mode word."""
    abbreviated = [key for key in keys if key[-3:].lower() in _MODES]
    return [key + ending for key in abbreviated for ending in _MODE_WORD_ENDINGS]


# ABC 2.1 section 3.1.14: a tonic, an optional sharp or flat and an optional mode.
KEYS = Language.of(_key_spellings())
# Adding an ending to a mode word keeps the key valid, so parse_key does not
# read these spellings at import. A test checks every one.
ALL_KEYS = Language.of(KEYS.words | set(_extended_mode_spellings(KEYS.words)))

# Field values by field letter; other header fields (T:, R:) are free text.
ALL_FIELD_VALUES: dict[str, Language] = {
    "M": METERS,
    "L": UNIT_LENGTHS,
    "Q": ALL_TEMPOS,
    "K": ALL_KEYS,
}
# With enforce_style, the usual spellings only.
PLAIN_FIELD_VALUES: dict[str, Language] = {"M": METERS, "L": UNIT_LENGTHS, "Q": TEMPOS, "K": KEYS}

assert all(_valid(parse_meter, word) for word in METERS.words)
assert all(_valid(parse_unit_length, word) for word in UNIT_LENGTHS.words)
assert all(_valid(lambda text: parse_tempo(text, Fraction(1, 8)), w) for w in TEMPOS.words)


def _length_spellings(numerators: Iterable[int], divisors: dict[str, int]) -> dict[str, Fraction]:
    # ABC 2.1 section 4.3: a multiplier, then '/' and a divisor ('/' alone halves).
    spellings: dict[str, Fraction] = {}
    for numerator in ["", *(str(n) for n in numerators)]:
        for divisor_text, divisor in divisors.items():
            spellings[numerator + divisor_text] = Fraction(int(numerator or 1), divisor)
    return spellings


# Written lengths are kept as whole multiples of 1/256 of a unit length, the
# shortest length a chord can have (a 1/16 inside, times a 1/16 outside).
LENGTH_SCALE = 256


@dataclass(frozen=True, eq=False)
class LengthSet:
    """The note length spellings a state machine accepts, and the time grid they keep.

    Attributes:
        values: Each spelling and its value in unit lengths.
        grid: The shortest value; time outside tuplets and broken rhythm
            stays a multiple of it, so a bar can always be filled.
        scaled: Each spelling and its value in 1/:data:`LENGTH_SCALE` unit lengths.
        scaled_grid: ``grid`` in 1/:data:`LENGTH_SCALE` unit lengths.
        scaled_values: The values of ``scaled``.
    """

    values: dict[str, Fraction]
    grid: Fraction
    scaled: dict[str, int] = field(init=False)
    scaled_grid: int = field(init=False)
    scaled_values: frozenset[int] = field(init=False)

    def __post_init__(self) -> None:
        scaled = {spelling: _scale(value) for spelling, value in self.values.items()}
        language = Language.of(self.values)
        by_prefix = {
            prefix: tuple(sorted({v for s, v in scaled.items() if s.startswith(prefix)}))
            for prefix in language.prefixes
        }
        object.__setattr__(self, "scaled", scaled)
        object.__setattr__(self, "scaled_grid", _scale(self.grid))
        object.__setattr__(self, "scaled_values", frozenset(scaled.values()))
        object.__setattr__(self, "language", language)
        object.__setattr__(self, "by_prefix", by_prefix)


def _scale(value: Fraction) -> int:
    """Return ``value`` unit lengths in 1/:data:`LENGTH_SCALE` unit lengths."""
    scaled = value * LENGTH_SCALE
    if scaled.denominator != 1:
        raise ValueError(f"length {value} is not a multiple of 1/{LENGTH_SCALE} unit length")
    return scaled.numerator


# Every length the corpora write, from 1/16 to 32 unit lengths.
ALL_LENGTHS = LengthSet(
    _length_spellings(
        range(1, 33),
        {"": 1, "/": 2, "//": 4, "///": 8, "////": 16, "/2": 2, "/4": 4, "/8": 8, "/16": 16},
    ),
    Fraction(1, 16),
)
# The plain spellings from a quarter to 16 unit lengths, for enforce_style.
PLAIN_LENGTHS = LengthSet(
    _length_spellings(range(2, 17), {"": 1, "/": 2, "//": 4, "/2": 2, "/4": 4}), Fraction(1, 4)
)


class LengthRule(NamedTuple):
    """The conditions on a note length, after multiplying it by ``factor``.

    All lengths are in 1/:data:`LENGTH_SCALE` unit lengths. A named tuple
    hashes fast, which matters because :func:`length_choices` is cached by it.

    Attributes:
        factor: Multiplies the written length (a chord's first note for its
            outer length, one unit length otherwise).
        room: The product may be at most this, or None for no limit.
        target: The product must equal this, or None.
        grid: The product must be a multiple of this, or None.
    """

    factor: int = LENGTH_SCALE
    room: int | None = None
    target: int | None = None
    grid: int | None = None

    def accepts(self, value: int) -> bool:
        """Tell whether a written length of ``value`` satisfies the rule."""
        # Exact, because a spelled length and a chord's first length are
        # multiples of 1/16 unit length, so their product is one of 1/256.
        product = value * self.factor // LENGTH_SCALE
        if self.room is not None and product > self.room:
            return False
        if self.target is not None and product != self.target:
            return False
        return self.grid is None or product % self.grid == 0


FREE_LENGTH = LengthRule()


@functools.lru_cache(maxsize=65536)
def length_choices(
    prefix: str, rule: LengthRule, lengths: LengthSet
) -> tuple[frozenset[str], bool]:
    """Return the characters that may extend a length spelling, and whether it may end.

    Args:
        prefix: The length written so far after a note, rest or chord.
        rule: What the finished length must satisfy.
        lengths: The spellings to choose from.

    Returns:
        The next characters that still lead to a spelling the rule accepts,
        and whether ``prefix`` itself is such a spelling.
    """
    language: Language = lengths.language  # type: ignore[attr-defined]
    by_prefix: dict[str, tuple[int, ...]] = lengths.by_prefix  # type: ignore[attr-defined]
    extend = frozenset(
        char
        for char in language.next_characters(prefix)
        if any(rule.accepts(value) for value in by_prefix[prefix + char])
    )
    value = lengths.scaled.get(prefix)
    return extend, value is not None and rule.accepts(value)
