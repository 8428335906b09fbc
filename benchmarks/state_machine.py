"""Measure the ABC state machine's host time per character, with an empty and a warm cache.

Usage: python benchmarks/state_machine.py [--tunes 300] [--walks 100] [--baseline DIR]
[--repeat 3]

Feeds a fixed set of texts to ``AbcState`` under the sampling rules (bars,
repeats and style), one character at a time as constrained sampling does:
``allowed()``, then ``step(char)``. The texts are the first ``--tunes``
O'Neill's tunes that the machine accepts, and ``--walks`` sampled-looking
texts: walks through the machine that mostly follow a corpus tune and, at
random points, draw another allowed character instead, so that they reach
states the corpus never does.

Each measurement runs in a fresh process. The cold figure is the first pass
over a set of texts, which starts with an empty cache of allowed sets (the
smaller caches of lengths and field values stay warm from the set before).
The warm figure is the best of ``--repeat`` later passes. The table also
gives the cache entries made per character in the cold pass, an upper bound
on its share of misses. ``--baseline`` names a folder that contains another
copy of the ``musicgen`` package (for example ``git archive HEAD musicgen |
tar -x -C /tmp/old``). Both copies are then measured on the same texts,
alternately, and the table shows the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import machine_line  # benchmarks/ is the script's folder

# The sampling rules, as the keyword arguments of AbcState.
RULES = {"enforce_bars": True, "enforce_repeats": True, "enforce_style": True}
ROOT = Path(__file__).resolve().parent.parent


def corpus_texts(count: int) -> list[str]:
    """Return the first ``count`` O'Neill's tunes that the machine accepts whole."""
    from musicgen.constrain import AbcState
    from musicgen.corpus import load_corpus

    texts = []
    for tune in load_corpus(["oneills"]).tunes:
        state = AbcState(**RULES)
        if state.feed(tune.text) is None and state.can_end:
            texts.append(tune.text)
            if len(texts) == count:
                break
    return texts


def walk_texts(tunes: list[str], count: int, seed: int) -> list[str]:
    """Return ``count`` walks that follow ``tunes`` but leave them at random (1 in 20 steps)."""
    from musicgen.constrain import END, AbcState

    rng = random.Random(seed)
    alphabet = sorted(set("".join(tunes)))
    walks = []
    for index in range(count):
        model = tunes[index % len(tunes)]
        state = AbcState(**RULES)
        written: list[str] = []
        position = 0
        while position < len(model):
            allowed = state.allowed()
            char = model[position]
            if char not in allowed or rng.random() < 0.05:
                choices = [c for c in alphabet if c in allowed]
                if not choices:
                    break
                char = rng.choice(choices)
            written.append(char)
            state.step(char)
            position += 1
        if END in state.allowed() or written:
            walks.append("".join(written))
    return walks


def measure(texts: list[str], repeat: int) -> dict[str, float]:
    """Return µs per character of the first and the best later pass, and the cache entries."""
    from musicgen.constrain import END, abcstate

    abcstate._ALLOWED_CACHE.clear()
    characters = sum(len(text) for text in texts)

    def one_pass() -> float:
        started = time.perf_counter()
        for text in texts:
            state = abcstate.AbcState(**RULES)
            for char in text:
                state.allowed()
                state.step(char)
            if END in state.allowed():
                state.step(END)
        return (time.perf_counter() - started) / characters * 1e6

    cold = one_pass()
    entries = len(abcstate._ALLOWED_CACHE)
    warm = min(one_pass() for _ in range(repeat))
    return {"cold": cold, "warm": warm, "entries": entries, "characters": characters}


def run_child(package_root: Path, texts_file: Path, repeat: int) -> dict[str, float]:
    """Measure the package under ``package_root`` in a fresh process."""
    environment = dict(os.environ, PYTHONPATH=str(package_root))
    command = [sys.executable, __file__, "--child", str(texts_file), "--repeat", str(repeat)]
    output = subprocess.run(
        command, env=environment, check=True, capture_output=True, text=True, cwd="/"
    ).stdout
    return json.loads(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tunes", type=int, default=300, help="O'Neill's tunes to feed (default 300)"
    )
    parser.add_argument("--walks", type=int, default=100, help="walks to feed (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the walks (default 0)")
    parser.add_argument("--repeat", type=int, default=3, help="warm passes per process (default 3)")
    parser.add_argument(
        "--rounds", type=int, default=2, help="fresh processes per package (default 2)"
    )
    parser.add_argument("--baseline", type=Path, help="folder with another musicgen package")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        sets = json.loads(args.child.read_text())
        print(json.dumps({name: measure(texts, args.repeat) for name, texts in sets.items()}))
        return

    sys.path.insert(0, str(ROOT))
    tunes = corpus_texts(args.tunes)
    sets = {"corpus": tunes, "walks": walk_texts(tunes, args.walks, args.seed)}
    packages = {"current": ROOT}
    if args.baseline:
        packages = {"baseline": args.baseline, "current": ROOT}

    print(machine_line())
    print(f"python: {platform.python_version()}, rules: bars, repeats, style")
    for name, texts in sets.items():
        print(f"{name}: {len(texts)} texts, {sum(len(text) for text in texts):,} characters")
    results: dict[str, list[dict[str, dict[str, float]]]] = {name: [] for name in packages}
    with tempfile.TemporaryDirectory() as folder:
        texts_file = Path(folder) / "texts.json"
        texts_file.write_text(json.dumps(sets))
        for _ in range(args.rounds):
            for name, root in packages.items():
                results[name].append(run_child(root, texts_file, args.repeat))

    print(f"\nµs per character, best of {args.rounds} fresh processes")
    print(f"{'package':<10} {'texts':<8} {'cold':>7} {'warm':>7} {'entries/char':>13}")
    best: dict[tuple[str, str], tuple[float, float]] = {}
    for name in packages:
        for set_name in sets:
            cold = min(result[set_name]["cold"] for result in results[name])
            warm = min(result[set_name]["warm"] for result in results[name])
            first = results[name][0][set_name]
            share = first["entries"] / first["characters"]
            best[name, set_name] = cold, warm
            print(f"{name:<10} {set_name:<8} {cold:>7.2f} {warm:>7.2f} {share:>13.2f}")
    if args.baseline:
        print("\nspeed-up (baseline time / current time)")
        for set_name in sets:
            old, new = best["baseline", set_name], best["current", set_name]
            print(f"{set_name:<8} cold {old[0] / new[0]:.2f}x, warm {old[1] / new[1]:.2f}x")


if __name__ == "__main__":
    main()
