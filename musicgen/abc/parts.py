"""Play the parts of a tune in the order its header ``P:`` field gives.

ABC 2.1 section 3.1.11: in the header, ``P:`` gives the playing order, such as
``P:ABAC``, ``P:(AB)2C`` or ``P:A2.B.C`` (a digit repeats the part or group
before it, brackets group, dots and spaces only separate). In the body,
``P:A`` marks where part A begins. Music before the first part marker is
played first, once.
"""

from __future__ import annotations

from musicgen.abc.errors import InvalidFieldError, Reporter
from musicgen.abc.events import BarEvent, Event, PartEvent
from musicgen.abc.voices import VoiceSet

# A cap on the length of an expanded playing order such as P:(((A9)9)9)9.
MAX_PARTS = 1000


def expand_part_order(order: str) -> list[str]:
    """Expand a playing order such as ``(AB)2C`` into ``["A", "B", "A", "B", "C"]``.

    Raises:
        ValueError: The brackets do not match, or the order is longer than MAX_PARTS.
    """
    expanded, _ = _expand_group(order, 0, nested=False)
    return expanded


def _expand_group(order: str, index: int, nested: bool) -> tuple[list[str], int]:
    """Expand ``order`` from ``index`` up to the ``)`` that closes a nested group."""
    result: list[str] = []
    last: list[str] = []
    while index < len(order):
        char = order[index]
        index += 1
        if char == "(":
            last, index = _expand_group(order, index, nested=True)
            result.extend(last)
        elif char == ")":
            if not nested:
                raise ValueError(f"invalid part order {order!r}: unmatched ')'")
            return result, index
        elif char.isdigit():
            digits = char
            while index < len(order) and order[index].isdigit():
                digits += order[index]
                index += 1
            if len(result) + len(last) * (int(digits) - 1) > MAX_PARTS:
                raise ValueError(f"part order {order!r} plays more than {MAX_PARTS} parts")
            result.extend(last * (int(digits) - 1))
        elif char.isalpha():
            last = [char]
            result.append(char)
        if len(result) > MAX_PARTS:
            raise ValueError(f"part order {order!r} plays more than {MAX_PARTS} parts")
    if nested:
        raise ValueError(f"invalid part order {order!r}: '(' is never closed")
    return result, index


def arrange_parts(voices: VoiceSet, order: str, reporter: Reporter) -> None:
    """Reorder each voice's events into the playing order ``order``."""
    try:
        names = expand_part_order(order.split("%")[0].replace(" ", ""))
    except ValueError as error:
        reporter.problem(InvalidFieldError, str(error), None, None, "parts played as written")
        return
    for performer in voices.performers.values():
        intro, parts = _split_parts(performer.events)
        if not parts:
            continue
        arranged = list(intro)
        for name in names:
            if name not in parts:
                reporter.problem(
                    InvalidFieldError,
                    f"part {name!r} of P:{order} is not in the tune",
                    None,
                    None,
                    drops_notes=True,
                )
                continue
            # A section boundary, so that repeats never cross from one part to the next.
            arranged.append(BarEvent(0, 0, double=True))
            arranged.append(PartEvent(name, 0, 0))
            arranged.extend(parts[name])
        performer.events = arranged


def _split_parts(events: list[Event]) -> tuple[list[Event], dict[str, list[Event]]]:
    intro: list[Event] = []
    parts: dict[str, list[Event]] = {}
    current = intro
    for event in events:
        if isinstance(event, PartEvent):
            current = parts.setdefault(event.name[:1], [])
        else:
            current.append(event)
    return intro, parts
