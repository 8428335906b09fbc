"""How each character changes the state of the ABC state machine, mode by mode.

Every mode has a ``_step_<mode>`` method. A mode that reads a token of several
characters (a note with its length, a bar line, a tuplet) also has a
``_finish_<mode>`` method, which ends the token when a character arrives that
cannot extend it. That character is then read again in the mode around it.
"""

from __future__ import annotations

from collections.abc import Callable

from musicgen.abc.fields import default_unit_length, parse_meter, parse_unit_length
from musicgen.constrain.languages import LENGTH_SCALE
from musicgen.constrain.tunestate import (
    _DIGITS,
    _EIGHTHS,
    _FORM_PREFIXES,
    ACCIDENTALS,
    BODY_FIELDS,
    END,
    NOTE_LETTERS,
    NOTE_STARTS,
    SYMBOLS,
    TuneState,
    _Last,
    _Tuplet,
    bar_ticks,
    ticks,
)


class Transitions(TuneState):
    """The transitions of :class:`~musicgen.constrain.abcstate.AbcState`."""

    def step(self, char: str) -> None:
        """Advance by ``char``, which must be in :meth:`allowed` (:data:`END` ends the tune)."""
        _STEPS[self.mode](self, char)

    def _finish(self) -> None:
        """End the token in progress and return to the mode around it."""
        getattr(self, "_finish_" + self.mode)()

    def _step_hstart(self, char: str) -> None:
        self.field = char
        self.mode = "hletter"

    def _step_hletter(self, char: str) -> None:
        self.mode = "value"
        self.token = ""
        self.inline = False

    def _step_bletter(self, char: str) -> None:
        if char == ":":
            self._step_hletter(char)
            return
        self.line_content = True
        self.mode = "music"
        self._step_music(char)

    def _step_iname(self, char: str) -> None:
        self.mode = "value"
        self.token = ""
        self.inline = True

    def _step_value(self, char: str) -> None:
        if char != ("]" if self.inline else "\n"):
            self.token += char
            return
        value = self.token
        if self.field in self.fixed_fields and self.field not in self.set_fields:
            self.set_fields += self.field
        if self.field == "M":
            self.meter = parse_meter(value)
            self.bar_length = bar_ticks(self.meter)
        elif self.field == "L":
            self.unit = ticks(parse_unit_length(value))
        if self.field == "K" and self.in_header:
            self.in_header = False
            if self.unit is None:
                self.unit = ticks(default_unit_length(self.meter))
        self.last = None
        self.tie_target = False
        if self.inline:
            self.mode = "music"
            self.line_content = True
        else:
            self.mode = "hstart" if self.in_header else "bstart"
            self.line_content = False

    def _step_bstart(self, char: str) -> None:
        if char in BODY_FIELDS:
            self.field = char
            self.mode = "bletter"
            return
        self._step_music(char)

    def _step_end(self, char: str) -> None:
        raise ValueError("the tune has ended")

    def _step_music(self, char: str) -> None:
        self.mode = "music"
        self.after_dot = char == "."
        self.after_backslash = char == "\\"
        self.after_space = char == " "
        self.after_decoration = char in SYMBOLS
        if char == "\n":
            self.mode = "bstart"
            self.line_content = False
            self.bar_in_line = False
            return
        if char == END:
            self.mode = "end"
            return
        # A line of spaces only would end the tune, as an empty line does.
        self.line_content = self.line_content or char not in " \t"
        if char in NOTE_LETTERS:
            self._start_note("note", "music")
        elif char in ACCIDENTALS:
            self.mode, self.token, self.context = "acc", char, "music"
        elif char in "zx":
            self._start_note("rest", "music")
        elif char == "Z":
            self.mode, self.token = "mrest", ""
        elif char == "[":
            self.mode = "bracket"
        elif char in "|:":
            self.mode, self.token, self.bar_kind = "bar", char, self._bar_kind() or "any"
        elif char == '"':
            self.mode, self.return_mode, self.token = "quote", "music", ""
        elif char in "!+":
            self.mode, self.field, self.token = "deco", char, ""
        elif char == "{":
            self.mode, self.token, self.group_notes = "grace", "", 0
        elif char == "(":
            self.mode = "paren"
        elif char in "<>":
            self.mode, self.token = "broken", char
        elif char == "-":
            self.tie_pending = True
        elif char == ")":
            self.slur_open = False

    def _start_note(self, kind: str, context: str) -> None:
        self.mode, self.kind, self.context = "note", kind, context
        self.token, self.marks, self.tie = "", 0, False

    def _step_acc(self, char: str) -> None:
        if char in NOTE_LETTERS:
            self._start_note("note", self.context)
        else:
            self.token += char

    def _step_note(self, char: str) -> None:
        if char in "',":
            self.marks += 1
        elif char in "0123456789/":
            self.token += char
        elif char == "-":
            self.tie = True
            self._finish()
        else:
            self._finish()
            self.step(char)

    def _finish_note(self) -> None:
        written = self.lengths.scaled[self.token]
        if self.context == "grace":
            self.group_notes += 1
            self.mode = "grace"
            return
        if self.context == "chord":
            self.group_notes += 1
            if self.chord_first is None:
                self.chord_first = written
            self.mode = "chord"
            return
        if self.kind == "chord":
            assert self.chord_first is not None
            # Exact: both lengths are multiples of 1/16 unit length.
            written = written * self.chord_first // LENGTH_SCALE
        self._advance(written)
        self.bar_in_line = False
        if self.kind != "rest":
            self.has_note = True
            self.tie_pending = self.tie
        self.tie_target = self.kind != "rest"
        self.mode = "music"

    def _advance(self, written: int) -> None:
        """Add a note, rest or chord of ``written`` length (see LENGTH_SCALE) to the bar."""
        assert self.unit is not None
        # The duration in ticks is numerator / denominator.
        numerator = written * self.unit
        denominator = LENGTH_SCALE
        broken = self.broken
        if broken is not None:
            numerator *= broken[0]
            denominator *= _EIGHTHS
            self.broken = None
        tuplet = self.tuplet
        if tuplet is not None:
            numerator *= tuplet.q
            denominator *= tuplet.p
            remaining = tuplet.remaining - 1
            written_first = tuplet.written if tuplet.written is not None else written
            self.tuplet = (
                _Tuplet(remaining, tuplet.q, tuplet.p, written_first) if remaining else None
            )
        duration, remainder = divmod(numerator, denominator)
        if remainder:
            raise ArithmeticError(f"a duration of {numerator}/{denominator} ticks is not whole")
        self.time += duration
        spelled = written in self.lengths.scaled_values
        can_break = tuplet is None and broken is None and spelled
        self.last = _Last(duration, written, can_break)

    def _step_chord(self, char: str) -> None:
        if char in NOTE_LETTERS:
            self._start_note("note", "chord")
        elif char in ACCIDENTALS:
            self.mode, self.token, self.context = "acc", char, "chord"
        elif char == "]":
            self._start_note("chord", "music")
        elif char == '"':
            self.mode, self.return_mode, self.token = "quote", "chord", ""

    def _step_grace(self, char: str) -> None:
        if char in NOTE_LETTERS:
            self._start_note("note", "grace")
        elif char in ACCIDENTALS:
            self.mode, self.token, self.context = "acc", char, "grace"
        elif char == "/":
            self.token = "/"
        elif char == "}":
            self.mode = "music"
            self.after_decoration = True

    def _step_quote(self, char: str) -> None:
        if char == '"':
            self.mode = self.return_mode
        else:
            self.token += char

    def _step_deco(self, char: str) -> None:
        if char == self.field:
            # Long decorations may stand before a bar line, as !D.C.! does.
            self.mode = "music"
        else:
            self.token += char

    def _step_bracket(self, char: str) -> None:
        if char == "|":
            self.mode, self.token, self.bar_kind = "bar", "[|", self._bar_kind() or "any"
        elif char in _DIGITS:
            self.mode, self.token = "ending", char
        elif char == '"':
            # The lexer reads '["' as a variant ending labelled with text, such
            # as ["Coda". It skips the "[" and reads the string as usual.
            self._step_music(char)
        elif char in NOTE_STARTS:
            self.mode, self.chord_first, self.group_notes = "chord", None, 0
            self._step_chord(char)
        else:
            self.field = char
            self.mode = "iname"

    def _step_bar(self, char: str) -> None:
        if self.token + char in _FORM_PREFIXES[self._forms_key(self.bar_kind)]:
            self.token += char
        elif char in _DIGITS:
            # A variant ending makes any bar line a section boundary.
            self._finish_bar(section=True)
            self.mode, self.token = "ending", char
        else:
            self._finish()
            self.step(char)

    def _finish_bar(self, *, section: bool = False) -> None:
        text = self.token
        if set(text) == {":"}:
            closes, opens = len(text) - len(text) // 2, len(text) // 2
        else:
            closes = len(text) - len(text.lstrip(":"))
            opens = len(text) - len(text.rstrip(":"))
        if closes:
            self.repeat_open = False
        if opens:
            self.repeat_open = True
        self._close_bar(section=section or text != "|")
        self.bar_in_line = True
        self.mode = "music"

    def _close_bar(self, *, section: bool) -> None:
        self.last = None
        self.tie_target = False
        if self.time == 0:
            return
        short = self._timed and self.time < self._bar_length
        if self.required is not None:
            self.required = None
        elif short and section and self.bars_done > 0:
            self.required = self._bar_length - self.time
        self.bars_done += 1
        self.time = 0

    def _step_ending(self, char: str) -> None:
        if char in _DIGITS or (char in ",-" and self.token[-1] in _DIGITS):
            self.token += char
        else:
            self._finish()
            self.step(char)

    def _finish_ending(self) -> None:
        self._close_bar(section=True)
        self.mode = "music"

    def _step_paren(self, char: str) -> None:
        if char in _DIGITS:
            self.mode, self.token = "tuplet", char
        else:
            self.mode = "music"
            self.slur_open = True
            self.step(char)

    def _step_tuplet(self, char: str) -> None:
        if char in _DIGITS or char == ":":
            self.token += char
        else:
            self._finish()
            self.step(char)

    def _finish_tuplet(self) -> None:
        parts = [*self.token.split(":"), "", ""][:3]
        p = int(parts[0])
        q = int(parts[1]) if parts[1] else self._tuplet_time(p)
        r = int(parts[2]) if parts[2] else p
        self.tuplet = _Tuplet(r, q, p)
        self.mode = "music"

    def _step_broken(self, char: str) -> None:
        if char == self.token[0]:
            self.token += char
        else:
            self._finish()
            self.step(char)

    def _finish_broken(self) -> None:
        # ABC 2.1 section 4.4: a>b makes a 3/2 and b 1/2 of their lengths,
        # >> 7/4 and 1/4, >>> 15/8 and 1/8; "<" mirrors it. Factors are in eighths.
        short = _EIGHTHS >> len(self.token)
        first = 2 * _EIGHTHS - short if self.token[0] == ">" else short
        last = self.last
        assert last is not None
        # Exact: a duration is a multiple of eight ticks (see WHOLE).
        self.time += last.duration * (first - _EIGHTHS) // _EIGHTHS
        self.broken = (2 * _EIGHTHS - first, last.written)
        self.last = None
        self.mode = "music"

    def _step_mrest(self, char: str) -> None:
        if char in _DIGITS:
            self.token += char
        else:
            self._finish()
            self.step(char)

    def _finish_mrest(self) -> None:
        self.time += self._bar_length * int(self.token or "1")
        self.has_note = self.has_note
        self.last = None
        self.mode = "music"


# The step method of each mode, looked up once because step() runs for every
# character. Subclasses therefore cannot override a _step_<mode> method.
_STEPS: dict[str, Callable[[Transitions, str], None]] = {
    name.removeprefix("_step_"): method
    for name, method in vars(Transitions).items()
    if name.startswith("_step_")
}
