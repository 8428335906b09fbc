"""Render MIDI files to WAV audio, with fluidsynth when installed and numpy otherwise."""

from __future__ import annotations

import logging
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

from musicgen.files import write_atomic

logger = logging.getLogger(__name__)

SAMPLE_RATE = 44100  # Hz
# Where Debian's fluid-soundfont-gm and similar packages put a General MIDI soundfont.
SOUNDFONT_PATHS = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
    Path("/usr/share/soundfonts/default.sf2"),
    Path("/usr/share/soundfonts/FluidR3_GM.sf2"),
)
FLUIDSYNTH_TIMEOUT = 120  # seconds per file


class RenderError(RuntimeError):
    """A MIDI file could not be rendered to audio."""


def find_soundfont() -> Path | None:
    """Return the first General MIDI soundfont found in the usual places, or ``None``."""
    return next((path for path in SOUNDFONT_PATHS if path.exists()), None)


def fluidsynth_available() -> bool:
    """Tell whether the ``fluidsynth`` program and a soundfont are both installed."""
    return shutil.which("fluidsynth") is not None and find_soundfont() is not None


def render_wav(midi_path: Path, wav_path: Path, *, renderer: str = "auto") -> str:
    """Render ``midi_path`` to a 16-bit WAV file at ``wav_path``, atomically.

    Args:
        midi_path: A Standard MIDI File.
        wav_path: The audio file to write.
        renderer: ``fluidsynth``, ``numpy`` (pretty_midi's sine synthesiser)
            or ``auto``: fluidsynth with a General MIDI soundfont when both are
            installed, else numpy.

    Returns:
        The renderer used: ``fluidsynth`` or ``numpy``.

    Raises:
        RenderError: fluidsynth failed or was requested but is missing.
        ValueError: ``renderer`` is not one of the three names.
    """
    if renderer not in ("auto", "fluidsynth", "numpy"):
        raise ValueError(f"renderer must be auto, fluidsynth or numpy, got {renderer!r}")
    if renderer == "fluidsynth" or (renderer == "auto" and fluidsynth_available()):
        _render_with_fluidsynth(Path(midi_path), Path(wav_path))
        return "fluidsynth"
    _render_with_numpy(Path(midi_path), Path(wav_path))
    return "numpy"


def _render_with_fluidsynth(midi_path: Path, wav_path: Path) -> None:
    soundfont = find_soundfont()
    program = shutil.which("fluidsynth")
    if program is None or soundfont is None:
        raise RenderError(
            "fluidsynth or a General MIDI soundfont is not installed; on Debian or Ubuntu "
            "run 'apt-get install fluidsynth fluid-soundfont-gm', or render with numpy"
        )

    def run(temporary: Path) -> None:
        command = [
            program,
            "-ni",
            "-q",
            "-F",
            str(temporary),
            "-T",
            "wav",
            "-r",
            str(SAMPLE_RATE),
            str(soundfont),
            str(midi_path),
        ]
        try:
            completed = subprocess.run(
                command, capture_output=True, text=True, timeout=FLUIDSYNTH_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired as error:
            raise RenderError(
                f"fluidsynth timed out after {FLUIDSYNTH_TIMEOUT} s on {midi_path}"
            ) from error
        if completed.returncode != 0 or not temporary.exists() or temporary.stat().st_size == 0:
            raise RenderError(
                f"fluidsynth failed on {midi_path} (exit status {completed.returncode}): "
                f"{completed.stderr.strip()[-300:]}"
            )

    write_atomic(wav_path, run, suffix=".wav")


def _render_with_numpy(midi_path: Path, wav_path: Path) -> None:
    import pretty_midi

    music = pretty_midi.PrettyMIDI(str(midi_path))
    samples = music.synthesize(fs=SAMPLE_RATE)  # float64 in about [-1, 1]
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak > 0:
        samples = samples / peak * 0.8
    pcm = (samples * 32767).astype("<i2")

    def run(temporary: Path) -> None:
        with wave.open(str(temporary), "wb") as stream:
            stream.setnchannels(1)
            stream.setsampwidth(2)
            stream.setframerate(SAMPLE_RATE)
            stream.writeframes(pcm.tobytes())

    write_atomic(wav_path, run, suffix=".wav")
