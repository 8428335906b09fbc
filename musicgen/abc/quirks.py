"""abc2midi 4.84's departures from ABC 2.1, which the converter can imitate on request.

The converter follows the standard. Only the agreement benchmark
(``benchmarks/abc_agreement.py``) and the tests pass ``quirks`` to
:func:`musicgen.abc.parse_tune`: when a tune that differs from abc2midi
agrees with it once a quirk is imitated, the quirk explains the difference.
docs/converter.md describes each one with an example.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from musicgen.abc.events import BarEvent, Event, NoteEvent, PartEvent, Sound

# Two notes of a broken rhythm are compared after tuplets, after a "."
# staccato halves a note and after a fermata doubles it, not as written.
BROKEN_RHYTHM = "broken-rhythm-decorated"
# A staccato mark on a tied note cuts the tie and shortens each note.
STACCATO_TIE = "staccato-breaks-tie"
# (5 (7 (9 take the time of 3 in every meter whose numerator divides by 3.
TUPLET_TRIPLE = "tuplet-triple-meter"
# A tuplet that starts while another still runs is ignored.
NESTED_TUPLET = "nested-tuplet-ignored"
# A mid-tune K: with "exp" keeps the accidentals of the previous key.
EXP_KEY = "exp-key-keeps-signature"
# A tie at the end of a variant ending joins the first note of the next ending.
TIE_INTO_ENDING = "tie-into-next-ending"
# A one-character decoration followed by a !name! decoration or an
# annotation is dropped.
DECORATION_CHAIN = "decoration-chain-dropped"
# abc2midi's repeat rules (see :func:`abc2midi_order`): |:: and ::| play twice;
REPEAT_COLONS_IGNORED = "repeat-colons-ignored"
# "||:" and "|]:" are plain double bars;
REPEAT_DOUBLE_BAR_COLON = "repeat-double-bar-colon"
# a missing |: is guessed only in some places;
REPEAT_START_GUESSED = "repeat-start-guessed"
# the pass count carries over a "||" into later variant endings;
REPEAT_PASS_KEPT = "repeat-pass-kept"
# playing a variant ending lets the next :| play one more pass;
REPEAT_ENDING_ADDS_PASS = "repeat-ending-adds-pass"
# skipping a variant ending passes over the bar line that ends it.
REPEAT_SKIP_SWALLOWS_BAR = "repeat-skip-swallows-bar"
REPEAT_QUIRKS = frozenset({
    REPEAT_COLONS_IGNORED, REPEAT_DOUBLE_BAR_COLON, REPEAT_START_GUESSED,
    REPEAT_PASS_KEPT, REPEAT_ENDING_ADDS_PASS, REPEAT_SKIP_SWALLOWS_BAR,
})  # fmt: skip

QUIRKS = {
    BROKEN_RHYTHM: "abc2midi compares > and < notes after tuplets, staccato and fermatas",
    STACCATO_TIE: "abc2midi cuts a tie at a staccato note",
    TUPLET_TRIPLE: "abc2midi plays (5 (7 (9 in the time of 3 in 3/4 and 3/8",
    NESTED_TUPLET: "abc2midi ignores a tuplet that starts inside another",
    EXP_KEY: "abc2midi keeps the old key's accidentals after a mid-tune K: ... exp",
    TIE_INTO_ENDING: "abc2midi ties the end of a first ending into the second ending",
    DECORATION_CHAIN: "abc2midi drops a symbol decoration before a !name! or an annotation",
    REPEAT_COLONS_IGNORED: "abc2midi plays |:: ... ::| twice, not three times",
    REPEAT_DOUBLE_BAR_COLON: "abc2midi reads ||: and |]: as || without a repeat",
    REPEAT_START_GUESSED: "abc2midi sends a :| without |: back to the start or an older repeat",
    REPEAT_PASS_KEPT: "abc2midi counts passes on past a || into the next endings",
    REPEAT_ENDING_ADDS_PASS: "abc2midi plays a :| after the last ending once more",
    REPEAT_SKIP_SWALLOWS_BAR: "abc2midi ignores the repeat sign that ends a skipped ending",
}


def tie_in_written_order(events: list[Event]) -> None:
    """Join each tied note to the next note in written order, as abc2midi does.

    abc2midi resolves ties before it plays repeats: a tie at the end of a
    variant ending joins the first note of the next ending, which then does
    not sound. Changes ``events`` in place (quirk :data:`TIE_INTO_ENDING`).
    """
    open_ties: dict[int, Sound] = {}
    for event in events:
        if not isinstance(event, NoteEvent):
            continue
        still_open: dict[int, Sound] = {}
        for sound in list(event.sounds):
            earlier = open_ties.get(sound.pitch)
            if earlier is not None:
                earlier.length += sound.length
                earlier.tie = sound.tie
                event.sounds.remove(sound)
                sound = earlier
            if sound.tie:
                still_open[sound.pitch] = sound
        open_ties = still_open


def check_quirks(quirks: frozenset[str]) -> None:
    """Raise ValueError naming any quirk that is not in :data:`QUIRKS`."""
    unknown = sorted(quirks - QUIRKS.keys())
    if unknown:
        raise ValueError(f"unknown quirks {unknown}: use names from {sorted(QUIRKS)}")


# abc2midi's bar kinds, as genmidi.c names them.
_SINGLE, _DOUBLE, _START, _END, _BOTH = "single", "double", "start", "end", "both"


def _kind(bar: BarEvent, quirks: frozenset[str]) -> str:
    if REPEAT_DOUBLE_BAR_COLON in quirks and bar.text.startswith(("||", "|]")):
        return _DOUBLE
    if bar.start_repeats and bar.end_repeats:
        return _BOTH
    if bar.start_repeats:
        return _START
    if bar.end_repeats:
        return _END
    return _DOUBLE if bar.double else _SINGLE


def _fixed_kinds(events: list[Event], single_voice: bool, quirks: frozenset[str]) -> dict[int, str]:
    """Return the bar kinds by event index, after the guesses of missing ``|:``.

    Index -1 stands for the start of the music. With
    :data:`REPEAT_START_GUESSED`, the guesses are abc2midi 4.84's (store.c):
    it turns the start into ``|:`` when the first ``:|`` or ``::`` has no
    ``|:`` before it (in a tune with parts, in each part); in a tune of one
    voice without parts it also turns the latest ``||`` or ``:|`` into ``|:``
    (or ``::``) before a later ``:|``, ``::`` or first variant ending that has
    no ``|:``, until it has seen a variant ending. Without it, ABC 2.1's rule
    holds everywhere: the repeat starts after the latest ``||``, ``:|`` or
    ``::``, or at the start.
    """
    kinds = {-1: _DOUBLE}
    for index, event in enumerate(events):
        if isinstance(event, BarEvent):
            kinds[index] = _kind(event, quirks)
        elif isinstance(event, PartEvent):
            kinds[index] = _DOUBLE  # where abc2midi may add a |: for the part
    abc2midi = REPEAT_START_GUESSED in quirks
    if abc2midi:
        start, found = -1, False
        for index, kind in list(kinds.items()):
            if index >= 0 and isinstance(events[index], PartEvent):
                start, found = index, False
            elif kind == _START:
                found = True
            elif kind in (_END, _BOTH) and not found:
                kinds[start] = _START
                found = True
        if not single_voice:
            return kinds
    reference, expecting, endings = -1, False, 0
    for index in list(kinds):
        kind = kinds[index]
        if kind == _DOUBLE:
            reference = index
            expecting = expecting and abc2midi
        elif kind == _START:
            if expecting and abc2midi:
                kinds[index] = _BOTH
            expecting = True
        elif kind == _END:
            if not expecting and (endings < 1 or not abc2midi):
                _place_start(kinds, reference)
            expecting, reference = False, index
        elif kind == _BOTH:
            if not expecting:
                _place_start(kinds, reference)
            expecting = True
        bar = events[index] if index >= 0 else None
        if isinstance(bar, BarEvent) and bar.endings is not None:
            if not expecting and (endings == 0 or not abc2midi):
                _place_start(kinds, reference)
                expecting = True
            endings += 1
    return kinds


def _place_start(kinds: dict[int, str], index: int) -> None:
    if kinds[index] in (_SINGLE, _DOUBLE):
        kinds[index] = _START
    elif kinds[index] == _END:
        kinds[index] = _BOTH


# The bar kinds at which abc2midi stops skipping a variant ending.
_STOPS = frozenset({_START, _END, _DOUBLE})


@dataclass
class _Pass:
    """The target of a repeat and the number of times it has played."""

    saved: int = -1
    expecting: bool = False
    passes: int = 1
    most: int = 2


def abc2midi_order(
    events: list[Event], quirks: frozenset[str], single_voice: bool = True
) -> Iterator[int]:
    """Yield the indices of ``events`` in the order abc2midi 4.84 plays them.

    A port of the repeat logic of abc2midi's genmidi.c (writetrack). Each of
    its departures from ABC 2.1 (the ``REPEAT_*`` quirks) applies only when
    named in ``quirks``, so that a difference can be put down to the ones
    it needs.

    Args:
        events: The events of one voice in written order.
        quirks: The quirks to imitate.
        single_voice: False for a tune with several voices or with parts,
            where abc2midi guesses fewer missing ``|:``.

    Yields:
        Indices into ``events``, bar events included.
    """
    kinds = _fixed_kinds(events, single_voice, quirks)
    state = _Pass(expecting=kinds[-1] == _START)
    index, endings_only, budget = 0, False, 50 * len(events) + 100
    while index < len(events) and budget > 0:
        budget -= 1
        event = events[index]
        if index not in kinds:
            yield index
            index += 1
            continue
        if not endings_only:
            yield index
            if _obey_bar(events, kinds, index, state, quirks):
                index = state.saved + 1
                continue
        endings_only = False
        if isinstance(event, BarEvent) and event.endings is not None:
            number = state.passes if (state.expecting or state.passes > 1) else 1
            if number not in event.endings:
                index, endings_only = _skip_ending(events, kinds, index + 1)
                endings_only = endings_only and REPEAT_SKIP_SWALLOWS_BAR in quirks
                continue
            if REPEAT_ENDING_ADDS_PASS in quirks:
                if state.most < 4:
                    state.most = state.passes + 1
            else:
                state.most = max(state.most, _last_ending(events, kinds, index))
        index += 1


def _obey_bar(
    events: list[Event], kinds: dict[int, str], index: int, state: _Pass, quirks: frozenset[str]
) -> bool:
    """Follow the bar at ``index``; return True to go back to ``state.saved``."""
    kind = kinds[index]
    bar = events[index]
    colons = isinstance(bar, BarEvent) and REPEAT_COLONS_IGNORED not in quirks
    if kind == _START:
        most = bar.start_repeats + 1 if colons else 2  # type: ignore[union-attr]
        state.saved, state.expecting, state.passes, state.most = index, True, 1, most
    elif kind == _END:
        most = max(state.most, bar.end_repeats + 1) if colons else state.most  # type: ignore[union-attr]
        if state.expecting if state.passes == 1 else state.passes < most:
            state.passes, state.expecting = state.passes + 1, False
            state.most = most
            return True
    elif kind == _BOTH:
        if state.passes > 1:
            state.saved, state.expecting, state.passes, state.most = index, True, 1, 2
        elif state.expecting:
            state.passes += 1
            return True
        else:
            state.saved, state.expecting, state.passes = index, True, 1
    elif kind == _DOUBLE and REPEAT_PASS_KEPT not in quirks and not state.expecting:
        state.passes, state.most = 1, 2
    return False


def _last_ending(events: list[Event], kinds: dict[int, str], index: int) -> int:
    """Return the highest variant ending number from ``index`` to the section's end."""
    highest = 0
    for position in range(index, len(events)):
        event = events[position]
        if position > index and kinds.get(position) in (_START, _DOUBLE, _BOTH):
            break
        if isinstance(event, BarEvent) and event.endings:
            highest = max(highest, *event.endings)
    return highest


def _skip_ending(events: list[Event], kinds: dict[int, str], index: int) -> tuple[int, bool]:
    """Return where to go on after skipping a variant ending, and whether abc2midi
    would pass over the bar there without obeying it.

    It skips to the next ``|:``, ``:|``, ``||`` or variant ending; the variant
    ending after a skipped bar line is still read.
    """
    while index < len(events):
        event = events[index]
        if isinstance(event, PartEvent):
            return index, False
        if isinstance(event, BarEvent):
            if kinds[index] in _STOPS:
                return index, True
            if event.endings is not None:
                return index + 1, False
        index += 1
    return index, False
