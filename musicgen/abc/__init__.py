"""Convert folk tunes in ABC notation into notes, without TensorFlow.

Use :func:`parse_tune` for one tune and :func:`parse_tunebook` for a file of
tunes; :mod:`musicgen.midi` writes the result as a MIDI file.
"""

from musicgen.abc.errors import AbcError, AbcWarning
from musicgen.abc.model import Note, Tune, Tunebook
from musicgen.abc.parser import parse_tune, parse_tunebook

__all__ = ["AbcError", "AbcWarning", "Note", "Tune", "Tunebook", "parse_tune", "parse_tunebook"]
