"""Time converting all of O'Neill's Music of Ireland to MIDI with musicgen, abc2midi and music21.

Usage: PYTHONPATH=. python benchmarks/convert_speed.py [--repeats 3] [--skip-music21] [--jobs N]

Each converter runs as whole processes, from start-up to the last file
written, on its own copy of the 39 tunebooks (2,009 tunes):

* musicgen: one ``python -m musicgen -q convert IN -o OUT`` process, which
  converts tunebooks in one worker process per CPU unless ``--jobs`` sets
  the number (``--jobs 1`` converts in that one process);
* abc2midi: one ``abc2midi FILE -silent`` process per tunebook (it writes one
  .mid per tune beside the file), run one after another by one shell;
* music21: one Python process that calls ``music21.converter.parse`` on each
  tunebook (``forceSource=True``, no cached parse) and writes every score as
  MIDI, counting the tunes whose MIDI export fails.

musicgen and abc2midi alternate for ``--repeats`` rounds and the best time of
each is kept, since other processes on a shared machine only ever add time;
music21 takes minutes, so it runs once. The CPU seconds (user and system, of
the process and its children, least of the rounds) stand beside the wall
time, which depends more on the machine's load. The verdict checks the two
targets on wall time: musicgen at most 15 times abc2midi's time and at most
a tenth of music21's.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import music21

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(music21.__file__).parent / "corpus" / "oneills1850"

MUSIC21_SCRIPT = """
import sys
from pathlib import Path
from music21 import converter
written = failed = 0
for path in sorted(Path(sys.argv[1]).glob("*.abc")):
    parsed = converter.parse(path, forceSource=True)
    scores = parsed.scores if hasattr(parsed, "scores") else [parsed]
    for number, score in enumerate(scores):
        try:
            score.write("midi", fp=str(path.with_name(f"{path.stem}-{number}.mid")))
            written += 1
        except Exception:
            failed += 1
print(written, failed)
"""


def copy_corpus(folder: Path) -> Path:
    """Copy O'Neill's tunebooks into a fresh ``folder/in`` and return it."""
    target = folder / "in"
    target.mkdir(parents=True)
    for path in sorted(CORPUS.glob("*.abc")):
        shutil.copy(path, target / path.name)
    return target


# CPU seconds (user and system) of finished child processes and their children.
CPU_USED: dict[str, list[float]] = {"musicgen": [], "abc2midi": [], "music21": []}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(
    name: str, command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, str]:
    """Run ``command`` to the end; return (wall seconds, its standard output).

    The CPU seconds it and its children used go to :data:`CPU_USED`.
    """
    cpu = children_cpu()
    started = time.perf_counter()
    completed = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    CPU_USED[name].append(children_cpu() - cpu)
    if completed.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {completed.stderr[-500:]}")
    return elapsed, completed.stdout


def run_musicgen(folder: Path, jobs: int | None) -> tuple[float, int]:
    source, output = copy_corpus(folder), folder / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "musicgen", "-q", "convert", str(source), "-o", str(output)]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    seconds, _ = timed("musicgen", command, ROOT, env)
    return seconds, len(list(output.glob("*.mid")))


def run_abc2midi(folder: Path) -> tuple[float, int]:
    source = copy_corpus(folder)
    script = 'for f in *.abc; do abc2midi "$f" -silent >/dev/null 2>&1; done'
    seconds, _ = timed("abc2midi", ["sh", "-c", script], source)
    return seconds, len(list(source.glob("*.mid")))


def run_music21(folder: Path) -> tuple[float, int, int]:
    source = copy_corpus(folder)
    seconds, out = timed("music21", [sys.executable, "-c", MUSIC21_SCRIPT, str(source)], folder)
    written, failed = (int(word) for word in out.split())
    return seconds, written, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="rounds of musicgen and abc2midi")
    parser.add_argument("--skip-music21", action="store_true", help="leave out the slow peer")
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="musicgen's --jobs: processes converting at once (default: musicgen's, one per CPU)",
    )
    args = parser.parse_args()
    if shutil.which("abc2midi") is None:
        raise SystemExit("abc2midi not found; install the Debian package abcmidi")

    times: dict[str, list[float]] = {"musicgen": [], "abc2midi": []}
    files: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as work:
        for round_number in range(args.repeats):
            folder = Path(work) / f"abc2midi-{round_number}"
            seconds, files["abc2midi"] = run_abc2midi(folder)
            times["abc2midi"].append(seconds)
            folder = Path(work) / f"musicgen-{round_number}"
            seconds, files["musicgen"] = run_musicgen(folder, args.jobs)
            times["musicgen"].append(seconds)
        music21_result = None if args.skip_music21 else run_music21(Path(work) / "music21")

    best = {name: min(values) for name, values in times.items()}
    cpu = {name: min(values) for name, values in CPU_USED.items() if values}
    print(f"{'converter':<10}{'best s':>9}{'CPU s':>8}{'files':>8}{'vs abc2midi':>13}  all runs s")
    for name in ("abc2midi", "musicgen"):
        runs = " ".join(f"{value:.2f}" for value in times[name])
        ratio = best[name] / best["abc2midi"]
        print(
            f"{name:<10}{best[name]:>9.2f}{cpu[name]:>8.2f}{files[name]:>8}{ratio:>12.1f}x  {runs}"
        )
    verdict = [
        f"musicgen / abc2midi = {best['musicgen'] / best['abc2midi']:.1f} (target <= 15)",
        f"in CPU seconds {cpu['musicgen'] / cpu['abc2midi']:.1f}",
    ]
    if music21_result is not None:
        seconds, written, failed = music21_result
        ratio = seconds / best["abc2midi"]
        row = f"{'music21':<10}{seconds:>9.2f}{cpu['music21']:>8.2f}{written:>8}{ratio:>12.1f}x"
        print(f"{row}  (one run)")
        print(f"music21 could not export {failed} tunes to MIDI")
        verdict.append(f"musicgen / music21 = {best['musicgen'] / seconds:.3f} (target <= 0.1)")
    print("; ".join(verdict))
    jobs = "one per CPU" if args.jobs is None else str(args.jobs)
    print(
        f"CPUs: {os.cpu_count()}, musicgen --jobs: {jobs}, "
        f"load average at the end: {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
