"""The evaluate command on a tiny run, through the command line."""

import csv
import re
from pathlib import Path

import pytest

from musicgen.abc import parse_tune
from musicgen.cli import main
from musicgen.generate import write_side
from musicgen.midi import write_midi

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny_corpus.abc"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURES = ("loss.png", "pitch_classes.png", "note_lengths.png", "piano_rolls.png")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("outputs")
    train = ["train", "--data", str(TINY), "--preset", "tiny", "--epochs", "1"]
    train += ["--batch-size", "4", "--seq-len", "32", "--output-dir", str(root)]
    assert main(train) == 0
    return root


@pytest.fixture(scope="module")
def sampled(outputs):
    arguments = ["evaluate", "--count", "3", "--temperatures", "0.8", "--max-length", "200"]
    assert main([*arguments, "--output-dir", str(outputs)]) == 0
    (folder,) = (outputs / "evaluations").iterdir()
    return folder


def test_evaluate_writes_report_and_samples(sampled):
    report = (sampled / "report.md").read_text()
    assert "| trained T=0.8 | 3 |" in report
    assert "| untrained T=1 | 3 |" in report
    assert "| real | 1 |" in report
    assert "Real tunes: the 1 validation tune of " in report
    assert "novelty is measured against its 4 training tunes." in report
    assert len(list((sampled / "trained-t0.8").glob("*.abc"))) == 3
    assert len(list((sampled / "untrained-t1").glob("*.abc"))) == 3


def test_report_figures_are_png(sampled):
    report = (sampled / "report.md").read_text()
    for name in FIGURES:
        assert (sampled / name).read_bytes()[:8] == PNG_SIGNATURE, name
        assert f"]({name})" in report


def test_trained_loss_matches_history(outputs, sampled):
    (run,) = (outputs / "runs").iterdir()
    with (run / "history.csv").open() as stream:
        val_loss = float(list(csv.DictReader(stream))[-1]["val_loss"])
    report = (sampled / "report.md").read_text()
    loss = float(re.search(r"^\| trained \| ([0-9.]+) \|", report, re.MULTILINE).group(1))
    # The same windows as training's validation; float32 against float64 sums.
    assert loss == pytest.approx(val_loss, abs=1e-3)


def test_evaluate_samples_constrained_on_request(outputs, capsys):
    arguments = ["evaluate", "--count", "2", "--temperatures", "1.0", "--max-length", "300"]
    arguments += ["--sampling", "constrained", "--output-dir", str(outputs)]
    assert main(arguments) == 0
    printed = capsys.readouterr().out
    report = Path(re.search(r"^report: (.+)$", printed, re.MULTILINE).group(1))
    assert "constrained sampling of the trained network" in report.read_text()
    assert len(list((report.parent / "trained-t1").glob("*.abc"))) == 2


def test_abc_dir_sets_and_numpy_audio(outputs, tmp_path, capsys, monkeypatch):
    folder = tmp_path / "tunes"
    (folder / "mine").mkdir(parents=True)
    text = (DATA / "metrics_pickup.abc").read_text()
    (folder / "mine" / "pickup.abc").write_text(text)
    write_midi(parse_tune(text), folder / "mine" / "pickup.mid")
    # generate adds X:, T: and K:C to a sample that is no tune; it stays no tune.
    untrained = write_side("untrained", "plain", ["abc d|"], folder / "untrained")
    assert untrained.songs[0].midi_path is not None
    # Force the numpy renderer so the test does not depend on fluidsynth.
    monkeypatch.setattr("musicgen.audio.fluidsynth_available", lambda: False)
    arguments = ["evaluate", "--abc-dir", str(folder), "--wav", "--output-dir", str(outputs)]
    assert main(arguments) == 0
    printed = capsys.readouterr().out
    assert re.search(r"^mine +1 +100% +100% +100% +100% +100%", printed, re.MULTILINE)
    assert re.search(r"^untrained +1 +0% ", printed, re.MULTILINE)
    assert "rendered 2 .wav files with numpy" in printed
    report = Path(re.search(r"^report: (.+)$", printed, re.MULTILINE).group(1))
    assert "Audio rendered with numpy." in [line for line in report.read_text().splitlines()]


@pytest.mark.parametrize(
    "temperatures",
    ["", " ", "0.8,x", "0,1", "0.5,,1", "0.5,", ",0.5", "inf", "nan", "0.8,1,0.80"],
)
def test_evaluate_rejects_bad_temperatures(tmp_path, capsys, temperatures):
    arguments = ["evaluate", "--temperatures", temperatures, "--output-dir", str(tmp_path)]
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert error.startswith("musicgen evaluate: error: --temperatures ")
    assert error.count("\n") == 1
    assert not (tmp_path / "evaluations").exists()


def test_evaluate_names_bad_max_length(tmp_path, capsys):
    arguments = ["evaluate", "--max-length", "0", "--output-dir", str(tmp_path)]
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert error == "musicgen evaluate: error: --max-length must be at least 1, got 0\n"
    assert not (tmp_path / "evaluations").exists()
