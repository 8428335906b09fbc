"""Repository-wide checks: lint, types, and the converter's independence from TensorFlow."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*command):
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (ROOT / ".venv/bin/ruff").exists(),
    reason="ruff is not installed",
)
def test_ruff_is_clean():
    completed = run(sys.executable, "-m", "ruff", "check", "musicgen", "tests", "benchmarks")
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_mypy_is_clean():
    pytest.importorskip("mypy")
    completed = run(sys.executable, "-m", "mypy")
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_converter_imports_without_tensorflow():
    code = (
        "import sys, musicgen.abc, musicgen.midi, musicgen.commands.convert, musicgen.cli; "
        "sys.exit('tensorflow' in sys.modules)"
    )
    completed = run(sys.executable, "-c", code)
    assert completed.returncode == 0, "importing the converter imported TensorFlow"


def test_convert_command_runs_without_tensorflow(tmp_path):
    # A fake tensorflow package that fails on import proves convert never needs it.
    fake = tmp_path / "fake"
    (fake / "tensorflow").mkdir(parents=True)
    (fake / "tensorflow" / "__init__.py").write_text("raise ImportError('no TensorFlow here')\n")
    tune = tmp_path / "tune.abc"
    tune.write_text("X:1\nT:Scale\nM:4/4\nL:1/4\nK:C\nCDEF|GABc|\n")
    completed = subprocess.run(
        [sys.executable, "-m", "musicgen", "convert", str(tune), "-o", str(tmp_path / "t.mid")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": f"{fake}:{ROOT}", "PATH": "/usr/bin:/bin"},
    )
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "t.mid").exists()
