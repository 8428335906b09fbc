"""Measure the ABC converter on every .abc tunebook bundled with music21.

For each collection of the music21 corpus it prints the share of tunes that
convert in lenient and in strict mode. It also prints two measures of
agreement with abc2midi: the share of tunes whose notes all match, and the
share of notes matched (pitch, onset and duration within one abc2midi tick).

Usage: PYTHONPATH=. python benchmarks/abc_agreement.py [--limit N] [--workers N]

abc2midi ignores fields above the first X:, so the file header fields are
copied into each tune before abc2midi reads it; rolls and trills are removed
because abc2midi plays them as ornaments and this converter does not.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import music21

from musicgen.abc import AbcError, parse_tune
from musicgen.abc.oracle import abc2midi_path, compare, run_abc2midi, tune_ticks, without_ornaments
from musicgen.abc.tunebook import RawTune, split_tunebook

CORPUS = Path(music21.__file__).parent / "corpus"


@dataclass
class Result:
    collection: str
    converted: bool = False
    strict: bool = False
    oracle: bool = False
    identical: bool = False
    matched: int = 0
    notes: int = 0


def measure(raw: RawTune, collection: str) -> Result:
    """Convert one tune both ways and compare it with abc2midi."""
    result = Result(collection)
    try:
        tune = parse_tune(raw)
    except AbcError:
        return result
    result.converted = True
    try:
        parse_tune(raw, strict=True)
        result.strict = True
    except AbcError:
        pass
    lines = raw.text.split("\n")
    text = "\n".join([lines[0], *raw.header, *lines[1:]])
    try:
        theirs = run_abc2midi(without_ornaments(text))
    except (RuntimeError, OSError, EOFError, ValueError, subprocess.TimeoutExpired):
        # No MIDI file, a timeout or a MIDI file mido cannot read: no oracle for this tune.
        return result
    ours = tune_ticks(tune)
    agreement = compare(ours, theirs)
    result.oracle = True
    result.identical = agreement.identical
    result.matched = agreement.matched
    result.notes = max(len(ours), len(theirs))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="tunes per file, 0 for all")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    if abc2midi_path() is None:
        raise SystemExit("abc2midi not found; install the Debian package abcmidi")

    jobs: list[tuple[RawTune, str]] = []
    for path in sorted(CORPUS.rglob("*.abc")):
        tunes = split_tunebook(path.read_text(encoding="utf-8", errors="replace"), path.name)
        collection = path.relative_to(CORPUS).parts[0]
        jobs.extend((raw, collection) for raw in tunes[: args.limit or None])

    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(measure, *zip(*jobs, strict=True), chunksize=16))
    elapsed = time.perf_counter() - started

    by_collection: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_collection[result.collection].append(result)
        by_collection["all"].append(result)
    header = f"{'collection':<20}{'tunes':>7}{'lenient':>9}{'strict':>8}"
    print(f"{header}{'compared':>10}{'identical':>11}{'notes':>8}")
    for name in sorted(by_collection, key=lambda n: (n == "all", n)):
        rows = by_collection[name]
        compared = [r for r in rows if r.oracle]
        notes = sum(r.notes for r in compared) or 1
        print(
            f"{name:<20}{len(rows):>7}"
            f"{sum(r.converted for r in rows) / len(rows):>9.1%}"
            f"{sum(r.strict for r in rows) / len(rows):>8.1%}"
            f"{len(compared):>10}"
            f"{sum(r.identical for r in compared) / max(len(compared), 1):>11.1%}"
            f"{sum(r.matched for r in compared) / notes:>8.1%}"
        )
    print(f"{len(results)} tunes in {elapsed:.0f} s with {args.workers} workers")


if __name__ == "__main__":
    main()
