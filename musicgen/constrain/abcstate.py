"""An incremental ABC state machine: after each character, which characters may follow.

Constrained sampling feeds every drawn character to one :class:`AbcState` per
tune and masks the network's logits to :meth:`AbcState.allowed`. The machine
follows the converter's lexer (``musicgen.abc.lexer``) on a subset of ABC 2.1
that it can check one character at a time. The allowed set comes from the
mode the machine is in (header field, note, chord, bar line, ...) and a few
character classes, never from trying characters through the parser.

Always enforced (the syntax):

* Header lines ``T: R: M: L: Q: K:``, and ``P:`` without ``enforce_style``.
  The values of ``M: L: Q: K:`` come from the finite languages of
  :mod:`musicgen.constrain.languages`. These include rare spellings that
  ``parse_key`` and ``parse_tempo`` read: a three-letter mode followed by
  one more letter or by a glued accidental (``Dmixm``, ``Dmix=c``, both D
  mixolydian), and spaces around the ``=`` of a tempo (``1/4 =50``).
* Body lines of music, or ``K: M: L: Q:`` fields. Notes take accidentals,
  octave marks (up to three) and a length from a fixed set of spellings.
  Rests, multi-measure rests, chords, grace notes, tuplets, broken rhythm,
  ties, chord symbols, decorations, inline fields, bar lines and variant
  endings are read as the lexer reads them. So ``["`` starts a variant
  ending labelled with text (``["Coda"``), never a chord: the lexer skips
  the ``[`` and reads the string as a chord symbol or annotation.
* Every chord, grace group, string, decoration and inline field closes on
  its line, and no line is empty or spaces only.
* The tune ends only after a note, outside any chord, tuplet or broken
  rhythm, with no tie waiting for its note.

With ``enforce_bars`` the machine keeps the time of the current bar under
the meter in force:

* No note, rest or chord may overflow the bar. Outside tuplets and broken
  rhythm the time stays on the grid of the shortest length, so a bar can
  always be filled.
* A plain bar line ``|`` closes only a full bar, or the first bar (a pickup).
* A section bar line (``||``, ``|]``, ``|:``, ``:|``, ``::``, or one with a
  variant ending) may also close a short bar. The next bar must then make
  up exactly the missing time, unless the tune ends there.
* In a tuplet every note has the written length of the first, and a broken
  rhythm pair has two notes of the same written length. Neither may cross a
  bar line, and neither may contain a chord.
* ``M:`` and ``L:`` change only at the start of a bar.

With ``enforce_repeats`` the tune may end only with every ``|:`` closed.

With ``enforce_style`` the machine keeps to the forms the corpora use most:

* lengths from a quarter to 16 unit lengths;
* keys and tempos in their usual spellings only. The converter ignores
  what follows the first three letters of a mode, as in ``Dmix^f``, but
  other ABC programs may read it, and ``1/4 =50`` is rare;
* no ``x`` rests, chord symbols, annotations, text endings, ``+`` or ``!...!``
  decorations, back-quotes, ``$``, ``*``, ``y`` or ``P:`` header;
* no fermata ``H``, which the converter plays twice as long, so that the
  bar metrics would not add up;
* at most one space and one decoration in a row; a decoration followed
  right away by its note, rest or chord (the converter plays a decoration
  that a slur, grace group or space separates from its note on no note),
  and a grace group or slur followed by a note;
* chords and grace groups of at most four notes, with no spaces in a chord;
* slurs one deep and closed before the end, and a tie only right after
  its note;
* a line continuation ``\\`` only at a line end, and no two bar lines in a
  row on one line;
* variant endings 1 to 4 after ``|`` or ``:|``, and inline fields only at
  the start of a bar;
* no repeat that ends right after a pickup and, inside an open repeat, no
  section end other than one that closes the repeat.

Left to the network: the key, the melody, phrase lengths, whether repeats
and variant endings make musical sense, and how long the tune runs.
"""

from __future__ import annotations

import copy

from musicgen.constrain.languages import length_choices
from musicgen.constrain.transitions import Transitions
from musicgen.constrain.tunestate import (
    _DIGITS,
    _FORM_PREFIXES,
    _FORMS,
    _INLINE_TEXT,
    _LEXER_BAR,
    _NONZERO,
    _PLAIN_ENDINGS,
    _TEXT_LINE_END,
    BAR_FORMS,
    BODY_FIELDS,
    END,
    HEADER_FIELDS,
    HEADER_FIELDS_WITH_PARTS,
    NOTE_LETTERS,
    NOTE_STARTS,
    PRINTABLE,
    SKIPPED,
    SYMBOLS,
    TEXT,
)

__all__ = ["END", "AbcState"]

# The allowed set is a function of the attributes, and the same states recur
# often in music, so it is cached by their values.
_ALLOWED_CACHE: dict[tuple[object, ...], frozenset[str]] = {}
_CACHE_SIZE = 200_000
# Notes in one chord or grace group at most, under enforce_style. Without a
# limit a sampled chord can grow until the tune reaches its maximum length.
MAX_GROUP_NOTES = 4
# Modes whose allowed set depends on whether the token is empty, not on its text.
_TEXT_MODES = frozenset(("quote", "deco"))


class AbcState(Transitions):
    """The state of one tune being written, character by character.

    Args:
        enforce_bars: Keep bar times under the meter (see the module docstring).
        enforce_repeats: End the tune only with every repeat closed.
        enforce_style: Keep to plain forms (see the module docstring).
        max_bars: Once this many bars are closed, allow only the end of the
            tune wherever it may end, after closing an open repeat at the
            end of the bar in progress; 0 for no limit.
        fixed_fields: Field letters, such as ``"KMLQ"``, that stay fixed for
            the whole tune. The body may set one of them, on a line of its
            own or inline, only before its first note and only if no
            earlier line set it. So a key from the header stays, and a meter the
            header left out may follow the K: line once.
    """

    def allowed(self) -> frozenset[str]:
        """Return the characters that may come next, with :data:`END` when the tune may end."""
        result = self._cached_allowed()
        if not self.max_bars:
            return result
        if END in result:
            # A bar line in progress closes a bar once it ends.
            closing = self.mode in ("bar", "ending") and self.time > 0
            if self.bars_done + closing >= self.max_bars:
                return frozenset((END,))
        if self.bars_done >= self.max_bars and self.mode not in ("bar", "ending"):
            # Past the limit nothing new may open that would keep the tune
            # going (a slur, tuplet or tie), and a full bar inside a repeat
            # may only close it, with ":|".
            limited = result - {"(", "-"}
            if self.repeat_open and ":" in limited:
                limited -= {"|", "["}
            return limited or result
        return result

    def feed(self, text: str) -> int | None:
        """Step through ``text``; return the index of the first character not allowed, or None."""
        for index, char in enumerate(text):
            if char not in self.allowed():
                return index
            self.step(char)
        return None

    @property
    def can_end(self) -> bool:
        """True when the tune may end after the text fed so far."""
        return END in self.allowed()

    @property
    def in_body(self) -> bool:
        """True once the ``K:`` line that ends the header is complete."""
        return not self.in_header

    def _cached_allowed(self) -> frozenset[str]:
        """Return :meth:`_allowed`, looked up in the cache first."""
        key = self._cache_key()
        result = _ALLOWED_CACHE.get(key)
        if result is None:
            if len(_ALLOWED_CACHE) >= _CACHE_SIZE:
                _ALLOWED_CACHE.clear()
            result = _ALLOWED_CACHE[key] = self._allowed()
        return result

    def _cache_key(self) -> tuple[object, ...]:
        """Return the attributes that decide :meth:`_allowed`, counts reduced to what matters."""
        token: str | bool = self.token
        if self.mode in _TEXT_MODES or (
            self.mode == "value" and self.field not in self.field_values
        ):
            # Free text (a title, a string, a long decoration) allows the
            # same characters whatever its content, once it is not empty.
            token = bool(token)
        return (
            self.enforce_bars, self.enforce_repeats, self.enforce_style, self.lengths,
            self.fixed_fields, self.set_fields,
            self.mode, self.in_header, token, self.field, self.inline,
            self.return_mode, self.context, self.kind, self.marks, self.tie, self.bar_kind,
            self.line_content, self.after_dot, self.after_backslash, self.after_space,
            self.after_decoration, self.slur_open, self.bar_in_line, self.meter, self.unit,
            self.time, self.required, self.bars_done > 0, self.has_note, self.tie_pending,
            self.tie_target, self.last, self.broken, self.tuplet, self.chord_first,
            min(self.group_notes, MAX_GROUP_NOTES), self.repeat_open,
            # _closing, inlined because this runs for every character.
            self.max_bars > 0 and self.bars_done >= self.max_bars,
        )  # fmt: skip

    def _allowed(self) -> frozenset[str]:
        return getattr(self, "_allowed_" + self.mode)()

    def _probe_finished(self) -> frozenset[str]:
        """Return what may follow once the token in progress ends here."""
        probe = copy.copy(self)
        probe._finish()
        return probe._cached_allowed()

    def _allowed_end(self) -> frozenset[str]:
        return frozenset()

    def _allowed_hstart(self) -> frozenset[str]:
        fields = HEADER_FIELDS if self.enforce_style else HEADER_FIELDS_WITH_PARTS
        # A fixed field that the header has set may not be set again.
        return fields - frozenset(self.set_fields)

    def _allowed_hletter(self) -> frozenset[str]:
        return frozenset(":")

    def _allowed_bletter(self) -> frozenset[str]:
        result: frozenset[str] = frozenset(":") if self._field_allowed(self.field) else frozenset()
        if self.field in SYMBOLS and self._can_sound() and self.field not in self.fixed_fields:
            probe = copy.copy(self)
            probe.mode = "music"
            probe.line_content = True
            probe.after_decoration = True
            result |= probe._cached_allowed()
        return result

    def _allowed_value(self) -> frozenset[str]:
        end = "]" if self.inline else "\n"
        language = self.field_values.get(self.field)
        if language is None:
            if not self.token:
                return _INLINE_TEXT if self.inline else TEXT
            return TEXT if self.inline else _TEXT_LINE_END
        result = language.next_characters(self.token)
        return result | {end} if self.token in language.words else result

    def _allowed_bstart(self) -> frozenset[str]:
        fields = frozenset(name for name in BODY_FIELDS if self._field_allowed(name))
        music = self._allowed_music()
        if self.fixed_fields:
            # A line that starts with the letter of a fixed field starts that
            # field, never a decoration such as the accent "L".
            music -= frozenset(self.fixed_fields) - fields
        return music | fields

    def _allowed_music(self) -> frozenset[str]:
        if self.enforce_style:
            if self.after_backslash:
                return frozenset("\n")
            allowed = {"\\", ")"} if self.slur_open else {"\\"}
            if (self._can_sound() and not self.slur_open) or self._tuplet_digits():
                allowed.add("(")
            if not self.after_space:
                allowed.add(" ")
        else:
            allowed = set(SKIPPED) | {'"', "(", ")"}
        if self._can_sound():
            allowed |= NOTE_STARTS | {"z", "{"}
            if not self.enforce_style:
                allowed |= SYMBOLS | {"x", "+", "!"}
            elif not self.after_decoration:
                # The converter plays a fermata (H) twice as long, so it is left out.
                allowed |= SYMBOLS - {"H"}
            if self._chord_allowed():
                allowed.add("[")
            if self.meter is not None and self._multirest_allowed():
                allowed.add("Z")
        if self.enforce_style and self.after_decoration:
            # The converter plays a decoration only on a note, rest or chord
            # right after it (see musicgen.abc.lexer), so nothing may come between.
            return frozenset(allowed & (NOTE_STARTS | {"z", "["}))
        if self.tie_target and not self.enforce_style:
            allowed.add("-")
        if not self.enforce_style or self.time == 0:
            allowed.add("[")  # an inline field
        kind = self._bar_kind()
        if kind is not None and self._bar_allowed():
            prefixes = _FORM_PREFIXES[self._forms_key(kind)]
            allowed |= {char for char in "|:" if char in prefixes}
            if self.after_dot:
                allowed.discard("|")
        if self._can_break():
            allowed |= {">", "<"}
        if self.line_content:
            allowed.add("\n")
            if self._can_end():
                allowed.add(END)
        return frozenset(allowed)

    def _allowed_bracket(self) -> frozenset[str]:
        allowed = {name for name in BODY_FIELDS if self._field_allowed(name)}
        if self.enforce_style:
            allowed = {name for name in allowed if name != "Q"} if self.time == 0 else set()
        kind = self._bar_kind()
        if self._bar_allowed() and kind and "[|" in _FORMS[self._forms_key(kind)]:
            allowed.add("|")
        if self._ending_allowed():
            allowed |= _PLAIN_ENDINGS if self.enforce_style else _NONZERO
        if self._can_sound() and self._chord_allowed():
            allowed |= NOTE_STARTS
        if not self.enforce_style:
            allowed.add('"')  # a variant ending labelled with text, such as ["Coda"
        return frozenset(allowed)

    def _allowed_iname(self) -> frozenset[str]:
        return frozenset(":")

    def _allowed_acc(self) -> frozenset[str]:
        if self.token in ("^", "_"):
            return NOTE_LETTERS | {self.token}
        return NOTE_LETTERS

    def _allowed_note(self) -> frozenset[str]:
        extend, can_finish = length_choices(self.token, self._length_rule(), self.lengths)
        allowed = set(extend)
        if self.kind == "note" and not self.token and self.marks < 3:
            allowed |= {"'", ","}
        if can_finish:
            if self.kind != "rest" and self.context != "grace":
                allowed.add("-")
            allowed |= self._probe_finished()
        return frozenset(allowed)

    def _allowed_chord(self) -> frozenset[str]:
        if not self.enforce_style:
            allowed = NOTE_STARTS | {" ", '"'}
        elif self.group_notes >= MAX_GROUP_NOTES:
            return frozenset("]")
        else:
            allowed = NOTE_STARTS
        return allowed | {"]"} if self.group_notes else allowed

    def _allowed_grace(self) -> frozenset[str]:
        allowed = set(NOTE_STARTS)
        if not self.token and not self.group_notes:
            allowed.add("/")
        if self.group_notes:
            allowed.add("}")
        if self.enforce_style and self.group_notes >= MAX_GROUP_NOTES:
            return frozenset("}")
        return frozenset(allowed)

    def _allowed_quote(self) -> frozenset[str]:
        return PRINTABLE

    def _allowed_deco(self) -> frozenset[str]:
        # The lexer reads a long decoration up to the next mark on the line.
        return PRINTABLE if self.token else PRINTABLE - {self.field}

    def _allowed_bar(self) -> frozenset[str]:
        kind = self._forms_key(self.bar_kind)
        prefixes = _FORM_PREFIXES[kind]
        allowed = {char for char in "|]:[" if self.token + char in prefixes}
        if self.token == "[|]":
            allowed.discard(":")
        complete = self.token in BAR_FORMS
        if complete and self.token != "[|]":
            if not self.enforce_style:
                allowed |= _NONZERO
            elif self.token in ("|", ":|"):
                allowed |= _PLAIN_ENDINGS
        if complete and self.token in _FORMS[kind]:
            finished = self._probe_finished()
            allowed |= {char for char in finished if not self._lexer_extends(char)}
        return frozenset(allowed)

    def _lexer_extends(self, char: str) -> bool:
        match = _LEXER_BAR.match(self.token + char)
        return match is not None and match.end() > len(self.token)

    def _allowed_ending(self) -> frozenset[str]:
        if self.token[-1] in ",-":
            return _PLAIN_ENDINGS if self.enforce_style else _NONZERO
        return frozenset(",-") | (self._probe_finished() - _DIGITS - {",", "-"})

    def _allowed_paren(self) -> frozenset[str]:
        allowed = self._tuplet_digits()
        if self.enforce_style and self.slur_open:
            return allowed
        probe = copy.copy(self)
        probe.mode = "music"
        probe.slur_open = True
        probe.after_decoration = self.enforce_style
        return allowed | probe._cached_allowed()

    def _allowed_tuplet(self) -> frozenset[str]:
        parts = self.token.split(":")
        allowed: set[str] = set()
        if not self._timed and len(parts) < 3:
            allowed.add(":")
        if len(parts) > 1 and not parts[-1]:
            allowed |= _NONZERO
        return frozenset(allowed) | self._probe_finished()

    def _allowed_broken(self) -> frozenset[str]:
        extend = {self.token[0]} if len(self.token) < 3 else set()
        return frozenset(extend) | (self._probe_finished() - {"<", ">"})

    def _allowed_mrest(self) -> frozenset[str]:
        digits = _DIGITS if self.token else _NONZERO
        allowed = frozenset() if self._timed else digits
        return allowed | self._probe_finished() - _DIGITS
