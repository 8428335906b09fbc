"""Measure the ABC state machine on the corpora and constrained sampling against plain.

Usage: python benchmarks/constrained.py [--run DIR] [--count 200] [--corpora oneills,ryans,essen]
[--list-rejected]

Prints two tables:

* corpora: the tunes of each bundled corpus that the converter parses
  strictly, and how many of them the state machine accepts. The first row
  uses the syntax rules only, the next ones add the bar, repeat and style
  rules, and each row gives the machine's speed in characters per second.
  With ``--list-rejected``, each tune that the syntax rules reject follows
  its corpus, with the first character they reject. Without ``--run`` only
  this table is made, and TensorFlow is not imported;
* sampling (with ``--run``): ``--count`` tunes sampled from the run with
  constrained sampling and with plain sampling from the same seed, each
  with the share that parses strictly, the share whose interior bars all
  have the meter's length (``measure_tune``'s ``checked_bars ==
  complete_bars``), both together, and the sampling speed; plain is the peer.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from machine import machine_line  # benchmarks/ is the script's folder

from musicgen.abc import AbcError, parse_tune
from musicgen.constrain import AbcState
from musicgen.corpus import Tune, load_corpus
from musicgen.evaluation.metrics import measure_tune

# Rule sets, each as the keyword arguments of AbcState.
RULES = {
    "syntax": {"enforce_bars": False, "enforce_repeats": False, "enforce_style": False},
    "+bars": {"enforce_bars": True, "enforce_repeats": False, "enforce_style": False},
    "+repeats": {"enforce_bars": False, "enforce_repeats": True, "enforce_style": False},
    "+style": {"enforce_bars": False, "enforce_repeats": False, "enforce_style": True},
    "all (sampling)": {"enforce_bars": True, "enforce_repeats": True, "enforce_style": True},
}


def accepts(text: str, rules: dict[str, bool]) -> bool:
    """Tell whether the state machine accepts ``text`` whole, its end included."""
    state = AbcState(**rules)
    return state.feed(text) is None and state.can_end


def syntax_rejections(tunes: list[Tune]) -> list[str]:
    """Return a line for each tune the syntax rules reject: its source and where they reject it."""
    lines = []
    for tune in tunes:
        state = AbcState(**RULES["syntax"])
        index = state.feed(tune.text)
        if index is None and state.can_end:
            continue
        if index is None:
            lines.append(f"  {tune.source}: cannot end")
            continue
        line_number = tune.text.count("\n", 0, index) + 1
        line_start = tune.text.rfind("\n", 0, index) + 1
        line_end = tune.text.find("\n", index)
        line = tune.text[line_start : line_end if line_end >= 0 else len(tune.text)]
        lines.append(
            f"  {tune.source}: line {line_number}, column {index - line_start + 1} "
            f"of {line!r}: {tune.text[index]!r}"
        )
    return lines


def measure_corpus(name: str, *, list_rejected: bool = False) -> list[str]:
    """Return one table row per rule set for corpus ``name``, then the rejected tunes if asked."""
    tunes = []
    for tune in load_corpus([name]).tunes:
        try:
            parse_tune("X:1\n" + tune.text, strict=True)
        except AbcError:
            continue
        tunes.append(tune)
    texts = [tune.text for tune in tunes]
    rows = []
    for rule_name, rules in RULES.items():
        started = time.perf_counter()
        accepted = sum(accepts(text, rules) for text in texts)
        seconds = time.perf_counter() - started
        rate = sum(len(text) for text in texts) / seconds
        rows.append(
            f"{name:<8} {rule_name:<15} {accepted:>5}/{len(texts):<5} "
            f"{accepted / len(texts):>7.2%} {rate:>10,.0f} chars/s"
        )
    if list_rejected:
        rows += syntax_rejections(tunes)
    return rows


def valid_shares(texts: list[str]) -> tuple[float, float, float]:
    """Return the shares of ``texts`` that parse strictly, have full bars, and both."""
    parsed = full = both = 0
    for text in texts:
        metrics = measure_tune("X:1\n" + text)
        bars_ok = metrics.checked_bars == metrics.complete_bars
        parsed += metrics.parsed
        full += bars_ok
        both += metrics.parsed and bars_ok
    count = max(1, len(texts))
    return parsed / count, full / count, both / count


def measure_sampling(run: Path, count: int, seed: int) -> list[str]:
    """Sample ``count`` tunes both ways and return one table row per way."""
    from musicgen.constrain.masked import sample_constrained
    from musicgen.model import load_model
    from musicgen.sample import Sampler, SamplingSettings
    from musicgen.vocab import Vocabulary

    sampler = Sampler(load_model(str(run / "model.keras")), Vocabulary.load(run / "vocab.json"))
    settings = SamplingSettings(max_length=1000, seed=seed)
    sample_constrained(sampler, 2, SamplingSettings(max_length=20))  # trace the step
    sampler.sample(2, SamplingSettings(max_length=20))  # trace the loop
    rows = []
    for way in ("constrained", "plain"):
        started = time.perf_counter()
        if way == "constrained":
            texts = sample_constrained(sampler, count, settings)
        else:
            texts = sampler.sample(count, settings)
        seconds = time.perf_counter() - started
        parsed, full, both = valid_shares(texts)
        rate = sum(len(text) for text in texts) / seconds
        rows.append(
            f"{way:<12} {count:>5} {parsed:>7.1%} {full:>9.1%} {both:>7.1%} "
            f"{sum(len(text) for text in texts) / count:>7.0f} {rate:>9,.0f} chars/s"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="run folder to sample from")
    parser.add_argument("--count", type=int, default=200, help="tunes per way (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    parser.add_argument(
        "--corpora",
        default="oneills,ryans,essen",
        help="bundled corpora to check, comma-separated; empty to skip (default all three)",
    )
    parser.add_argument(
        "--list-rejected",
        action="store_true",
        help="list the tunes of each corpus that the syntax rules reject",
    )
    args = parser.parse_args()
    print(machine_line())

    corpora = [name for name in args.corpora.split(",") if name]
    if corpora:
        print(f"\n{'corpus':<8} {'rules':<15} {'accepted':>11} {'share':>7} {'speed':>17}")
        for name in corpora:
            for row in measure_corpus(name, list_rejected=args.list_rejected):
                print(row)
    if args.run:
        print(f"\nrun: {args.run}, seed {args.seed}, at most 1000 characters per tune")
        print(
            f"{'sampling':<12} {'tunes':>5} {'parsed':>7} {'full bars':>9} {'both':>7} "
            f"{'chars':>7} {'speed':>17}"
        )
        for row in measure_sampling(args.run, args.count, args.seed):
            print(row)


if __name__ == "__main__":
    main()
