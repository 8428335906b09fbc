"""Tuplets and broken rhythm, which scale the lengths of the notes they cover."""

from __future__ import annotations

from dataclasses import dataclass

from musicgen.abc import quirks as q
from musicgen.abc.errors import InvalidTupletError, Reporter
from musicgen.abc.events import NoteEvent
from musicgen.abc.tokens import TupletToken

# ABC 2.1 section 4.13: "(p" puts p notes in the time of q; None means 3 in
# compound meter (6/8, 9/8, 12/8) and 2 otherwise.
_TUPLET_TIME: dict[int, int | None] = {2: 3, 3: 2, 4: 3, 5: None, 6: 2, 7: None, 8: 3, 9: None}

# (numerator, denominator) of a factor applied to lengths in ticks.
Ratio = tuple[int, int]


@dataclass(slots=True)
class Tuplet:
    """A tuplet in progress: the notes it still takes and its factor on their lengths."""

    remaining: int
    factor: Ratio


@dataclass(slots=True)
class Broken:
    """A broken rhythm waiting for its second note; ``first_written`` is None for a chord."""

    first: NoteEvent
    first_written: int | None
    first_factor: Ratio
    second_factor: Ratio


def new_tuplet(
    token: TupletToken, meter: tuple[int, int] | None, quirks: frozenset[str], reporter: Reporter
) -> Tuplet | None:
    """Return the tuplet that ``token`` starts, or None (reported) when it has no defined time."""
    q_time = token.q if token.q is not None else _TUPLET_TIME.get(token.p, 0)
    if q_time is None:
        triple = meter is not None and meter[0] % 3 == 0
        big = meter is not None and meter[0] > 3
        compound = triple and (big or q.TUPLET_TRIPLE in quirks)
        q_time = 3 if compound else 2
    r = token.r if token.r is not None else token.p
    if token.p < 1 or q_time < 1 or r < 1:
        reporter.problem(
            InvalidTupletError,
            f"tuplet ({token.p} has no defined time; write (p:q:r with all above 0",
            token.line,
            token.column,
            "ignored",
        )
        return None
    return Tuplet(r, (q_time, token.p))


def felt_length(event: NoteEvent) -> int:
    """Return the length abc2midi compares for a broken rhythm: a ``.`` on a note halves it.

    It includes a fermata's lengthening. So abc2midi leaves ``A>.B`` and
    ``HA>B`` unbroken although both notes are written equal, and breaks
    ``.A2>B``.
    """
    return event.advance // 2 if event.dotted else event.advance
