"""Convert ABC tunebooks to MIDI files, one file per tune, without any model.

Folders are searched recursively for .abc files. With -o FILE.mid exactly one
tune must be selected; with -o FOLDER (or no -o) each tune is written as
<tunebook>_X<reference>.mid, in FOLDER or beside its tunebook. Existing files
are never replaced unless --force is given. A tune that cannot be converted
does not stop the others: they are all written, and the bad ones are listed
at the end with the reason. Tunebooks are converted in parallel, one process
per CPU (--jobs).

Exit status: 0 when at least one tune converted, 1 when none did, 2 for
invalid options or paths.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from gettext import ngettext
from pathlib import Path

from musicgen.abc import AbcError, AbcWarning
from musicgen.abc.parser import iter_tunebook
from musicgen.corpus import read_abc_text
from musicgen.errors import UserError
from musicgen.files import write_bytes_atomic
from musicgen.midi import midi_bytes

logger = logging.getLogger(__name__)

# Warnings shown per tune before the rest are only counted (all show with -vv).
MAX_WARNINGS_SHOWN = 5
# Tune numbers listed in the error for -o FILE.mid with several tunes.
MAX_REFERENCES_LISTED = 5
# Fewer tunes than this are converted in this process: starting workers costs more.
PARALLEL_FROM_TUNES = 200
# Allocations between young-generation garbage collections while converting
# (Python's default is 700); see _fewer_collections.
GC_YOUNG_THRESHOLD = 10_000


@dataclass(frozen=True)
class _Options:
    """Settings a worker process needs to convert a tunebook."""

    strict: bool
    tunes: frozenset[str]
    program: int
    accompaniment: bool


@dataclass
class _Converted:
    """One converted tune: its ``X:`` value, its warnings and its MIDI file's bytes."""

    reference: str
    warnings: list[AbcWarning]
    data: bytes


@dataclass
class _Book:
    """The converted tunes and the errors of one tunebook."""

    path: Path
    tunes: list[_Converted] = field(default_factory=list)
    errors: list[AbcError] = field(default_factory=list)


@dataclass
class _Job:
    tune: _Converted
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
    parser.add_argument(
        "--accompaniment",
        action="store_true",
        help="play chord symbols as bass and chords on a track of their own "
        "(the pattern per meter is in docs/converter.md)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="processes converting tunebooks at once (default: the number of CPUs)",
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


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the garbage collector less often inside the block, and restore its thresholds after.

    Converting allocates millions of small containers (tokens, events, notes)
    that die with their tune. With Python's default of a young-generation
    collection every 700 allocations, converting O'Neill's tunebooks took
    about 7% longer in one process.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def convert_book(path: Path, text: str, options: _Options) -> _Book:
    """Convert the tunes of one tunebook to MIDI bytes (run in a worker process)."""
    result = _Book(path)
    # Each tune goes to MIDI as soon as it is parsed, while its notes are
    # still in the CPU cache, and is then dropped.
    with _fewer_collections():
        for item in iter_tunebook(text, strict=options.strict, source=str(path)):
            if isinstance(item, AbcError):
                if not options.tunes or item.tune in options.tunes:
                    result.errors.append(item)
            elif not options.tunes or item.reference in options.tunes:
                data = midi_bytes(
                    item, program=options.program, accompaniment=options.accompaniment
                )
                result.tunes.append(_Converted(item.reference, item.warnings, data))
    return result


def _convert_all(files: list[Path], options: _Options, jobs: int) -> list[_Book]:
    texts = [read_abc_text(path) for path in files]
    tunes = sum(text.count("\nX:") + text.startswith("X:") for text in texts)
    if jobs <= 1 or len(files) == 1 or tunes < PARALLEL_FROM_TUNES:
        return [convert_book(path, text, options) for path, text in zip(files, texts, strict=True)]
    # Imported here: a conversion in this process need not pay for it.
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(min(jobs, len(files))) as pool:
        return list(pool.map(convert_book, files, texts, [options] * len(files)))


def _plan(output: Path | None, books: list[_Book], force: bool) -> list[_Job]:
    """Choose the output path of each tune and check that none would be replaced."""
    single_file = output is not None and output.suffix.lower() in (".mid", ".midi")
    references = [tune.reference for book in books for tune in book.tunes]
    if single_file and len(references) > 1:
        listed = ", ".join(f"X:{reference}" for reference in references[:MAX_REFERENCES_LISTED])
        if len(references) > MAX_REFERENCES_LISTED:
            listed += " ..."
        unique = [reference for reference in references if references.count(reference) == 1]
        if unique:
            advice = f"Choose one with --tune X, such as --tune {unique[0]}, or give a folder to -o"
        else:
            advice = "Every X: number is used twice or more, so give a folder to -o"
        raise UserError(
            f"nothing was written: -o {output} names one file, but {len(references)} tunes "
            f"converted ({listed}). {advice}"
        )
    jobs: list[_Job] = []
    used: set[Path] = set()
    for book in books:
        for tune in book.tunes:
            if single_file:
                assert output is not None
                target = output
            else:
                folder = output if output is not None else book.path.parent
                target = first = folder / target_name(book.path, tune.reference)
                counter = 2
                while target in used:
                    target = folder / target_name(book.path, f"{tune.reference}-{counter}")
                    counter += 1
                if target != first:
                    logger.warning(
                        "%s, tune X:%s: %s is taken by an earlier tune; writing %s",
                        book.path,
                        tune.reference,
                        first.name,
                        target.name,
                    )
            used.add(target)
            jobs.append(_Job(tune, target))
    existing = [job.target for job in jobs if job.target.exists()]
    if existing and not force:
        listed = ", ".join(map(str, existing[:3])) + (" ..." if len(existing) > 3 else "")
        files = ngettext("output file already exists", "output files already exist", len(existing))
        raise UserError(f"{len(existing)} {files} ({listed}); pass --force")
    return jobs


def _report_warnings(source: Path, tune: _Converted) -> None:
    """Log the first few warnings of a tune and count the rest, or log them all with -vv."""
    limit = len(tune.warnings) if logger.isEnabledFor(logging.DEBUG) else MAX_WARNINGS_SHOWN
    for warning in tune.warnings[:limit]:
        logger.warning("%s", warning)
    hidden = len(tune.warnings) - limit
    if hidden > 0:
        noun = "warning" if hidden == 1 else "warnings"
        logger.warning(
            "%s, tune X:%s: %d more %s (-vv shows them)", source, tune.reference, hidden, noun
        )


def _output_path(text: str | None) -> Path | None:
    """Return the -o value as a path, or None when it is not given.

    Raises:
        UserError: The value is empty, which Path would read as the current folder.
    """
    if text is None:
        return None
    if not text:
        raise UserError("-o is empty; pass a .mid file for one tune or a folder for many")
    return Path(text)


def main(args: argparse.Namespace) -> int:
    """Convert the tunes, list the ones that failed; return 0 if any converted, else 1."""
    output = _output_path(args.output)
    if not 0 <= args.program <= 127:
        raise UserError(f"--program {args.program} is invalid; use 0 to 127")
    if args.jobs < 1:
        raise UserError(f"--jobs {args.jobs} is invalid; use 1 or more")
    options = _Options(args.strict, frozenset(args.tune or ()), args.program, args.accompaniment)
    books = _convert_all(find_abc_files(args.paths), options, args.jobs)
    jobs = _plan(output, books, args.force)
    if output is not None and jobs:
        single = output.suffix.lower() in (".mid", ".midi")
        folder = output.parent if single else output
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserError(
                f"cannot create the output folder {folder}: {error.strerror}"
            ) from error
    # Failed tunes are listed once, in the summary at the end.
    failed = [error for book in books for error in book.errors]
    sources = {id(tune): book.path for book in books for tune in book.tunes}
    for written, job in enumerate(jobs):
        _report_warnings(sources[id(job.tune)], job.tune)
        try:
            write_bytes_atomic(job.target, job.tune.data)
        except OSError as error:
            raise UserError(
                f"cannot write {job.target}: {error.strerror}; {written} "
                f"{ngettext('file was', 'files were', written)} written before it, and no other "
                "file was changed"
            ) from error
    if not jobs:
        where = "nothing written"
    elif output is not None:
        where = f"written to {output}"
    else:
        where = "written beside each tunebook"
    noun = "tune" if len(jobs) == 1 else "tunes"
    print(f"converted {len(jobs)} {noun}, {len(failed)} failed, {where}")
    found = {tune.reference for book in books for tune in book.tunes}
    found |= {str(error.tune) for book in books for error in book.errors}
    missing = sorted(options.tunes - found)
    if missing:
        print(f"no tune with X:{', X:'.join(missing)} in the given files")
    if failed:
        print("failed tunes:")
        for failure in failed:
            print(f"  {failure}")
    return 0 if jobs else 1
