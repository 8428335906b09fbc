"""Command-line parsing shared by every command."""

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
        (["--validation-fraction", "1.5"], "--validation-fraction must be between 0 and 0.5"),
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
