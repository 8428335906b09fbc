"""Read ABC tunebooks into a training corpus of cleaned tunes.

Inputs are any mix of ``.abc`` files, folders (searched recursively) and the
names of the bundled corpora, which are read from the ``.abc`` files that the
installed music21 package ships (see ``datasets/abc/README.md``).
"""

from __future__ import annotations

import importlib.util
import logging
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from gettext import ngettext
from pathlib import Path

from musicgen.abc.tunebook import RawTune, split_tunebook
from musicgen.errors import UserError

logger = logging.getLogger(__name__)

# Bundled corpus name -> (folder inside music21/corpus, description).
BUNDLED_CORPORA: dict[str, tuple[str, str]] = {
    "oneills": ("oneills1850", "O'Neill's Music of Ireland (1850), about 2,000 Irish tunes"),
    "ryans": ("ryansMammoth", "Ryan's Mammoth Collection (1883), about 1,000 fiddle tunes"),
    "essen": ("essenFolksong", "Essen folksong collection, about 8,500 mostly German songs"),
}
DEFAULT_CORPUS = "oneills"

# Header fields that shape the music, in the order a cleaned tune writes them.
# ABC 2.1, section 3: T title, R rhythm, M meter, L unit note length, Q tempo,
# P parts, V voice, K key (K: ends the header).
MUSICAL_HEADER_FIELDS = ("T", "R", "M", "L", "Q", "P", "V", "K")
# Fields that may change the music inside the body (ABC 2.1, section 3.2).
MUSICAL_BODY_FIELDS = frozenset("KLMQPV")

_FIELD = re.compile(r"^([A-Za-z+]):(.*)$")
_NOTE_LETTER = re.compile(r"[A-Ga-g]")


@dataclass(frozen=True)
class Tune:
    """One cleaned tune of a corpus.

    Attributes:
        text: The tune as the model sees it: musical header fields (no ``X:``)
            then the body, ``\\n`` line endings, no trailing newline.
        source: Where it came from, such as ``0001-0050.abc, tune X:12``.
    """

    text: str
    source: str


@dataclass
class CorpusReport:
    """Counts of what loading a corpus read, kept and dropped."""

    files: int = 0
    read: int = 0
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        """Describe the counts, one line for the totals and one per drop reason."""
        tunes = ngettext("tune", "tunes", self.read)
        files = ngettext("file", "files", self.files)
        summary = [
            f"read {self.read} {tunes} from {self.files} {files}, kept {self.kept}, "
            f"dropped {self.read - self.kept}"
        ]
        for reason, count in self.dropped.most_common():
            summary.append(f"  dropped {count}: {reason}")
        return summary


@dataclass
class Corpus:
    """The cleaned tunes of one or more inputs, with the report of loading them."""

    tunes: list[Tune]
    report: CorpusReport


def music21_corpus_root() -> Path:
    """Locate music21's ``corpus`` folder without importing music21 (which is slow).

    Raises:
        UserError: music21 is not installed.
    """
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            "the bundled corpora are read from the music21 package, which is not installed; "
            "install it with 'pip install music21' or pass your own .abc files with --data"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "corpus"


def bundled_corpus_files(name: str) -> list[Path]:
    """Return the ``.abc`` files of bundled corpus ``name``, sorted by path.

    Raises:
        UserError: ``name`` is not a bundled corpus or its files are missing.
    """
    if name not in BUNDLED_CORPORA:
        known = ", ".join(sorted(BUNDLED_CORPORA))
        raise UserError(f"unknown corpus {name!r}; bundled corpora are: {known}")
    folder = music21_corpus_root() / BUNDLED_CORPORA[name][0]
    files = sorted(folder.rglob("*.abc"))
    if not files:
        raise UserError(
            f"corpus {name!r}: no .abc files in {folder}; reinstall music21 "
            "('pip install --force-reinstall music21')"
        )
    return files


def resolve_inputs(inputs: Sequence[str]) -> list[Path]:
    """Turn corpus names, ``.abc`` files and folders into a list of ``.abc`` files.

    A name that is an existing path is read as a path, so a folder called
    ``oneills`` in the current directory wins over the bundled corpus.

    Raises:
        UserError: an input is neither a bundled corpus nor an existing path,
            or a folder contains no ``.abc`` file.
    """
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".abc")
            if not found:
                raise UserError(
                    f"folder {path} contains no .abc files; pass a folder of ABC tunebooks"
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif item in BUNDLED_CORPORA:
            files.extend(bundled_corpus_files(item))
        else:
            known = ", ".join(sorted(BUNDLED_CORPORA))
            raise UserError(f"data {item!r} is not a file, a folder or a bundled corpus ({known})")
    # The same file named twice (say, a folder and a file in it) is read once.
    return list(dict.fromkeys(files))


def load_corpus(inputs: Sequence[str]) -> Corpus:
    """Read, clean and deduplicate the tunes of ``inputs``.

    Args:
        inputs: Bundled corpus names, ``.abc`` files and folders.

    Returns:
        The kept tunes in input order and a report of what was dropped and why.

    Raises:
        UserError: an input cannot be found or read.
    """
    report = CorpusReport()
    tunes: list[Tune] = []
    seen: set[str] = set()
    for path in resolve_inputs(inputs):
        report.files += 1
        for raw in split_tunebook(read_abc_text(path), source=path.name):
            report.read += 1
            text, reason = clean_tune(raw)
            if reason is None and _body_key(text) in seen:
                reason = "duplicate of an earlier tune"
            if reason is not None:
                report.dropped[reason] += 1
                logger.debug("%s: dropped, %s", raw.label, reason)
                continue
            seen.add(_body_key(text))
            tunes.append(Tune(text, raw.label))
    report.kept = len(tunes)
    return Corpus(tunes, report)


def read_abc_text(path: Path) -> str:
    """Read an ABC file as UTF-8, or as Latin-1 when it is not valid UTF-8.

    Raises:
        UserError: the file cannot be read.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}") from error
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Older tunebooks are often Latin-1; every byte decodes, so nothing is lost.
        logger.info("%s is not UTF-8; read it as Latin-1", path)
        return data.decode("latin-1")


def clean_tune(raw: RawTune) -> tuple[str, str | None]:
    """Keep only the parts of ``raw`` that shape the music.

    The file header's fields are applied first, then the tune's own. Only the
    fields in ``MUSICAL_HEADER_FIELDS`` stay in the header (the first title
    only), in that order; the body keeps music lines and the fields in
    ``MUSICAL_BODY_FIELDS``. Comments, directives, lyrics, notes, sources and
    every other field are dropped.

    Returns:
        The cleaned text and ``None``, or an empty text and the reason the
        tune was dropped.
    """
    header: dict[str, list[str]] = {}
    for text_line in raw.header:
        _add_header_field(header, text_line)

    lines = [_strip_comment(text_line) for text_line in raw.text.split("\n")[1:]]
    body_start = None
    for index, text_line in enumerate(lines):
        if _add_header_field(header, text_line) == "K":
            body_start = index + 1
            break
    if body_start is None:
        return "", "no K: field, so the tune has no body"

    body = [_clean_body_line(text_line) for text_line in lines[body_start:]]
    body = [text_line for text_line in body if text_line]
    music = [text_line for text_line in body if not _FIELD.match(text_line)]
    if not any(_NOTE_LETTER.search(text_line) for text_line in music):
        return "", "no notes"

    header_lines: list[str] = []
    for name in MUSICAL_HEADER_FIELDS:
        values = header.get(name, [])
        if name == "T":
            values = values[:1]
        header_lines.extend(f"{name}:{value}" for value in values)
    return "\n".join(header_lines + body), None


def _add_header_field(header: dict[str, list[str]], text_line: str) -> str | None:
    match = _FIELD.match(text_line)
    if not match:
        return None
    name, value = match.group(1), match.group(2).strip()
    if name in MUSICAL_HEADER_FIELDS and value:
        if name in ("T", "V"):
            header.setdefault(name, []).append(value)
        else:
            # A tune's own field replaces the one inherited from the file header.
            header[name] = [value]
    return name


def _strip_comment(text_line: str) -> str:
    # ABC 2.1, section 2.2.3: '%' starts a comment, except in '\%'; '%%' starts a directive.
    index = 0
    while True:
        index = text_line.find("%", index)
        if index < 0:
            return text_line.rstrip()
        if index == 0 or text_line[index - 1] != "\\":
            return text_line[:index].rstrip()
        index += 1


def _clean_body_line(text_line: str) -> str:
    match = _FIELD.match(text_line)
    if match:
        name, value = match.group(1), match.group(2).strip()
        return f"{name}:{value}" if name in MUSICAL_BODY_FIELDS and value else ""
    return text_line.strip()


def _body_key(text: str) -> str:
    """Return the text without its title, so the same music under two titles is one tune."""
    return "\n".join(line for line in text.split("\n") if not line.startswith("T:"))


def split_train_validation(
    tunes: Sequence[Tune], validation_fraction: float = 0.05, seed: int = 0
) -> tuple[list[Tune], list[Tune]]:
    """Split ``tunes`` by tune into a training and a validation list.

    Args:
        tunes: The corpus.
        validation_fraction: Share of tunes for validation, from 0 to 0.5. At
            least one tune goes to validation when there are two or more.
        seed: Seed of the shuffle, so the same seed gives the same split.

    Raises:
        ValueError: ``validation_fraction`` is outside [0, 0.5].
    """
    if not 0.0 <= validation_fraction <= 0.5:
        raise ValueError(
            f"validation_fraction must be between 0 and 0.5, got {validation_fraction}"
        )
    order = list(range(len(tunes)))
    random.Random(seed).shuffle(order)
    count = round(len(tunes) * validation_fraction)
    if validation_fraction > 0 and count == 0 and len(tunes) >= 2:
        count = 1
    validation = sorted(order[:count])
    training = sorted(order[count:])
    return [tunes[i] for i in training], [tunes[i] for i in validation]


def describe_bundled() -> Iterable[str]:
    """Yield one line per bundled corpus: its name and what it holds."""
    for name, (_, description) in BUNDLED_CORPORA.items():
        yield f"{name}: {description}"
