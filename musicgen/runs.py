"""The layout of a run folder under ``outputs/runs`` and how to find the newest one."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from musicgen.errors import UserError
from musicgen.files import fresh_directory

DEFAULT_OUTPUTS = Path("outputs")


@dataclass(frozen=True)
class RunPaths:
    """The files of one training run."""

    root: Path

    @property
    def best_model(self) -> Path:
        """The model with the lowest validation loss so far."""
        return self.root / "model.keras"

    @property
    def last_model(self) -> Path:
        """The model after the latest finished epoch, for ``--resume``."""
        return self.root / "last.keras"

    @property
    def vocab(self) -> Path:
        """The vocabulary, as JSON."""
        return self.root / "vocab.json"

    @property
    def config(self) -> Path:
        """The whole training configuration, as JSON."""
        return self.root / "config.json"

    @property
    def history(self) -> Path:
        """Per-epoch losses, as CSV."""
        return self.root / "history.csv"

    @property
    def loss_plot(self) -> Path:
        """Training and validation loss curves, as PNG."""
        return self.root / "loss.png"


def new_run(outputs: Path, label: str) -> RunPaths:
    """Create a fresh run folder named after the time and ``label``."""
    name = time.strftime("%Y%m%d-%H%M%S") + (f"-{label}" if label else "")
    return RunPaths(fresh_directory(outputs / "runs", name))


def find_run(run: Path | None, outputs: Path) -> RunPaths:
    """Return the run at ``run``, or the newest run with a saved model under ``outputs``.

    Raises:
        UserError: there is no such run, or no run at all.
    """
    if run is not None:
        paths = RunPaths(Path(run))
        if not Path(run).is_dir():
            raise UserError(
                f"run folder {run} not found; pass a folder made by 'python -m musicgen train'"
            )
        if not paths.best_model.exists():
            raise UserError(
                f"{run} is not a finished run: {paths.best_model.name} is missing; "
                "pass a folder made by 'python -m musicgen train'"
            )
        return paths
    candidates = sorted(
        (RunPaths(p) for p in (outputs / "runs").glob("*") if (p / "model.keras").exists()),
        key=lambda paths: paths.best_model.stat().st_mtime,
    )
    if not candidates:
        raise UserError(
            f"no trained run under {outputs / 'runs'}; train one first with "
            "'python -m musicgen train' (or pass --run DIR)"
        )
    return candidates[-1]
