"""Measure ABC tunes: validity in levels, pitch and rhythm statistics, repetition.

Works on any list of ABC tune texts, with or without an ``X:`` line, and
imports no TensorFlow, so tests and benchmarks can reuse it. Musical
statistics come from the notes in written order (repeats not unrolled, see
:mod:`musicgen.evaluation.bars`), so a repeated part counts once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from musicgen.abc import AbcError, parse_tune
from musicgen.evaluation.bars import Bar, BarNote, read_written
from musicgen.tunetext import has_key_and_notes

# Note lengths counted by the note-length histogram, in quarter-note beats:
# 32nd, 16th, eighth triplet, eighth, quarter triplet, dotted eighth, quarter,
# dotted quarter, half, dotted half, whole. Other lengths count as "other".
NOTE_LENGTH_BINS: tuple[Fraction, ...] = tuple(
    Fraction(text) for text in ("1/8", "1/4", "1/3", "1/2", "2/3", "3/4", "1", "3/2", "2", "3", "4")
)
NOTE_LENGTH_LABELS: tuple[str, ...] = (*(str(length) for length in NOTE_LENGTH_BINS), "other")
PITCH_CLASS_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
# Semitones above the tonic of the major scale.
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)

# A tune that copies this many consecutive bars from one training tune is flagged.
PLAGIARISM_BARS = 8

_KEY_LINE = re.compile(r"^K:", re.MULTILINE)


@dataclass
class TuneMetrics:
    """What one tune text reached and, where it converts, its musical statistics.

    Validity levels, each a bool:
        extracted: The text has a ``K:`` line with a note letter after it.
        parsed: It converts in strict mode (ABC 2.1 with no problem at all).
        has_fields: Its header has ``M:`` and ``K:``. ``L:`` may be missing
            because ABC 2.1 gives it a default from the meter.
        converts: It converts in lenient mode with at least one note, as
            ``generate`` needs to write MIDI.

    Attributes:
        problem: The first error of the strict or lenient conversion, or "".
        bars: The written bars, empty unless the tune converts.
        checked_bars: Bars checked against the meter (see :func:`count_complete_bars`).
        complete_bars: Checked bars whose length fits the meter.
        pitches: MIDI pitches of the notes in written order.
        in_key_notes: Notes whose pitch class is in the scale of the key signature.
        note_lengths: Notes per :data:`NOTE_LENGTH_LABELS` bin.
        longest_copy: The maximum number of consecutive bars found in one
            training tune; None for a tune without bars, and until
            :meth:`musicgen.evaluation.novelty.TrainingIndex.fill` sets it.
        four_bar_found: 4-bar sequences of the tune found in the training set.
        four_bar_total: 4-bar sequences in the tune.
    """

    text: str
    extracted: bool = False
    parsed: bool = False
    has_fields: bool = False
    converts: bool = False
    problem: str = ""
    bars: list[Bar] = field(default_factory=list)
    checked_bars: int = 0
    complete_bars: int = 0
    pitches: list[int] = field(default_factory=list)
    in_key_notes: int = 0
    note_lengths: list[int] = field(default_factory=lambda: [0] * len(NOTE_LENGTH_LABELS))
    longest_copy: int | None = None
    four_bar_found: int = 0
    four_bar_total: int = 0

    @property
    def bar_accuracy(self) -> float | None:
        """Share of checked bars whose length fits the meter, or None when none was checked."""
        return self.complete_bars / self.checked_bars if self.checked_bars else None

    @property
    def pitch_range(self) -> int | None:
        """Semitones from the lowest to the highest note, or None without notes."""
        return max(self.pitches) - min(self.pitches) if self.pitches else None

    @property
    def in_key_share(self) -> float | None:
        """Share of notes in the scale of the key signature, or None without notes."""
        return self.in_key_notes / len(self.pitches) if self.pitches else None

    @property
    def pitch_classes(self) -> list[int]:
        """Notes per pitch class, C first."""
        counts = [0] * 12
        for pitch in self.pitches:
            counts[pitch % 12] += 1
        return counts

    @property
    def pitch_class_entropy(self) -> float | None:
        """Shannon entropy of the pitch-class histogram in bits (0 to log2 12), or None."""
        return entropy_bits(self.pitch_classes) if self.pitches else None

    @property
    def bar_count(self) -> int:
        """Written bars with a note or rest."""
        return len(self.bars)

    @property
    def repeated_bars(self) -> int:
        """Bars whose notes (onsets, pitches, lengths) equal those of an earlier bar."""
        seen: set[tuple[BarNote, ...]] = set()
        repeats = 0
        for bar in self.bars:
            repeats += bar.notes in seen
            seen.add(bar.notes)
        return repeats

    @property
    def repetition(self) -> float | None:
        """Share of bars that repeat an earlier bar, or None without bars."""
        return self.repeated_bars / len(self.bars) if self.bars else None

    @property
    def plagiarised(self) -> bool:
        """True when 8 or more consecutive bars come from one training tune."""
        return self.longest_copy is not None and self.longest_copy >= PLAGIARISM_BARS


def entropy_bits(counts: Iterable[float]) -> float:
    """Return the Shannon entropy in bits of a histogram given as counts."""
    values = [count for count in counts if count > 0]
    total = sum(values)
    return -sum(count / total * math.log2(count / total) for count in values) if total else 0.0


def scale_pitch_classes(sharps: int) -> frozenset[int]:
    """Return the 7 pitch classes of the key signature with ``sharps`` sharps (flats below 0).

    Every mode of one signature has the same 7 pitch classes: the major scale
    of the tonic ``sharps`` fifths above C. The signature already reflects the
    mode (A minor and D dorian have none), so a minor key's raised leading
    tone counts as outside the scale.
    """
    tonic = 7 * sharps % 12
    return frozenset((tonic + step) % 12 for step in MAJOR_SCALE)


def note_length_bin(duration: Fraction) -> int:
    """Return the index in :data:`NOTE_LENGTH_LABELS` of a length in quarter-note beats."""
    try:
        return NOTE_LENGTH_BINS.index(duration)
    except ValueError:
        return len(NOTE_LENGTH_BINS)


def count_complete_bars(bars: Sequence[Bar]) -> tuple[int, int]:
    """Count the bars checked against the meter and those whose length fits it.

    Not checked: bars in free meter, the last bar, and the first bar when it
    is shorter than the meter (a pickup). A bar fits when its length equals
    the meter's. A short bar also fits when, together with a partner bar, it
    makes one full bar. Its partners are the bars across a section bar line
    (``||``, ``|:``, ``:|``, variant endings) and, for the bar before ``:|``,
    the first bar of the part that is repeated.

    Returns:
        (checked, complete).
    """
    checked = complete = 0
    repeat_start = 0
    for index, bar in enumerate(bars):
        if bar.before.start_repeat:
            repeat_start = index
        expected = bar.expected_length
        if expected is None or index == len(bars) - 1:
            continue
        if index == 0 and bar.length < expected:
            continue
        checked += 1
        fits = bar.length == expected or (
            bar.length < expected and _completes_split_bar(bars, index, repeat_start, expected)
        )
        complete += fits
    return checked, complete


def _completes_split_bar(
    bars: Sequence[Bar], index: int, repeat_start: int, expected: Fraction
) -> bool:
    bar = bars[index]
    partners = []
    if bar.before.section and index > 0:
        partners.append(bars[index - 1])
    if bar.after.section and index + 1 < len(bars):
        partners.append(bars[index + 1])
    if bar.after.end_repeat:
        partners.append(bars[repeat_start])
    return any(bar.length + partner.length == expected for partner in partners)


def measure_tune(text: str, source: str = "<string>") -> TuneMetrics:
    """Measure one ABC tune text; a tune that does not convert gets only its validity levels."""
    metrics = TuneMetrics(text)

    metrics.extracted = has_key_and_notes(text)
    key = _KEY_LINE.search(text)
    header = text[: key.start()] if key else text
    metrics.has_fields = key is not None and re.search(r"^M:", header, re.MULTILINE) is not None
    try:
        parse_tune(text, strict=True, source=source)
        metrics.parsed = True
    except AbcError as error:
        metrics.problem = str(error)

    written = read_written(text)
    try:
        tune = parse_tune(text, strict=False, source=source)
    except AbcError as error:
        metrics.problem = metrics.problem or str(error)
        return metrics
    metrics.converts = bool(tune.notes)
    if written is None:
        return metrics

    metrics.bars = written.bars
    metrics.checked_bars, metrics.complete_bars = count_complete_bars(written.bars)
    changes = written.tune.key_changes or []
    for note in written.tune.notes:
        sharps = written.tune.key_sharps
        for change in changes:
            if change.time <= note.start:
                sharps = change.sharps
        metrics.pitches.append(note.pitch)
        metrics.in_key_notes += note.pitch % 12 in scale_pitch_classes(sharps)
        metrics.note_lengths[note_length_bin(note.duration)] += 1
    return metrics


def measure_tunes(texts: Sequence[str], source: str = "<string>") -> list[TuneMetrics]:
    """Measure each tune of ``texts`` with :func:`measure_tune`."""
    return [measure_tune(text, f"{source} #{number}") for number, text in enumerate(texts, 1)]


@dataclass
class SetSummary:
    """The metrics of one set of tunes, pooled or averaged.

    Validity shares are over all tunes; musical statistics only over the
    tunes with bars (those that convert). Averages are None when no tune
    has the value.

    Attributes:
        name: The set's name, such as ``real`` or ``trained T=0.8``.
        tunes: The per-tune metrics.
    """

    name: str
    tunes: list[TuneMetrics]

    @property
    def count(self) -> int:
        """Tunes in the set."""
        return len(self.tunes)

    def share(self, level: str) -> float:
        """Share of tunes that reach a validity level (a bool field of TuneMetrics)."""
        return sum(bool(getattr(tune, level)) for tune in self.tunes) / max(1, self.count)

    @property
    def musical(self) -> list[TuneMetrics]:
        """The tunes with at least one written bar."""
        return [tune for tune in self.tunes if tune.bars]

    @property
    def bar_accuracy(self) -> float | None:
        """Share of all checked bars, pooled over the tunes, whose length fits the meter."""
        checked = sum(tune.checked_bars for tune in self.tunes)
        return sum(tune.complete_bars for tune in self.tunes) / checked if checked else None

    def mean(self, name: str) -> float | None:
        """Average of a per-tune value (a property of TuneMetrics) over tunes that have it."""
        values = [getattr(tune, name) for tune in self.musical]
        present = [float(value) for value in values if value is not None]
        return sum(present) / len(present) if present else None

    @property
    def pitch_classes(self) -> list[float]:
        """Pooled pitch-class histogram as shares of all notes, C first."""
        return normalise([sum(column) for column in zip(*self._rows("pitch_classes"), strict=True)])

    @property
    def note_lengths(self) -> list[float]:
        """Pooled note-length histogram as shares of all notes, by NOTE_LENGTH_LABELS."""
        return normalise([sum(column) for column in zip(*self._rows("note_lengths"), strict=True)])

    @property
    def four_bar_share(self) -> float | None:
        """Share of all 4-bar sequences, pooled, that occur in the training set."""
        total = sum(tune.four_bar_total for tune in self.tunes)
        return sum(tune.four_bar_found for tune in self.tunes) / total if total else None

    @property
    def plagiarised(self) -> int:
        """Tunes that copy PLAGIARISM_BARS or more consecutive bars from one training tune."""
        return sum(tune.plagiarised for tune in self.tunes)

    def _rows(self, name: str) -> list[list[int]]:
        width = 12 if name == "pitch_classes" else len(NOTE_LENGTH_LABELS)
        return [getattr(tune, name) for tune in self.musical] or [[0] * width]


def normalise(counts: Sequence[int]) -> list[float]:
    """Return the counts of a histogram as shares of their sum (all 0 when the sum is 0)."""
    total = sum(counts)
    return [count / total if total else 0.0 for count in counts]


def summarize(name: str, texts: Sequence[str]) -> SetSummary:
    """Measure every tune of ``texts`` and wrap the results as one set."""
    return SetSummary(name, measure_tunes(texts, source=name))
