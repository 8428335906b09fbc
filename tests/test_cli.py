"""Command-line parsing shared by every command."""

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
