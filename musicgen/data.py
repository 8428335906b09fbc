"""Turn tunes into training windows: the input pipeline of ``tf.data``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from gettext import ngettext

import numpy as np
import tensorflow as tf

from musicgen.config import TrainConfig
from musicgen.corpus import Tune, split_train_validation
from musicgen.vocab import Vocabulary

logger = logging.getLogger(__name__)


def encode_tunes(texts: Sequence[str], vocab: Vocabulary) -> list[np.ndarray]:
    """Encode each text as ids between a start-of-tune and an end-of-tune marker."""
    return [vocab.encode(text, add_start=True, add_end=True) for text in texts]


def make_windows(tunes: Sequence[np.ndarray], seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut encoded tunes into inputs and next-character targets of ``seq_len`` ids.

    The tunes are laid back to back in one stream. Each tune is cut into
    windows that start at its start marker, then every ``seq_len`` ids; its
    last window runs on into the next tune instead of being padded. So no
    step is spent on padding, and every tune's first characters are learned
    from the zero recurrent state that sampling starts from. The final
    windows that would run past the end of the stream are dropped.

    Returns:
        ``inputs`` and ``targets``, each of shape (windows, seq_len), int32,
        where ``targets[i, t]`` is the id that follows ``inputs[i, t]``.

    Raises:
        ValueError: ``seq_len`` is below 1 or the tunes make no window.
    """
    if seq_len < 1:
        raise ValueError(f"seq_len must be at least 1, got {seq_len}")
    stream = np.concatenate(tunes) if tunes else np.zeros(0, dtype=np.int32)
    starts: list[int] = []
    offset = 0
    for tune in tunes:
        for start in range(offset, offset + len(tune) - 1, seq_len):
            if start + seq_len + 1 <= len(stream):
                starts.append(start)
        offset += len(tune)
    if not starts:
        raise ValueError(
            f"{len(stream)} characters make no training window of {seq_len + 1}; "
            "use more tunes or a smaller --seq-len"
        )
    index = np.asarray(starts)[:, None] + np.arange(seq_len)[None, :]  # (windows, seq_len)
    return stream[index], stream[index + 1]


def epoch_order(windows: int, batch_size: int, seed: int, epoch: int) -> np.ndarray:
    """Return the shuffled window indices of one epoch, cut to whole batches.

    The order depends only on ``seed`` and ``epoch``, so a resumed run gets the
    same batches in its later epochs as a run that was never interrupted.

    Returns:
        Indices of shape (steps * batch_size,), int64, where ``steps`` is
        ``windows // batch_size``.
    """
    steps = windows // batch_size
    return np.random.default_rng([seed, epoch]).permutation(windows)[: steps * batch_size]


def training_dataset(
    inputs: np.ndarray,
    targets: np.ndarray,
    batch_size: int,
    seed: int,
    epochs: range,
) -> tf.data.Dataset:
    """Batch shuffled training windows for ``epochs``, one after the other.

    The dataset contains exactly ``len(epochs) * (len(inputs) // batch_size)``
    batches, so ``fit`` needs ``steps_per_epoch``. The windows stay in one
    tensor, each batch is gathered from it by index, and batches are
    prefetched, so the model never waits for the pipeline.

    Args:
        inputs: Windows of shape (windows, seq_len), int32.
        targets: Next-character ids of the same shape.
        batch_size: Global batch: under a ``tf.distribute`` strategy each
            replica gets an equal share of every batch.
        seed: Seed of the shuffle.
        epochs: Zero-based epoch numbers to cover, such as ``range(3, 20)``.
    """
    order = [epoch_order(len(inputs), batch_size, seed, epoch) for epoch in epochs]
    indices = np.concatenate(order) if order else np.zeros(0, dtype=np.int64)
    inputs_tensor = tf.constant(inputs)  # (windows, seq_len)
    targets_tensor = tf.constant(targets)  # (windows, seq_len)

    def gather(batch: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return tf.gather(inputs_tensor, batch), tf.gather(targets_tensor, batch)

    return (
        tf.data.Dataset.from_tensor_slices(indices)
        .batch(batch_size, drop_remainder=True)  # (batch_size,) indices
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def validation_dataset(
    inputs: np.ndarray, targets: np.ndarray, batch_size: int, replicas: int = 1
) -> tf.data.Dataset:
    """Batch validation windows in order; the last batch may be smaller.

    Keras cannot split a batch unevenly between replicas. So with several
    replicas the last ``len(inputs) % replicas`` windows are left out, and
    every batch splits evenly when ``batch_size`` is a multiple of ``replicas``.
    """
    kept = len(inputs) - len(inputs) % replicas
    if kept < len(inputs):
        logger.info("validating on %d of %d windows, a multiple of %d replicas",
                    kept, len(inputs), replicas)  # fmt: skip
    return (
        tf.data.Dataset.from_tensor_slices((inputs[:kept], targets[:kept]))
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )


@dataclass(frozen=True)
class Windows:
    """Training and validation windows of one corpus, as :func:`make_windows` cuts them.

    Attributes:
        train_inputs: Shape (windows, seq_len), int32; ``train_targets`` alike.
        val_inputs: Shape (windows, seq_len), int32; ``val_targets`` alike.
        steps_per_epoch: Whole global batches per training epoch.
    """

    train_inputs: np.ndarray
    train_targets: np.ndarray
    val_inputs: np.ndarray
    val_targets: np.ndarray
    steps_per_epoch: int


def cut_windows(tunes: list[Tune], config: TrainConfig, vocab: Vocabulary) -> Windows:
    """Split tunes into training and validation by tune and cut both into windows.

    Raises:
        ValueError: the training windows make no batch of ``config.batch_size``.
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
        "training on %d %s (%d windows of %d characters), validating on %d %s",
        len(training),
        ngettext("tune", "tunes", len(training)),
        len(train_x),
        config.seq_len,
        len(validation),
        ngettext("tune", "tunes", len(validation)),
    )
    return Windows(train_x, train_y, val_x, val_y, len(train_x) // config.batch_size)


def make_datasets(
    windows: Windows, config: TrainConfig, first_epoch: int = 0, replicas: int = 1
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """Wrap ``windows`` in the training dataset from ``first_epoch`` on and the validation one.

    See :func:`training_dataset` and :func:`validation_dataset`; ``replicas``
    is the number of replicas that share each batch.
    """
    train_set = training_dataset(
        windows.train_inputs,
        windows.train_targets,
        config.batch_size,
        config.seed,
        range(first_epoch, config.epochs),
    )
    val_set = validation_dataset(
        windows.val_inputs, windows.val_targets, config.batch_size, replicas
    )
    return train_set, val_set
