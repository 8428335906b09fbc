"""Train a character-level recurrent network on ABC tunes.

With no options it trains on the bundled O'Neill's collection with the preset
that suits the device found (cpu: 10 to 13 minutes on 2 cores). The run
lands in outputs/runs/TIME-DATA/: model.keras (best by validation loss),
last.keras (for --resume), vocab.json, config.json, history.csv and loss.png.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import shutil
import sys
import tempfile
from gettext import ngettext
from pathlib import Path

from musicgen.config import CELLS, PRECISIONS, PRESETS, ModelConfig, TrainConfig, build_config
from musicgen.corpus import BUNDLED_CORPORA, DEFAULT_CORPUS, load_corpus
from musicgen.errors import UserError
from musicgen.runs import DEFAULT_OUTPUTS, RunPaths, new_run

# The same names as musicgen.distribute.STRATEGIES, which imports TensorFlow.
STRATEGIES = ("none", "mirrored", "multi-worker")

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``train`` to ``parser``."""
    corpora = ", ".join(BUNDLED_CORPORA)
    parser.add_argument(
        "--data",
        action="append",
        metavar="SOURCE",
        help=f"a bundled corpus ({corpora}), an .abc file or a folder searched recursively; "
        f"repeat to combine (default: {DEFAULT_CORPUS})",
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="model size and training length; default 'gpu' when TensorFlow sees a GPU, "
        "else 'cpu'. "
        + "; ".join(f"{name}: {preset.description}" for name, preset in PRESETS.items()),
    )
    model = parser.add_argument_group("model (default: the preset's)")
    model.add_argument("--cell", choices=CELLS, help="recurrent cell")
    model.add_argument("--layers", type=int, help="number of recurrent layers")
    model.add_argument("--units", type=int, help="units per recurrent layer")
    model.add_argument("--embedding", type=int, help="width of the character embedding")
    model.add_argument("--dropout", type=float, help="dropout between layers, 0 to 1")
    training = parser.add_argument_group("training (default: the preset's)")
    training.add_argument("--epochs", type=int, help="passes over the training data")
    training.add_argument("--batch-size", type=int, help="training windows per step")
    training.add_argument("--seq-len", type=int, help="characters per training window")
    training.add_argument("--lr", type=float, help="peak learning rate of Adam")
    training.add_argument("--seed", type=int, help="seed of split, weights and shuffle (default 0)")
    training.add_argument(
        "--validation-fraction",
        type=float,
        help="share of tunes held out for validation, above 0 and at most 0.5 (default 0.05)",
    )
    training.add_argument(
        "--patience",
        type=int,
        help="stop after this many epochs without a better validation loss; 0 never stops "
        "early (default 4)",
    )
    speed = parser.add_argument_group("devices and speed")
    speed.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="none",
        help="none: one device; mirrored: every local GPU (or every logical CPU device, see "
        "--cpu-devices); multi-worker: several machines described by the TF_CONFIG environment "
        "variable. --batch-size is the global batch, split evenly between replicas "
        "(default none)",
    )
    speed.add_argument(
        "--cpu-devices",
        type=int,
        metavar="N",
        help="split the CPU into N logical devices, so that --strategy mirrored can be tried "
        "without GPUs; it adds no speed",
    )
    speed.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="Keras dtype policy; auto: mixed_float16 on GPUs of compute capability 7.0 or "
        "above, else float32 (default auto)",
    )
    speed.add_argument(
        "--jit-compile",
        action=argparse.BooleanOptionalAction,
        help="compile training steps with XLA (default: the preset's)",
    )
    speed.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="TensorFlow's threads per operation (default: TensorFlow's choice, one per core)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_OUTPUTS,
        help="folder that receives runs/ (default: outputs)",
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const="latest",
        metavar="RUN",
        help="continue an interrupted run: its folder, or the newest run when no folder is given",
    )


def main(args: argparse.Namespace) -> int:
    """Run ``train`` and print where the run went and what it reached."""
    from musicgen.distribute import writes_files  # imports TensorFlow

    try:
        strategy = _set_up_devices(args)
        chief = writes_files(strategy)
    except ValueError as error:
        raise UserError(str(error)) from error

    if args.resume:
        run = _run_to_resume(args.resume, args.output_dir)
        config = TrainConfig.load(run.config)
        _reject_changed_settings(args, config)
        print(f"resuming {run.root}")
    else:
        config = None
        run = None

    data = list(config.data) if config else _sources(args.data or [DEFAULT_CORPUS])
    corpus = load_corpus(data)
    if not args.quiet:
        for line in corpus.report.lines():
            print(line)
    usable = len(corpus.tunes)
    if usable < 2:
        raise UserError(
            f"{usable} usable {ngettext('tune', 'tunes', usable)} in {', '.join(data)}; "
            "training needs at least 2"
        )

    with tempfile.TemporaryDirectory(prefix="musicgen-worker-") as scratch:
        if config is None:
            config = _config_from_args(args, data, corpus.tunes)
            # Only the chief writes the run; other workers get an empty folder they never fill.
            run = new_run(args.output_dir, _label(data)) if chief else RunPaths(Path(scratch))
        assert run is not None  # set in both branches above
        if chief:
            print(f"run folder: {run.root}")
        else:
            print("this worker is not the chief: the chief writes the run folder")
        if not args.quiet:
            print(f"preset {config.preset}: {_describe(config)}")
        return _train_and_report(args, corpus.tunes, config, run, strategy)


def _train_and_report(
    args: argparse.Namespace, tunes: list, config: TrainConfig, run: RunPaths, strategy: object
) -> int:
    from musicgen.train import train

    # Keras's verbose: 0 silent, 1 a progress bar on a terminal, 2 one line per epoch.
    if args.quiet:
        progress = 0
    elif sys.stdout.isatty():
        progress = 1
    else:
        progress = 2
    # Keras reports each epoch on its own; -v adds musicgen's line with the
    # perplexity, bits per character and speed.
    epoch_log_level = logging.INFO if args.verbose >= 1 else None
    try:
        result = train(
            tunes,
            config,
            run,
            resume=bool(args.resume),
            progress=progress,
            strategy=strategy,
            epoch_log_level=epoch_log_level,
        )
    except ValueError as error:
        if not args.resume and not run.last_model.exists():
            # This command made the folder, and it contains no finished epoch yet.
            shutil.rmtree(run.root, ignore_errors=True)
        raise UserError(str(error)) from error
    except KeyboardInterrupt:
        print(
            f"interrupted; the last finished epoch is saved. Resume with: "
            f"python -m musicgen train --resume {run.root}",
            file=sys.stderr,
        )
        return 130

    first, done = result.first_epoch, result.epochs_done
    if first == 0:
        summary = f"trained {done} {ngettext('epoch', 'epochs', done)} in {result.seconds:.0f} s"
    elif done > first:
        trained = f"epoch {done}" if done == first + 1 else f"epochs {first + 1} to {done}"
        summary = f"trained {trained} in {result.seconds:.0f} s (resumed after epoch {first})"
    else:
        summary = f"nothing to train: the run had already finished after epoch {done}"
    print(summary + (" (stopped early)" if result.stopped_early else ""))
    print(
        f"best validation loss {result.best_val_loss:.4f} nats/char at epoch {result.best_epoch} "
        f"({result.best_val_loss / 0.6931471805599453:.3f} bits/char)"
    )
    print(f"model: {run.best_model}")
    if not args.quiet:
        _print_next_step(args, run)
    return 0


def _print_next_step(args: argparse.Namespace, run: RunPaths) -> None:
    outputs = run.root.parent.parent  # a run lives in OUTPUTS/runs/NAME
    if args.resume and outputs.resolve() != Path(args.output_dir).resolve():
        print(f"next: python -m musicgen generate --run {run.root}")
    elif Path(args.output_dir) == DEFAULT_OUTPUTS:
        print("next: python -m musicgen generate")
    else:
        print(f"next: python -m musicgen generate --output-dir {args.output_dir}")


def _set_up_devices(args: argparse.Namespace) -> object:
    """Apply --threads and --cpu-devices, then create the strategy: all before TensorFlow starts."""
    from musicgen.distribute import configure_threads, make_strategy, split_cpu

    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be at least 1, got {args.threads}")
        configure_threads(args.threads, None)
    if args.cpu_devices is not None:
        split_cpu(args.cpu_devices)
    return make_strategy(args.strategy)


def _config_from_args(args: argparse.Namespace, data: list[str], tunes: list) -> TrainConfig:
    from musicgen.vocab import Vocabulary

    vocab = Vocabulary.from_texts(t.text for t in tunes)
    preset = args.preset or _default_preset()
    overrides = {name: getattr(args, name) for name in _SETTING_OPTIONS}
    overrides["data"] = tuple(data)
    try:
        return build_config(vocab.size, preset, overrides)
    except (ValueError, TypeError) as error:
        raise UserError(_option_names(str(error), overrides)) from error


def _option_names(message: str, overrides: dict) -> str:
    """Write a configuration field name at the start of ``message`` as its option."""
    name = message.split(" ", 1)[0]
    if name in overrides:
        return f"--{name.replace('_', '-')}" + message[len(name) :]
    return message


def _default_preset() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        logger.info("found %d GPU(s); using the 'gpu' preset", len(gpus))
        return "gpu"
    return "cpu"


# Options that set a field of TrainConfig or of its ModelConfig. They have no
# default, so None means "take the preset's" and a resumed run can tell
# which ones were given.
_SETTING_OPTIONS = (
    "epochs", "batch_size", "seq_len", "lr", "seed", "validation_fraction", "patience",
    "precision", "jit_compile", "cell", "layers", "units", "embedding", "dropout",
)  # fmt: skip
_MODEL_FIELDS = frozenset(field.name for field in dataclasses.fields(ModelConfig))


def _sources(items: list[str]) -> list[str]:
    """Return the ``--data`` items with files and folders as absolute paths.

    A run saves them this way, so that ``--resume`` reads the same files
    from any working folder.
    """
    return [item if item in BUNDLED_CORPORA else str(Path(item).resolve()) for item in items]


def _reject_changed_settings(args: argparse.Namespace, config: TrainConfig) -> None:
    """Raise UserError for options that would change a resumed run's saved settings.

    Repeating the run's own command with ``--resume`` is fine: options equal
    to the saved settings pass.
    """
    changed = []
    for name in ("data", "preset", *_SETTING_OPTIONS):
        requested = getattr(args, name)
        if requested is None:
            continue
        saved = getattr(config.model if name in _MODEL_FIELDS else config, name)
        if name == "data":
            # Runs saved before paths were made absolute contain them as written.
            requested = tuple(_sources(requested))
            saved = tuple(_sources(list(saved)))
            saved_text = ", ".join(saved)
        else:
            saved_text = str(saved)
        if requested != saved:
            changed.append(f"--{name.replace('_', '-')} (saved: {saved_text})")
    if changed:
        raise UserError(
            f"--resume continues a run with the settings in its config.json, so it cannot "
            f"change {', '.join(changed)}; drop the option, or start a new run without --resume"
        )


def _run_to_resume(resume: str, outputs: Path) -> RunPaths:
    if resume != "latest":
        if not Path(resume).is_dir():
            raise UserError(f"run folder {resume} not found; pass a folder under outputs/runs")
        run = RunPaths(Path(resume))
    else:
        runs = sorted((outputs / "runs").glob("*/last.keras"), key=lambda p: p.stat().st_mtime)
        if not runs:
            raise UserError(f"no run to resume under {outputs / 'runs'}")
        run = RunPaths(runs[-1].parent)
    for needed in (run.config, run.vocab, run.last_model):
        if not needed.exists():
            raise UserError(f"cannot resume {run.root}: {needed.name} is missing")
    return run


def _label(data: list[str]) -> str:
    names = [Path(item).stem if item not in BUNDLED_CORPORA else item for item in data]
    return "+".join(names)[:40]


def _describe(config: TrainConfig) -> str:
    model = config.model
    epochs = ngettext("epoch", "epochs", config.epochs)
    return (
        f"{model.layers} x {model.cell.upper()} {model.units}, embedding {model.embedding}, "
        f"dropout {model.dropout}; {config.epochs} {epochs}, batch {config.batch_size}, "
        f"windows of {config.seq_len}, lr {config.lr}"
    )
