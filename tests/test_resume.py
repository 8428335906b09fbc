"""Resuming: the same losses as an uninterrupted run, and recovery from SIGKILL mid-epoch."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from musicgen.config import build_config
from musicgen.corpus import load_corpus
from musicgen.model import load_model
from musicgen.runs import RunPaths
from musicgen.train import (
    CheckpointCallback,
    epochs_without_improvement,
    read_finished_epochs,
    read_history,
    train,
)
from musicgen.vocab import Vocabulary

ROOT = Path(__file__).resolve().parent.parent
TINY = Path(__file__).parent / "data" / "tiny_corpus.abc"


class Interrupted(Exception):
    """Raised by the patched callback to stop training after an epoch."""


@pytest.fixture(scope="module")
def tunes():
    return load_corpus([str(TINY)]).tunes


def tiny_config(tunes, **changes):
    vocab = Vocabulary.from_texts(t.text for t in tunes)
    settings = {
        "units": 16, "embedding": 8, "epochs": 3, "batch_size": 4, "seq_len": 32,
        "patience": 0, "validation_fraction": 0.2, **changes,
    }  # fmt: skip
    return build_config(vocab.size, "tiny", settings)


def iterations(path: Path) -> int:
    return int(load_model(str(path)).optimizer.iterations.numpy())


def test_resume_matches_uninterrupted_run(tunes, tmp_path, monkeypatch):
    config = tiny_config(tunes)
    (tmp_path / "straight").mkdir()
    straight = RunPaths(tmp_path / "straight")
    train(tunes, config, straight, progress=0)

    (tmp_path / "resumed").mkdir()
    resumed = RunPaths(tmp_path / "resumed")
    original = CheckpointCallback.on_epoch_end

    def stop_after_first_epoch(self, epoch, logs=None):
        original(self, epoch, logs)
        raise Interrupted

    monkeypatch.setattr(CheckpointCallback, "on_epoch_end", stop_after_first_epoch)
    with pytest.raises(Interrupted):
        train(tunes, config, resumed, progress=0)
    monkeypatch.setattr(CheckpointCallback, "on_epoch_end", original)
    assert read_finished_epochs(resumed.last_model) == 1
    train(tunes, config, resumed, resume=True, progress=0)

    expected = read_history(straight.history)
    got = read_history(resumed.history)
    assert [row["epoch"] for row in got] == [1, 2, 3]
    for mine, reference in zip(got, expected, strict=True):
        assert mine["loss"] == pytest.approx(reference["loss"], rel=1e-4)
        assert mine["val_loss"] == pytest.approx(reference["val_loss"], rel=1e-4)
    assert iterations(resumed.last_model) == iterations(straight.last_model)


def test_resuming_finished_run_trains_nothing(tunes, tmp_path):
    config = tiny_config(tunes, epochs=1)
    run = RunPaths(tmp_path)
    train(tunes, config, run, progress=0)
    before = read_history(run.history)
    result = train(tunes, config, run, resume=True, progress=0)
    assert result.epochs_done == 1
    assert read_history(run.history) == before
    assert read_finished_epochs(run.last_model) == 1


def test_epochs_without_improvement_count_from_best():
    # The count comes from the history file, so epochs before a resume count too.
    history = [{"val_loss": loss} for loss in (2.0, 1.5, 1.6, 1.7)]
    assert epochs_without_improvement(history) == 2
    assert epochs_without_improvement([*history, {"val_loss": 1.8}]) == 3
    assert epochs_without_improvement([]) == 0


def test_mixed_float16_trains_and_resumes(tunes, tmp_path):
    import keras

    config = tiny_config(tunes, epochs=1, precision="mixed_float16")
    (tmp_path / "run").mkdir()
    run = RunPaths(tmp_path / "run")
    train(tunes, config, run, progress=0)
    model = load_model(str(run.last_model))
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert keras.config.dtype_policy().name == "float32"  # restored after training

    train(tunes, tiny_config(tunes, epochs=2, precision="mixed_float16"), run, resume=True,
          progress=0)  # fmt: skip
    assert [row["epoch"] for row in read_history(run.history)] == [1, 2]


def write_corpus(path: Path, count: int) -> None:
    """Write ``count`` random reels, enough for about a second of tiny training per epoch."""
    notes = "ABcdefgab"
    rng = random.Random(0)
    tunes = []
    for number in range(1, count + 1):
        bars = ["".join(rng.choice(notes) for _ in range(8)) for _ in range(16)]
        body = "|".join(bars[:8]) + "|\n" + "|".join(bars[8:]) + "|]\n"
        tunes.append(f"X:{number}\nT:Reel {number}\nM:4/4\nL:1/8\nK:D\n{body}")
    path.write_text("\n".join(tunes), encoding="utf-8")


def command(corpus: Path, output: Path, *options: str) -> list[str]:
    return [
        sys.executable, "-m", "musicgen", "-q", "train", "--data", str(corpus),
        "--preset", "tiny", "--units", "16", "--embedding", "8", "--batch-size", "4",
        "--seq-len", "32", "--epochs", "4", "--patience", "0",
        "--output-dir", str(output), *options,
    ]  # fmt: skip


def test_sigkill_mid_epoch_resumes_cleanly(tmp_path):
    corpus = tmp_path / "reels.abc"
    write_corpus(corpus, 120)
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    process = subprocess.Popen(
        command(corpus, tmp_path), cwd=ROOT, env=environment,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob("runs/*/last.keras")):
            assert process.poll() is None, "training ended before its first epoch was saved"
            assert time.monotonic() < deadline, "no epoch finished within 120 s"
            time.sleep(0.05)
        time.sleep(0.4)  # into the next epoch
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    run = RunPaths(next(tmp_path.glob("runs/*")))
    saved = read_finished_epochs(run.last_model)
    assert saved is not None
    assert 1 <= saved < 4, "the kill came after training ended"
    rows_before = read_history(run.history)
    assert saved <= len(rows_before) <= saved + 1
    steps_at_kill = iterations(run.last_model)
    load_model(str(run.best_model))  # the best checkpoint is whole

    resumed = subprocess.run(
        command(corpus, tmp_path, "--resume", str(run.root)), cwd=ROOT, env=environment,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    rows_after = read_history(run.history)
    assert [row["epoch"] for row in rows_after] == [1, 2, 3, 4]
    assert rows_after[:saved] == rows_before[:saved]
    assert read_finished_epochs(run.last_model) == 4
    steps_per_epoch = iterations(run.last_model) // 4
    assert steps_at_kill == saved * steps_per_epoch
    load_model(str(run.best_model))
