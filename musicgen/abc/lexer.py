"""Split one line of a tune body into tokens.

The lexer reads one music line at a time. It reports malformed text through a
:class:`~musicgen.abc.errors.Reporter`, so strict mode raises at the first
problem and lenient mode skips the bad characters and goes on.

Chord symbols (``"Am"``) become tokens, which only sound with accompaniment.
Skipped on purpose, because they never sound: annotations (``"^text"``),
slurs ``(`` ``)``, spacers ``y``, beam back-quotes, ``$`` score line breaks,
the deprecated ``!`` line break and the ``\\`` line continuation.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

from musicgen.abc.errors import (
    AbcError,
    InvalidLengthError,
    Reporter,
    UnexpectedCharacterError,
    UnterminatedError,
)
from musicgen.abc.tokens import (
    BarToken,
    BrokenRhythmToken,
    ChordSymbolToken,
    ChordToken,
    DecorationToken,
    EndingToken,
    FieldToken,
    GraceToken,
    MultiRestToken,
    NoteToken,
    OverlayToken,
    Ratio,
    RestToken,
    TieToken,
    Token,
    TupletToken,
)

# ABC 2.1 section 4.14: the one-character decorations and their long names.
DEFAULT_SYMBOLS = {
    ".": "staccato", "~": "roll", "H": "fermata", "L": "accent", "M": "lowermordent",
    "O": "coda", "P": "uppermordent", "S": "segno", "T": "trill", "u": "upbow", "v": "downbow",
}  # fmt: skip

# ABC 2.1 section 4.2: accidentals, with microtones such as ^/ and _3/4.
_NOTE = re.compile(r"(\^\^|__|\^\d*/\d*|_\d*/\d*|\^|_|=)?([A-Ga-g])([',]*)")
_LENGTH = re.compile(r"\d*(?:/+\d*)*")
# A whole note at once: accidental, letter, octave marks, length and tie.
_NOTE_FULL = re.compile(
    r"(\^\^|__|\^\d*/\d*|_\d*/\d*|\^|_|=)?([A-Ga-g])([',]*)(\d*(?:/+\d*)*)(\.?-)?"
)
_NOTE_STARTS = frozenset("ABCDEFGabcdefg^_=")
# ABC 2.1 section 4.19: the first character of an annotation gives its place.
_PLACEMENTS = frozenset("^_<>@")
_BAR = re.compile(r":*\[\|\]|\.\||:*\[\||:*\|[|\]]*:*|::+")
_ENDING = re.compile(r"\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*")
_TUPLET = re.compile(r"\((\d+)(?::(\d*)(?::(\d*))?)?")
_INLINE_FIELD = re.compile(r"\[([A-Za-z]):([^\]]*)\]")
# Chord text up to the next character that may end the chord, or that starts
# a chord symbol "Am" or a decoration !trill!, which read_chord skips whole.
_CHORD_TEXT = re.compile(r'[^\]|\[%"!]*')
_SKIPPED = set(" \t`$\\()y*")
# The length of a note written without one: the unit length.
_UNIT: Ratio = (1, 1)


@lru_cache(maxsize=1024)
def parse_length(text: str) -> Fraction | None:
    """Read a length such as ``3/2``, ``/``, ``//`` or ``2``; None for a zero divisor.

    ABC 2.1 section 4.3: a number multiplies the unit length, each ``/``
    divides it by the number after it, or by 2 when none follows.
    """
    head, *divisions = text.split("/")
    length = Fraction(int(head) if head else 1)
    for divisor in divisions:
        value = int(divisor) if divisor else 2
        if value == 0:
            return None
        length /= value
    return length


@lru_cache(maxsize=1024)
def _length_ratio(text: str) -> Ratio | None:
    """Return :func:`parse_length` of ``text`` as (numerator, denominator); None for 0 too."""
    length = parse_length(text)
    return (length.numerator, length.denominator) if length else None


def parse_endings(text: str) -> list[int]:
    """Read a variant ending list such as ``1,3`` or ``1-3`` into its numbers."""
    numbers: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        numbers.extend(range(int(first), int(last or first) + 1))
    return numbers


class LineLexer:
    """Tokenize one music line.

    Args:
        text: The line without its line ending.
        line: The 1-based line number in the tunebook file.
        reporter: Where problems go.
        symbols: One-character decorations by character, including ``U:`` ones.
    """

    def __init__(self, text: str, line: int, reporter: Reporter, symbols: dict[str, str]):
        self.text = text
        self.line = line
        self.reporter = reporter
        self.symbols = symbols
        self.index = 0
        self.tokens: list[Token] = []

    def problem(
        self,
        kind: type[AbcError],
        message: str,
        repair: str = "",
        index: int | None = None,
        *,
        drops_notes: bool = False,
    ) -> None:
        """Report a problem at ``index`` (default: the current character); see Reporter."""
        where = self.index if index is None else index
        self.reporter.problem(kind, message, self.line, where + 1, repair, drops_notes=drops_notes)

    def run(self) -> list[Token]:
        """Return the tokens of the whole line."""
        text = self.text
        end = len(text)
        tokens = self.tokens
        while self.index < end:
            char = text[self.index]
            if char == " ":
                self.index += 1
            elif char == "%":
                break
            elif char in _NOTE_STARTS and (note := self.read_note()) is not None:
                tokens.append(note)
            else:
                self.step(char)
        return tokens

    def step(self, char: str) -> None:
        """Read one token, or skip one character, starting at ``char``."""
        start = self.index
        column = start + 1
        if char in "zxZX":
            self.read_note_or_rest()
        elif char == "[":
            self.read_bracket()
        elif char in "|:" or self.text.startswith(".|", start):
            self.read_bar()
        elif char == '"':
            self.read_quoted()
        elif char in "!+":
            self.read_long_decoration(char)
        elif char in self.symbols and not self.text.startswith(".(", start):
            self.index += 1
            self.tokens.append(
                DecorationToken(self.line, column, self.symbols[char], *self._placement(), True)
            )
        elif char == "{":
            self.read_grace()
        elif char == "(" and _TUPLET.match(self.text, start):
            self.read_tuplet()
        elif char in "<>":
            self.read_broken_rhythm(char)
        elif char == "-":
            self.tokens.append(TieToken(self.line, column))
            self.index += 1
        elif char == "&":
            self.tokens.append(OverlayToken(self.line, column))
            self.index += 1
        elif char in _SKIPPED or char == ".":
            self.index += 1
            if char == "y":
                self.read_length()
        else:
            self.problem(UnexpectedCharacterError, f"unexpected character {char!r}", "skipped")
            self.index += 1

    def _placement(self) -> tuple[bool, bool]:
        """Return whether the decoration just read is attached, and whether a note follows.

        ABC 2.1 section 4.20 writes a note's decorations and annotations
        right before its accidentals and note, after any grace notes, chord
        symbol and slur or tuplet opening. So a decoration is attached when a
        note, chord, rest, decoration or annotation comes next. The second
        value is True only when a note, chord, rest or one-character
        decoration comes next, which is what abc2midi requires.
        """
        if self.index >= len(self.text):
            return False, False
        char = self.text[self.index]
        if char in "[zxZX" or char in self.symbols or _NOTE.match(self.text, self.index):
            return True, True
        annotation = char == '"' and self.text[self.index + 1 : self.index + 2] in _PLACEMENTS
        return char in "!+" or annotation, False

    def read_length(self) -> Ratio:
        """Read the length after a note or rest; report and use 1 when it is invalid."""
        start = self.index
        match = _LENGTH.match(self.text, start)
        text = match.group(0) if match else ""
        self.index = start + len(text)
        if not text:
            return _UNIT
        return _length_ratio(text) or self._bad_length(text, start)

    def read_tie(self) -> bool:
        """Consume a ``-`` (or dotted ``.-``) right after a note and return True if present."""
        if self.text.startswith("-", self.index):
            self.index += 1
            return True
        if self.text.startswith(".-", self.index):
            self.index += 2
            return True
        return False

    def read_note(self) -> NoteToken | None:
        """Read one note at the current position, or return None if none is there."""
        start = self.index
        match = _NOTE_FULL.match(self.text, start)
        if not match:
            return None
        accidental, letter, marks, length_text, tie = match.groups()
        self.index = match.end()
        octave = marks.count("'") - marks.count(",") if marks else 0
        length = _UNIT
        if length_text:
            length = _length_ratio(length_text) or self._bad_length(
                length_text, start + match.start(4) - match.start()
            )
        return NoteToken(self.line, start + 1, letter, accidental, octave, length, tie is not None)

    def _bad_length(self, text: str, index: int) -> Ratio:
        self.problem(
            InvalidLengthError,
            f"invalid note length {text!r}: a length must be above 0, "
            "write for example 2, /2 or 3/2",
            "used 1",
            index,
        )
        return _UNIT

    def read_note_or_rest(self) -> None:
        """Read a note, a rest ``z x`` or a multi-measure rest ``Z X``."""
        char = self.text[self.index]
        column = self.index + 1
        if char in "zx":
            self.index += 1
            self.tokens.append(RestToken(self.line, column, self.read_length()))
        elif char in "ZX":
            self.index += 1
            digits = re.match(r"\d*", self.text[self.index :])
            count = digits.group(0) if digits else ""
            self.index += len(count)
            self.tokens.append(MultiRestToken(self.line, column, int(count) if count else 1))
        else:
            note = self.read_note()
            if note is not None:
                self.tokens.append(note)

    def read_bracket(self) -> None:
        """Read what starts with ``[``: an inline field, a bar, an ending or a chord."""
        start = self.index
        field = _INLINE_FIELD.match(self.text, start)
        if field:
            name, value = field.groups()
            self.tokens.append(FieldToken(self.line, start + 1, name, value.strip()))
            self.index = field.end()
        elif self.text.startswith("[|", start):
            self.read_bar()
        elif self.text.startswith('["', start):
            # A variant ending labelled with text, such as ["Coda": it plays as written.
            self.index += 1
        elif self.index + 1 < len(self.text) and self.text[start + 1].isdigit():
            ending = _ENDING.match(self.text, start + 1)
            assert ending is not None  # a digit always matches
            self.tokens.append(EndingToken(self.line, start + 1, parse_endings(ending.group(0))))
            self.index = ending.end()
        elif re.match(r"\[[A-Za-z]:", self.text[start:]):
            self.problem(
                UnterminatedError,
                "inline field is never closed with ']'",
                "rest of the line skipped",
                drops_notes=True,
            )
            self.index = len(self.text)
        else:
            self.read_chord()

    def read_chord(self) -> None:
        """Read a chord ``[CEG]`` with its outer length and tie.

        A chord that is never closed is reported at its ``[``. Only the
        ``[`` is skipped, so the notes after it play one after another.
        """
        start = self.index
        close = _chord_end(self.text, start)
        if close is None:
            self.problem(UnterminatedError, "chord is never closed with ']'", "'[' skipped")
            self.index += 1
            return
        self.index += 1
        notes: list[NoteToken] = []
        decorations: list[str] = []
        while self.index < close:
            char = self.text[self.index]
            note = self.read_note()
            if note is not None:
                note.decorations = tuple(decorations)
                decorations = []
                notes.append(note)
            elif char == "!" and "!" in self.text[self.index + 1 :]:
                end = self.text.index("!", self.index + 1)
                decorations.append(self.text[self.index + 1 : end])
                self.index = end + 1
            elif char in self.symbols:
                decorations.append(self.symbols[char])
                self.index += 1
            elif char == '"':
                self.read_quoted()
            elif char in " \t-":
                self.index += 1
            else:
                self.problem(UnexpectedCharacterError, f"unexpected {char!r} in chord", "skipped")
                self.index += 1
        self.index = close + 1
        length = self.read_length()
        tie = self.read_tie()
        if notes:
            self.tokens.append(ChordToken(self.line, start + 1, notes, length, tie))

    def read_bar(self) -> None:
        """Read a bar line with its repeat colons and the variant ending after it."""
        start = self.index
        match = _BAR.match(self.text, start)
        text = match.group(0) if match else ""
        if not text:
            self.problem(UnexpectedCharacterError, "unexpected ':' outside a bar line", "skipped")
            self.index += 1
            return
        self.index = start + len(text)
        if set(text) == {":"}:
            # "::" is shorthand for ":|:"; the colons split evenly.
            end, begin = len(text) - len(text) // 2, len(text) // 2
        else:
            end = len(text) - len(text.lstrip(":"))
            begin = len(text) - len(text.rstrip(":"))
        # The invisible bar [|] does not end a section.
        double = "[|]" not in text and ("||" in text or "|]" in text or "[|" in text)
        token = BarToken(self.line, start + 1, text, end, begin, double)
        ending = _ENDING.match(self.text, self.index)
        if ending and text != "[|]":
            token.endings = parse_endings(ending.group(0))
            self.index = ending.end()
        self.tokens.append(token)

    # ABC 2.1 sections 4.18 and 4.19: "Am7" is a chord symbol; text that starts
    # with ^ _ < > or @ is an annotation, which is skipped.
    def read_quoted(self) -> None:
        """Read a chord symbol ``"Am7"``, or skip an annotation ``"^text"``."""
        start = self.index
        end = self.text.find('"', start + 1)
        if end < 0:
            self.problem(
                UnterminatedError,
                "chord symbol or annotation is never closed with '\"'",
                "rest of the line skipped",
                drops_notes=True,
            )
            self.index = len(self.text)
            return
        self.index = end + 1
        text = self.text[start + 1 : end]
        if text and text[0] not in _PLACEMENTS:
            self.tokens.append(ChordSymbolToken(self.line, start + 1, text))

    def read_long_decoration(self, mark: str) -> None:
        """Read ``!name!`` or ``+name+``."""
        end = self.text.find(mark, self.index + 1)
        if end < 0:
            if mark == "!":
                # ABC 2.0 used a lone "!" as a score line break.
                self.index += 1
                return
            # Only the '+' is skipped: the rest of the line may still hold notes.
            self.problem(UnterminatedError, "decoration is never closed with '+'", "'+' skipped")
            self.index += 1
            return
        name = self.text[self.index + 1 : end]
        column = self.index + 1
        self.index = end + 1
        # abc2midi 4.84 puts a !name! decoration on the next note wherever it
        # is, past spaces, slurs and line ends, and so does the converter.
        self.tokens.append(DecorationToken(self.line, column, name))

    def read_grace(self) -> None:
        """Read a grace group ``{ag}`` or ``{/g}``."""
        start = self.index
        self.index += 1
        acciaccatura = self.text.startswith("/", self.index)
        if acciaccatura:
            self.index += 1
        notes: list[NoteToken] = []
        while self.index < len(self.text) and self.text[self.index] != "}":
            note = self.read_note()
            if note is not None:
                notes.append(note)
            elif self.text[self.index] in " \t[]/":
                self.index += 1
            else:
                char = self.text[self.index]
                self.problem(
                    UnexpectedCharacterError, f"unexpected {char!r} in grace notes", "skipped"
                )
                self.index += 1
        if self.index >= len(self.text):
            self.problem(UnterminatedError, "grace notes are never closed with '}'", index=start)
        else:
            self.index += 1
        self.tokens.append(GraceToken(self.line, start + 1, notes, acciaccatura))

    def read_tuplet(self) -> None:
        """Read ``(p``, ``(p:q`` or ``(p:q:r``."""
        match = _TUPLET.match(self.text, self.index)
        assert match is not None  # checked by the caller
        p, q, r = match.groups()
        self.tokens.append(
            TupletToken(
                self.line, self.index + 1, int(p), int(q) if q else None, int(r) if r else None
            )
        )
        self.index = match.end()

    def read_broken_rhythm(self, char: str) -> None:
        """Read ``>``, ``>>``, ``>>>`` or the ``<`` forms."""
        count = len(self.text[self.index :]) - len(self.text[self.index :].lstrip(char))
        direction = 1 if char == ">" else -1
        self.tokens.append(BrokenRhythmToken(self.line, self.index + 1, direction, count))
        self.index += count


def _chord_end(text: str, start: int) -> int | None:
    """Return the index of the ``]`` that closes the chord opened at ``start``, or None.

    A chord contains notes, decorations and chord symbols only. So a bar line,
    another ``[``, a comment or the end of the line before its ``]`` means
    that the chord is never closed. In ``[DFA d2 fe|]`` the ``]`` belongs to
    the bar line. Chord symbols and ``!decorations!`` are skipped whole, as
    read_chord skips them.
    """
    index = start + 1
    while True:
        match = _CHORD_TEXT.match(text, index)
        assert match is not None  # the pattern also matches empty text
        index = match.end()
        if index >= len(text) or text[index] in "|[%":
            return None
        char = text[index]
        if char == "]":
            return index
        end = text.find(char, index + 1)
        if end >= 0:
            index = end + 1
        elif char == '"':
            # The chord symbol runs to the end of the line, and the chord with it.
            return None
        else:
            # A lone "!", which read_chord reports and skips.
            index += 1


def lex_line(
    text: str, line: int, reporter: Reporter, symbols: dict[str, str] | None = None
) -> list[Token]:
    """Split a music line into tokens.

    Args:
        text: The line, without its line ending.
        line: The 1-based line number in the tunebook file.
        reporter: Receives problems; raises them in strict mode.
        symbols: One-character decorations; defaults to :data:`DEFAULT_SYMBOLS`.

    Returns:
        The tokens in order.

    Raises:
        AbcError: A subclass for the first problem, in strict mode only.
    """
    return LineLexer(text, line, reporter, symbols or DEFAULT_SYMBOLS).run()
