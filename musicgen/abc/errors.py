"""Errors and warnings of the ABC converter, each carrying where it was found.

Every problem the converter can meet has its own subclass of :class:`AbcError`.
In strict mode the first one is raised. In lenient mode the converter records
it as an :class:`AbcWarning` with the same message and position and goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


def format_position(
    source: str | None, tune: str | None, line: int | None, column: int | None
) -> str:
    """Return a location prefix such as ``tunes.abc, tune X:3, line 12:5``."""
    parts: list[str] = []
    if source:
        parts.append(source)
    if tune:
        parts.append(f"tune X:{tune}")
    if line is not None:
        parts.append(f"line {line}:{column}" if column is not None else f"line {line}")
    return ", ".join(parts)


class AbcError(Exception):
    """Root of the errors the ABC converter raises.

    Attributes:
        message: What is wrong and what to do about it, without the position.
        source: The tunebook file name or label, or None.
        tune: The ``X:`` value (or the title) of the tune, or None.
        line: The 1-based line in the tunebook file, or None.
        column: The 1-based column of that line, or None.
    """

    # True for a kind of problem at which lenient mode always skips notes.
    drops_notes: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        tune: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.tune = tune
        self.line = line
        self.column = column

    def __str__(self) -> str:
        position = format_position(self.source, self.tune, self.line, self.column)
        return f"{position}: {self.message}" if position else self.message


class MissingFieldError(AbcError):
    """A required field, such as ``K:`` or ``X:``, is missing."""


class InvalidFieldError(AbcError):
    """A field has a value outside its syntax, such as ``M:3/0`` or ``K:H#``."""


class InvalidLengthError(AbcError):
    """A note or rest length cannot be read, or is zero, such as ``A/0``."""


class UnexpectedCharacterError(AbcError):
    """A character that no rule of the tune body accepts at that place."""


class UnterminatedError(AbcError):
    """A chord, grace group, string, decoration or inline field is never closed."""


class InvalidTupletError(AbcError):
    """A tuplet such as ``(0`` or ``(3:0`` that cannot be played."""


class InvalidBrokenRhythmError(AbcError):
    """A broken rhythm mark (``>`` or ``<``) without a note on each side."""


class InvalidTieError(AbcError):
    """A tie (``-``) that does not follow a note or chord."""


class PitchRangeError(AbcError):
    """A note whose pitch falls outside the MIDI range 0 to 127, which lenient mode skips."""

    drops_notes = True


class RepeatError(AbcError):
    """A repeat or variant ending that cannot be played as written."""


class UnsupportedFeatureError(AbcError):
    """Valid ABC that this converter does not play, such as voice overlay ``&``."""


class EmptyTuneError(AbcError):
    """A tune with no notes to play."""


@dataclass(frozen=True)
class AbcWarning:
    """A problem met in lenient mode, which the converter worked around.

    Attributes:
        message: What is wrong and how it was handled.
        line: The 1-based line in the tunebook file, or None.
        column: The 1-based column, or None.
        tune: The ``X:`` value of the tune, or None.
        source: The tunebook file name or label, or None.
        kind: The name of the :class:`AbcError` subclass strict mode would raise.
    """

    message: str
    line: int | None = None
    column: int | None = None
    tune: str | None = None
    source: str | None = None
    kind: str = "AbcError"

    def __str__(self) -> str:
        position = format_position(self.source, self.tune, self.line, self.column)
        return f"{position}: {self.message}" if position else self.message


class Reporter:
    """Raise problems in strict mode, or collect them as warnings in lenient mode.

    Args:
        strict: Raise at the first problem when True.
        source: The tunebook label for messages.
        tune: The ``X:`` value of the tune for messages.
    """

    def __init__(self, *, strict: bool, source: str | None, tune: str | None) -> None:
        self.strict = strict
        self.source = source
        self.tune = tune
        self.warnings: list[AbcWarning] = []
        # The first problem that skipped notes, without its repair, and the
        # count of such problems. They explain a tune left with no notes.
        self.first_drop: AbcWarning | None = None
        self.drop_count = 0

    def error(
        self, kind: type[AbcError], message: str, line: int | None, column: int | None
    ) -> AbcError:
        """Build an error of ``kind`` at ``line:column`` with this tune's source and label."""
        return kind(message, source=self.source, tune=self.tune, line=line, column=column)

    def problem(
        self,
        kind: type[AbcError],
        message: str,
        line: int | None,
        column: int | None,
        repair: str = "",
        *,
        drops_notes: bool = False,
    ) -> None:
        """Report a recoverable problem at ``line:column`` of the tunebook.

        ``repair`` says how lenient mode works around it ("skipped"); a
        warning ends with it, an error does not. ``drops_notes`` marks a
        repair that skips music which may contain notes, such as the rest of a
        line. Kinds with :attr:`AbcError.drops_notes` always count as such.

        Raises:
            AbcError: The ``kind`` subclass, in strict mode only.
        """
        if self.strict:
            raise self.error(kind, message, line, column)
        if drops_notes or kind.drops_notes:
            if self.first_drop is None:
                self.first_drop = AbcWarning(
                    message, line, column, self.tune, self.source, kind.__name__
                )
            self.drop_count += 1
        if repair:
            message = f"{message}; {repair}"
        self.warnings.append(
            AbcWarning(message, line, column, self.tune, self.source, kind.__name__)
        )

    def no_notes_message(self) -> str:
        """Return the message for a tune with no notes, naming the first problem that skipped some.

        For example ``tune has no notes to play: note 'c' is MIDI pitch 240,
        outside 0 to 127 (line 3:1, the first of 2 problems that skipped notes)``.
        """
        first = self.first_drop
        if first is None:
            return "tune has no notes to play"
        details = []
        if first.line is not None:
            details.append(format_position(None, None, first.line, first.column))
        if self.drop_count > 1:
            details.append(f"the first of {self.drop_count} problems that skipped notes")
        suffix = f" ({', '.join(details)})" if details else ""
        return f"tune has no notes to play: {first.message}{suffix}"
