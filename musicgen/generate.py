"""Sample tunes from a trained run and from the same network untrained; write ABC and MIDI."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from musicgen.abc import AbcError, parse_tune
from musicgen.abc.fields import default_unit_length, parse_meter
from musicgen.abc.keys import parse_key
from musicgen.files import write_text_atomic
from musicgen.midi import write_midi
from musicgen.sample import Sampler, SamplingSettings
from musicgen.tunetext import has_key_and_notes

logger = logging.getLogger(__name__)

_KEY_LINE = re.compile(r"^K:", re.MULTILINE)
# A bar line as the lexer reads it, with the variant ending attached to it.
_BAR_LINE = re.compile(r":*\[\|\]|:*\[\||:*\|[|\]]*:*|::+")
_FIELD_LINE = re.compile(r"^[A-Za-z+]:")
_CONTENT = re.compile(r"[A-Ga-gzx]")


@dataclass
class SongFiles:
    """One sampled tune and what became of it."""

    number: int
    text: str
    abc_path: Path
    midi_path: Path | None = None
    extracted: bool = False
    parsed: bool = False
    problem: str = ""


@dataclass
class SideResult:
    """The tunes of one side (trained or untrained) and their counts."""

    name: str
    mode: str
    folder: Path
    songs: list[SongFiles] = field(default_factory=list)

    @property
    def extracted(self) -> int:
        """Tunes with a ``K:`` field and at least one note after it."""
        return sum(song.extracted for song in self.songs)

    @property
    def parsed(self) -> int:
        """Tunes that parse in strict mode."""
        return sum(song.parsed for song in self.songs)

    @property
    def converted(self) -> int:
        """Tunes written as MIDI (lenient conversion, at least one note)."""
        return sum(song.midi_path is not None for song in self.songs)


def extract_tune(sample: str) -> str | None:
    """Return ``sample`` stripped if it has a key field and notes after it, else ``None``."""
    text = sample.strip()
    return text if has_key_and_notes(text) else None


# The comment generate writes into a sample that is no tune, above the K:C it adds.
ADDED_KEY_NOTE = "% no K: field with notes in the sample: musicgen added K:C to play it"


def sample_text(abc_text: str) -> str:
    """Return what ``evaluate --abc-dir`` measures of a file ``write_side`` wrote.

    For an extracted tune this is the file's text. For a sample that is no
    tune, it is the sample's lines after the added ``K:C``: the sample
    without its ``X:`` lines and empty lines, which ``write_side`` drops.
    Measured this way it still has no ``K:`` field, as the network wrote it.
    """
    marker = abc_text.find(ADDED_KEY_NOTE + "\nK:C\n")
    if marker < 0:
        return abc_text
    return abc_text[marker + len(ADDED_KEY_NOTE) + len("\nK:C\n") :]


def finish_tune(text: str, number: int, title: str) -> str:
    """Put ``X:`` first and add ``T:`` when the sample has no title (ABC 2.1, section 3.1.1)."""
    lines = [line for line in text.split("\n") if not line.startswith("X:")]
    if not any(line.startswith("T:") for line in lines):
        lines.insert(0, f"T:{title}")
    return "\n".join([f"X:{number}", *lines]) + "\n"


def write_side(
    name: str,
    mode: str,
    samples: list[str],
    folder: Path,
    *,
    program: int = 0,
) -> SideResult:
    """Write each sample of one side as ``.abc`` and, where it converts, ``.mid``."""
    folder.mkdir(parents=True, exist_ok=False)
    result = SideResult(name, mode, folder)
    for number, sample in enumerate(samples, start=1):
        stem = f"{name}-{number:02d}"
        song = SongFiles(number, sample, folder / f"{stem}.abc")
        title = f"{name.capitalize()} tune {number}"
        tune_text = extract_tune(sample)
        if tune_text is None:
            # Not a tune, but its note letters can still be heard: read the whole
            # sample as music in C major. Empty lines are dropped because one
            # would end the tune (ABC 2.1, section 2.2).
            lines = [line for line in sample.split("\n") if line.strip()]
            song.text = finish_tune("\n".join([ADDED_KEY_NOTE, "K:C", *lines]), number, title)
            song.problem = "no K: field with notes after it; read as music in C major"
        else:
            song.extracted = True
            song.text = finish_tune(tune_text, number, title)
        write_text_atomic(song.abc_path, song.text)
        _convert(song, folder / f"{stem}.mid", program)
        result.songs.append(song)
    return result


def _convert(song: SongFiles, midi_path: Path, program: int) -> None:
    source = song.abc_path.name
    try:
        parse_tune(song.text, strict=True, source=source)
        song.parsed = True
    except AbcError as error:
        song.problem = song.problem or str(error)
    try:
        tune = parse_tune(song.text, strict=False, source=source)
    except AbcError as error:
        song.problem = song.problem or str(error)
        return
    if not tune.notes:
        song.problem = song.problem or "no playable notes"
        return
    write_midi(tune, midi_path, program=program)
    song.midi_path = midi_path


def conditioning_primer(
    meter: str | None = None, key: str | None = None, rhythm: str | None = None
) -> str:
    """Return header lines that ask for a meter, key and rhythm, as the training text writes them.

    The lines come in the order of :data:`musicgen.corpus.MUSICAL_HEADER_FIELDS`
    (``R:``, ``M:``, ``L:``, ``K:``), each ending with a line break; the title
    is left to the network. ``L:`` is the default unit length of the meter
    (ABC 2.1 section 3.1.7), which is what the cleaned corpora write. With no
    key the header stays open, so the network writes the rest of it.

    Raises:
        ValueError: ``meter`` or ``key`` is not valid.
    """
    if key:
        parse_key(key)
    lines = []
    if rhythm:
        lines.append(f"R:{rhythm}")
    if meter:
        unit = default_unit_length(parse_meter(meter))
        lines += [f"M:{meter}", f"L:{unit.numerator}/{unit.denominator}"]
    if key:
        lines.append(f"K:{key}")
    return "".join(line + "\n" for line in lines)


def cut_after_bars(text: str, max_bars: int) -> str:
    """Cut a tune after the bar line that closes its ``max_bars``-th bar; 0 keeps it whole.

    Bars are counted in the music lines after the ``K:`` field. A bar line
    closes a bar when a note or rest comes between it and the previous one.
    """
    if max_bars <= 0:
        return text
    key = _KEY_LINE.search(text)
    start = text.find("\n", key.start()) if key else -1
    if start < 0:
        return text
    closed = 0
    offset = start + 1
    content = False
    for line in text[offset:].split("\n"):
        if not _FIELD_LINE.match(line):
            previous = 0
            for match in _BAR_LINE.finditer(line):
                content = content or bool(_CONTENT.search(line, previous, match.start()))
                if content:
                    closed += 1
                    content = False
                    if closed >= max_bars:
                        return text[: offset + match.end()]
                previous = match.end()
            content = content or bool(_CONTENT.search(line, previous))
        offset += len(line) + 1
    return text


def sample_side(
    sampler: Sampler,
    count: int,
    settings: SamplingSettings,
    prime: str,
    constrained: bool = False,
    fixed_fields: str = "",
) -> list[str]:
    """Sample ``count`` tunes, under the ABC state machine when ``constrained``.

    Under the state machine, the tune body may not set the fields named in
    ``fixed_fields`` (such as ``"KML"``) again.

    Raises:
        UnknownCharacterError: the primer contains characters outside the vocabulary.
        InvalidPrimerError: the state machine rejects the primer (constrained only).
    """
    mode = "constrained" if constrained else "plain"
    logger.info(
        "sampling %d %s (%s) of at most %d characters",
        count,
        "tune" if count == 1 else "tunes",
        mode,
        settings.max_length,
    )
    if constrained:
        from musicgen.constrain.masked import sample_constrained

        return sample_constrained(sampler, count, settings, prime, fixed_fields=fixed_fields)
    texts = sampler.sample(count, settings, prime)
    return [cut_after_bars(text, settings.max_bars) for text in texts]
