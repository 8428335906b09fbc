"""Checks on the raw text of a sampled tune, shared by generate and evaluate without TensorFlow."""

from __future__ import annotations

import re

_KEY_LINE = re.compile(r"^K:", re.MULTILINE)
_NOTE_LETTER = re.compile(r"[A-Ga-g]")


def has_key_and_notes(text: str) -> bool:
    """Tell whether ``text`` has a ``K:`` line followed by a line with a note letter."""
    key = _KEY_LINE.search(text)
    if key is None:
        return False
    body_start = text.find("\n", key.start())
    return body_start >= 0 and _NOTE_LETTER.search(text, body_start) is not None
