"""Write an evaluation as report.md with PNG figures, and format its tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from musicgen.evaluation.distances import FEATURES
from musicgen.evaluation.likelihood import Likelihood
from musicgen.evaluation.metrics import (
    NOTE_LENGTH_LABELS,
    PITCH_CLASS_NAMES,
    PLAGIARISM_BARS,
    SetSummary,
    TuneMetrics,
)
from musicgen.evaluation.novelty import SEQUENCE_BARS
from musicgen.files import write_atomic, write_text_atomic

if TYPE_CHECKING:
    from matplotlib.axes import Axes

PIANO_ROLL_TUNES = 3  # tunes per set in the piano-roll figure

HEADLINE_COLUMNS = (
    "set", "tunes", "extracted", "strict", "M/K", "MIDI", "bars fit",
    "in key", "PC entropy", "repeats", "max copy", f"{SEQUENCE_BARS}-bar in train", "plagiarised",
)  # fmt: skip


@dataclass
class Evaluation:
    """Everything the report shows.

    Attributes:
        run: The run folder's name.
        sets: The real set first, then the generated sets.
        likelihood: Model name (``trained``, ``untrained``) -> its likelihood.
        overlap: Generated set name -> feature name -> overlap area, or None.
        history: The run's per-epoch history rows, possibly empty.
        settings: Lines that describe how the sets were made.
        renderer: The audio renderers used for ``--wav``, or "".
    """

    run: str
    sets: list[SetSummary]
    likelihood: dict[str, Likelihood] = field(default_factory=dict)
    overlap: dict[str, dict[str, float | None]] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)
    renderer: str = ""


def _share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def headline_rows(sets: Sequence[SetSummary]) -> list[list[str]]:
    """Return one row per set for :data:`HEADLINE_COLUMNS`."""
    rows = []
    for summary in sets:
        copies = [tune.longest_copy for tune in summary.tunes if tune.longest_copy is not None]
        rows.append(
            [
                summary.name,
                str(summary.count),
                _share(summary.share("extracted")),
                _share(summary.share("parsed")),
                _share(summary.share("has_fields")),
                _share(summary.share("converts")),
                _share(summary.bar_accuracy),
                _share(summary.mean("in_key_share")),
                _number(summary.mean("pitch_class_entropy")),
                _share(summary.mean("repetition")),
                str(max(copies)) if copies else "-",
                _share(summary.four_bar_share),
                str(summary.plagiarised),
            ]
        )
    return rows


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> str:
    """Lay out a table as Markdown or as aligned plain text."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [list(header), *rows]
    )


def _music_rows(sets: Sequence[SetSummary]) -> list[list[str]]:
    return [
        [
            summary.name,
            str(len(summary.musical)),
            _number(summary.mean("pitch_range"), 1),
            _number(summary.mean("pitch_class_entropy")),
            _number(summary.mean("bar_count"), 1),
            _share(summary.mean("repetition")),
        ]
        for summary in sets
    ]


def _likelihood_rows(likelihood: dict[str, Likelihood]) -> list[list[str]]:
    return [
        [name, f"{value.loss:.4f}", f"{value.perplexity:.3f}", f"{value.bits_per_character:.3f}",
         str(value.characters)]
        for name, value in likelihood.items()
    ]  # fmt: skip


def write_report(folder: Path, evaluation: Evaluation) -> Path:
    """Draw the figures and write ``report.md`` into ``folder``; return the report's path."""
    figures = draw_figures(folder, evaluation)
    real_name = evaluation.sets[0].name if evaluation.sets else "real"
    parts = [f"# Evaluation of {evaluation.run}", "", *evaluation.settings, ""]
    parts += [
        "## Headline",
        "",
        format_table(HEADLINE_COLUMNS, headline_rows(evaluation.sets), True),
    ]

    parts += [
        "",
        "extracted: a K: line with notes after it; strict: converts under strict ABC 2.1; "
        "M/K: the header has M: and K: (L: has a default); MIDI: converts leniently with a note; "
        "bars fit: checked bars whose length equals the meter (pickup, last bar and bars split "
        "by repeats exempt); in key: notes in the key signature's scale; PC entropy: bits of "
        "the pitch-class histogram; repeats: bars equal to an earlier bar; max copy: most "
        f"consecutive bars found in one training tune ({PLAGIARISM_BARS} or more is plagiarised). "
        "Bars are compared by their notes (onset in the bar, pitch, length).",
    ]

    if evaluation.likelihood:
        parts += ["", f"## Likelihood on the held-out tunes ({real_name})", ""]
        header: tuple[str, ...] = (
            "model",
            "loss (nats/char)",
            "perplexity",
            "bits/char",
            "characters",
        )
        parts.append(format_table(header, _likelihood_rows(evaluation.likelihood), True))

    parts += ["", "## Music", ""]
    header = ("set", "tunes with bars", "pitch range", "PC entropy", "bars", "repeats")
    parts.append(format_table(header, _music_rows(evaluation.sets), True))

    if evaluation.overlap:
        parts += ["", f"## Overlap with {real_name} (MGEval, Yang and Lerch 2018)", ""]
        parts.append(
            "Overlap area of the densities of distances within the real tunes and between "
            "generated and real tunes: 1 is indistinguishable, 0 is disjoint."
        )
        rows = [
            [name, *(_number(values.get(feature)) for feature in FEATURES)]
            for name, values in evaluation.overlap.items()
        ]
        parts += ["", format_table(("set", *FEATURES), rows, True)]

    if evaluation.renderer:
        parts += ["", f"Audio rendered with {evaluation.renderer}."]
    parts += ["", "## Figures", ""]
    parts += [f"![{path.stem}]({path.name})" for path in figures]
    report = folder / "report.md"
    write_text_atomic(report, "\n".join(parts) + "\n")
    return report


def draw_figures(folder: Path, evaluation: Evaluation) -> list[Path]:
    """Draw the loss curves, histograms and piano rolls as PNG files; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    paths = []
    if evaluation.history:
        paths.append(_save(folder / "loss.png", lambda axes: _plot_loss(axes, evaluation)))
    for name, labels in (
        ("pitch_classes", PITCH_CLASS_NAMES),
        ("note_lengths", NOTE_LENGTH_LABELS),
    ):
        paths.append(
            _save(
                folder / f"{name}.png",
                lambda axes, name=name, labels=labels: _plot_histogram(
                    axes, evaluation.sets, name, labels
                ),
            )
        )
    paths.append(_draw_piano_rolls(folder / "piano_rolls.png", evaluation.sets))
    return paths


def _save(path: Path, draw: Callable[..., None]) -> Path:
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(8, 4), dpi=100)
    draw(axes)
    figure.tight_layout()
    write_atomic(path, lambda temporary: figure.savefig(temporary, format="png"), suffix=".png")
    pyplot.close(figure)
    return path


def _plot_loss(axes: Axes, evaluation: Evaluation) -> None:
    epochs = [row["epoch"] for row in evaluation.history]
    history = evaluation.history
    axes.plot(epochs, [row["loss"] for row in history], marker="o", label="training")
    axes.plot(epochs, [row["val_loss"] for row in history], marker="o", label="validation")
    axes.set(
        xlabel="epoch",
        ylabel="cross-entropy (nats per character)",
        title=f"Loss of {evaluation.run}",
    )
    axes.legend()


def _plot_histogram(
    axes: Axes, sets: Sequence[SetSummary], name: str, labels: Sequence[str]
) -> None:
    positions = np.arange(len(labels))
    width = 0.8 / max(1, len(sets))
    for index, summary in enumerate(sets):
        values = getattr(summary, name)
        axes.bar(positions + index * width, values, width, label=summary.name)
    axes.set_xticks(positions + 0.4 - width / 2, labels)
    unit = "" if name == "pitch_classes" else " (quarter-note beats)"
    axes.set(ylabel="share of notes", title=name.replace("_", " ") + unit)
    axes.legend(fontsize="small")


def _tune_notes(tune: TuneMetrics) -> list[tuple[float, int, float]]:
    return [
        (float(bar.start + onset), pitch, float(length))
        for bar in tune.bars
        for onset, pitch, length in bar.notes
    ]


def _draw_piano_rolls(path: Path, sets: Sequence[SetSummary]) -> Path:
    from matplotlib import pyplot

    rows = max(1, len(sets))
    figure, grid = pyplot.subplots(
        rows, PIANO_ROLL_TUNES, figsize=(12, 2.2 * rows), dpi=100, squeeze=False
    )
    for row, summary in enumerate(sets):
        tunes = [tune for tune in summary.tunes if tune.pitches][:PIANO_ROLL_TUNES]
        for column in range(PIANO_ROLL_TUNES):
            axes = grid[row][column]
            axes.set_title(f"{summary.name} #{column + 1}", fontsize="small")
            if column >= len(tunes):
                axes.axis("off")
                continue
            for start, pitch, length in _tune_notes(tunes[column]):
                axes.broken_barh([(start, length)], (pitch - 0.4, 0.8))
            axes.set(xlabel="beats", ylabel="MIDI pitch")
    figure.tight_layout()
    write_atomic(path, lambda temporary: figure.savefig(temporary, format="png"), suffix=".png")
    pyplot.close(figure)
    return path
