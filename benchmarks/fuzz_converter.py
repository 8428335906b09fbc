"""Feed the converter random and broken ABC and count every exception that is not its own.

Usage: PYTHONPATH=. python benchmarks/fuzz_converter.py [--inputs 100000] [--seed 1] [--workers N]

Three kinds of input, in equal numbers, all reproducible from the seed:

* random text over the characters that mean something in ABC;
* a random tune body after a minimal header (X:, K:);
* a real tune from the music21 corpus with up to eight random edits
  (characters deleted, inserted from the ABC alphabet, or lines swapped).

Each input is converted in lenient mode, then in strict mode, as a tunebook,
and every tune that converts is written to MIDI bytes. Any exception other
than :class:`musicgen.abc.AbcError` is a failure; the first ones are printed
with the input that caused them. Before the fuzzing, every tune of the music21
corpus goes through the same steps. The run also reports the slowest input.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import time
import traceback
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import music21

from musicgen.abc import AbcError, parse_tune, parse_tunebook
from musicgen.abc.tunebook import split_tunebook
from musicgen.midi import midi_bytes

CORPUS = Path(music21.__file__).parent / "corpus"
ALPHABET = "ABCDEFGabcdefgzxZyHLMOPSTuv^_=,'/0123456789|:[]{}()<>-!+\"~.%&\\ \n KLMQPVXwU"
HEADER = "X:1\nK:C\n"


def corpus_tunes() -> list[str]:
    """Return the text of every tune of the music21 corpus, file header fields included."""
    texts: list[str] = []
    for path in sorted(CORPUS.rglob("*.abc")):
        for raw in split_tunebook(path.read_text(encoding="utf-8", errors="replace")):
            lines = raw.text.split("\n")
            texts.append("\n".join([lines[0], *raw.header, *lines[1:]]))
    return texts


def make_input(rng: random.Random, kind: int, seeds: list[str]) -> str:
    """Return one fuzzed input of ``kind`` 0 (random text), 1 (random body) or 2 (mutated tune)."""
    if kind == 0:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 300)))
    if kind == 1:
        return HEADER + "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 200)))
    text = rng.choice(seeds)
    for _ in range(rng.randint(1, 8)):
        position = rng.randint(0, len(text))
        action = rng.random()
        if action < 0.4:
            text = text[:position] + text[position + rng.randint(1, 4) :]
        elif action < 0.9:
            inserted = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4)))
            text = text[:position] + inserted + text[position:]
        else:
            lines = text.split("\n")
            first, second = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[first], lines[second] = lines[second], lines[first]
            text = "\n".join(lines)
    return text


def convert_every_way(text: str) -> None:
    """Convert ``text`` leniently, strictly and as a tunebook, and write MIDI bytes."""
    for strict in (False, True):
        with contextlib.suppress(AbcError):
            midi_bytes(parse_tune(text, strict=strict), accompaniment=True)
    for tune in parse_tunebook(text).tunes:
        midi_bytes(tune)


def check(text: str) -> tuple[str | None, float]:
    """Return (the traceback of an exception that is not an AbcError or None, seconds)."""
    started = time.perf_counter()
    try:
        convert_every_way(text)
    except Exception:
        return traceback.format_exc(limit=3), time.perf_counter() - started
    return None, time.perf_counter() - started


def fuzz_batch(seed: int, start: int, count: int, seeds: list[str]) -> list[tuple[int, str, str]]:
    """Check inputs ``start`` to ``start + count``; return (index, input, traceback) failures."""
    failures = []
    for index in range(start, start + count):
        rng = random.Random(f"{seed}-{index}")
        text = make_input(rng, index % 3, seeds)
        failure, _ = check(text)
        if failure is not None:
            failures.append((index, text, failure))
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    seeds = corpus_tunes()
    started = time.perf_counter()
    corpus_failures = 0
    for text in seeds:
        failure, _ = check(text)
        if failure is not None:
            corpus_failures += 1
            print(f"corpus tune failed:\n{text[:300]}\n{failure}")
    corpus_seconds = time.perf_counter() - started
    print(f"corpus: {len(seeds)} tunes, {corpus_failures} exceptions that are not AbcError, "
          f"{corpus_seconds:.0f} s")  # fmt: skip

    batch = 1000
    starts = range(0, args.inputs, batch)
    counts = [min(batch, args.inputs - start) for start in starts]
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        batches = pool.map(
            fuzz_batch, [args.seed] * len(counts), starts, counts, [seeds] * len(counts)
        )
        failures = [failure for found in batches for failure in found]
    elapsed = time.perf_counter() - started
    kinds = Counter(failure.strip().splitlines()[-1].split(":")[0] for _, _, failure in failures)
    print(f"fuzz: {args.inputs} inputs (seed {args.seed}), {len(failures)} exceptions that are "
          f"not AbcError, {elapsed:.0f} s with {args.workers} workers")  # fmt: skip
    for kind, number in kinds.most_common():
        print(f"  {kind}: {number}")
    for index, text, failure in failures[:5]:
        print(f"\ninput {index}: {text[:300]!r}\n{failure}")


if __name__ == "__main__":
    main()
