"""Read chord symbols such as ``"Am7"`` or ``"G/B"`` (ABC 2.1 section 4.18).

A chord symbol is a root ``A``-``G``, an optional ``#`` or ``b``, a chord type
and an optional ``/bass``; an alternative chord in brackets, as in
``"G(Em)"``, is ignored. Text that does not read as a chord (fingerings such
as ``"4"``, words such as ``"Fine"``) is not a chord, and ``"N.C."`` means no
chord. The types and their intervals in semitones above the root are in
:data:`CHORD_TYPES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NOTE_CLASSES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_CHORD = re.compile(r"^([A-G])([#b]?)([^/]*)(?:/([A-Ga-g])([#b]?))?$")

CHORD_TYPES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7), "maj": (0, 4, 7), "M": (0, 4, 7),
    "m": (0, 3, 7), "min": (0, 3, 7), "-": (0, 3, 7),
    "7": (0, 4, 7, 10), "dom7": (0, 4, 7, 10), "9": (0, 4, 7, 10, 14),
    "11": (0, 4, 7, 10), "13": (0, 4, 7, 10),
    "m7": (0, 3, 7, 10), "min7": (0, 3, 7, 10), "-7": (0, 3, 7, 10), "m9": (0, 3, 7, 10, 14),
    "maj7": (0, 4, 7, 11), "M7": (0, 4, 7, 11), "maj9": (0, 4, 7, 11, 14),
    "6": (0, 4, 7, 9), "m6": (0, 3, 7, 9),
    "dim": (0, 3, 6), "o": (0, 3, 6), "dim7": (0, 3, 6, 9), "o7": (0, 3, 6, 9),
    "m7b5": (0, 3, 6, 10),
    "aug": (0, 4, 8), "+": (0, 4, 8), "7+5": (0, 4, 8, 10), "aug7": (0, 4, 8, 10),
    "sus": (0, 5, 7), "sus4": (0, 5, 7), "sus2": (0, 2, 7), "7sus4": (0, 5, 7, 10),
    "add9": (0, 4, 7, 14), "5": (0, 7),
}  # fmt: skip

NO_CHORD = frozenset({"N.C.", "NC", "N.C"})


@dataclass(frozen=True)
class Chord:
    """A chord read from a chord symbol.

    Attributes:
        root: The pitch class of the root, 0 (C) to 11 (B).
        intervals: Semitones above the root of each chord note, root first.
        bass: The pitch class of the bass note: the root, or the note after ``/``.
    """

    root: int
    intervals: tuple[int, ...]
    bass: int


def parse_chord_symbol(text: str) -> Chord | None:
    """Read a chord symbol, or return None for text that names no chord.

    Args:
        text: The symbol without its quotes, such as ``"F#m7"`` or ``"D/F#"``.

    Returns:
        The chord, or None for ``N.C.`` and for text that is not a chord symbol.
    """
    written = text.split("(", 1)[0].strip()
    match = _CHORD.match(written)
    if not match:
        return None
    letter, accidental, kind, bass_letter, bass_accidental = match.groups()
    intervals = CHORD_TYPES.get(kind)
    if intervals is None:
        return None
    root = _pitch_class(letter, accidental)
    bass = _pitch_class(bass_letter.upper(), bass_accidental) if bass_letter else root
    return Chord(root, intervals, bass)


def _pitch_class(letter: str, accidental: str) -> int:
    return (_NOTE_CLASSES[letter] + {"": 0, "#": 1, "b": -1}[accidental]) % 12
