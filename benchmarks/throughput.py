"""Measure training and sampling throughput in characters per second.

Usage: python benchmarks/throughput.py [--preset cpu] [--steps 30] [--threads N]

Prints one table. Each figure sits next to a peer measured in the same run,
because shared machines are noisy and only ratios compare across runs:

* training: characters per second of the preset's model on O'Neill's
  windows, its achieved FLOP rate, and that rate as a share of a plain
  float32 matrix multiply measured on the same device a moment before;
* sampling: characters per second of the stateful batched sampler at batch
  1, 16 and 64, the time to one 400-character tune, and the peer that
  re-runs the whole text for every new character (the approach of many
  course notebooks), at batch 1.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf
from machine import machine_line  # benchmarks/ is the script's folder

from musicgen.config import ModelConfig, build_config
from musicgen.corpus import load_corpus
from musicgen.data import encode_tunes, make_windows
from musicgen.model import build_model
from musicgen.sample import Sampler, SamplingSettings
from musicgen.train import compile_model
from musicgen.vocab import Vocabulary


def matmul_flops_per_second(size: int = 2048, repeats: int = 10) -> float:
    """Measure float32 matrix multiply FLOP/s on TensorFlow's default device.

    Three untimed multiplies first let oneDNN pick its kernel and threads; the
    first call on a CPU is several times slower than the rest.
    """
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    for _ in range(3):
        tf.linalg.matmul(a, b).numpy()
    started = time.perf_counter()
    for _ in range(repeats):
        result = tf.linalg.matmul(a, b)
    result.numpy()
    return 2 * size**3 * repeats / (time.perf_counter() - started)


def training_flops_per_character(model: ModelConfig) -> float:
    """Estimate FLOPs per character of one training step: 3 times the forward pass.

    The forward pass counts the recurrent matrix multiplies (gates times input
    plus recurrent width) and the output Dense layer; the backward pass costs
    about twice the forward one, the usual estimate for dense layers.
    """
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[model.cell]
    forward = 0
    width = model.embedding
    for _ in range(model.layers):
        forward += 2 * gates * model.units * (width + model.units)
        width = model.units
    forward += 2 * model.units * model.vocab_size
    return 3.0 * forward


def measure_training(preset: str, steps: int) -> tuple[float, float, ModelConfig]:
    """Return characters per second and FLOP/s of ``steps`` training steps."""
    tunes = load_corpus(["oneills"]).tunes
    vocab = Vocabulary.from_texts(t.text for t in tunes)
    config = build_config(vocab.size, preset, {})
    inputs, targets = make_windows(encode_tunes([t.text for t in tunes], vocab), config.seq_len)
    batches = len(inputs) // config.batch_size
    keras.utils.set_random_seed(0)
    model = build_model(config.model)
    compile_model(model, config, batches)
    first = slice(0, config.batch_size)
    model.train_on_batch(inputs[first], targets[first])  # compile before timing
    started = time.perf_counter()
    for step in range(steps):
        index = slice(
            (step % batches) * config.batch_size, (step % batches + 1) * config.batch_size
        )
        model.train_on_batch(inputs[index], targets[index])
    seconds = time.perf_counter() - started
    characters = steps * config.batch_size * config.seq_len
    rate = characters / seconds
    return rate, rate * training_flops_per_character(config.model), config.model


def measure_sampling(
    model_config: ModelConfig, vocab: Vocabulary, batch: int, length: int
) -> float:
    """Return characters per second of the stateful sampler at ``batch`` tunes of ``length``."""
    keras.utils.set_random_seed(0)
    sampler = Sampler(build_model(model_config), vocab)
    settings = SamplingSettings(max_length=length, seed=1)
    sampler.sample(batch, SamplingSettings(max_length=2))  # trace the step function
    started = time.perf_counter()
    # Every tune runs the full length, so the count of characters is exact.
    sampler.sample(batch, settings, stop_at_end=False)
    return batch * length / (time.perf_counter() - started)


def measure_rerun_peer(model_config: ModelConfig, vocab: Vocabulary, length: int) -> float:
    """Return characters per second when each new character re-runs the whole text."""
    keras.utils.set_random_seed(0)
    model = build_model(model_config)
    predict = tf.function(lambda ids: model(ids, training=False)[:, -1, :], reduce_retracing=True)
    ids = [vocab.start_id]
    rng = np.random.default_rng(0)
    predict(tf.constant([ids]))
    started = time.perf_counter()
    for _ in range(length):
        logits = predict(tf.constant([ids])).numpy()[0]
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        ids.append(int(rng.choice(len(probabilities), p=probabilities)))
    return length / (time.perf_counter() - started)


def print_table(rows: list[tuple[str, str, str]]) -> None:
    """Print (measure, figure, ratio) rows as an aligned table under a blank line."""
    width = max(len(row[0]) for row in rows)
    figure_width = max(len("figure"), *(len(row[1]) for row in rows))
    print(f"\n{'measure':<{width}}  {'figure':>{figure_width}}  ratio")
    for name, figure, ratio in rows:
        print(f"{name:<{width}}  {figure:>{figure_width}}  {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="cpu", help="model preset to measure (default cpu)")
    parser.add_argument("--steps", type=int, default=30, help="training steps to time")
    parser.add_argument("--threads", type=int, help="TensorFlow intra- and inter-op threads")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)

    print(machine_line())
    print(f"tensorflow {tf.__version__}, keras {keras.__version__}, preset {args.preset}")
    matmul = matmul_flops_per_second()
    rate, flops, model_config = measure_training(args.preset, args.steps)
    vocab = Vocabulary.from_texts(t.text for t in load_corpus(["oneills"]).tunes)

    rows = [
        ("matmul 2048x2048 float32 (peer)", f"{matmul / 1e9:.1f} GFLOP/s", ""),
        (
            "training",
            f"{rate:,.0f} chars/s",
            f"{flops / 1e9:.1f} GFLOP/s = {flops / matmul:.0%} of matmul",
        ),
    ]
    for batch in (1, 16, 64):
        sampled = measure_sampling(model_config, vocab, batch, 400)
        rows.append((f"sampling, batch {batch}", f"{sampled:,.0f} chars/s", ""))
        if batch == 1:
            single = sampled
            rows.append(("one 400-character tune", f"{400 / sampled:.2f} s", ""))
    peer = measure_rerun_peer(model_config, vocab, 200)
    rows.append(
        (
            "re-run peer, batch 1, 200 chars",
            f"{peer:,.0f} chars/s",
            f"stateful sampler is {single / peer:.1f}x faster",
        )
    )

    print_table(rows)


if __name__ == "__main__":
    main()
