"""Compare a run's generated tunes with held-out real tunes.

Samples tunes from the run's trained model at each --temperatures value and
from the same network untrained at temperature 1.0, or reads .abc files from
--abc-dir instead. The real tunes are the run's validation split, made from
its corpus with its seed. Measures the models' loss on the real tunes, the
validity, music and novelty of every set, and the MGEval overlap of the
generated sets with the real one. Writes report.md, PNG figures and the
sampled tunes into outputs/evaluations/TIME-RUN/ and prints the headline table.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from gettext import ngettext
from pathlib import Path
from typing import TYPE_CHECKING

from musicgen.errors import UserError
from musicgen.files import fresh_directory
from musicgen.runs import DEFAULT_OUTPUTS, RunPaths, find_run

if TYPE_CHECKING:
    from musicgen.config import TrainConfig
    from musicgen.corpus import Tune
    from musicgen.evaluation.likelihood import Likelihood
    from musicgen.model import CharRNN
    from musicgen.report import Evaluation
    from musicgen.sample import SamplingSettings

logger = logging.getLogger(__name__)

UNTRAINED_TEMPERATURE = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``evaluate`` to ``parser``."""
    parser.add_argument("--run", type=Path, help="run folder to evaluate (default: the newest)")
    parser.add_argument("--count", type=int, default=20, help="tunes sampled per set (default 20)")
    parser.add_argument(
        "--temperatures",
        default="0.6,0.8,1.0,1.2",
        help="comma-separated sampling temperatures of the trained model (default 0.6,0.8,1.0,1.2)",
    )
    parser.add_argument(
        "--abc-dir",
        type=Path,
        help="measure the .abc files of this folder instead of sampling; each subfolder "
        "with .abc files (such as trained/ and untrained/ from generate) is one set",
    )
    parser.add_argument(
        "--max-length", type=int, default=1000, help="characters per sampled tune at most"
    )
    parser.add_argument(
        "--sampling",
        choices=["plain", "constrained"],
        default="plain",
        help="how the trained network is sampled: plain measures the network alone, "
        "constrained measures what generate writes by default (default plain); the "
        "untrained network is sampled plainly",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the draws and untrained weights (default 0: the same tunes on every run)",
    )
    parser.add_argument(
        "--wav",
        action="store_true",
        help="also render each .mid to .wav (fluidsynth when installed, else numpy)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_OUTPUTS,
        help="folder with runs/ and that receives evaluations/ (default: outputs)",
    )


def _parse_temperatures(text: str) -> list[float]:
    """Parse --temperatures: different numbers above 0, separated by commas."""
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        raise UserError("--temperatures is empty; give numbers above 0, such as 0.8,1.0")
    if not all(items):
        raise UserError(
            f"--temperatures {text!r} has an empty item; separate the numbers by single commas, "
            "such as 0.8,1.0"
        )
    try:
        values = [float(item) for item in items]
    except ValueError as error:
        raise UserError(
            f"--temperatures must be numbers separated by commas, such as 0.8,1.0; got {text!r}"
        ) from error
    if not all(0 < value < math.inf for value in values):
        raise UserError(f"--temperatures must be numbers above 0, got {text!r}")
    # Each set and its folder are named after the temperature written with :g,
    # so 0.8 and 0.80 would write into one folder.
    names = [f"{value:g}" for value in values]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise UserError(
            f"--temperatures lists {', '.join(repeated)} more than once; give each value once"
        )
    return values


def _sampling_plan(
    temperatures: list[float], max_length: int, seed: int
) -> list[tuple[str, SamplingSettings]]:
    """List the sets to sample as (model name, settings) pairs.

    The trained model is sampled at each of ``temperatures``, then the
    untrained one at ``UNTRAINED_TEMPERATURE``.

    Raises:
        UserError: --max-length is invalid.
    """
    from musicgen.sample import SamplingSettings

    plan = [("trained", temperature) for temperature in temperatures]
    plan.append(("untrained", UNTRAINED_TEMPERATURE))
    try:
        return [
            (model_name, SamplingSettings(temperature, 0, 1.0, max_length, seed))
            for model_name, temperature in plan
        ]
    except ValueError as error:
        raise UserError(str(error)) from error


def main(args: argparse.Namespace) -> int:
    """Run ``evaluate`` and print the headline table."""
    if args.count < 1:
        raise UserError(f"--count must be at least 1, got {args.count}")
    # Checked before any work, so that a bad option leaves no folder behind.
    plan = _sampling_plan(_parse_temperatures(args.temperatures), args.max_length, args.seed)
    if args.abc_dir is not None and not args.abc_dir.is_dir():
        raise UserError(f"--abc-dir {args.abc_dir} is not a folder")
    run = find_run(args.run, args.output_dir)
    print(f"run: {run.root}")

    from musicgen.config import TrainConfig
    from musicgen.corpus import load_corpus, split_train_validation
    from musicgen.evaluation.metrics import summarize
    from musicgen.report import Evaluation, write_report
    from musicgen.train import read_history

    config = TrainConfig.load(run.config)
    # NOTE: the split is made again from the corpus files as they are now; if
    # they changed since training, the real tunes differ from training's.
    corpus = load_corpus(config.data)
    training, validation = split_train_validation(
        corpus.tunes, config.validation_fraction, config.seed
    )
    if not validation:
        raise UserError(
            f"run {run.root.name} held out no validation tunes, so there is nothing to compare"
        )
    folder = fresh_directory(
        args.output_dir / "evaluations", f"{time.strftime('%Y%m%d-%H%M%S')}-{run.root.name}"
    )
    evaluation = Evaluation(run.root.name, [], history=read_history(run.history))
    real_tunes = ngettext("validation tune", "validation tunes", len(validation))
    training_tunes = ngettext("training tune", "training tunes", len(training))
    evaluation.settings.append(
        f"Real tunes: the {len(validation)} {real_tunes} of {', '.join(config.data)} "
        f"(validation fraction {config.validation_fraction}, seed {config.seed}); "
        f"novelty is measured against its {len(training)} {training_tunes}."
    )
    evaluation.sets.append(summarize("real", [tune.text for tune in validation]))

    models = _load_models(run, config, args.seed)
    for name, model in models.items():
        evaluation.likelihood[name] = _likelihood(model, run, validation, config.seq_len)
    if args.abc_dir is not None:
        sides, midi_files = _read_abc_sides(args.abc_dir)
        evaluation.settings.append(f"Generated tunes: the .abc files of {args.abc_dir}.")
    else:
        sides, midi_files = _sample_sides(models, run, args, plan, folder, evaluation)
    for name, texts in sides.items():
        evaluation.sets.append(summarize(name, texts))

    _compare(evaluation, [tune.text for tune in training])
    if args.wav:
        evaluation.renderer = _render_audio(midi_files, folder / "audio")
    report = write_report(folder, evaluation)
    _print_summary(evaluation, report)
    return 0


def _compare(evaluation: Evaluation, training_texts: list[str]) -> None:
    """Fill in each set's novelty against the training tunes and its overlap with the real set."""
    from musicgen.evaluation.bars import read_written
    from musicgen.evaluation.distances import FEATURES, feature_overlap
    from musicgen.evaluation.novelty import TrainingIndex

    written = [read_written(text) for text in training_texts]
    index = TrainingIndex(tune.bars for tune in written if tune is not None)
    for summary in evaluation.sets:
        index.fill(summary.tunes)
    real = evaluation.sets[0]
    for summary in evaluation.sets[1:]:
        evaluation.overlap[summary.name] = {
            feature: feature_overlap(real.tunes, summary.tunes, feature) for feature in FEATURES
        }


def _load_models(run: RunPaths, config: TrainConfig, seed: int) -> dict[str, CharRNN]:
    from musicgen.model import build_model, load_model
    from musicgen.train import seed_everything

    trained = load_model(str(run.best_model))
    seed_everything(seed)
    return {"trained": trained, "untrained": build_model(config.model)}


def _likelihood(model: CharRNN, run: RunPaths, validation: list[Tune], seq_len: int) -> Likelihood:
    from musicgen.evaluation.likelihood import measure_likelihood
    from musicgen.vocab import Vocabulary

    vocab = Vocabulary.load(run.vocab)
    try:
        return measure_likelihood(model, vocab, [tune.text for tune in validation], seq_len)
    except ValueError as error:
        raise UserError(f"cannot measure the loss on the validation tunes: {error}") from error


def _sample_sides(
    models: dict[str, CharRNN],
    run: RunPaths,
    args: argparse.Namespace,
    plan: list[tuple[str, SamplingSettings]],
    folder: Path,
    evaluation: Evaluation,
) -> tuple[dict[str, list[str]], list[Path]]:
    """Sample and write each set; return its texts by set name and the MIDI files written."""
    from musicgen.generate import sample_side, write_side
    from musicgen.sample import Sampler
    from musicgen.vocab import Vocabulary

    vocab = Vocabulary.load(run.vocab)
    sides: dict[str, list[str]] = {}
    midi_files: list[Path] = []
    for model_name, settings in plan:
        temperature = settings.temperature
        name = f"{model_name} T={temperature:g}"
        constrained = args.sampling == "constrained" and model_name == "trained"
        samples = sample_side(
            Sampler(models[model_name], vocab), args.count, settings, "", constrained
        )
        stem = f"{model_name}-t{temperature:g}"
        side = write_side(stem, f"temperature {temperature:g}", samples, folder / stem)
        # The raw samples are measured: write_side adds X:, T: and, to a sample
        # without a key, K:C, which would hide what the network wrote.
        sides[name] = samples
        midi_files += [song.midi_path for song in side.songs if song.midi_path is not None]
    evaluation.settings.append(
        f"Generated tunes: {args.count} per set, {args.sampling} sampling of the trained "
        f"network, at most {args.max_length} characters, seed {args.seed}; the untrained "
        f"network (same shape, weights drawn with the seed) sampled plainly at temperature "
        f"{UNTRAINED_TEMPERATURE:g}."
    )
    return sides, midi_files


def _read_abc_sides(folder: Path) -> tuple[dict[str, list[str]], list[Path]]:
    """Read each subfolder with .abc files, or else the folder itself, as one set.

    Each .abc file is one tune, as ``generate`` writes them; the lines that
    ``generate`` adds to a sample that is no tune are left out.
    """
    from musicgen.generate import sample_text

    subfolders = [path for path in sorted(folder.iterdir()) if path.is_dir()]
    sides = {}
    for candidate in [folder, *subfolders]:
        files = sorted(candidate.glob("*.abc"))
        if files:
            sides[candidate.name] = [
                sample_text(path.read_text(encoding="utf-8", errors="replace")) for path in files
            ]
    if not sides:
        raise UserError(f"--abc-dir {folder} and its subfolders contain no .abc files")
    return sides, sorted(folder.glob("**/*.mid"))


def _render_audio(midi_files: list[Path], folder: Path) -> str:
    """Render each MIDI file into ``folder``; return the renderers used, such as "numpy"."""
    from musicgen.audio import RenderError, render_wav

    folder.mkdir(exist_ok=True)
    used: set[str] = set()
    failures = 0
    for path in midi_files:
        try:
            used.add(render_wav(path, folder / f"{path.parent.name}-{path.stem}.wav"))
        except RenderError as error:
            failures += 1
            logger.warning("%s", error)
    renderers = " and ".join(sorted(used)) or "nothing"
    rendered = len(midi_files) - failures
    wav_files = ngettext(".wav file", ".wav files", rendered)
    print(f"rendered {rendered} {wav_files} with {renderers} into {folder}")
    if failures:
        midi_failed = ngettext(".mid file failed", ".mid files failed", failures)
        print(f"{failures} {midi_failed} to render; see the warnings above")
    return renderers


def _print_summary(evaluation: Evaluation, report: Path) -> None:
    from musicgen.report import HEADLINE_COLUMNS, format_table, headline_rows

    print()
    for name, value in evaluation.likelihood.items():
        print(
            f"{name:<10} loss {value.loss:.4f} nats/char, perplexity {value.perplexity:.3f}, "
            f"{value.bits_per_character:.3f} bits/char on the validation tunes"
        )
    print()
    print(format_table(HEADLINE_COLUMNS, headline_rows(evaluation.sets), markdown=False))
    print()
    print(f"report: {report}")
