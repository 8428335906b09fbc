"""The main job through the command line: train, then generate ABC, MIDI and audio."""

import shutil
import wave
from pathlib import Path

import mido
import pretty_midi
import pytest

from musicgen.audio import fluidsynth_available, render_wav
from musicgen.cli import main

TINY = Path(__file__).parent / "data" / "tiny_corpus.abc"
PRIME = "M:6/8\\nL:1/8\\nQ:3/8=100\\nK:D\\n"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("outputs")
    train = [
        "train",
        "--data",
        str(TINY),
        "--preset",
        "tiny",
        "--epochs",
        "2",
        "--batch-size",
        "4",
        "--seq-len",
        "32",
        "--output-dir",
        str(root),
    ]
    assert main(train) == 0
    generate = [
        "generate",
        "--count",
        "3",
        "--max-length",
        "200",
        "--prime",
        PRIME,
        "--program",
        "73",
        "--seed",
        "5",
        "--output-dir",
        str(root),
    ]
    assert main(generate) == 0
    return root


def generated_folder(outputs):
    (folder,) = (outputs / "generated").iterdir()
    return folder


def test_train_writes_a_run_folder(outputs):
    (run,) = (outputs / "runs").iterdir()
    for name in (
        "model.keras",
        "last.keras",
        "vocab.json",
        "config.json",
        "history.csv",
        "loss.png",
    ):
        assert (run / name).exists(), name


def test_generate_writes_both_sides(outputs):
    folder = generated_folder(outputs)
    for side in ("trained", "untrained"):
        abc_files = sorted((folder / side).glob("*.abc"))
        assert [f.name for f in abc_files] == [f"{side}-0{i}.abc" for i in (1, 2, 3)]
        first = abc_files[0].read_text()
        assert first.startswith("X:1\n")
        assert "\nT:" in first or first.startswith("X:1\nT:")


def test_midi_reads_back_with_mido(outputs):
    midi_files = sorted(generated_folder(outputs).rglob("*.mid"))
    assert midi_files, "no tune converted to MIDI"
    for path in midi_files:
        messages = [m for track in mido.MidiFile(path).tracks for m in track]
        tempos = [m for m in messages if m.type == "set_tempo"]
        meters = [m for m in messages if m.type == "time_signature"]
        programs = [m for m in messages if m.type == "program_change"]
        names = [m for m in messages if m.type == "track_name"]
        # Q:3/8=100 is 100 dotted quarters, i.e. 150 quarter notes, per minute.
        assert tempos[0].tempo == mido.bpm2tempo(150)
        assert (meters[0].numerator, meters[0].denominator) == (6, 8)
        assert programs[0].program == 73
        assert names
        assert any(m.type == "note_on" and m.velocity > 0 for m in messages)


def test_midi_reads_back_with_pretty_midi(outputs):
    for path in sorted(generated_folder(outputs).rglob("*.mid")):
        music = pretty_midi.PrettyMIDI(str(path))
        assert music.instruments[0].program == 73
        assert all(note.end > note.start for note in music.instruments[0].notes)


@pytest.mark.skipif(not fluidsynth_available(), reason="fluidsynth or a GM soundfont missing")
def test_fluidsynth_renders_generated_midi(outputs, tmp_path):
    midi_path = sorted(generated_folder(outputs).rglob("*.mid"))[0]
    wav_path = tmp_path / "tune.wav"
    assert render_wav(midi_path, wav_path, renderer="fluidsynth") == "fluidsynth"
    with wave.open(str(wav_path)) as stream:
        seconds = stream.getnframes() / stream.getframerate()
    length = pretty_midi.PrettyMIDI(str(midi_path)).get_end_time()
    # fluidsynth plays to the last note-off and adds its release tail.
    assert length <= seconds <= length + 5


@pytest.mark.skipif(shutil.which("timidity") is None, reason="timidity is not installed")
def test_timidity_plays_generated_midi(outputs, tmp_path):
    import subprocess

    midi_path = sorted(generated_folder(outputs).rglob("*.mid"))[0]
    wav_path = tmp_path / "tune.wav"
    completed = subprocess.run(
        ["timidity", "-Ow", "-o", str(wav_path), str(midi_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert wav_path.stat().st_size > 44


def test_numpy_renderer_writes_audio(outputs, tmp_path):
    midi_path = sorted(generated_folder(outputs).rglob("*.mid"))[0]
    wav_path = tmp_path / "tune.wav"
    assert render_wav(midi_path, wav_path, renderer="numpy") == "numpy"
    with wave.open(str(wav_path)) as stream:
        seconds = stream.getnframes() / stream.getframerate()
    length = pretty_midi.PrettyMIDI(str(midi_path)).get_end_time()
    # pretty_midi's synthesiser adds one second after the last note for the release.
    assert length + 0.9 <= seconds <= length + 1.1


def test_generate_without_run_explains(tmp_path, capsys):
    assert main(["generate", "--output-dir", str(tmp_path)]) == 2
    assert "python -m musicgen train" in capsys.readouterr().err


def test_generate_rejects_unknown_primer_characters(outputs, capsys):
    assert main(["generate", "--prime", "K:D\n@@", "--output-dir", str(outputs)]) == 2
    assert "'@'" in capsys.readouterr().err
