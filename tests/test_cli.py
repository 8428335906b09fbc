"""Command-line parsing shared by every command."""

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from musicgen.cli import main, parse_args


@pytest.mark.parametrize(
    ("argv", "verbose", "quiet"),
    [
        (["convert", "x.abc"], 0, False),
        (["-q", "convert", "x.abc"], 0, True),
        (["convert", "-q", "x.abc"], 0, True),
        (["convert", "-vv", "x.abc"], 2, False),
        (["-v", "convert", "x.abc"], 1, False),
    ],
)
def test_verbosity_flags_before_or_after_command(argv, verbose, quiet):
    args = parse_args(argv)
    assert args.verbose == verbose
    assert args.quiet == quiet


def test_help_lists_commands_once(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--help"])
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    for command in ("train", "generate", "convert", "evaluate"):
        assert len(re.findall(rf"^ +{command} ", printed, re.MULTILINE)) == 1, command
    assert "``" not in printed
    assert "Run 'python -m musicgen COMMAND --help' for the options of one command." in printed


@pytest.mark.parametrize(
    ("argv", "program"),
    [
        (["convert", "x.abc", "--bogus"], "musicgen convert"),
        (["-v", "convert", "--bogus", "x.abc"], "musicgen convert"),
        (["--bogus", "convert", "x.abc"], "musicgen"),
    ],
)
def test_unknown_option_shows_command_usage(argv, program, capsys):
    with pytest.raises(SystemExit) as caught:
        parse_args(argv)
    assert caught.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith(f"usage: {program} [-h]")
    assert error.splitlines()[-1] == f"{program}: error: unrecognized arguments: --bogus"


def test_missing_input_file_is_one_line_error(tmp_path, capsys):
    status = main(["train", "--data", str(tmp_path / "missing.abc"), "--output-dir", str(tmp_path)])
    error = capsys.readouterr().err
    assert status == 2
    assert "missing.abc" in error
    assert "Traceback" not in error


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--batch-size", "0"], "--batch-size must be at least 1, got 0"),
        (["--epochs", "0"], "--epochs must be at least 1, got 0"),
        (["--seq-len", "0"], "--seq-len must be at least 1, got 0"),
        (["--validation-fraction", "1.5"], "--validation-fraction must be above 0 and at most 0.5"),
        (["--validation-fraction", "0"], "--validation-fraction must be above 0 and at most 0.5"),
        (["--lr", "-1"], "--lr must be above 0"),
    ],
)
def test_invalid_training_option_leaves_no_run(tmp_path, capsys, option, message):
    tiny = str(Path(__file__).parent / "data" / "tiny_corpus.abc")
    argv = ["train", "--data", tiny, "--preset", "tiny", "--output-dir", str(tmp_path), *option]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert message in error
    assert "Traceback" not in error
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_train_rejects_one_usable_tune(tmp_path, capsys):
    tune = tmp_path / "one.abc"
    tune.write_text("X:1\nT:Scale\nM:4/4\nL:1/4\nK:C\nCDEF|GABc|\n")
    assert main(["train", "--data", str(tune), "--output-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "read 1 tune from 1 file, kept 1, dropped 0" in captured.out
    assert f"error: 1 usable tune in {tune}; training needs at least 2" in captured.err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--temperature", "0"], "--temperature must be a number above 0, got 0.0"),
        (["--top-k", "-1"], "--top-k must be 0 (off) or more, got -1"),
        (["--top-p", "1.5"], "--top-p must be above 0 and at most 1, got 1.5"),
        (["--max-length", "0"], "--max-length must be at least 1, got 0"),
        (["--max-bars", "-1"], "--max-bars must be 0 (off) or more, got -1"),
    ],
)
def test_invalid_sampling_option_is_named(tmp_path, capsys, option, message):
    # generate checks these options before it loads the model, so a run
    # folder with an empty model file is enough.
    run = tmp_path / "runs" / "fake"
    run.mkdir(parents=True)
    (run / "model.keras").touch()
    argv = ["generate", "--run", str(run), "--output-dir", str(tmp_path), *option]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error == f"musicgen generate: error: {message}\n"
    assert not (tmp_path / "generated").exists()


def test_resumed_train_reports_its_own_epochs(tmp_path, capsys):
    tiny = str(Path(__file__).parent / "data" / "tiny_corpus.abc")
    first = ["train", "--data", tiny, "--preset", "tiny", "--epochs", "1", "--batch-size", "4"]
    assert main([*first, "--output-dir", str(tmp_path)]) == 0
    assert "trained 1 epoch in" in capsys.readouterr().out
    run = next((tmp_path / "runs").iterdir())
    config = json.loads((run / "config.json").read_text())
    config["epochs"] = 2  # as if the first call had been stopped after epoch 1 of 2
    (run / "config.json").write_text(json.dumps(config))
    assert main(["train", "--resume", str(run)]) == 0
    output = capsys.readouterr().out
    assert "trained epoch 2 in" in output
    # The run is outside ./outputs, so the hint names it.
    assert f"next: python -m musicgen generate --run {run}" in output
    assert main(["train", "--resume", str(run)]) == 0
    assert "nothing to train" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "level", "keras_prints"),
    [([], logging.DEBUG, True), (["-v"], logging.INFO, True), (["-q"], logging.INFO, False)],
)
def test_train_reports_each_epoch_once(tmp_path, capsys, caplog, flags, level, keras_prints):
    # Keras prints its own epoch line, so musicgen's line needs -v. Under -q
    # Keras is silent and musicgen logs at INFO, which -q hides as well.
    caplog.set_level(logging.DEBUG, logger="musicgen")
    tiny = str(Path(__file__).parent / "data" / "tiny_corpus.abc")
    argv = ["train", *flags, "--data", tiny, "--preset", "tiny", "--epochs", "1"]
    assert main([*argv, "--batch-size", "4", "--output-dir", str(tmp_path)]) == 0
    epoch_records = [r for r in caplog.records if r.getMessage().startswith("epoch 1:")]
    assert [record.levelno for record in epoch_records] == [level]
    assert (" - val_loss: " in capsys.readouterr().out) == keras_prints


def test_quiet_train_prints_only_results(tmp_path, capsys):
    tiny = str(Path(__file__).parent / "data" / "tiny_corpus.abc")
    argv = ["train", "-q", "--data", tiny, "--preset", "tiny", "--epochs", "1"]
    assert main([*argv, "--batch-size", "4", "--output-dir", str(tmp_path)]) == 0
    run = next((tmp_path / "runs").iterdir())
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[0] == f"run folder: {run}"
    assert lines[1].startswith("trained 1 epoch in ")
    assert lines[2].startswith("best validation loss ")
    assert lines[3] == f"model: {run / 'model.keras'}"


def test_resume_rejects_changed_settings(tmp_path, capsys):
    tiny = str(Path(__file__).parent / "data" / "tiny_corpus.abc")
    first = ["train", "--data", tiny, "--preset", "tiny", "--epochs", "1", "--batch-size", "4"]
    assert main([*first, "--output-dir", str(tmp_path)]) == 0
    run = str(next((tmp_path / "runs").iterdir()))
    capsys.readouterr()

    # The same command again with --resume is accepted.
    assert main([*first, "--output-dir", str(tmp_path), "--resume", run]) == 0
    assert "nothing to train" in capsys.readouterr().out

    # The same file named by a relative path is the same data.
    relative = os.path.relpath(tiny)
    assert main(["train", "--resume", run, "--data", relative, "--batch-size", "4"]) == 0
    capsys.readouterr()

    status = main(["train", "--resume", run, "--epochs", "5", "--units", "64", "--seed", "7"])
    assert status == 2
    error = capsys.readouterr().err
    assert "cannot change --epochs (saved: 1), --seed (saved: 0), --units (saved: 32)" in error
    assert "Traceback" not in error


@pytest.mark.parametrize("command", [["generate", "--run"], ["train", "--resume"]])
def test_missing_run_folder_is_not_found(tmp_path, capsys, command):
    assert main([*command, str(tmp_path / "nowhere")]) == 2
    error = capsys.readouterr().err
    assert f"run folder {tmp_path / 'nowhere'} not found" in error
    assert "Traceback" not in error


def test_tensorflow_start_up_lines_hidden(tmp_path):
    # generate imports TensorFlow before it looks for the run, so its error
    # shows whether TensorFlow's own start-up lines reach standard error.
    command = [sys.executable, "-m", "musicgen", "generate", "--run", str(tmp_path / "nowhere")]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        f"musicgen generate: error: run folder {tmp_path / 'nowhere'} not found; "
        "pass a folder made by 'python -m musicgen train'"
    ]
