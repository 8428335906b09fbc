"""Train a network on a corpus and keep the run on disk: model, vocabulary, config, history."""

from __future__ import annotations

import csv
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from musicgen.config import TrainConfig
from musicgen.corpus import Tune, split_train_validation
from musicgen.data import encode_tunes, make_windows
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


@dataclass
class TrainResult:
    """What a finished (or stopped) training run reached."""

    run: RunPaths
    epochs_done: int
    best_epoch: int
    best_val_loss: float
    seconds: float
    stopped_early: bool


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and ask TensorFlow for deterministic kernels."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def prepare_data(
    tunes: list[Tune], config: TrainConfig, vocab: Vocabulary
) -> tuple[tf.data.Dataset, tf.data.Dataset, int]:
    """Split tunes, cut them into windows and wrap them in batched datasets.

    Returns:
        The shuffled training dataset, the validation dataset and the number
        of characters per training epoch.
    """
    training, validation = split_train_validation(tunes, config.validation_fraction, config.seed)
    train_x, train_y = make_windows(encode_tunes([t.text for t in training], vocab), config.seq_len)
    if len(train_x) < config.batch_size:
        raise ValueError(
            f"{len(train_x)} training windows make no batch of {config.batch_size}; "
            "use more tunes or a smaller --batch-size or --seq-len"
        )
    val_x, val_y = make_windows(encode_tunes([t.text for t in validation], vocab), config.seq_len)
    logger.info(
        "training on %d tunes (%d windows of %d characters), validating on %d tunes",
        len(training),
        len(train_x),
        config.seq_len,
        len(validation),
    )

    train_set = (
        tf.data.Dataset.from_tensor_slices((train_x, train_y))
        .shuffle(len(train_x), seed=config.seed, reshuffle_each_iteration=True)
        .batch(config.batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    val_set = (
        tf.data.Dataset.from_tensor_slices((val_x, val_y))
        .batch(config.batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    steps = len(train_x) // config.batch_size
    return train_set, val_set, steps * config.batch_size * config.seq_len


def compile_model(model: CharRNN, config: TrainConfig, steps_per_epoch: int) -> None:
    """Attach Adam with cosine learning-rate decay and global-norm clipping."""
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.lr,
        decay_steps=max(1, config.epochs * steps_per_epoch),
        alpha=0.05,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule, global_clipnorm=config.clip_norm),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )


def train(
    tunes: list[Tune],
    config: TrainConfig,
    run: RunPaths,
    *,
    resume: bool = False,
    progress: int = 1,
) -> TrainResult:
    """Train on ``tunes`` and write the run into ``run``.

    A fresh run writes the vocabulary and configuration first. After every
    epoch it writes the latest model (with optimizer state) and the history;
    when the validation loss improves it also writes the best model. Each file
    is replaced atomically, so an interruption leaves the previous epoch's
    files whole. ``resume=True`` continues from the latest model and history.

    Args:
        tunes: The corpus; it is split into training and validation by tune.
        config: Sizes and training settings.
        run: The run folder's paths.
        resume: Continue the run in ``run`` instead of starting it.
        progress: Keras's ``verbose``: 0 silent, 1 progress bar, 2 a line per epoch.
    """
    seed_everything(config.seed)
    if resume:
        vocab = Vocabulary.load(run.vocab)
        model = load_model(str(run.last_model))
        history = read_history(run.history)
    else:
        vocab = Vocabulary.from_texts(t.text for t in tunes)
        vocab.save(run.vocab)
        config.save(run.config)
        model = build_model(config.model)
        history = []

    train_set, val_set, chars_per_epoch = prepare_data(tunes, config, vocab)
    if not resume:
        compile_model(model, config, chars_per_epoch // (config.batch_size * config.seq_len))

    initial_epoch = len(history)
    if initial_epoch >= config.epochs:
        logger.info("run %s already finished its %d epochs", run.root, config.epochs)
    checkpoint = CheckpointCallback(run, history, chars_per_epoch)
    callbacks: list[keras.callbacks.Callback] = [checkpoint]
    if config.patience > 0:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=config.patience, restore_best_weights=False
            )
        )
    started = time.perf_counter()
    model.fit(
        train_set,
        validation_data=val_set,
        epochs=config.epochs,
        initial_epoch=initial_epoch,
        callbacks=callbacks,
        verbose=progress,
        shuffle=False,  # the dataset shuffles itself, seeded
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
    )


class CheckpointCallback(keras.callbacks.Callback):
    """Writes the latest and best models, the history CSV and the loss curve each epoch."""

    def __init__(self, run: RunPaths, history: list[dict[str, float]], chars_per_epoch: int):
        super().__init__()
        self.run = run
        self.history = history
        self.chars_per_epoch = chars_per_epoch
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
        logger.info(
            "epoch %d: loss %.4f, val_loss %.4f, val perplexity %.3f, %.3f bits/char, %.0f chars/s",
            row["epoch"],
            row["loss"],
            val_loss,
            row["val_perplexity"],
            row["val_bits_per_char"],
            self.chars_per_epoch / max(seconds, 1e-9),
        )
        save_model(self.model, self.run.last_model)
        if val_loss < self.best:
            self.best = val_loss
            save_model(self.model, self.run.best_model)
            logger.info("new best validation loss; saved %s", self.run.best_model)
        write_history(self.run.history, self.history)
        plot_history(self.run.loss_plot, self.history)


def save_model(model: keras.Model, path: Path) -> None:
    """Save ``model`` with its optimizer state to ``path`` atomically."""
    write_atomic(path, lambda temporary: model.save(temporary), suffix=".keras")


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
