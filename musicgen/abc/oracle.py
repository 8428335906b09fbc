"""Compare this converter's notes with those of abc2midi, the reference ABC player.

Used by the tests and by ``benchmarks/abc_agreement.py``; the converter itself
never runs abc2midi. abc2midi 4.84 writes 480 ticks per quarter note and
starts every note one tick late (ending it on time), so its onsets are moved
one tick earlier before comparing. Its chord notes are staggered by 10 ticks
unless ``%%MIDI chordattack 0`` is given, so that directive is added. It
plays rolls (``~``) and trills (``T``) as ornament notes, which this
converter does not, so :func:`without_ornaments` removes them from its input.
It also swings the eighth notes of tunes with ``R:hornpipe`` (2:1), which is
a playing style, not notation, so that function removes ``R:`` lines too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mido

from musicgen.abc.model import Tune

ABC2MIDI_TICKS_PER_QUARTER = 480
# abc2midi options: no chord symbol accompaniment, no fermata lengthening, quiet.
ABC2MIDI_OPTIONS = ["-NGUI", "-NFER", "-silent"]

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


def without_ornaments(tune_text: str) -> str:
    """Return ``tune_text`` without rolls and trills (``~ T !roll! !trill!``) and ``R:`` lines.

    Chord symbols and annotations keep their text, since ``T`` may appear in them.
    """
    lines = [line for line in tune_text.split("\n") if not line.startswith("R:")]
    return "\n".join(
        line if re.match(r"^[A-Za-z+]:|^%", line) else _strip_ornaments(line) for line in lines
    )


def _strip_ornaments(line: str) -> str:
    parts = re.split(r'("[^"]*")', line)
    for index in range(0, len(parts), 2):
        parts[index] = re.sub(r"[~T]|!roll!|!trill!", "", parts[index])
    return "".join(parts)


def run_abc2midi(tune_text: str, timeout: float = 20.0) -> list[TickNote]:
    """Convert one tune with abc2midi and return its notes.

    Args:
        tune_text: One tune, from its ``X:`` line, with any file header fields
            it needs already included.
        timeout: Seconds to wait for abc2midi.

    Returns:
        Notes as (pitch, onset, duration) in abc2midi ticks, onset delay removed.

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
        subprocess.run(
            [program, str(source), "-o", str(target), *ABC2MIDI_OPTIONS],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if not target.exists():
            raise RuntimeError("abc2midi wrote no MIDI file for this tune")
        return read_midi_notes(target)


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
    """Return a tune's notes as (pitch, onset, duration) in abc2midi ticks, rounded."""
    return sorted(
        (
            (note.pitch, round(note.start * ABC2MIDI_TICKS_PER_QUARTER),
             round(note.duration * ABC2MIDI_TICKS_PER_QUARTER))
            for note in tune.notes
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
