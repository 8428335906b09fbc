"""Model and training settings, saved as JSON beside the weights of each run."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from musicgen.files import write_text_atomic

CELLS = ("lstm", "gru", "rnn")
PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the network: Embedding, then recurrent layers, then Dense logits.

    Attributes:
        vocab_size: Number of token ids, markers included.
        cell: Recurrent cell, one of ``lstm``, ``gru``, ``rnn``.
        layers: Number of stacked recurrent layers, at least 1.
        units: Units per recurrent layer.
        embedding: Width of the character embedding.
        dropout: Dropout rate between layers, in [0, 1). Recurrent dropout is
            never used, because it would leave the cuDNN kernel.
    """

    vocab_size: int
    cell: str = "lstm"
    layers: int = 1
    units: int = 384
    embedding: int = 64
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {self.cell!r}")
        for name in ("vocab_size", "layers", "units", "embedding"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run was started with.

    Attributes:
        data: Corpus names, ``.abc`` files and folders.
        preset: Name of the preset the sizes came from.
        epochs: Passes over the training windows.
        batch_size: Windows per step.
        seq_len: Characters per training window.
        lr: Peak learning rate of Adam.
        clip_norm: Global gradient norm clip.
        validation_fraction: Share of tunes held out for validation.
        seed: Seed of the split, the weights, the shuffle and dropout.
        patience: Epochs without a better validation loss before training
            stops early; 0 turns early stopping off.
        precision: Keras dtype policy, one of :data:`PRECISIONS`; ``auto``
            picks one for the device (see ``musicgen.distribute``).
        jit_compile: Compile each training step with XLA.
        model: The network's shape.
    """

    model: ModelConfig
    data: tuple[str, ...] = ("oneills",)
    preset: str = "cpu"
    epochs: int = 20
    batch_size: int = 64
    seq_len: int = 128
    lr: float = 3e-3
    clip_norm: float = 5.0
    validation_fraction: float = 0.05
    seed: int = 0
    patience: int = 4
    precision: str = "auto"
    jit_compile: bool = False

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"
            )
        for name in ("epochs", "batch_size", "seq_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        # Early stopping and the best checkpoint need validation tunes.
        if not 0.0 < self.validation_fraction <= 0.5:
            raise ValueError(
                "validation_fraction must be above 0 and at most 0.5, "
                f"got {self.validation_fraction}"
            )
        if self.lr <= 0:
            raise ValueError(f"lr must be above 0, got {self.lr}")
        if self.patience < 0:
            raise ValueError(f"patience must be 0 (off) or more, got {self.patience}")

    def to_json(self) -> str:
        """Serialise the configuration as JSON text."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    def save(self, path: Path) -> None:
        """Write the configuration to ``path`` atomically."""
        write_text_atomic(path, self.to_json())

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        """Read a configuration written by :meth:`save`; unknown keys are rejected."""
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls.from_dict(payload)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> TrainConfig:
        """Build a configuration from the dictionary :meth:`to_json` writes."""
        payload = dict(payload)
        model = ModelConfig(**payload.pop("model"))
        names = {f.name for f in fields(cls)}
        unknown = set(payload) - names
        if unknown:
            raise ValueError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
        payload["data"] = tuple(payload.get("data", ()))
        return cls(model=model, **payload)


@dataclass(frozen=True)
class Preset:
    """Model sizes and training lengths suited to one kind of device."""

    description: str
    model: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    "cpu": Preset(
        "one LSTM of 384 units; 10 to 13 minutes on O'Neill's with 2 CPU cores",
        model={"cell": "lstm", "layers": 1, "units": 384, "embedding": 64, "dropout": 0.1},
        train={"epochs": 20, "batch_size": 64, "seq_len": 128, "lr": 3e-3},
    ),
    "gpu": Preset(
        "embedding 256 and one LSTM of 1024 units, as in the MIT 6.S191 music lab",
        model={"cell": "lstm", "layers": 1, "units": 1024, "embedding": 256, "dropout": 0.2},
        train={"epochs": 40, "batch_size": 128, "seq_len": 256, "lr": 2e-3},
    ),
    "gpu-large": Preset(
        "three LSTM layers of 512 units, the size of folk-rnn",
        model={"cell": "lstm", "layers": 3, "units": 512, "embedding": 256, "dropout": 0.3},
        train={"epochs": 60, "batch_size": 128, "seq_len": 256, "lr": 2e-3},
    ),
    "tiny": Preset(
        "a few seconds of training, for tests and trying the commands",
        model={"cell": "lstm", "layers": 1, "units": 32, "embedding": 16, "dropout": 0.0},
        train={"epochs": 2, "batch_size": 16, "seq_len": 64, "lr": 1e-2},
    ),
}


def build_config(
    vocab_size: int,
    preset: str,
    overrides: dict[str, Any],
) -> TrainConfig:
    """Combine a preset with the options given on the command line.

    Args:
        vocab_size: Size of the vocabulary built from the corpus.
        preset: A key of :data:`PRESETS`.
        overrides: Option values; ``None`` means "take the preset's". Keys are
            field names of :class:`ModelConfig` or :class:`TrainConfig`.

    Raises:
        ValueError: unknown preset or an invalid value.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    chosen = PRESETS[preset]
    model_names = {f.name for f in fields(ModelConfig)}
    model_values = dict(chosen.model)
    train_values = dict(chosen.train)
    for name, value in overrides.items():
        if value is None:
            continue
        if name in model_names:
            model_values[name] = value
        else:
            train_values[name] = value
    model = ModelConfig(vocab_size=vocab_size, **model_values)
    config = TrainConfig(model=model, preset=preset, **train_values)
    return replace(config, data=tuple(config.data))
