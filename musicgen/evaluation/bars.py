"""Find the written bars of a tune: their lengths, meters, notes and bar lines.

The converter lays notes out as played, with repeats unrolled, and keeps no
bar times. To see the bars as written, this module rewrites the tune body.
Every bar line becomes a plain ``|`` and variant ending numbers are dropped,
so nothing repeats. An inline tempo field ``[Q:1/4=N]`` with a unique ``N``
goes at the start of each bar. The converter then reports each marker as a
tempo change, whose time is the start of that bar in written order. ``Q:`` and
``P:`` fields of the tune are dropped first, because they would add tempo
changes or reorder the music.

NOTE: only the first voice is read; the body stops at a ``V:`` field that
follows music. A multi-measure rest ``Zn`` counts as one bar of n bars' length.
"""

from __future__ import annotations

import bisect
import contextlib
import re
from dataclasses import dataclass, field
from fractions import Fraction

from musicgen.abc import AbcError, Tune, parse_tune
from musicgen.abc.fields import parse_meter

# A marker's tempo is MARKER_BASE + the bar's index, in quarter notes per
# minute; no real tune has a tempo this fast.
MARKER_BASE = 1_000_000

# A bar line with its repeat colons, then an optional variant ending number
# attached to it ("|1", ":|2", "| [2"). Same forms as ABC 2.1 section 4.8-4.9.
_BAR_LINE = re.compile(r"(:*\[\||:*\|[|\]]*:*|::+)((?:\s*\[)?\d+(?:[-,]\d+)*)?")
_ENDING = re.compile(r"\[\d+(?:[-,]\d+)*")
_INLINE_FIELD = re.compile(r"\[([A-Za-z]):([^\]]*)\]")
_TUPLET = re.compile(r"\(\d+(?::\d*){0,2}")
_FIELD_LINE = re.compile(r"^([A-Za-z+]):(.*)$")
_CONTENT = set("ABCDEFGabcdefgzxZX")
_DROPPED_FIELDS = frozenset("QP")

Meter = tuple[int, int] | None
BarNote = tuple[Fraction, int, Fraction]


@dataclass(frozen=True)
class BarLine:
    """The bar lines between two written bars, merged when several stand in a row.

    Attributes:
        end_repeat: A repeat ends here (``:|`` or ``::``).
        start_repeat: A repeat starts here (``|:`` or ``::``).
        section: A part of the tune ends or starts here: a repeat mark, a
            double or thick bar line, a variant ending, or the tune's start or end.
    """

    end_repeat: bool = False
    start_repeat: bool = False
    section: bool = False

    def merge(self, other: BarLine) -> BarLine:
        """Return the bar line that has the marks of both."""
        return BarLine(
            self.end_repeat or other.end_repeat,
            self.start_repeat or other.start_repeat,
            self.section or other.section,
        )


@dataclass(frozen=True)
class Bar:
    """One written bar.

    Attributes:
        start: The onset in quarter-note beats, in written order (no repeats).
        length: The time the bar takes, in quarter-note beats.
        meter: The meter in force, or None for free meter.
        notes: (onset within the bar in beats, MIDI pitch, duration in beats)
            of each note that starts in the bar, in onset order.
        before: The bar line before the bar.
        after: The bar line after the bar.
    """

    start: Fraction
    length: Fraction
    meter: Meter
    notes: tuple[BarNote, ...]
    before: BarLine
    after: BarLine

    @property
    def expected_length(self) -> Fraction | None:
        """The length the meter expects, in quarter-note beats, or None in free meter."""
        if self.meter is None:
            return None
        return Fraction(4 * self.meter[0], self.meter[1])


@dataclass
class _Scan:
    """The state of rewriting one tune body."""

    meter: Meter
    lines: list[str] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)
    boundaries: list[BarLine] = field(default_factory=lambda: [BarLine(section=True)])
    meters: list[Meter] = field(default_factory=list)
    has_content: bool = False
    stopped: bool = False

    def marker(self) -> str:
        return f"[Q:1/4={MARKER_BASE + len(self.boundaries) - 1}]"

    def bar_line(self, line: BarLine) -> None:
        if self.has_content:
            self.boundaries.append(line)
            self.pieces.append("|" + self.marker())
            self.has_content = False
        else:
            self.boundaries[-1] = self.boundaries[-1].merge(line)

    def content(self, char: str) -> None:
        if not self.has_content:
            self.meters.append(self.meter)
            self.has_content = True
        self.pieces.append(char)


@dataclass(frozen=True)
class WrittenTune:
    """A tune converted in written order, without repeats, and its bars.

    Attributes:
        tune: The lenient conversion of the rewritten text; its notes and key
            changes are in written order.
        bars: The written bars.
    """

    tune: Tune
    bars: list[Bar]


def read_written(text: str) -> WrittenTune | None:
    """Convert the ABC tune ``text`` in written order and find its bars.

    Bars without a note or rest are skipped, and their bar lines merge with
    the next. Returns None when the tune has no ``K:`` field, no bar with a
    note or rest, or does not convert leniently.
    """
    lines = text.split("\n")
    key_index = next((i for i, line in enumerate(lines) if line.startswith("K:")), None)
    if key_index is None:
        return None
    header = [line for line in lines[: key_index + 1] if not _is_dropped_field(line)]
    scan = _Scan(meter=_header_meter(header))
    scan.pieces.append(scan.marker())
    for line in lines[key_index + 1 :]:
        if not line.strip() or scan.stopped:
            break
        _scan_line(scan, line)
        rewritten = "".join(scan.pieces)
        # A line left empty by the rewrite (a lone bar line) would end the tune.
        if rewritten.strip():
            scan.lines.append(rewritten)
        scan.pieces = []
    if scan.has_content:
        scan.boundaries.append(BarLine(section=True))
    else:
        scan.boundaries[-1] = scan.boundaries[-1].merge(BarLine(section=True))
    if not scan.meters:
        return None
    try:
        tune = parse_tune("\n".join(header + scan.lines), strict=False)
    except AbcError:
        return None
    return WrittenTune(tune, _lay_out(tune, scan))


def _scan_line(scan: _Scan, line: str) -> None:
    match = _FIELD_LINE.match(line)
    if match:
        _scan_field(scan, match.group(1), match.group(2), line)
        return
    if line.startswith("%"):
        return
    index = 0
    while index < len(line) and not scan.stopped:
        index = _scan_token(scan, line, index)


def _scan_token(scan: _Scan, line: str, index: int) -> int:
    """Rewrite the token at ``index`` of a music line and return the index after it."""
    char = line[index]
    if char == "%":
        return len(line)

    if char == '"' or (char in "!+" and line.find(char, index + 1) > 0):
        end = line.find(char, index + 1)
        end = len(line) if end < 0 else end + 1
        scan.pieces.append(line[index:end])
        return end
    if char == "{":
        end = line.find("}", index)
        end = len(line) if end < 0 else end + 1
        scan.pieces.append(line[index:end])
        return end

    inline = _INLINE_FIELD.match(line, index)
    if inline:
        _scan_field(scan, inline.group(1), inline.group(2), inline.group(0))
        return inline.end()
    ending = _ENDING.match(line, index)
    if ending:
        scan.bar_line(BarLine(section=True))
        return ending.end()
    bar = _BAR_LINE.match(line, index) if char in "|:[" else None
    if bar:
        scan.bar_line(_classify(bar.group(1), bar.group(2) is not None))
        return bar.end()

    tuplet = _TUPLET.match(line, index)
    if tuplet:
        scan.pieces.append(tuplet.group(0))
        return tuplet.end()
    if char in _CONTENT:
        scan.content(char)
    else:
        scan.pieces.append(char)
    return index + 1


def _scan_field(scan: _Scan, name: str, value: str, text: str) -> None:
    if name in _DROPPED_FIELDS:
        return
    if name == "V" and (scan.has_content or scan.meters):
        scan.stopped = True
        return
    if name == "M":
        # An invalid meter is the converter's to report; the bars keep the one before.
        with contextlib.suppress(ValueError):
            scan.meter = parse_meter(value)
    if text.startswith("["):
        scan.pieces.append(text)
    else:
        scan.lines.append(text)


def _classify(text: str, has_ending: bool) -> BarLine:
    end_repeat = text.startswith(":")
    start_repeat = text.endswith(":")
    double = "||" in text or "|]" in text or "[|" in text
    return BarLine(end_repeat, start_repeat, end_repeat or start_repeat or double or has_ending)


def _is_dropped_field(line: str) -> bool:
    match = _FIELD_LINE.match(line)
    return match is not None and match.group(1) in _DROPPED_FIELDS


def _header_meter(header: list[str]) -> Meter:
    meter: Meter = None
    for line in header:
        if line.startswith("M:"):
            try:
                meter = parse_meter(line[2:])
            except ValueError:
                meter = None
    return meter


def _lay_out(tune: Tune, scan: _Scan) -> list[Bar]:
    """Turn the markers' times into bars and sort the notes into them."""
    count = len(scan.meters)
    found = {
        int(change.qpm) - MARKER_BASE: change.time
        for change in tune.tempo_changes
        if change.qpm >= MARKER_BASE
    }
    # A marker is missing when the next bar's marker fell on the same time,
    # so that bar took no time: it starts where the next known one does.
    starts: list[Fraction] = [tune.duration] * (count + 1)
    for index in range(count - 1, -1, -1):
        starts[index] = found.get(index, starts[index + 1])
    onsets = [note.start for note in tune.notes]
    bars = []
    for index in range(count):
        first = bisect.bisect_left(onsets, starts[index])
        last = bisect.bisect_left(onsets, starts[index + 1]) if index + 1 < count else len(onsets)
        notes = tuple(
            (note.start - starts[index], note.pitch, note.duration)
            for note in tune.notes[first:last]
        )
        bars.append(
            Bar(
                start=starts[index],
                length=starts[index + 1] - starts[index],
                meter=scan.meters[index],
                notes=notes,
                before=scan.boundaries[index],
                after=scan.boundaries[index + 1],
            )
        )
    return bars
