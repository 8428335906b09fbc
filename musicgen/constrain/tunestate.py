"""The data of the ABC state machine: what it tracks, and the rules of time and bars.

:class:`TuneState` contains the state of one tune being written. The rules that
depend on time (the room left in the bar, which bar lines may close it, which
lengths a note may take) live here, beside the data they read. Transitions
are in :mod:`musicgen.constrain.transitions`, the allowed characters in
:mod:`musicgen.constrain.abcstate`.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import NamedTuple

from musicgen.abc.lexer import DEFAULT_SYMBOLS
from musicgen.constrain.languages import (
    ALL_FIELD_VALUES,
    ALL_LENGTHS,
    FREE_LENGTH,
    LENGTH_SCALE,
    PLAIN_FIELD_VALUES,
    PLAIN_LENGTHS,
    LengthRule,
)

END = "\x03"
"""Stands for the end-of-tune marker in the sets :meth:`AbcState.allowed` returns."""

NOTE_LETTERS = frozenset("ABCDEFGabcdefg")
ACCIDENTALS = frozenset("^_=")
NOTE_STARTS = NOTE_LETTERS | ACCIDENTALS
SYMBOLS = frozenset(DEFAULT_SYMBOLS)
SKIPPED = frozenset(" \t`$\\*y")
PRINTABLE = frozenset(chr(code) for code in range(32, 127))
# Free text (titles, rhythms): any character from the space to U+2FFF, and tab.
TEXT = frozenset(chr(code) for code in range(32, 0x3000)) | {"\t"}
_TEXT_LINE_END = TEXT | {"\n"}
_INLINE_TEXT = TEXT - {"]"}
HEADER_FIELDS = frozenset("TRMLQK")
# Without enforce_style the header may also give the order of parts.
HEADER_FIELDS_WITH_PARTS = HEADER_FIELDS | {"P"}
BODY_FIELDS = frozenset("KMLQ")
_NONZERO = frozenset("123456789")
# With enforce_style, variant endings are 1 to 4 and follow "|" or ":|" only.
_PLAIN_ENDINGS = frozenset("1234")
_DIGITS = frozenset("0123456789")

# The bar lines the machine writes; all but "|" end a section of the tune.
BAR_FORMS = frozenset(
    [
        "|",
        "||",
        "|||",
        "|]",
        "[|",
        "[|]",
        ":[|]",
        "|:",
        ":|",
        "::",
        ":|:",
        ":||:",
        "||:",
        ":||",
        "|::",
        "::|",
    ]
)
SECTION_FORMS = BAR_FORMS - {"|"}
# Inside an open repeat, with enforce_style, a section may end only by closing it.
_IN_REPEAT_FORMS = frozenset(form for form in BAR_FORMS if form == "|" or form.startswith(":"))
# With enforce_style, no repeat may end right after a pickup: a pickup
# repeated on its own is no music, and the bar metrics cannot place it.
_OPENING_FORMS = frozenset(form for form in BAR_FORMS if not form.startswith(":"))
# Once max_bars bars are closed, no repeat may start, so that the tune can end.
_CLOSING_FORMS = frozenset(form for form in BAR_FORMS if not form.endswith(":"))
# The bar lines that may close a bar, by (kind, opening, in repeat, closing).
FormsKey = tuple[str, bool, bool, bool]
_FORMS: dict[FormsKey, frozenset[str]] = {}
for _kind, _all in (("any", BAR_FORMS), ("section", SECTION_FORMS)):
    for _opening in (False, True):
        for _in_repeat in (False, True):
            for _closing in (False, True):
                _forms = _all & (_OPENING_FORMS if _opening else BAR_FORMS)
                _forms &= _IN_REPEAT_FORMS if _in_repeat else BAR_FORMS
                _forms &= _CLOSING_FORMS if _closing else BAR_FORMS
                _FORMS[(_kind, _opening, _in_repeat, _closing)] = _forms
_FORM_PREFIXES = {
    key: frozenset(form[:end] for form in forms for end in range(1, len(form) + 1))
    for key, forms in _FORMS.items()
}
# The lexer's bar-line pattern: a character it would add to a bar line cannot
# start the next token.
_LEXER_BAR = re.compile(r":*\[\|\]|\.\||:*\[\||:*\|[|\]]*:*|::+")
# ABC 2.1 section 4.13: "(p" puts p notes in the time of q; None means 3 in
# compound meter and 2 otherwise.
_TUPLET_TIME: dict[int, int | None] = {2: 3, 3: 2, 4: 3, 5: None, 6: 2, 7: None, 8: 3, 9: None}


# Time is kept in integer ticks, WHOLE to a whole note, so that it is exact
# and cheap to add, compare and hash. WHOLE makes every duration the machine
# can reach a whole number of ticks. A written length is a multiple of 1/256
# unit length (2**8) and a unit length of 1/64 whole note (2**6). Broken
# rhythm multiplies by eighths, twice when a note ends one pair and starts
# another (2**6). A tuplet multiplies by q/p with p from 2 to 9 (2**3 * 315).
WHOLE = 2**23 * 315
# A broken rhythm's factors are kept in eighths.
_EIGHTHS = 8


class _Tuplet(NamedTuple):
    """A tuplet in progress, p notes in the time of q: the notes left, the first written length."""

    remaining: int
    q: int
    p: int
    written: int | None = None


class _Last(NamedTuple):
    """The latest note, rest or chord: its time in ticks, its written length (see LENGTH_SCALE)."""

    duration: int
    written: int
    can_break: bool


def ticks(value: Fraction) -> int:
    """Return ``value`` whole notes in ticks; raise ArithmeticError if that is not exact."""
    whole, remainder = divmod(value.numerator * WHOLE, value.denominator)
    if remainder:
        raise ArithmeticError(f"{value} whole notes is not a whole number of ticks")
    return whole


def bar_ticks(meter: tuple[int, int] | None) -> int | None:
    """Return the length of a bar of ``meter`` in ticks, or None for a free meter."""
    if meter is None:
        return None
    return ticks(Fraction(meter[0], meter[1]))


class TuneState:
    """The attributes of one tune being written; the arguments are those of ``AbcState``."""

    def __init__(
        self,
        *,
        enforce_bars: bool = True,
        enforce_repeats: bool = True,
        enforce_style: bool = True,
        max_bars: int = 0,
        fixed_fields: str = "",
    ) -> None:
        self.enforce_bars = enforce_bars
        self.enforce_repeats = enforce_repeats
        self.enforce_style = enforce_style
        self.fixed_fields = fixed_fields
        # The letters among fixed_fields whose field has been set so far.
        self.set_fields = ""
        self.lengths = PLAIN_LENGTHS if enforce_style else ALL_LENGTHS
        self.field_values = PLAIN_FIELD_VALUES if enforce_style else ALL_FIELD_VALUES
        self.max_bars = max_bars
        # Reading: the mode (see the _step_<mode> methods) and the token in progress.
        self.mode = "hstart"
        self.in_header = True
        self.token = ""
        # The field letter, or the closing mark of a long decoration.
        self.field = ""
        self.inline = False
        # The mode a string returns to, and where a note belongs ("music", "chord", "grace").
        self.return_mode = "music"
        self.context = "music"
        self.kind = "note"  # "note", "rest" or "chord"
        self.marks = 0  # octave marks of the note in progress
        self.tie = False
        self.bar_kind = "any"  # _bar_kind() when the bar line in progress began

        self.line_content = False
        # A '.' was just read: a '|' now would make the dotted bar line '.|'.
        self.after_dot = False
        self.after_backslash = False
        self.after_space = False
        self.after_decoration = False
        self.slur_open = False
        # A bar line closed since the last note on this line.
        self.bar_in_line = False

        # Time, in ticks (see WHOLE): the meter and its bar length, the unit
        # length, the time used in this bar, and the length this bar must
        # reach to complete a split bar.
        self.meter: tuple[int, int] | None = (4, 4)
        self.bar_length = bar_ticks(self.meter)
        self.unit: int | None = None
        self.time = 0
        self.required: int | None = None
        self.bars_done = 0

        self.has_note = False
        self.tie_pending = False  # a tie waits for its note
        self.tie_target = False  # a "-" now would tie the latest note
        self.last: _Last | None = None
        # A broken rhythm waiting for its second note: its factor in eighths
        # and its written length.
        self.broken: tuple[int, int] | None = None
        self.tuplet: _Tuplet | None = None
        # The written length of the first note of the chord in progress, and
        # the notes read so far in the chord or grace group.
        self.chord_first: int | None = None
        self.group_notes = 0
        self.repeat_open = False

    def __copy__(self) -> TuneState:
        # Faster than the default copy, which matters because every cache miss copies.
        probe = object.__new__(type(self))
        probe.__dict__.update(self.__dict__)
        return probe

    @property
    def _timed(self) -> bool:
        return self.enforce_bars and self.meter is not None

    @property
    def _bar_length(self) -> int:
        """The bar length in ticks; the meter must not be free."""
        assert self.bar_length is not None
        return self.bar_length

    def _time_left(self) -> int:
        """Return the ticks left in the bar, which must be timed."""
        limit = self.required if self.required is not None else self._bar_length
        return limit - self.time

    def _room(self) -> int | None:
        """Return the time left in the bar, or None when it is not kept.

        The time is in 1/LENGTH_SCALE unit lengths, rounded down. Rounding
        changes no comparison with a written length, a whole number there.
        """
        if not self._timed or self.unit is None:
            return None
        return self._time_left() * LENGTH_SCALE // self.unit

    def _can_sound(self) -> bool:
        room = self._room()
        return room is None or room >= self.lengths.scaled_grid

    def _bar_kind(self) -> str | None:
        """Return which bar lines may close the bar now: "any", "section" or None."""
        if self.broken is not None:
            return None
        if not self._timed:
            return "any"
        if self.tuplet is not None:
            return None
        if self.time == 0:
            return "any"
        if self.required is not None:
            return "any" if self.time == self.required else None
        if self.time == self._bar_length or self.bars_done == 0:
            return "any"
        return None if self._closing else "section"

    def _length_rule(self) -> LengthRule:
        room = self._room()
        if room is None or self.context == "grace":
            return FREE_LENGTH
        grid = self.lengths.scaled_grid
        if self.context == "chord":
            if self.chord_first is None:
                return LengthRule(room=room, grid=grid)
            return FREE_LENGTH
        if self.kind == "chord":
            assert self.chord_first is not None
            return LengthRule(factor=self.chord_first, room=room, grid=grid)
        if self.broken is not None:
            return LengthRule(target=self.broken[1])
        if self.tuplet is not None:
            if self.tuplet.written is None:
                # Dividing the rounded room by q and rounding again keeps
                # every comparison with a whole length exact.
                return LengthRule(room=room // self.tuplet.q, grid=grid)
            return LengthRule(target=self.tuplet.written)
        return LengthRule(room=room, grid=grid)

    def _can_break(self) -> bool:
        last = self.last
        if last is None or self.broken is not None:
            return False
        if not self._timed:
            return True
        return last.can_break and self.tuplet is None and last.duration <= self._time_left()

    def _tuplet_time(self, p: int) -> int:
        q = _TUPLET_TIME.get(p, 0)
        if q is None:
            compound = self.meter is not None and self.meter[0] % 3 == 0 and self.meter[0] > 3
            q = 3 if compound else 2
        return q

    def _field_allowed(self, name: str) -> bool:
        fixed = name in self.fixed_fields and not self.in_header
        if fixed and (self.has_note or name in self.set_fields):
            return False
        if name in "ML" and self.enforce_bars:
            return self.time == 0 and self.required is None and self.tuplet is None
        return True

    def _can_end(self) -> bool:
        if not (self.line_content and self.has_note) or self.tie_pending:
            return False
        if self.broken is not None or self.tuplet is not None:
            return False
        if self.enforce_repeats and self.repeat_open:
            return False
        if self.enforce_style and self.slur_open:
            return False
        return not (self._timed and self.required is not None and 0 < self.time < self.required)

    def _forms_key(self, kind: str) -> FormsKey:
        """Return the key in ``_FORMS`` of the bar lines that may close the bar now."""
        opening = self.bars_done == 0 and self._timed and self.time < self._bar_length
        in_repeat = self.enforce_repeats and self.repeat_open
        return (
            kind,
            self.enforce_style and opening,
            self.enforce_style and in_repeat,
            self._closing,
        )

    @property
    def _closing(self) -> bool:
        """True once ``max_bars`` bars are closed, so the tune should end."""
        return self.max_bars > 0 and self.bars_done >= self.max_bars

    def _tuplet_digits(self) -> frozenset[str]:
        """Return the digits p that may start a tuplet "(p" now."""
        if self._timed and (self.tuplet is not None or self.broken is not None):
            return frozenset()
        room = self._room()
        grid = self.lengths.scaled_grid
        return frozenset(
            digit
            for digit in "23456789"
            if room is None or self._tuplet_time(int(digit)) * grid <= room
        )

    def _bar_allowed(self) -> bool:
        if self.enforce_style and self.bar_in_line and self.time == 0:
            return False
        return self._bar_kind() is not None

    def _chord_allowed(self) -> bool:
        return not (self._timed and (self.tuplet is not None or self.broken is not None))

    def _multirest_allowed(self) -> bool:
        if not self._timed:
            return True
        return (
            self.time == 0 and self.required is None and self.tuplet is None and self.broken is None
        )

    def _ending_allowed(self) -> bool:
        if self.broken is not None:
            return False
        return not self._timed or self.time == 0
