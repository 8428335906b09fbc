"""The ``convert`` command, run through ``musicgen.cli.main``."""

from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys
from pathlib import Path

import mido

from musicgen.cli import main

BOOK = "X:1\nT:One\nK:C\ncde|\n\nX:2\nT:Two\nK:G\ngab|\n\nX:3\nT:Broken\nK:C\nc A/0 d|\n"


def make_book(folder: Path, name: str = "jigs.abc", text: str = BOOK) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_folder_output_names_each_tune(tmp_path, capsys):
    make_book(tmp_path / "in" / "nested")
    status = main(["convert", str(tmp_path / "in"), "-o", str(tmp_path / "out")])
    assert status == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["jigs_X1.mid", "jigs_X2.mid", "jigs_X3.mid"]
    assert "converted 3 tunes, 0 failed" in capsys.readouterr().out


def test_shared_numbers_suggest_a_folder(tmp_path, capsys):
    make_book(tmp_path / "a", "tune.abc", "X:1\nK:C\ncde|\n")
    make_book(tmp_path / "b", "tune.abc", "X:1\nK:C\ngab|\n")
    arguments = [str(tmp_path / "a" / "tune.abc"), str(tmp_path / "b" / "tune.abc")]
    assert main(["convert", *arguments, "-o", str(tmp_path / "one.mid")]) == 2
    error = capsys.readouterr().err
    assert "Every X: number is used twice or more, so give a folder to -o" in error
    assert "--tune 1" not in error


def test_name_clash_is_reported(tmp_path, caplog):
    make_book(tmp_path / "a", "tune.abc", "X:1\nK:C\ncde|\n")
    make_book(tmp_path / "b", "tune.abc", "X:1\nK:C\ngab|\n")
    arguments = [str(tmp_path / "a" / "tune.abc"), str(tmp_path / "b" / "tune.abc")]
    with caplog.at_level(logging.WARNING):
        assert main(["convert", *arguments, "-o", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["tune_X1-2.mid", "tune_X1.mid"]
    assert "tune X:1: tune_X1.mid is taken by an earlier tune; writing tune_X1-2.mid" in caplog.text


def test_single_tune_to_file(tmp_path):
    book = make_book(tmp_path)
    status = main(["convert", str(book), "--tune", "2", "-o", str(tmp_path / "two.mid"),
                   "--program", "41"])  # fmt: skip
    assert status == 0
    midi = mido.MidiFile(str(tmp_path / "two.mid"))
    programs = [m.program for t in midi.tracks for m in t if m.type == "program_change"]
    assert programs == [41]


def test_strict_reports_failed_tune(tmp_path, capsys):
    book = make_book(tmp_path)
    status = main(["convert", str(book), "--strict", "-o", str(tmp_path / "out")])
    assert status == 0
    output = capsys.readouterr().out
    assert "converted 2 tunes, 1 failed" in output
    assert "tune X:3, line 14:4: invalid note length '/0'" in output


def test_failed_tune_reported_once(tmp_path, capsys, caplog):
    book = make_book(tmp_path)
    assert main(["convert", "-vv", str(book), "--strict", "-o", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    everything = captured.out + captured.err + caplog.text
    assert everything.count("invalid note length '/0'") == 1
    assert "failed tunes:\n  " in captured.out


def test_empty_tune_names_out_of_range_note(tmp_path, capsys):
    book = make_book(tmp_path, text="X:1\nK:C\nc" + "'" * 14 + "  C,,,,,,,,,,,|\n")
    assert main(["convert", str(book), "-o", str(tmp_path / "out")]) == 1
    output = capsys.readouterr().out
    assert "tune has no notes to play: note 'c' is MIDI pitch 240, outside 0 to 127" in output
    assert "(line 3:1, the first of 2 problems that skipped notes)" in output


def test_refuses_to_overwrite_without_force(tmp_path, capsys):
    book = make_book(tmp_path)
    out = tmp_path / "out"
    assert main(["convert", str(book), "-o", str(out)]) == 0
    assert main(["convert", str(book), "-o", str(out)]) == 2
    assert "already exist" in capsys.readouterr().err
    assert main(["convert", str(book), "-o", str(out), "--force"]) == 0


def test_single_file_output_needs_one_tune(tmp_path, capsys):
    book = make_book(tmp_path)
    assert main(["convert", str(book), "-o", str(tmp_path / "all.mid")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("musicgen convert: error: nothing was written: ")
    assert "names one file, but 3 tunes converted (X:1, X:2, X:3)" in error
    assert "--tune X, such as --tune 1, or give a folder to -o" in error
    assert len(error.splitlines()) == 1
    assert not (tmp_path / "all.mid").exists()


def test_empty_output_is_rejected(tmp_path, capsys, monkeypatch):
    book = make_book(tmp_path / "in")
    monkeypatch.chdir(tmp_path)
    assert main(["convert", str(book), "-o", ""]) == 2
    error = capsys.readouterr().err
    assert error == (
        "musicgen convert: error: -o is empty; pass a .mid file for one tune or a folder for many\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == ["jigs.abc"]


def test_warnings_beyond_the_first_five_are_counted(tmp_path, caplog):
    caplog.set_level(logging.INFO)  # as without -vv
    book = make_book(tmp_path, text="X:1\nK:C\nc;;;;;;;;d|\n")
    assert main(["convert", str(book), "-o", str(tmp_path / "out")]) == 0
    logged = [r.message for r in caplog.records if "unexpected character" in r.message]
    assert len(logged) == 5
    assert "tune X:1: 3 more warnings (-vv shows them)" in caplog.text


def test_very_verbose_shows_every_warning(tmp_path):
    book = make_book(tmp_path, text="X:1\nK:C\nc;;;;;;;;d|\n")
    command = [sys.executable, "-m", "musicgen", "convert", "-vv", str(book)]
    result = subprocess.run(
        [*command, "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    logged = [line for line in result.stderr.splitlines() if "unexpected character" in line]
    assert len(logged) == 8
    assert all(line.startswith("WARNING: ") for line in logged)
    assert "more warning" not in result.stderr


def test_nothing_converted_exits_non_zero(tmp_path, capsys):
    book = make_book(tmp_path, text="X:1\nT:no key\n\nX:2\nK:C\nz|\n")
    assert main(["convert", str(book), "-o", str(tmp_path / "out")]) == 1
    assert "converted 0 tunes, 2 failed" in capsys.readouterr().out


def test_missing_path_is_a_user_error(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "nope.abc")]) == 2
    assert "not found" in capsys.readouterr().err


def test_command_line_runs_without_tensorflow(tmp_path):
    book = make_book(tmp_path)
    script = (
        "import sys, musicgen.cli as cli; status = cli.main(sys.argv[1:]); "
        "assert 'tensorflow' not in sys.modules, 'convert imported TensorFlow'; sys.exit(status)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "convert", str(book), "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "converted 3 tunes" in result.stdout
    assert "line 14:4" in result.stderr  # the warning of tune 3


DATA = Path(__file__).parent / "data"


def test_tunebook_lists_the_tunes_that_failed(tmp_path, capsys):
    status = main(["convert", str(DATA / "tunebook_mixed.abc"), "-o", str(tmp_path)])
    assert status == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["tunebook_mixed_X1.mid", "tunebook_mixed_X3.mid", "tunebook_mixed_X5.mid"]
    out = capsys.readouterr().out
    assert "converted 3 tunes, 2 failed" in out
    failed = out.split("failed tunes:\n", 1)[1].splitlines()
    assert len(failed) == 2
    assert "tune X:2" in failed[0]
    assert "no K:" in failed[0]
    assert "tune X:4" in failed[1]
    assert "no notes" in failed[1]


def test_accompaniment_adds_a_track(tmp_path):
    source = DATA / "chord_symbols.abc"
    assert main(["convert", str(source), "--tune", "1", "-o", str(tmp_path / "plain.mid")]) == 0
    assert main(["convert", str(source), "--tune", "1", "--accompaniment",
                 "-o", str(tmp_path / "band.mid")]) == 0  # fmt: skip
    assert len(mido.MidiFile(str(tmp_path / "plain.mid")).tracks) == 2
    assert len(mido.MidiFile(str(tmp_path / "band.mid")).tracks) == 3


def test_parallel_workers_write_the_same_files(tmp_path, monkeypatch):
    from musicgen.commands import convert

    for name in ("lyrics.abc", "chord_symbols.abc", "ornaments.abc"):
        make_book(tmp_path / "in", name, (DATA / name).read_text())
    assert main(["convert", str(tmp_path / "in"), "--jobs", "1", "-o", str(tmp_path / "one")]) == 0
    monkeypatch.setattr(convert, "PARALLEL_FROM_TUNES", 0)
    assert main(["convert", str(tmp_path / "in"), "--jobs", "2", "-o", str(tmp_path / "two")]) == 0
    one = {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir()}
    two = {p.name: p.read_bytes() for p in (tmp_path / "two").iterdir()}
    assert one == two
    assert len(one) == 4


def test_convert_names_missing_tune_number(tmp_path, capsys):
    tune = tmp_path / "one.abc"
    tune.write_text("X:1\nT:One\nK:C\nCDEF|\n")
    assert main(["convert", str(tune), "--tune", "7", "-o", str(tmp_path / "out")]) == 1
    output = capsys.readouterr().out
    assert "converted 0 tunes, 0 failed" in output
    assert "no tune with X:7 in the given files" in output


def test_written_files_get_umask_permissions(tmp_path):
    book = make_book(tmp_path)
    out = tmp_path / "out"
    assert main(["convert", str(book), "-o", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["jigs_X1.mid", "jigs_X2.mid", "jigs_X3.mid"]  # and no temporary file
    mask = os.umask(0)
    os.umask(mask)
    assert (out / "jigs_X1.mid").stat().st_mode & 0o777 == 0o666 & ~mask


def test_stale_temporary_file_does_not_block_writing(tmp_path):
    book = make_book(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    stale = out / f".jigs_X1.mid.{os.getpid()}.tmp"
    stale.write_bytes(b"left by a process that had this id")
    assert main(["convert", str(book), "-o", str(out)]) == 0
    assert mido.MidiFile(str(out / "jigs_X1.mid")).tracks
    assert stale.read_bytes() == b"left by a process that had this id"


def test_convert_restores_garbage_collector_thresholds(tmp_path):
    before = gc.get_threshold()
    assert main(["convert", str(make_book(tmp_path)), "-o", str(tmp_path / "out")]) == 0
    assert gc.get_threshold() == before


def test_single_file_output_creates_its_folder(tmp_path):
    book = make_book(tmp_path)
    target = tmp_path / "new" / "folder" / "one.mid"
    assert main(["convert", str(book), "--tune", "1", "-o", str(target)]) == 0
    assert mido.MidiFile(str(target)).tracks


def test_unwritable_output_is_one_line_error(tmp_path, capsys):
    book = make_book(tmp_path)
    (tmp_path / "file").write_text("not a folder")
    assert main(["convert", str(book), "-o", str(tmp_path / "file" / "out")]) == 2
    error = capsys.readouterr().err
    assert "cannot create the output folder" in error
    assert "Not a directory" in error
    assert "Traceback" not in error


def test_output_blocked_by_folder_names_the_file(tmp_path, capsys):
    book = make_book(tmp_path)
    out = tmp_path / "out"
    (out / "jigs_X2.mid").mkdir(parents=True)
    assert main(["convert", str(book), "-o", str(out), "--force"]) == 2
    error = capsys.readouterr().err
    assert f"cannot write {out / 'jigs_X2.mid'}" in error
    assert "1 file was written before it" in error
    assert "Traceback" not in error


def test_single_file_output_shows_strict_failure(tmp_path, capsys):
    book = make_book(tmp_path, text="X:3\nT:Broken\nK:C\nc A/0 d|\n")
    assert main(["convert", str(book), "--strict", "-o", str(tmp_path / "x.mid")]) == 1
    output = capsys.readouterr().out
    assert "converted 0 tunes, 1 failed, nothing written" in output
    assert "invalid note length '/0'" in output
    assert not (tmp_path / "x.mid").exists()


def test_single_file_output_names_missing_tune(tmp_path, capsys):
    book = make_book(tmp_path)
    assert main(["convert", str(book), "--tune", "9", "-o", str(tmp_path / "x.mid")]) == 1
    assert "no tune with X:9 in the given files" in capsys.readouterr().out


def test_latin1_tunebook_keeps_its_title(tmp_path):
    # A file that is not valid UTF-8 is read as Latin-1, as corpora are.
    book = tmp_path / "old.abc"
    book.write_bytes("X:1\nT:Café\nK:C\ncde|\n".encode("latin-1"))
    assert main(["convert", str(book), "-o", str(tmp_path / "out")]) == 0
    midi = mido.MidiFile(str(tmp_path / "out" / "old_X1.mid"))
    names = [m.name for t in midi.tracks for m in t if m.type == "track_name"]
    assert "Café" in names
