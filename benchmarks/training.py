"""Measure training throughput and the FLOP rate it reaches against matrix multiply.

Usage: python benchmarks/training.py [--sizes cpu,gpu] [--steps 12] [--threads N]
                                     [--variants float32,float32-xla,bfloat16]

Prints one table. Every model size runs the real training path
(``musicgen.train.compile_model`` and ``musicgen.data.training_dataset``
under ``model.fit``) on O'Neill's windows, and each variant's FLOP rate
stands next to a peer measured in the same run:

* a square matrix multiply of 2048 x 2048 in the variant's compute type,
  measured before and after every figure: the highest rate seen is the
  device's dense rate, and every ratio is taken against it;
* the recurrent matrix multiplies alone, forward and backward, in a
  ``tf.while_loop`` over the window's time steps: the ceiling of a
  recurrent layer at this batch, since its steps run one after another
  (also at 4 times the batch, to show what a larger batch would buy);
* the input pipeline alone, in batches per second, against the training
  steps per second it has to feed;
* the parts of a training step, each forward and backward in float32 on the
  same batch shape: the LSTM layers alone (gates included), and the whole
  network with its loss but without the optimizer. Their rates against the
  training rate give each part's share of a training step.

Variants: ``float32`` is what ``train`` runs by default (deterministic ops);
``-xla`` compiles each step with XLA (op determinism off, because Keras
turns XLA off under it); ``bfloat16`` uses the ``mixed_bfloat16`` policy.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import tensorflow as tf
from machine import machine_line  # benchmarks/ is the script's folder
from tensorflow.python.framework import config as framework_config
from throughput import training_flops_per_character  # benchmarks/ is the script's folder

from musicgen.config import TrainConfig, build_config
from musicgen.corpus import load_corpus
from musicgen.data import encode_tunes, make_windows, training_dataset
from musicgen.model import build_model
from musicgen.train import compile_model, dtype_policy
from musicgen.vocab import Vocabulary

VARIANTS = ("float32", "float32-xla", "bfloat16", "bfloat16-xla")
DEFAULT_VARIANTS = "float32,bfloat16"
TYPES = {"float32": tf.float32, "bfloat16": tf.bfloat16}


def matmul_flops_per_second(rows: int, inner: int, columns: int, dtype: tf.DType) -> float:
    """Measure the FLOP rate of a (rows, inner) by (inner, columns) multiply.

    Returns the best of three timings of about 0.3 s each, the rate the
    device reaches when no other process holds a core.
    """
    a = tf.cast(tf.random.normal((rows, inner)), dtype)
    b = tf.cast(tf.random.normal((inner, columns)), dtype)
    tf.linalg.matmul(a, b).numpy()
    repeats = 1
    best = 0.0
    timings = 0
    while timings < 3:
        started = time.perf_counter()
        for _ in range(repeats):
            result = tf.linalg.matmul(a, b)
        result.numpy()
        seconds = time.perf_counter() - started
        if seconds < 0.3:
            repeats *= 2
            continue
        best = max(best, 2 * rows * inner * columns * repeats / seconds)
        timings += 1
    return best


def recurrent_loop_flops_per_second(batch: int, units: int, gates: int, seq_len: int) -> float:
    """Measure the FLOP rate of the recurrent matrix multiplies alone, in their time loop.

    Each of ``seq_len`` steps multiplies the state (batch, units) by the
    recurrent kernel (units, gates x units) as the forward pass does, and runs
    the two multiplies of that product's backward pass. Nothing else runs, so
    this is the ceiling of an LSTM step at this batch: the loop must go one
    time step after another, and each multiply is small.
    """
    state = tf.random.normal((batch, units))
    kernel = tf.random.normal((units, gates * units)) * 0.01
    kernel_t = tf.transpose(kernel)

    @tf.function
    def loop(state: tf.Tensor) -> tf.Tensor:
        def step(index: tf.Tensor, h: tf.Tensor, grad: tf.Tensor) -> tuple:
            z = tf.linalg.matmul(h, kernel)  # (batch, gates * units)
            dh = tf.linalg.matmul(z, kernel_t)  # (batch, units)
            grad += tf.linalg.matmul(h, z, transpose_a=True)  # (units, gates * units)
            return index + 1, tf.tanh(dh), grad

        _, h, grad = tf.while_loop(
            lambda index, h, grad: index < seq_len, step, (0, state, tf.zeros_like(kernel))
        )
        return h + tf.reduce_sum(grad)

    loop(state).numpy()
    repeats = 5
    fastest = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        loop(state).numpy()
        fastest = min(fastest, time.perf_counter() - started)
    return 3 * 2 * batch * units * gates * units * seq_len / fastest


def part_chars_per_second(config: TrainConfig, part: str) -> float:
    """Return characters per second of one part of a training step, forward and backward.

    ``part`` is ``"recurrent"`` (the recurrent layers alone, fed random
    embeddings) or ``"network"`` (embedding, recurrent layers, logits and
    the loss, with the gradients of every weight but no optimizer update).
    """
    framework_config.enable_op_determinism()
    keras.utils.set_random_seed(0)
    model = build_model(config.model)
    batch, seq_len = config.batch_size, config.seq_len
    ids = tf.random.uniform((batch, seq_len), maxval=config.model.vocab_size, dtype=tf.int32)
    model(ids)  # build the weights
    embedded = tf.random.normal((batch, seq_len, config.model.embedding))
    loss_function = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def checksum(gradients: list) -> tf.Tensor:
        # One scalar that depends on every gradient, so none is skipped.
        return tf.add_n([tf.reduce_sum(tf.convert_to_tensor(g)) for g in gradients])

    @tf.function
    def recurrent_step() -> tf.Tensor:
        weights = [w for layer in model.recurrent for w in layer.trainable_variables]
        with tf.GradientTape() as tape:
            x = embedded
            for layer in model.recurrent:
                x = layer(x, training=True)[0]  # (batch, time, units)
            loss = tf.reduce_mean(tf.square(x))
        return checksum(tape.gradient(loss, weights))

    @tf.function
    def network_step() -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = loss_function(ids, model(ids, training=True))
        return checksum(tape.gradient(loss, model.trainable_variables))

    step = recurrent_step if part == "recurrent" else network_step
    step().numpy()  # trace
    fastest = math.inf
    for _ in range(5):
        started = time.perf_counter()
        step().numpy()
        fastest = min(fastest, time.perf_counter() - started)
    return batch * seq_len / fastest


class EpochTimer(keras.callbacks.Callback):
    """Records the seconds of each epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._started)


def measure_training(config: TrainConfig, windows: tuple, variant: str, steps: int) -> float:
    """Return training characters per second of ``variant``: the best of three epochs.

    Each timed epoch runs ``steps`` steps, after a short warm-up fit.
    """
    xla = variant.endswith("-xla")
    if xla:
        framework_config.disable_op_determinism()
    else:
        framework_config.enable_op_determinism()
    config = replace(config, jit_compile=xla)
    policy = "mixed_bfloat16" if variant.startswith("bfloat16") else "float32"
    inputs, targets = windows
    dataset = training_dataset(inputs, targets, config.batch_size, 0, range(4))
    keras.utils.set_random_seed(0)
    with dtype_policy(policy):
        model = build_model(config.model)
        compile_model(model, config, steps)
    # The first fit traces (and for XLA compiles) the step; the second reuses it and is timed.
    model.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0)
    timer = EpochTimer()
    model.fit(dataset, epochs=3, steps_per_epoch=steps, verbose=0, callbacks=[timer])
    return steps * config.batch_size * config.seq_len / min(timer.seconds)


def measure_pipeline(config: TrainConfig, windows: tuple, batches: int) -> float:
    """Return batches per second that the training dataset yields alone."""
    inputs, targets = windows
    dataset = training_dataset(inputs, targets, config.batch_size, 0, range(4))
    iterator = iter(dataset)
    next(iterator)
    started = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches / (time.perf_counter() - started)


def size_config(size: str, vocab_size: int, batch: int, seq_len: int) -> TrainConfig:
    """Return the preset ``size``'s model at the given batch shape."""
    return build_config(vocab_size, size, {"batch_size": batch, "seq_len": seq_len})


def square_matmul(name: str) -> float:
    """Measure the FLOP rate of a 2048 x 2048 matrix multiply in the type called ``name``."""
    return matmul_flops_per_second(2048, 2048, 2048, TYPES[name])


def beside_square(name: str, measure: Callable[[], float], peaks: dict[str, float]) -> float:
    """Run ``measure`` between two square matmul peers and return its result.

    Other processes on a shared machine come and go, so the peer is measured
    around every figure, and ``peaks[name]`` keeps the highest rate seen:
    every ratio is taken against that, the device's rate with its cores free.
    """
    peaks[name] = max(peaks.get(name, 0.0), square_matmul(name))
    result = measure()
    peaks[name] = max(peaks[name], square_matmul(name))
    return result


def measure_size(
    size: str,
    config: TrainConfig,
    windows: tuple,
    variants: list[str],
    steps: int,
    peaks: dict[str, float],
) -> list[tuple[str, str, str, float]]:
    """Measure one model size's peers and variants.

    Returns:
        Table rows: name, figure, a ratio to the input pipeline's rate or
        empty, and the achieved FLOP/s (0 where none applies).
    """
    model = config.model
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[model.cell]
    flops = training_flops_per_character(model)
    shape = f"{model.layers} x {model.cell.upper()} {model.units}, embedding {model.embedding}"
    rows = [(f"{size}: {shape}", f"{flops / 1e6:.2f} MFLOP/char", f"{steps} steps timed", 0.0)]
    for batch in (config.batch_size, 4 * config.batch_size):
        loop = beside_square(
            "float32",
            partial(recurrent_loop_flops_per_second, batch, model.units, gates, config.seq_len),
            peaks,
        )
        rows.append((f"recurrent matmuls alone, float32, batch {batch}", "", "", loop))
    pipeline = measure_pipeline(config, windows, 200)
    steps_per_second = 0.0
    rates = {}
    for variant in variants:
        rate = beside_square(
            variant.split("-")[0], partial(measure_training, config, windows, variant, steps), peaks
        )
        rates[variant] = rate
        rows.append((f"training {variant}", f"{rate:,.0f} chars/s", "", rate * flops))
        steps_per_second = max(steps_per_second, rate / (config.batch_size * config.seq_len))
    if "float32" in rates:
        parts = (
            ("recurrent", "LSTM layers alone, forward and backward"),
            ("network", "network and loss, forward and backward, no optimizer"),
        )
        for part, name in parts:
            rate = beside_square("float32", partial(part_chars_per_second, config, part), peaks)
            share = rates["float32"] / rate
            rows.append(
                (name, f"{rate:,.0f} chars/s", f"{share:.0%} of a float32 training step", 0.0)
            )
    rows.append(
        (
            "input pipeline alone",
            f"{pipeline:,.0f} batches/s",
            f"{pipeline / steps_per_second:,.0f} x the fastest variant's steps/s",
            0.0,
        )
    )
    return rows


def print_table(rows: list[tuple[str, str, str, float]], peaks: dict[str, float]) -> None:
    """Print the rows as a Markdown table, each FLOP rate as a share of its peer's peak."""
    print("\n| measure | figure | ratio |\n|---|---|---|")
    for name, peak in peaks.items():
        print(f"| matmul 2048 x 2048 {name}, peak (peer) | {peak / 1e9:.1f} GFLOP/s | |")
    for name, figure, ratio, achieved in rows:
        if achieved:
            peer = peaks["bfloat16" if "bfloat16" in name else "float32"]
            figure = figure or f"{achieved / 1e9:.1f} GFLOP/s"
            if "chars/s" in figure:
                figure += f", {achieved / 1e9:.1f} GFLOP/s"
            ratio = f"{achieved / peer:.0%} of matmul"
        print(f"| {name} | {figure} | {ratio} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="cpu,gpu", help="presets whose models to measure")
    parser.add_argument(
        "--variants",
        default=DEFAULT_VARIANTS,
        help=f"comma-separated, of {', '.join(VARIANTS)} (default {DEFAULT_VARIANTS})",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=12,
        help="timed training steps of the first size; larger sizes get proportionally fewer",
    )
    parser.add_argument("--batch-size", type=int, default=64, help="windows per step (default 64)")
    parser.add_argument("--seq-len", type=int, default=128, help="characters per window")
    parser.add_argument("--threads", type=int, help="TensorFlow intra-op threads")
    parser.add_argument("--inter-threads", type=int, help="TensorFlow inter-op threads")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    if args.inter_threads:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_threads)

    print(machine_line())
    print(f"tensorflow {tf.__version__}, keras {keras.__version__}")
    print(f"devices: {', '.join(d.name for d in tf.config.list_logical_devices())}")
    print(f"batch {args.batch_size} x {args.seq_len} characters")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    tunes = load_corpus(["oneills"]).tunes
    vocab = Vocabulary.from_texts(t.text for t in tunes)
    windows = make_windows(encode_tunes([t.text for t in tunes], vocab), args.seq_len)
    rows: list[tuple[str, str, str, float]] = []
    peaks: dict[str, float] = {}
    first_flops = training_flops_per_character(
        size_config(args.sizes.split(",")[0], vocab.size, 1, 1).model
    )
    for size in args.sizes.split(","):
        config = size_config(size, vocab.size, args.batch_size, args.seq_len)
        steps = max(3, round(args.steps * first_flops / training_flops_per_character(config.model)))
        rows.extend(measure_size(size, config, windows, args.variants.split(","), steps, peaks))

    print(f"load average after: {os.getloadavg()[0]:.2f} (this benchmark adds about 2)")
    print_table(rows, peaks)


if __name__ == "__main__":
    main()
