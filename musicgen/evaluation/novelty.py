"""How much of a tune is copied from the training set, compared bar by bar.

Two bars are the same when their notes are: the same onsets within the bar,
MIDI pitches and lengths in beats (see :attr:`Bar.notes`). So spelling,
spacing, decorations and chord symbols do not matter, but a transposed copy
counts as new.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from musicgen.evaluation.bars import Bar, BarNote
from musicgen.evaluation.metrics import TuneMetrics

# Length of the bar sequences whose share found in the training set is reported.
SEQUENCE_BARS = 4

BarKey = tuple[BarNote, ...]


class TrainingIndex:
    """The bars of the training tunes, indexed to find copied runs of bars.

    Args:
        tunes: The bars of each training tune in written order.
    """

    def __init__(self, tunes: Iterable[Sequence[Bar]]) -> None:
        self._ids: dict[BarKey, int] = {}
        # Bar id -> every (training tune, position) where it occurs.
        self._places: dict[int, list[tuple[int, int]]] = {}
        self._sequences: set[tuple[int, ...]] = set()
        self.tune_count = 0
        for tune_index, bars in enumerate(tunes):
            self.tune_count += 1
            ids = [self._id(bar.notes) for bar in bars]
            for position, bar_id in enumerate(ids):
                self._places.setdefault(bar_id, []).append((tune_index, position))
            for start in range(len(ids) - SEQUENCE_BARS + 1):
                self._sequences.add(tuple(ids[start : start + SEQUENCE_BARS]))

    def _id(self, key: BarKey) -> int:
        return self._ids.setdefault(key, len(self._ids))

    def _lookup(self, bars: Sequence[Bar]) -> list[int | None]:
        return [self._ids.get(bar.notes) for bar in bars]

    def longest_copy(self, bars: Sequence[Bar]) -> int:
        """Return the maximum number of consecutive bars of ``bars`` found in that order
        in one training tune."""
        longest = 0
        # (training tune, position) -> length of the copied run that ends there.
        runs: dict[tuple[int, int], int] = {}
        for bar_id in self._lookup(bars):
            places = self._places.get(bar_id, []) if bar_id is not None else []
            runs = {
                (tune, position): runs.get((tune, position - 1), 0) + 1 for tune, position in places
            }
            longest = max(longest, *runs.values(), 0)
        return longest

    def sequences_found(self, bars: Sequence[Bar]) -> tuple[int, int]:
        """Count the SEQUENCE_BARS-bar sequences of ``bars`` found in the training set.

        Returns:
            (found, total).
        """
        ids = self._lookup(bars)
        total = max(0, len(ids) - SEQUENCE_BARS + 1)
        found = 0
        for start in range(total):
            window = ids[start : start + SEQUENCE_BARS]
            found += None not in window and tuple(window) in self._sequences
        return found, total

    def fill(self, tunes: Iterable[TuneMetrics]) -> None:
        """Set the novelty fields of each tune's metrics."""
        for tune in tunes:
            tune.longest_copy = self.longest_copy(tune.bars) if tune.bars else None
            tune.four_bar_found, tune.four_bar_total = self.sequences_found(tune.bars)
