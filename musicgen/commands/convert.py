"""Convert ABC tunebooks to MIDI files, one file per tune, without any model.

Folders are searched recursively for .abc files. With -o FILE.mid exactly one
tune must be selected; with -o FOLDER (or no -o) each tune is written as
<tunebook>_X<reference>.mid, in FOLDER or beside its tunebook. Existing files
are never replaced unless --force is given.

Exit status: 0 when at least one tune converted, 1 when none did, 2 for
invalid options or paths.
"""

from __future__ import annotations

import argparse
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from musicgen.abc import AbcError, Tune, parse_tunebook
from musicgen.errors import UserError
from musicgen.midi import write_midi

logger = logging.getLogger(__name__)

# Warnings shown per tune before the rest are only counted (all show with -vv).
MAX_WARNINGS_SHOWN = 5


@dataclass
class _Job:
    tune: Tune
    target: Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of the ``convert`` command."""
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="FILE_OR_FOLDER",
        help=".abc files, or folders searched recursively for them",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="OUT",
        help="a .mid file for a single tune, or a folder for many (default: beside each tunebook)",
    )
    parser.add_argument(
        "--tune",
        action="append",
        metavar="X",
        help="convert only the tune with this X: number (repeatable)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail a tune at its first problem instead of converting around it",
    )
    parser.add_argument(
        "--program",
        type=int,
        default=0,
        metavar="N",
        help="General MIDI program 0-127 (default: 0, acoustic grand piano)",
    )
    parser.add_argument("--force", action="store_true", help="replace existing .mid files")


def find_abc_files(paths: list[Path]) -> list[Path]:
    """Return the files named in ``paths``, with folders searched recursively for ``.abc``.

    Raises:
        UserError: A path does not exist, or no .abc file is found.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() == ".abc"))
        elif path.is_file():
            files.append(path)
        else:
            raise UserError(f"{path} not found; pass an .abc file or a folder of them")
    if not files:
        raise UserError(f"no .abc files found in {', '.join(map(str, paths))}")
    return files


def target_name(source: Path, reference: str) -> str:
    """Return the MIDI file name for a tune, such as ``jigs_X12.mid``."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", reference).strip("-") or "unnumbered"
    return f"{source.stem}_X{safe}.mid"


def _plan(args: argparse.Namespace, tunes: list[tuple[Path, Tune]]) -> list[_Job]:
    """Choose the output path of each tune and check that none would be replaced."""
    output: Path | None = args.output
    single_file = output is not None and output.suffix.lower() in (".mid", ".midi")
    if single_file and len(tunes) != 1:
        raise UserError(
            f"-o {output} names one file but {len(tunes)} tunes converted; "
            "pass a folder to -o, or choose one tune with --tune"
        )
    jobs: list[_Job] = []
    used: set[Path] = set()
    for source, tune in tunes:
        if single_file:
            assert output is not None
            target = output
        else:
            folder = output if output is not None else source.parent
            target = folder / target_name(source, tune.reference)
            counter = 2
            while target in used:
                target = folder / target_name(source, f"{tune.reference}-{counter}")
                counter += 1
        used.add(target)
        jobs.append(_Job(tune, target))
    existing = [job.target for job in jobs if job.target.exists()]
    if existing and not args.force:
        listed = ", ".join(map(str, existing[:3])) + (" ..." if len(existing) > 3 else "")
        raise UserError(f"{len(existing)} output files already exist ({listed}); pass --force")
    return jobs


def _report_warnings(tune: Tune) -> None:
    for warning in tune.warnings[:MAX_WARNINGS_SHOWN]:
        logger.warning("%s", warning)
    hidden = len(tune.warnings) - MAX_WARNINGS_SHOWN
    if hidden > 0:
        logger.warning(
            "%s, tune X:%s: %d more warnings (-vv shows them)", tune.source, tune.reference, hidden
        )
        for warning in tune.warnings[MAX_WARNINGS_SHOWN:]:
            logger.debug("%s", warning)


def main(args: argparse.Namespace) -> int:
    """Convert the tunes and print a summary; return 0 if any converted, else 1."""
    if not 0 <= args.program <= 127:
        raise UserError(f"--program {args.program} is invalid; use 0 to 127")
    converted: list[tuple[Path, Tune]] = []
    failed: list[AbcError] = []
    for path in find_abc_files(args.paths):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            raise UserError(f"cannot read {path}: {error.strerror}") from error
        book = parse_tunebook(text, strict=args.strict, source=str(path))
        selected = [t for t in book.tunes if not args.tune or t.reference in args.tune]
        converted.extend((path, tune) for tune in selected)
        failed.extend(e for e in book.errors if not args.tune or e.tune in args.tune)
    if args.output is not None and args.output.suffix.lower() not in (".mid", ".midi"):
        args.output.mkdir(parents=True, exist_ok=True)
    jobs = _plan(args, converted)
    for failure in failed:
        logger.error("%s", failure)
    for job in jobs:
        _report_warnings(job.tune)
        write_midi(job.tune, job.target, program=args.program, overwrite=args.force)
    where = str(args.output) if args.output is not None else "beside each tunebook"
    print(f"converted {len(jobs)} tunes, {len(failed)} failed, written to {where}")
    return 0 if jobs else 1
