"""Measure the ABC converter against abc2midi on every .abc tunebook bundled with music21.

For each collection of the music21 corpus it prints the share of tunes that
convert in lenient and in strict mode, then sorts the tunes that abc2midi
converts into three kinds:

* agree: every note matches (pitch, onset and duration within one abc2midi
  tick, after removing abc2midi's one-tick delay);
* explained: the notes match once the converter imitates one or more known
  abc2midi departures from ABC 2.1 or differences of documented choice
  (``musicgen.abc.quirks``, described in docs/converter.md); counted per reason;
* unexplained: everything else, listed with ``--list``.

With ``--messages`` abc2midi runs without ``-silent``, and the report adds
the agreement over the tunes for which abc2midi prints no warning and no
error.

Usage: PYTHONPATH=. python benchmarks/abc_agreement.py [--limit N] [--workers N] [--list]
       [--messages]

abc2midi ignores fields above the first X:, so the file header fields are
copied into each tune before abc2midi reads it, and ``R:`` lines are removed
because abc2midi swings hornpipes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import music21

from musicgen.abc import AbcError, parse_tune
from musicgen.abc.oracle import (
    abc2midi_notes,
    abc2midi_path,
    compare,
    explain,
    for_abc2midi,
    tune_ticks,
)
from musicgen.abc.tunebook import RawTune, split_tunebook

CORPUS = Path(music21.__file__).parent / "corpus"


@dataclass
class Result:
    collection: str
    label: str
    converted: bool = False
    strict: bool = False
    oracle: bool = False
    status: str = ""
    reasons: tuple[str, ...] = field(default_factory=tuple)
    # abc2midi's warnings and errors, when --messages asked for them.
    messages: tuple[str, ...] = field(default_factory=tuple)


def abc2midi_text(raw: RawTune) -> str:
    """Return the tune as abc2midi should read it: file header fields copied in, no R:."""
    lines = raw.text.split("\n")
    return for_abc2midi("\n".join([lines[0], *raw.header, *lines[1:]]))


def measure(raw: RawTune, collection: str, messages: bool = False) -> Result:
    """Convert one tune both ways and compare it with abc2midi."""
    result = Result(collection, f"{raw.source} X:{raw.reference}")
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
    text = abc2midi_text(raw)
    try:
        theirs, printed = abc2midi_notes(text, messages=messages)
    except (RuntimeError, OSError, EOFError, ValueError, subprocess.TimeoutExpired):
        # No MIDI file, a timeout or a MIDI file mido cannot read: no oracle for this tune.
        return result
    result.oracle = True
    result.messages = printed
    if compare(tune_ticks(tune), theirs).identical:
        result.status = "agree"
        return result
    reasons = explain(raw, theirs, text)
    result.status = "unexplained" if reasons is None else "explained"
    result.reasons = reasons or ()
    return result


def report(results: list[Result], show_list: bool) -> None:
    by_collection: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_collection[result.collection].append(result)
        by_collection["all"].append(result)
    print(f"{'collection':<20}{'tunes':>7}{'lenient':>9}{'strict':>8}{'compared':>10}"
          f"{'agree':>8}{'explained':>11}{'unexplained':>13}")  # fmt: skip
    for name in sorted(by_collection, key=lambda n: (n == "all", n)):
        rows = by_collection[name]
        compared = [r for r in rows if r.oracle]
        count = Counter(r.status for r in compared)
        share = max(len(compared), 1)
        print(
            f"{name:<20}{len(rows):>7}"
            f"{sum(r.converted for r in rows) / len(rows):>9.1%}"
            f"{sum(r.strict for r in rows) / len(rows):>8.1%}"
            f"{len(compared):>10}"
            f"{count['agree'] / share:>8.2%}"
            f"{count['explained']:>11}"
            f"{count['unexplained']:>13}"
        )
    print("\nexplained tunes per reason (a tune may need several):")
    reasons: Counter[str] = Counter()
    for result in results:
        reasons.update((result.collection, reason) for reason in result.reasons)
    for (collection, reason), number in sorted(reasons.items()):
        print(f"  {collection:<20}{reason:<32}{number:>5}")
    compared = [r for r in results if r.oracle]
    if any(r.messages for r in compared):
        silent = [r for r in compared if not r.messages]
        agree = sum(r.status == "agree" for r in silent)
        differ = [r for r in compared if r.status != "agree"]
        print(
            f"\nabc2midi printed a warning or an error for {len(compared) - len(silent)} of "
            f"{len(compared)} compared tunes, {sum(bool(r.messages) for r in differ)} of the "
            f"{len(differ)} that differ; the {len(silent)} others agree in {agree} "
            f"({agree / max(len(silent), 1):.2%})"
        )
    if show_list:
        print("\nunexplained:")
        for result in results:
            if result.status == "unexplained":
                print(f"  {result.collection:<20}{result.label}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="tunes per file, 0 for all")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--list", action="store_true", help="list the unexplained tunes")
    parser.add_argument(
        "--messages", action="store_true", help="also record abc2midi's warnings and errors"
    )
    parser.add_argument("--save", type=Path, help="write every tune's result to this JSON file")
    parser.add_argument("--collection", help="measure only this collection, such as oneills1850")
    args = parser.parse_args()
    if abc2midi_path() is None:
        raise SystemExit("abc2midi not found; install the Debian package abcmidi")

    jobs: list[tuple[RawTune, str]] = []
    for path in sorted(CORPUS.rglob("*.abc")):
        text = path.read_text(encoding="utf-8", errors="replace")
        tunes = split_tunebook(text, str(path.relative_to(CORPUS)))
        collection = path.relative_to(CORPUS).parts[0]
        if args.collection and collection != args.collection:
            continue
        jobs.extend((raw, collection) for raw in tunes[: args.limit or None])

    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        tunes, collections = zip(*jobs, strict=True)
        flags = [args.messages] * len(jobs)
        results = list(pool.map(measure, tunes, collections, flags, chunksize=16))
    elapsed = time.perf_counter() - started
    report(results, args.list)
    if args.save:
        args.save.write_text(json.dumps([asdict(result) for result in results], indent=0))
    print(f"\n{len(results)} tunes in {elapsed:.0f} s with {args.workers} workers")


if __name__ == "__main__":
    main()
