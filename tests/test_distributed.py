"""Strategies, the precision choice and TF_CONFIG, with real training in subprocesses.

Splitting the CPU into logical devices and joining a multi-worker cluster
must happen before TensorFlow starts, so those runs go through the command
line in fresh processes.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from musicgen.distribute import Gpu, choose_precision, read_tf_config, writes_files
from musicgen.train import read_history

ROOT = Path(__file__).resolve().parent.parent
TINY = Path(__file__).parent / "data" / "tiny_corpus.abc"
# Windows of 24 make 16 training windows and 4 validation windows, which
# split evenly between two replicas.
TINY_RUN = [
    "--data", str(TINY), "--preset", "tiny", "--units", "16", "--embedding", "8",
    "--epochs", "3", "--batch-size", "4", "--seq-len", "24", "--patience", "0",
    "--validation-fraction", "0.2",
]  # fmt: skip


@pytest.mark.parametrize(
    ("requested", "gpus", "expected"),
    [
        ("auto", [], "float32"),
        ("auto", [Gpu("NVIDIA H100", (9, 0))], "mixed_float16"),
        ("auto", [Gpu("Tesla V100", (7, 0))], "mixed_float16"),
        ("auto", [Gpu("Tesla P100", (6, 0))], "float32"),
        ("auto", [Gpu("NVIDIA A100", (8, 0)), Gpu("Tesla K80", (3, 7))], "float32"),
        ("auto", [Gpu("unknown", None)], "float32"),
        ("float32", [Gpu("NVIDIA H100", (9, 0))], "float32"),
        ("mixed_bfloat16", [], "mixed_bfloat16"),
    ],
)
def test_precision_choice(requested, gpus, expected):
    assert choose_precision(requested, gpus) == expected


def test_precision_choice_rejects_unknown_policy():
    with pytest.raises(ValueError, match="precision must be one of"):
        choose_precision("float8", [])


@pytest.mark.parametrize(
    ("cluster", "task", "chief"),
    [
        ({"worker": ["a:1", "b:1"]}, {"type": "worker", "index": 0}, True),
        ({"worker": ["a:1", "b:1"]}, {"type": "worker", "index": 1}, False),
        ({"chief": ["a:1"], "worker": ["b:1"]}, {"type": "chief", "index": 0}, True),
        ({"chief": ["a:1"], "worker": ["b:1"]}, {"type": "worker", "index": 0}, False),
    ],
)
def test_tf_config_chief(cluster, task, chief):
    environ = {"TF_CONFIG": json.dumps({"cluster": cluster, "task": task})}
    assert read_tf_config(environ).is_chief is chief


def test_tf_config_missing_means_single_chief():
    task = read_tf_config({})
    assert task.is_chief
    assert task.worker_count == 0


def test_tf_config_invalid_is_rejected():
    with pytest.raises(ValueError, match="TF_CONFIG is invalid"):
        read_tf_config({"TF_CONFIG": '{"cluster": {}, "task": {}}'})


def test_tf_config_ignored_on_one_machine(monkeypatch):
    import tensorflow as tf

    second_worker = {"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 1}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(second_worker))
    assert writes_files(tf.distribute.get_strategy())


def start_training(
    output: Path, *options: str, env: dict[str, str] | None = None, settings: list[str] = TINY_RUN
):
    command = [sys.executable, "-m", "musicgen", "-q", "train", *settings, "--output-dir", output]
    environment = {name: value for name, value in os.environ.items() if name != "TF_CONFIG"}
    environment.update({"TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})})
    return subprocess.Popen(
        [str(part) for part in [*command, *options]],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process, timeout=150):
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output
    return output


def only_run(output: Path) -> Path:
    runs = list((output / "runs").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


@pytest.fixture(scope="module")
def one_device_history(tmp_path_factory):
    output = tmp_path_factory.mktemp("one-device")
    finish(start_training(output))
    return read_history(only_run(output) / "history.csv")


def assert_same_curve(history, reference):
    assert [row["epoch"] for row in history] == [1, 2, 3]
    for mine, expected in zip(history, reference, strict=True):
        assert mine["loss"] == pytest.approx(expected["loss"], rel=1e-3)
        assert mine["val_loss"] == pytest.approx(expected["val_loss"], rel=1e-3)


def test_mirrored_two_cpu_devices_match_one(tmp_path, one_device_history):
    finish(start_training(tmp_path, "--strategy", "mirrored", "--cpu-devices", "2"))
    assert_same_curve(read_history(only_run(tmp_path) / "history.csv"), one_device_history)


def test_unsplittable_batch_leaves_no_run(tmp_path):
    process = start_training(
        tmp_path, "--strategy", "mirrored", "--cpu-devices", "2", "--batch-size", "3"
    )
    output, _ = process.communicate(timeout=150)
    assert process.returncode == 2, output
    assert "--batch-size 3 does not split evenly between 2 replicas" in output
    assert "Traceback" not in output
    assert list((tmp_path / "runs").iterdir()) == []


def test_mirrored_run_resumes_mirrored(tmp_path):
    mirrored = ("--strategy", "mirrored", "--cpu-devices", "2")
    finish(start_training(tmp_path, *mirrored))
    run = only_run(tmp_path)
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    config["epochs"] = 4
    (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
    # --resume accepts the run's own options, which now include 4 epochs.
    longer = [("4" if option == "3" else option) for option in TINY_RUN]
    finish(start_training(tmp_path, *mirrored, "--resume", str(run), settings=longer))
    assert [row["epoch"] for row in read_history(run / "history.csv")] == [1, 2, 3, 4]


def free_ports(count: int) -> list[int]:
    sockets = []
    for _ in range(count):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        sockets.append(listener)
    ports = [listener.getsockname()[1] for listener in sockets]
    for listener in sockets:
        listener.close()
    return ports


def test_two_localhost_workers_match_one_device(tmp_path, one_device_history):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        environment = {"TF_CONFIG": json.dumps(tf_config)}
        output = tmp_path / f"worker{index}"
        processes.append(start_training(output, "--strategy", "multi-worker", env=environment))
    outputs = [finish(process) for process in processes]
    assert "not the chief" in outputs[1]

    run = only_run(tmp_path / "worker0")
    for name in ("model.keras", "last.keras", "history.csv", "vocab.json", "config.json"):
        assert (run / name).exists(), name
    assert not (tmp_path / "worker1").exists()
    # Each worker trains on half of every global batch, so the curve is the one device's.
    assert_same_curve(read_history(run / "history.csv"), one_device_history)
