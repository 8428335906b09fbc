"""Compare this converter's notes with those of abc2midi, the reference ABC player.

Used by the tests and by ``benchmarks/abc_agreement.py``; the converter itself
never runs abc2midi. abc2midi 4.84 writes 480 ticks per quarter note and
starts every note one tick late (ending it on time), so its onsets are moved
one tick earlier before comparing. Its chord notes are staggered by 10 ticks
unless ``%%MIDI chordattack 0`` is given, so that directive is added. It
swings the eighth notes of tunes with ``R:hornpipe`` (2:1), which is a
playing style, not notation, so :func:`for_abc2midi` removes ``R:`` lines.
Ornaments, fermatas and grace notes are compared as both converters play them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import mido

from musicgen.abc.errors import AbcError
from musicgen.abc.model import Tune
from musicgen.abc.ornaments import played_notes
from musicgen.abc.parser import parse_tune
from musicgen.abc.quirks import QUIRKS
from musicgen.abc.tunebook import RawTune

ABC2MIDI_TICKS_PER_QUARTER = 480
# abc2midi options: no chord symbol accompaniment, quiet.
ABC2MIDI_OPTIONS = ["-NGUI", "-silent"]

# (pitch, onset, duration), times in abc2midi ticks.
TickNote = tuple[int, int, int]


@dataclass
class Agreement:
    """The match between two conversions of one tune, note by note.

    Attributes:
        matched: Notes with the same pitch, onset and duration within the tolerance.
        ours_only: Notes only this converter played.
        theirs_only: Notes only abc2midi played.
    """

    matched: int
    ours_only: list[TickNote]
    theirs_only: list[TickNote]

    @property
    def identical(self) -> bool:
        """True when every note matched."""
        return not self.ours_only and not self.theirs_only


def abc2midi_path() -> str | None:
    """Return the path of the abc2midi program, or None if it is not installed."""
    return shutil.which("abc2midi")


def for_abc2midi(tune_text: str) -> str:
    """Return ``tune_text`` without its ``R:`` lines, so abc2midi plays no swing."""
    return "\n".join(line for line in tune_text.split("\n") if not line.startswith("R:"))


def run_abc2midi(tune_text: str, timeout: float = 20.0) -> list[TickNote]:
    """Convert one tune with abc2midi and return its notes (see :func:`abc2midi_notes`)."""
    return abc2midi_notes(tune_text, timeout)[0]


def abc2midi_notes(
    tune_text: str, timeout: float = 20.0, *, messages: bool = False
) -> tuple[list[TickNote], tuple[str, ...]]:
    """Convert one tune with abc2midi; return its notes and its warnings and errors.

    Args:
        tune_text: One tune, from its ``X:`` line, with any file header fields
            it needs already included.
        timeout: Seconds to wait for abc2midi.
        messages: Let abc2midi print its warnings and errors (it runs with
            ``-silent`` otherwise, and the second value is empty).

    Returns:
        Notes as (pitch, onset, duration) in abc2midi ticks, onset delay
        removed, and the lines abc2midi printed that hold "Warning" or "Error".

    Raises:
        FileNotFoundError: abc2midi is not installed.
        RuntimeError: abc2midi wrote no MIDI file.
        subprocess.TimeoutExpired: abc2midi ran longer than ``timeout``.
    """
    program = abc2midi_path()
    if program is None:
        raise FileNotFoundError("abc2midi not found; install the abcmidi package")
    lines = tune_text.split("\n")
    key_index = next((i for i, line in enumerate(lines) if line.startswith("K:")), 0)
    lines.insert(key_index + 1, "%%MIDI chordattack 0")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "tune.abc"
        target = Path(folder) / "tune.mid"
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        options = [option for option in ABC2MIDI_OPTIONS if not messages or option != "-silent"]
        completed = subprocess.run(
            [program, str(source), "-o", str(target), *options],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
        if not target.exists():
            raise RuntimeError("abc2midi wrote no MIDI file for this tune")
        notes = read_midi_notes(target)
    if not messages:
        # abc2midi prints some warnings even with -silent; they are not asked for.
        return notes, ()
    printed = (completed.stdout + completed.stderr).splitlines()
    return notes, tuple(line for line in printed if "Warning" in line or "Error" in line)


def read_midi_notes(path: Path) -> list[TickNote]:
    """Return the notes of an abc2midi MIDI file as (pitch, onset, duration) ticks."""
    midi = mido.MidiFile(str(path))
    notes: list[TickNote] = []
    for track in midi.tracks:
        now = 0
        sounding: dict[tuple[int, int], list[int]] = {}
        for message in track:
            now += message.time
            if message.type == "note_on" and message.velocity > 0:
                sounding.setdefault((message.channel, message.note), []).append(now)
            elif message.type in ("note_on", "note_off"):
                starts = sounding.get((message.channel, message.note))
                if starts:
                    start = starts.pop(0)
                    notes.append((message.note, start - 1, now - start + 1))
    return sorted(notes, key=lambda note: (note[1], note[0]))


def tune_ticks(tune: Tune) -> list[TickNote]:
    """Return a tune's notes as heard, trills and rolls played out, as (pitch, onset,
    duration) in abc2midi ticks, rounded."""
    return sorted(
        (
            (note.pitch, round(note.start * ABC2MIDI_TICKS_PER_QUARTER),
             round(note.duration * ABC2MIDI_TICKS_PER_QUARTER))
            for note in played_notes(tune.notes)
        ),
        key=lambda note: (note[1], note[0]),
    )  # fmt: skip


def compare(ours: list[TickNote], theirs: list[TickNote], tolerance: int = 1) -> Agreement:
    """Match notes by pitch, with onset and duration equal within ``tolerance`` ticks."""
    unmatched = list(theirs)
    by_pitch: dict[int, list[int]] = {}
    for index, note in enumerate(unmatched):
        by_pitch.setdefault(note[0], []).append(index)
    used: set[int] = set()
    ours_only: list[TickNote] = []
    for note in ours:
        match = next(
            (
                index
                for index in by_pitch.get(note[0], [])
                if index not in used
                and abs(unmatched[index][1] - note[1]) <= tolerance
                and abs(unmatched[index][2] - note[2]) <= tolerance
            ),
            None,
        )
        if match is None:
            ours_only.append(note)
        else:
            used.add(match)
    theirs_only = [note for index, note in enumerate(unmatched) if index not in used]
    return Agreement(len(ours) - len(ours_only), ours_only, theirs_only)


# The reason for a tune with ABC errors, which strict mode rejects.
INVALID = "invalid-abc"


# A grace group with only spaces, slurs or other grace groups before the next bar line.
_GRACE_BEFORE_BAR = re.compile(r"\{[^}]*\}(?=(?:[\s()]|\{[^}]*\})*\|)")


def _body_lines(text: str, change: Callable[[str], str]) -> str:
    """Apply ``change`` to the music lines of ``text``, not to fields or comments."""
    return "\n".join(
        line if re.match(r"^[A-Za-z+]:|^%", line) else change(line) for line in text.split("\n")
    )


def _without_ornaments(line: str) -> str:
    parts = re.split(r'("[^"]*")', line)
    for index in range(0, len(parts), 2):
        parts[index] = re.sub(r"[~T]|!roll!|!trill!|\+roll\+|\+trill\+", "", parts[index])
    return "".join(parts)


@dataclass(frozen=True)
class Rewrite:
    """A change to a tune's text that takes one difference out of the comparison.

    Attributes:
        change: The change, applied to the music lines.
        both: True when both converters read the changed text; False when
            only abc2midi does, because it misreads the original.
    """

    change: Callable[[str], str]
    both: bool


REWRITES = {
    # abc2midi 4.84 misreads the invisible bar line [|]: from there on it plays
    # every note at one time, or nothing. Without it the music is the same.
    "invisible-bar": Rewrite(lambda line: line.replace("[|]", ""), both=False),
    # abc2midi reads a variant ending labelled with text, ["Coda", as the
    # start of a chord; without the bracket the music is the same.
    "text-ending": Rewrite(lambda line: line.replace('["', '"'), both=False),
    # Neither converter plays grace notes written just before a bar line, but
    # abc2midi plays the first of two such groups on the note after the bar.
    "grace-before-bar": Rewrite(lambda line: _GRACE_BEFORE_BAR.sub("", line), both=False),
    # The standard leaves ornaments to the player. abc2midi times a roll or
    # trill next to a broken rhythm or grace notes in its own way; without
    # the ornaments the two converters agree.
    "ornament-timing": Rewrite(_without_ornaments, both=True),
}


def explain(
    tune: RawTune | str, theirs: list[TickNote], abc2midi_text: str | None = None
) -> tuple[str, ...] | None:
    """Return the reasons why this converter and abc2midi play ``tune`` differently.

    Each quirk of :data:`musicgen.abc.quirks.QUIRKS` is tried alone, then all
    of them together, dropping those that are not needed. When that fails and
    ``abc2midi_text`` is given, each of :data:`REWRITES` that changes the text
    is tried: abc2midi plays the rewritten text, and the quirks are tried again.
    A tune that still differs and that strict mode rejects is put down to its
    errors (:data:`INVALID`): each converter recovers from them in its own way.

    Args:
        tune: The tune, as given to :func:`musicgen.abc.parse_tune`.
        theirs: abc2midi's notes for it, from :func:`run_abc2midi`.
        abc2midi_text: The text abc2midi read, for the rewrites.

    Returns:
        The quirk and rewrite names, or :data:`INVALID`; None when nothing
        explains the difference.
    """
    reasons = _explain_by_quirks(tune, theirs)
    if reasons is not None:
        return reasons
    if abc2midi_text is not None:
        reasons = _explain_by_rewrites(tune, abc2midi_text)
    if reasons is None and not _is_valid(tune):
        reasons = (INVALID,)
    return reasons


def _is_valid(tune: RawTune | str) -> bool:
    try:
        parse_tune(tune, strict=True)
    except AbcError:
        return False
    return True


def _explain_by_rewrites(tune: RawTune | str, abc2midi_text: str) -> tuple[str, ...] | None:
    for name, rewrite in REWRITES.items():
        rewritten = _body_lines(abc2midi_text, rewrite.change)
        if rewritten == abc2midi_text:
            continue
        try:
            again = run_abc2midi(rewritten)
        except (RuntimeError, OSError, EOFError, ValueError, subprocess.TimeoutExpired):
            continue
        ours = _rewritten_tune(tune, rewrite.change) if rewrite.both else tune
        reasons = _explain_by_quirks(ours, again, allow_none=True)
        if reasons is not None:
            return (name, *reasons)
    return None


def _rewritten_tune(tune: RawTune | str, change: Callable[[str], str]) -> RawTune | str:
    if isinstance(tune, RawTune):
        return replace(tune, text=_body_lines(tune.text, change))
    return _body_lines(tune, change)


def _explain_by_quirks(
    tune: RawTune | str, theirs: list[TickNote], allow_none: bool = False
) -> tuple[str, ...] | None:
    """Return the fewest quirks whose imitation makes this converter play ``theirs``."""

    def agrees(quirks: set[str]) -> bool:
        try:
            return compare(tune_ticks(parse_tune(tune, quirks=quirks)), theirs).identical
        except AbcError:
            return False

    if allow_none and agrees(set()):
        return ()
    for name in QUIRKS:
        if agrees({name}):
            return (name,)
    needed = set(QUIRKS)
    if not agrees(needed):
        return None
    for name in sorted(needed):
        if agrees(needed - {name}):
            needed.discard(name)
    return tuple(sorted(needed))
