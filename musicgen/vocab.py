"""Character vocabulary with start-of-tune and end-of-tune markers."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musicgen.files import write_text_atomic

PAD = "<pad>"
START = "<s>"
END = "</s>"
SPECIAL_TOKENS = (PAD, START, END)


class UnknownCharacterError(ValueError):
    """Text contains characters that are not in the vocabulary."""

    def __init__(self, characters: Sequence[str], what: str = "text") -> None:
        self.characters = sorted(set(characters))
        shown = " ".join(repr(c) for c in self.characters)
        super().__init__(
            f"{what} contains characters that are not in the model's vocabulary: {shown}; "
            "remove or replace them"
        )


@dataclass(frozen=True)
class Vocabulary:
    """A mapping between characters and integer ids.

    Ids 0, 1 and 2 are the padding, start-of-tune and end-of-tune markers;
    the characters follow in sorted order.
    """

    characters: tuple[str, ...]

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Vocabulary:
        """Build the vocabulary of every character used in ``texts``."""
        found: set[str] = set()
        for text in texts:
            found.update(text)
        return cls(tuple(sorted(found)))

    @property
    def tokens(self) -> tuple[str, ...]:
        """Every token, indexed by id."""
        return SPECIAL_TOKENS + self.characters

    @property
    def size(self) -> int:
        """The number of ids, markers included."""
        return len(SPECIAL_TOKENS) + len(self.characters)

    @property
    def start_id(self) -> int:
        """The id of the start-of-tune marker."""
        return 1

    @property
    def end_id(self) -> int:
        """The id of the end-of-tune marker."""
        return 2

    def unknown_characters(self, text: str) -> list[str]:
        """Return the characters of ``text`` that have no id, each once, sorted."""
        known = set(self.characters)
        return sorted(set(text) - known)

    def encode(self, text: str, *, add_start: bool = False, add_end: bool = False) -> np.ndarray:
        """Turn ``text`` into an int32 array of ids.

        Raises:
            UnknownCharacterError: ``text`` has characters outside the vocabulary.
        """
        unknown = self.unknown_characters(text)
        if unknown:
            raise UnknownCharacterError(unknown)
        index = self._index()
        ids = [index[c] for c in text]
        if add_start:
            ids.insert(0, self.start_id)
        if add_end:
            ids.append(self.end_id)
        return np.asarray(ids, dtype=np.int32)

    def decode(self, ids: Iterable[int]) -> str:
        """Turn ids into text, stopping at the end-of-tune marker and skipping the others."""
        tokens = self.tokens
        characters: list[str] = []
        for token_id in ids:
            token_id = int(token_id)
            if token_id == self.end_id:
                break
            if token_id >= len(SPECIAL_TOKENS):
                characters.append(tokens[token_id])
        return "".join(characters)

    def _index(self) -> dict[str, int]:
        return {c: i + len(SPECIAL_TOKENS) for i, c in enumerate(self.characters)}

    def save(self, path: Path) -> None:
        """Write the vocabulary as JSON, atomically."""
        payload = {"special_tokens": list(SPECIAL_TOKENS), "characters": list(self.characters)}
        write_text_atomic(path, json.dumps(payload, ensure_ascii=False, indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        """Read a vocabulary written by :meth:`save`.

        Raises:
            ValueError: the file is not a musicgen vocabulary.
        """
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        if payload.get("special_tokens") != list(SPECIAL_TOKENS):
            raise ValueError(f"{path} is not a musicgen vocabulary file")
        return cls(tuple(payload["characters"]))
