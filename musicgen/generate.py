"""Sample tunes from a trained run and from the same network untrained; write ABC and MIDI."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from musicgen.abc import AbcError, parse_tune
from musicgen.constrain import TuneChecker
from musicgen.files import write_text_atomic
from musicgen.midi import write_midi
from musicgen.sample import Sampler, SamplingSettings

logger = logging.getLogger(__name__)

_KEY_LINE = re.compile(r"^K:", re.MULTILINE)
_NOTE = re.compile(r"[A-Ga-g]")


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
    """Return the tune in ``sample`` if it has a key field and notes after it, else ``None``.

    Lines after the last line that holds a note are dropped, so a sample cut
    at the length limit does not end in a half-written field.
    """
    text = sample.strip()
    key = _KEY_LINE.search(text)
    if key is None:
        return None
    body = text[text.find("\n", key.start()) + 1 :] if "\n" in text[key.start() :] else ""
    if not _NOTE.search(body):
        return None
    return text


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
            song.text = finish_tune("\n".join(["K:C", *lines]), number, title)
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


def sample_side(
    sampler: Sampler,
    count: int,
    settings: SamplingSettings,
    prime: str,
    checker: TuneChecker | None = None,
) -> list[str]:
    """Sample ``count`` tunes, line by line under ``checker`` when one is given."""
    mode = "constrained" if checker else "plain"
    logger.info("sampling %d tunes (%s) of at most %d characters", count, mode, settings.max_length)
    if checker is None:
        return sampler.sample(count, settings, prime)
    return sampler.sample_checked(count, settings, checker, prime)
