"""Line-by-line validity checks for constrained sampling.

Constrained sampling checks a tune each time the network finishes a line or
the tune: the text so far must parse under the strict ABC 2.1 rules and
every complete interior bar must be as long as the meter says (the first bar
may be a pickup). A line that fails is drawn again from the recurrent state
at its start; after ``max_attempts`` failures the tune ends at its last good
line. What this enforces is checked at line ends only: the characters inside
a line are still drawn freely, and the musical sense (key, phrase structure,
repeats that close) is left to the network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from gettext import ngettext

from musicgen.abc import AbcError, parse_tune
from musicgen.evaluation.bars import read_written
from musicgen.evaluation.metrics import count_complete_bars

logger = logging.getLogger(__name__)

# Appended to a tune that has only header lines, so that its header can be
# checked by the strict parser, which rejects a tune without a key or music.
_PLACEHOLDER_KEY = "K:C"
_PLACEHOLDER_BODY = "C"


@dataclass(frozen=True)
class TuneChecker:
    """Decides whether a partial tune, cut at a line end, is still valid.

    Attributes:
        check_bars: Also reject complete interior bars whose length differs
            from the meter. The last bar is exempt because the next line may
            continue it.
    """

    check_bars: bool = True

    def problem(self, text: str, *, finished: bool = False) -> str | None:
        """Return why ``text`` is invalid, or ``None`` when it is valid so far.

        Args:
            text: The tune from its first header line (no ``X:`` needed) to
                the end of its latest line.
            finished: The tune ends here, so it must have music.
        """
        has_key, body_started = _header_state(text)
        if not body_started and finished:
            return "the tune ends before any music"
        candidate = text
        if not has_key:
            candidate = f"{text.rstrip()}\n{_PLACEHOLDER_KEY}\n{_PLACEHOLDER_BODY}"
        elif not body_started:
            candidate = f"{text.rstrip()}\n{_PLACEHOLDER_BODY}"
        try:
            parse_tune(f"X:1\n{candidate}", strict=True, source="sample")
        except AbcError as error:
            return str(error)
        if self.check_bars and body_started:
            written = read_written(text)
            if written is not None:
                checked, complete = count_complete_bars(written.bars)
                if complete < checked:
                    wrong = checked - complete
                    return f"{wrong} {ngettext('bar differs', 'bars differ', wrong)} from the meter"
        return None


def _header_state(text: str) -> tuple[bool, bool]:
    """Tell whether ``text`` has a ``K:`` field, and a line of music after it."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.startswith("K:"):
            return True, any(rest.strip() for rest in lines[index + 1 :])
    return False, False
