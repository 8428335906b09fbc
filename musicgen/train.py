"""Train a network on a corpus and keep the run on disk: model, vocabulary, config, history."""

from __future__ import annotations

import csv
import json
import logging
import math
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from gettext import ngettext
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from musicgen.config import TrainConfig
from musicgen.corpus import Tune
from musicgen.data import cut_windows, make_datasets
from musicgen.distribute import choose_precision, local_gpus, writes_files
from musicgen.files import write_atomic, write_text_atomic
from musicgen.model import CharRNN, build_model, load_model
from musicgen.runs import RunPaths
from musicgen.vocab import Vocabulary

logger = logging.getLogger(__name__)

HISTORY_COLUMNS = (
    "epoch",
    "loss",
    "val_loss",
    "val_perplexity",
    "val_bits_per_char",
    "lr",
    "seconds",
)

# Name of the entry that save_model adds to a .keras archive; Keras ignores it.
_EPOCHS_ENTRY = "musicgen_epochs.json"


@dataclass
class TrainResult:
    """What a finished (or stopped) training run reached."""

    run: RunPaths
    epochs_done: int
    best_epoch: int
    best_val_loss: float
    seconds: float
    stopped_early: bool
    first_epoch: int = 0  # epochs the run had finished before this call


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and ask TensorFlow for deterministic kernels."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def prepare_data(
    tunes: list[Tune], config: TrainConfig, vocab: Vocabulary, first_epoch: int = 0
) -> tuple[tf.data.Dataset, tf.data.Dataset, int]:
    """Split tunes, cut them into windows and wrap them in batched datasets.

    Args:
        tunes: The corpus.
        config: Sizes; ``batch_size`` is the global batch.
        vocab: The vocabulary to encode with.
        first_epoch: Zero-based epoch the training dataset starts at; it runs
            to ``config.epochs``, each epoch shuffled by its own seed.

    Returns:
        The training dataset (pass ``steps_per_epoch`` to ``fit``), the
        validation dataset and the number of characters per training epoch.
    """
    windows = cut_windows(tunes, config, vocab)
    train_set, val_set = make_datasets(windows, config, first_epoch)
    return train_set, val_set, windows.steps_per_epoch * config.batch_size * config.seq_len


def compile_model(model: CharRNN, config: TrainConfig, steps_per_epoch: int) -> None:
    """Attach Adam with cosine learning-rate decay and global-norm clipping.

    Under the ``mixed_float16`` policy Keras wraps Adam in a
    ``LossScaleOptimizer`` with dynamic loss scaling.
    """
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.lr,
        decay_steps=max(1, config.epochs * steps_per_epoch),
        alpha=0.05,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule, global_clipnorm=config.clip_norm),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=config.jit_compile,
    )


def train(
    tunes: list[Tune],
    config: TrainConfig,
    run: RunPaths,
    *,
    resume: bool = False,
    progress: int = 1,
    strategy: tf.distribute.Strategy | None = None,
    epoch_log_level: int | None = None,
) -> TrainResult:
    """Train on ``tunes`` and write the run into ``run``.

    A fresh run writes the vocabulary and configuration first. After every
    epoch it writes the best model when the validation loss improved, then
    the history, then the latest model with its optimizer state and the
    number of finished epochs. Each file is replaced atomically, and the
    latest model is written last, so a run killed at any moment resumes
    from its last finished epoch. ``resume=True`` continues from there.

    Under a multi-worker strategy every worker trains, but only the chief
    (see :func:`musicgen.distribute.writes_files`) writes files.

    Args:
        tunes: The corpus; it is split into training and validation by tune.
        config: Sizes and training settings; ``batch_size`` is the global
            batch, split evenly between the strategy's replicas.
        run: The run folder's paths.
        resume: Continue the run in ``run`` instead of starting it.
        progress: Keras's ``verbose``: 0 silent, 1 progress bar, 2 a line per epoch.
        strategy: The ``tf.distribute`` strategy; ``None`` is one device.
        epoch_log_level: The ``logging`` level of the line that reports each
            epoch's losses, perplexity, bits per character and speed. ``None``
            logs it at INFO when ``progress`` is 0 and at DEBUG otherwise, so
            that an epoch Keras already printed is not reported twice.

    Raises:
        ValueError: the batch does not split evenly between the replicas, or
            the corpus makes no batch.
    """
    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise ValueError(
            f"--batch-size {config.batch_size} does not split evenly between {replicas} "
            "replicas; use a multiple of the replica count"
        )
    chief = writes_files(strategy)
    seed_everything(config.seed)
    precision = choose_precision(config.precision, local_gpus())
    logger.info(
        "training with the %s policy on %d %s",
        precision,
        replicas,
        ngettext("replica", "replicas", replicas),
    )

    if resume:
        vocab = Vocabulary.load(run.vocab)
    else:
        vocab = Vocabulary.from_texts(t.text for t in tunes)
        if chief:
            vocab.save(run.vocab)
            config.save(run.config)
    windows = cut_windows(tunes, config, vocab)
    steps = windows.steps_per_epoch
    with dtype_policy(precision), strategy.scope():
        if resume:
            model = load_model(str(run.last_model))
        else:
            model = build_model(config.model)
            compile_model(model, config, steps)
    history = history_to_resume(run) if resume else []
    initial_epoch = len(history)
    stopped = config.patience > 0 and epochs_without_improvement(history) >= config.patience
    started = time.perf_counter()
    if initial_epoch >= config.epochs or stopped:
        logger.info("run %s already finished after epoch %d", run.root, initial_epoch)
    else:
        train_set, val_set = make_datasets(windows, config, initial_epoch, replicas)
        if epoch_log_level is None:
            epoch_log_level = logging.INFO if progress == 0 else logging.DEBUG
        checkpoint = CheckpointCallback(
            run,
            history,
            steps * config.batch_size * config.seq_len,
            config.patience,
            chief,
            epoch_log_level,
        )
        model.fit(
            train_set,
            validation_data=val_set,
            epochs=config.epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps,
            callbacks=[checkpoint],
            verbose=progress,
            shuffle=False,  # training_dataset shuffles each epoch by its own seed
        )
    seconds = time.perf_counter() - started
    best = min(history, key=lambda row: row["val_loss"]) if history else None
    return TrainResult(
        run=run,
        epochs_done=len(history),
        best_epoch=int(best["epoch"]) if best else 0,
        best_val_loss=float(best["val_loss"]) if best else math.nan,
        seconds=seconds,
        stopped_early=len(history) < config.epochs,
        first_epoch=initial_epoch,
    )


def history_to_resume(run: RunPaths) -> list[dict[str, float]]:
    """Read the history of the epochs that the run's latest model finished.

    A row after the latest model's epoch belongs to an epoch whose model was
    never saved, because the process died between the two writes. That epoch
    runs again, so its row is dropped.
    """
    history = read_history(run.history)
    saved = read_finished_epochs(run.last_model)
    return history[:saved] if saved is not None else history


@contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Make ``name`` Keras's global dtype policy inside the block, then restore the old one."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def epochs_without_improvement(history: list[dict[str, float]]) -> int:
    """Count the epochs since the lowest validation loss in ``history``."""
    if not history:
        return 0
    losses = [row["val_loss"] for row in history]
    return len(losses) - 1 - losses.index(min(losses))


class CheckpointCallback(keras.callbacks.Callback):
    """Writes the best and latest models, the history CSV and the loss curve each epoch.

    It also stops training once ``patience`` epochs in a row (counted over
    the whole history, resumed epochs included) bring no lower validation
    loss. With ``writes=False`` it only keeps the history and stops, as
    workers other than the chief must. Each epoch's losses and speed are
    logged at ``log_level``.
    """

    def __init__(
        self,
        run: RunPaths,
        history: list[dict[str, float]],
        chars_per_epoch: int,
        patience: int = 0,
        writes: bool = True,
        log_level: int = logging.INFO,
    ):
        super().__init__()
        self.run = run
        self.history = history
        self.chars_per_epoch = chars_per_epoch
        self.patience = patience
        self.writes = writes
        self.log_level = log_level
        self.best = min((row["val_loss"] for row in history), default=math.inf)
        self._epoch_started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch_started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        seconds = time.perf_counter() - self._epoch_started
        val_loss = float(logs.get("val_loss", math.nan))
        optimizer = self.model.optimizer
        row = {
            "epoch": epoch + 1,
            "loss": float(logs.get("loss", math.nan)),
            "val_loss": val_loss,
            "val_perplexity": math.exp(val_loss),
            "val_bits_per_char": val_loss / math.log(2),
            "lr": float(keras.ops.convert_to_numpy(optimizer.learning_rate)),
            "seconds": seconds,
        }
        self.history.append(row)
        improved = val_loss < self.best
        self.best = min(self.best, val_loss)
        logger.log(
            self.log_level,
            "epoch %d: loss %.4f, val_loss %.4f, val perplexity %.3f, %.3f bits/char, "
            "%.0f chars/s%s",
            row["epoch"],
            row["loss"],
            val_loss,
            row["val_perplexity"],
            row["val_bits_per_char"],
            self.chars_per_epoch / max(seconds, 1e-9),
            ", new best validation loss" if improved else "",
        )
        if self.writes:
            # The latest model goes last: it records the finished epochs, so a
            # run killed between these writes resumes from the previous epoch.
            if improved:
                save_model(self.model, self.run.best_model)
                logger.debug("saved %s", self.run.best_model)
            write_history(self.run.history, self.history)
            plot_history(self.run.loss_plot, self.history)
            save_model(self.model, self.run.last_model, finished_epochs=epoch + 1)
        if self.patience > 0 and epochs_without_improvement(self.history) >= self.patience:
            logger.info(
                "no lower validation loss for %d %s; stopping",
                self.patience,
                ngettext("epoch", "epochs", self.patience),
            )
            self.model.stop_training = True


def save_model(model: keras.Model, path: Path, finished_epochs: int | None = None) -> None:
    """Save ``model`` with its optimizer state to ``path`` atomically.

    Args:
        model: The model to save.
        path: A ``.keras`` file.
        finished_epochs: When given, stored inside the same file, so the
            weights and the epoch count they belong to land in one step.
    """

    def write(temporary: Path) -> None:
        model.save(temporary)
        if finished_epochs is not None:
            with zipfile.ZipFile(temporary, "a") as archive:
                archive.writestr(_EPOCHS_ENTRY, json.dumps({"finished_epochs": finished_epochs}))

    write_atomic(path, write, suffix=".keras")


def read_finished_epochs(path: Path) -> int | None:
    """Return the finished epochs stored in a model file by :func:`save_model`.

    Returns ``None`` for a file saved without them, as runs made before the
    count was stored are.
    """
    with zipfile.ZipFile(path) as archive:
        if _EPOCHS_ENTRY not in archive.namelist():
            return None
        payload = json.loads(archive.read(_EPOCHS_ENTRY))
    return int(payload["finished_epochs"])


def write_history(path: Path, history: list[dict[str, float]]) -> None:
    """Write the per-epoch history as CSV, atomically."""
    lines = [",".join(HISTORY_COLUMNS)]
    for row in history:
        lines.append(",".join(_format_cell(row[name]) for name in HISTORY_COLUMNS))
    write_text_atomic(path, "\n".join(lines) + "\n")


def _format_cell(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e9 else repr(float(value))


def read_history(path: Path) -> list[dict[str, float]]:
    """Read a history CSV written by :func:`write_history`; a missing file is an empty history."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as stream:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(stream)]


def plot_history(path: Path, history: list[dict[str, float]]) -> None:
    """Draw training and validation loss per epoch into a PNG, atomically."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    epochs = np.array([row["epoch"] for row in history])
    figure, axes = pyplot.subplots(figsize=(6, 4), dpi=100)
    axes.plot(epochs, [row["loss"] for row in history], marker="o", label="training")
    axes.plot(epochs, [row["val_loss"] for row in history], marker="o", label="validation")
    axes.set_xlabel("epoch")
    axes.set_ylabel("cross-entropy (nats per character)")
    axes.set_title(f"Loss of {path.parent.name}")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    write_atomic(path, lambda temporary: figure.savefig(temporary, format="png"), suffix=".png")
    pyplot.close(figure)
