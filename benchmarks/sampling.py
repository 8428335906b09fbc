"""Measure sampling speed in characters per second, plain and constrained.

Usage: python benchmarks/sampling.py [--run DIR] [--length 400] [--seeds 5] [--threads N]
       [--only-constrained]

Prints one table. Every figure sits next to a peer measured in the same run,
because shared machines are noisy and only ratios compare across runs:

* plain sampling (the whole loop in one compiled ``tf.while_loop``) at batch
  1, 16 and 64, each tune running ``--length`` steps, and the time to one
  tune of that length;
* a bare sampling loop with and without XLA (``jit_compile=True``) at
  batch 1 and 64, to show whether XLA helps on this device;
* the peer that re-runs the whole text for every new character (the
  approach of many course notebooks), at batch 1;
* plain and constrained sampling (both one compiled loop; constrained calls
  the ABC state machines on the host after every step) as ``generate`` runs
  them, at batch 1, 10 (``generate``'s default count) and 64, alternating
  over ``--seeds`` seeds. Each tune stops at its end marker or at
  ``--max-length`` characters, and the batch runs until its longest tune is
  done. Constrained tunes end where the machine lets them, so their lengths
  differ from the plain ones. Two ratios give the cost of constrained
  sampling: the time for the same number of tunes, and the time per
  character of the returned tunes.

The network is the run's ``model.keras`` when ``--run`` is given, otherwise
an untrained network of the ``cpu`` preset's shape on O'Neill's vocabulary;
the speed does not depend on the weights, but the constrained tunes' lengths do.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import tensorflow as tf
from machine import machine_line  # benchmarks/ is the script's folder
from throughput import measure_rerun_peer, print_table  # from benchmarks/throughput.py

from musicgen.config import build_config
from musicgen.constrain.masked import sample_constrained
from musicgen.corpus import load_corpus
from musicgen.model import CharRNN, build_model, load_model
from musicgen.sample import Sampler, SamplingSettings
from musicgen.vocab import Vocabulary

BATCHES = (1, 16, 64)


def load_network(run: Path | None) -> tuple[CharRNN, Vocabulary]:
    """Return the run's network and vocabulary, or an untrained cpu-preset network."""
    if run is not None:
        return load_model(str(run / "model.keras")), Vocabulary.load(run / "vocab.json")
    vocab = Vocabulary.from_texts(t.text for t in load_corpus(["oneills"]).tunes)
    keras.utils.set_random_seed(0)
    return build_model(build_config(vocab.size, "cpu", {}).model), vocab


def measure_plain(sampler: Sampler, batch: int, length: int) -> float:
    """Return characters per second of plain sampling, every tune running ``length`` steps."""
    sampler.sample(batch, SamplingSettings(max_length=2))  # trace the loop
    started = time.perf_counter()
    sampler.sample(batch, SamplingSettings(max_length=length, seed=1), stop_at_end=False)
    return batch * length / (time.perf_counter() - started)


def measure_xla(model: CharRNN, batch: int, length: int, *, xla: bool) -> float:
    """Return characters per second of a bare sampling loop, compiled with XLA or not.

    The loop draws from the raw logits into a TensorArray of fixed size,
    which XLA needs, so both variants do exactly the same work.
    """

    def loop(first: tf.Tensor, states: list[tf.Tensor], steps: tf.Tensor) -> tf.Tensor:
        def advance(step, ids, states, drawn):  # type: ignore[no-untyped-def]
            logits, states = model(ids, states=states, return_state=True, training=False)
            seed = tf.stack([1, step])
            next_ids = tf.random.stateless_categorical(logits[:, -1, :], 1, seed, tf.int32)
            return step + 1, next_ids, states, drawn.write(step, next_ids[:, 0])

        drawn = tf.TensorArray(tf.int32, size=steps)
        *_, drawn = tf.while_loop(
            lambda step, *_: step < steps, advance, (tf.constant(0), first, states, drawn)
        )
        return drawn.stack()  # (steps, batch)

    compiled = tf.function(loop, jit_compile=xla)
    first = tf.ones((batch, 1), tf.int32)  # (batch, 1)
    compiled(first, model.initial_states(batch), tf.constant(2)).numpy()  # compile
    started = time.perf_counter()
    compiled(first, model.initial_states(batch), tf.constant(length)).numpy()
    return batch * length / (time.perf_counter() - started)


def measure_to_end(sampler: Sampler, batch: int, length: int, seeds: int) -> dict[str, float]:
    """Time plain and constrained sampling of ``batch`` tunes that stop at their end.

    Returns:
        Seconds and characters in all, summed over the seeds, per way:
        ``plain_seconds``, ``plain_chars``, ``constrained_seconds``,
        ``constrained_chars``.
    """
    warm = SamplingSettings(max_length=40, seed=99)
    sample_constrained(sampler, batch, warm)  # trace the loops, fill the state cache
    sampler.sample(batch, warm)
    totals = dict.fromkeys(
        ("plain_seconds", "plain_chars", "constrained_seconds", "constrained_chars"), 0.0
    )
    for seed in range(seeds):
        settings = SamplingSettings(max_length=length, seed=seed)
        started = time.perf_counter()
        texts = sampler.sample(batch, settings)
        totals["plain_seconds"] += time.perf_counter() - started
        totals["plain_chars"] += sum(len(text) for text in texts)
        started = time.perf_counter()
        texts = sample_constrained(sampler, batch, settings)
        totals["constrained_seconds"] += time.perf_counter() - started
        totals["constrained_chars"] += sum(len(text) for text in texts)
    return totals


def measure_plain_rows(
    sampler: Sampler, model: CharRNN, vocab: Vocabulary, length: int
) -> list[tuple[str, str, str]]:
    """Return the table rows of plain sampling, the bare loop with and without XLA and the peer."""
    rows = []
    plain: dict[int, float] = {}
    for batch in BATCHES:
        plain[batch] = measure_plain(sampler, batch, length)
        rows.append((f"plain, batch {batch}", f"{plain[batch]:,.0f} chars/s", ""))
    rows.append((f"plain, one {length}-character tune", f"{length / plain[1]:.3f} s", ""))
    for batch in (1, 64):
        bare = measure_xla(model, batch, length, xla=False)
        xla = measure_xla(model, batch, length, xla=True)
        rows.append((f"bare loop, batch {batch}", f"{bare:,.0f} chars/s", ""))
        rows.append(
            (f"bare loop with XLA, batch {batch}", f"{xla:,.0f} chars/s",
             f"{xla / bare:.2f}x without XLA")
        )  # fmt: skip
    peer = measure_rerun_peer(model.settings, vocab, 200)
    rows.append(
        (
            "re-run peer, batch 1, 200 chars",
            f"{peer:,.0f} chars/s",
            f"plain is {plain[1] / peer:.1f}x faster",
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="run folder whose model.keras to sample")
    parser.add_argument(
        "--length", type=int, default=400, help="characters per plain tune (default 400)"
    )
    parser.add_argument(
        "--max-length",
        type=int,
        default=1000,
        help="characters per tune at most when tunes stop at their end (default 1000)",
    )
    parser.add_argument(
        "--seeds", type=int, default=5, help="seeds per batch size when tunes stop at their end"
    )
    parser.add_argument(
        "--only-constrained", action="store_true", help="time only plain against constrained"
    )
    parser.add_argument("--threads", type=int, help="TensorFlow intra- and inter-op threads")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)

    print(machine_line())
    print(f"tensorflow {tf.__version__}, keras {keras.__version__}")
    model, vocab = load_network(args.run)
    print(f"network: {args.run or 'untrained, cpu preset'}, {model.settings}")
    sampler = Sampler(model, vocab)

    rows = []
    if not args.only_constrained:
        rows += measure_plain_rows(sampler, model, vocab, args.length)
    for batch in (1, 10, 64):
        totals = measure_to_end(sampler, batch, args.max_length, args.seeds)
        tunes = batch * args.seeds
        plain_rate = totals["plain_chars"] / totals["plain_seconds"]
        rate = totals["constrained_chars"] / totals["constrained_seconds"]
        time_ratio = totals["constrained_seconds"] / totals["plain_seconds"]
        rows.append(
            (f"plain to the end, batch {batch} ({totals['plain_chars'] / tunes:.0f} chars/tune)",
             f"{plain_rate:,.0f} chars/s", f"{totals['plain_seconds'] / tunes:.3f} s/tune")
        )  # fmt: skip
        rows.append(
            (f"constrained, batch {batch} ({totals['constrained_chars'] / tunes:.0f} chars/tune)",
             f"{rate:,.0f} chars/s",
             f"costs {time_ratio:.2f}x plain's time, {plain_rate / rate:.2f}x per char")
        )  # fmt: skip

    print_table(rows)


if __name__ == "__main__":
    main()
