"""Find the order in which the events of a voice are played.

ABC 2.1 sections 4.8 to 4.10: ``|:`` and ``:|`` repeat the music between
them; more colons ask for more passes (``|::`` ... ``::|`` plays three times).
A ``:|`` with no ``|:`` goes back to the latest ``||``, the end of the latest
repeat, or the start of the tune. Variant endings (``|1``, ``[2``, ``[1,3``,
``[1-3``) are played on the passes they name; there may be more than two.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from musicgen.abc.errors import RepeatError, Reporter
from musicgen.abc.events import BarEvent, Event

# A cap on played events per written event, so that broken repeat marks in
# generated text cannot make playback run for long.
MAX_PLAYS_PER_EVENT = 50


@dataclass
class _RepeatState:
    start: int = 0
    open: bool = False
    start_colons: int = 1
    passes: int = 1


def playing_order(events: list[Event], reporter: Reporter) -> Iterable[int]:
    """Return the indices of ``events`` in playing order, repeats unrolled.

    Args:
        events: The events of one voice in written order.
        reporter: Receives a RepeatError when the repeats would play more
            than MAX_PLAYS_PER_EVENT times the written events.

    Returns:
        Indices into ``events``, bar events included, produced as they are
        played: a repeat problem is reported when iteration reaches it.
    """
    if not any(
        isinstance(event, BarEvent) and (event.end_repeats or event.endings is not None)
        for event in events
    ):
        # Nothing repeats: the events play in written order.
        return range(len(events))
    return _unrolled_order(events, reporter)


def _unrolled_order(events: list[Event], reporter: Reporter) -> Iterator[int]:
    state = _RepeatState()
    index = 0
    skipped_in = False
    budget = MAX_PLAYS_PER_EVENT * len(events) + 100
    while index < len(events):
        budget -= 1
        if budget < 0:
            bar = next((e for e in events if isinstance(e, BarEvent)), None)
            reporter.problem(
                RepeatError,
                "repeats would play too long",
                bar.line if bar else None,
                bar.column if bar else None,
                "playback stopped",
            )
            return
        event = events[index]
        if not isinstance(event, BarEvent):
            yield index
            index += 1
            continue
        yield index
        index, skipped_in = _follow_bar(events, index, state, skipped_in)


def _follow_bar(
    events: list[Event], index: int, state: _RepeatState, skipped_in: bool
) -> tuple[int, bool]:
    """Return the next index to play after the bar at ``index``, and whether it was skipped to."""
    bar = events[index]
    assert isinstance(bar, BarEvent)
    if bar.end_repeats and not skipped_in:
        passes_needed = max(bar.end_repeats, state.start_colons) + 1
        passes_needed = max(passes_needed, _last_ending(events, state.start, index))
        if state.passes < passes_needed:
            state.passes += 1
            return state.start, False
        state.passes = 1
        state.start = index + 1
        state.open = False
    if bar.endings is not None:
        if state.passes not in bar.endings:
            return _skip_ending(events, index + 1, state.passes)
        if state.passes >= _last_ending(events, state.start, index):
            # The last ending: the repeat is over once it ends.
            state.open = False
    if bar.start_repeats:
        state.start = index + 1
        state.open = True
        state.start_colons = bar.start_repeats
        state.passes = 1
    elif bar.double and not state.open:
        state.start = index + 1
        state.passes = 1
    return index + 1, False


def _last_ending(events: list[Event], start: int, index: int) -> int:
    """Return the highest variant ending number of the repeat that ends at ``index``."""
    highest = 0
    for position in range(start, len(events)):
        bar = events[position]
        if not isinstance(bar, BarEvent):
            continue
        if position > index and (
            bar.start_repeats or bar.double or (bar.end_repeats and bar.endings is None)
        ):
            break
        if bar.endings:
            highest = max(highest, *bar.endings)
    return highest


def _skip_ending(events: list[Event], index: int, passes: int) -> tuple[int, bool]:
    """Return where to go on from a variant ending not played on pass ``passes``."""
    for position in range(index, len(events)):
        bar = events[position]
        if not isinstance(bar, BarEvent):
            continue
        if bar.endings is not None and passes in bar.endings:
            return position, True
        if bar.start_repeats or bar.double or (bar.end_repeats and bar.endings is None):
            return position, True
    return len(events), True
