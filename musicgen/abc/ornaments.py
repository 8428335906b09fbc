"""Play trills and rolls as notes (ABC 2.1 section 4.14 leaves their shape to the player).

The rule, the same as abc2midi 4.84 so that the two agree, with ``u`` the
unit note length and the neighbours taken one note name up or down in the key
signature (bar accidentals do not change them):

* a trill (``T``, ``!trill!``) alternates the upper neighbour and the note,
  starting on the neighbour, in equal pieces: the note's length in quarter
  notes, as a fraction n/m in lowest terms, gives n pieces of 1/m, and each
  piece is halved (their number doubled) until it lasts at most
  :data:`TRILL_PIECE_MICROSECONDS` at the tempo in force;
* a roll (``~``, ``!roll!``) on a note three units long plays the note for u,
  the upper neighbour for u/4, the note for 3u/4, the lower neighbour for u/4
  and the note for 3u/4; on a note of any other length it plays the upper
  neighbour for u/4 and then the note, like a cut.

A tied ornamented note goes on sounding through the notes tied to it, as
its last piece. Trills and rolls on chords, and ornaments not listed here,
are not played. The converter keeps an ornamented note as one
:class:`~musicgen.abc.model.Note` that carries its ornament, so that the notes
of a tune are the notes written; :func:`played_notes` gives the notes heard.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from musicgen.abc.model import Note, Ornament

# (pitch, length in beats) of each piece of an ornament, in order.
Piece = tuple[int, Fraction]

# The longest piece of a trill, in microseconds (a tenth of a second), and
# the maximum number of pieces one trill plays.
TRILL_PIECE_MICROSECONDS = 100_000
MAX_TRILL_PIECES = 4096


def ornament_pieces(ornament: Ornament, pitch: int, length: Fraction) -> list[Piece]:
    """Return the notes that play ``ornament`` on ``pitch`` for ``length`` beats."""
    if ornament.kind == "trill":
        return _trill(ornament, pitch, length)
    slice_ = ornament.unit / 4
    if length == 3 * ornament.unit:
        three_quarters = 3 * slice_
        return [
            (pitch, ornament.unit),
            (ornament.upper, slice_),
            (pitch, three_quarters),
            (ornament.lower, slice_),
            (pitch, three_quarters),
        ]
    if length > slice_:
        return [(ornament.upper, slice_), (pitch, length - slice_)]
    return [(pitch, length)]


def _trill(ornament: Ornament, pitch: int, length: Fraction) -> list[Piece]:
    quarter = round(60_000_000 / ornament.qpm)  # microseconds per quarter note
    count, piece = length.numerator, Fraction(1, length.denominator)
    while int(quarter * piece) > TRILL_PIECE_MICROSECONDS and count < MAX_TRILL_PIECES:
        count, piece = count * 2, piece / 2
    if count > MAX_TRILL_PIECES:  # a trill on a note minutes long: keep it finite
        count, piece = MAX_TRILL_PIECES, length / MAX_TRILL_PIECES
    return [(ornament.upper if turn % 2 == 0 else pitch, piece) for turn in range(count)]


def played_notes(notes: Iterable[Note]) -> list[Note]:
    """Return ``notes`` with each ornamented note replaced by the notes of its ornament."""
    result: list[Note] = []
    for note in notes:
        ornament = note.ornament
        if ornament is None:
            result.append(note)
            continue
        if ornament.kind == "trill":
            # A trill fills the time grace notes leave it, ties included.
            pieces = ornament_pieces(ornament, note.pitch, note.duration)
            time = note.start
        else:
            pieces = ornament_pieces(ornament, note.pitch, ornament.length)
            time = note.start - ornament.grace_time
        start = note.start
        for number, (pitch, length) in enumerate(pieces, start=1):
            end = note.end if number == len(pieces) else time + length
            time += length
            if end > start:
                # The note dataclasses.replace would make, built directly
                # because replace looks up every field by name.
                result.append(
                    Note(pitch, start, end - start, note.velocity, note.voice, note.bend, None)
                )
                start = end
    return result
