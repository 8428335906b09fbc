"""Split a tunebook into tunes, keeping the file header that applies to each.

ABC 2.1, section 2.2: a file is an optional file header, then tunes. Each tune
starts with an ``X:`` line and ends at the first empty line. Fields in the file
header (the text above the first ``X:``, up to its first empty line) apply to
every tune of the file. Text between tunes is free text and is not played.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_REFERENCE_LINE = re.compile(r"^X:", re.MULTILINE)
_FIELD_LINE = re.compile(r"^([A-Za-z+]:|%%)")


@dataclass(frozen=True)
class RawTune:
    """The text of one tune as it stands in its tunebook.

    Attributes:
        text: The tune from its ``X:`` line to the line before the empty line
            that ends it, with ``\\n`` line endings.
        header: Field and directive lines of the file header, which apply to
            this tune unless the tune sets the same field itself.
        source: The file name or other label of the tunebook, for messages.
        line: The 1-based line number of the ``X:`` line in the tunebook.
    """

    text: str
    header: tuple[str, ...] = ()
    source: str = "<string>"
    line: int = 1

    @property
    def reference(self) -> str:
        """The value of the ``X:`` field, such as ``"12"``."""
        first = self.text.split("\n", 1)[0]
        return first[2:].strip() if first.startswith("X:") else ""

    @property
    def title(self) -> str:
        """The first ``T:`` field of the tune, or an empty string."""
        for text_line in self.text.split("\n"):
            if text_line.startswith("T:"):
                return text_line[2:].strip()
        return ""

    @property
    def label(self) -> str:
        """A short name for messages, such as ``oneills.abc, tune X:12``."""
        return f"{self.source}, tune X:{self.reference or '?'}"


def normalize_newlines(text: str) -> str:
    """Return ``text`` with CRLF and lone CR line endings turned into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_tunebook(text: str, source: str = "<string>") -> list[RawTune]:
    """Split ``text`` into its tunes.

    Args:
        text: The whole tunebook, in any line-ending convention.
        source: A label for messages, usually the file path.

    Returns:
        The tunes in file order. Text with no ``X:`` line yields no tunes.
    """
    text = normalize_newlines(text).lstrip("\ufeff")
    starts = [match.start() for match in _REFERENCE_LINE.finditer(text)]
    if not starts:
        return []

    header = _file_header_fields(text[: starts[0]])
    tunes: list[RawTune] = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        chunk = text[start:end]
        # An empty line (only white space) ends the tune.
        blank = re.search(r"\n[ \t]*(\n|$)", chunk)
        if blank:
            chunk = chunk[: blank.start()]
        line = text.count("\n", 0, start) + 1
        tunes.append(RawTune(chunk.rstrip(), header, source, line))
    return tunes


def _file_header_fields(preamble: str) -> tuple[str, ...]:
    """Return the field and directive lines of the file header in ``preamble``."""
    # The file header ends at its first empty line; free text may follow it.
    lines = preamble.lstrip("\n").split("\n")
    fields: list[str] = []
    for text_line in lines:
        if not text_line.strip():
            break
        if _FIELD_LINE.match(text_line) and not text_line.startswith("X:"):
            fields.append(text_line.rstrip())
    return tuple(fields)
