"""Fixtures shared by several test files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from musicgen.config import build_config
from musicgen.corpus import load_corpus
from musicgen.runs import RunPaths
from musicgen.train import train
from musicgen.vocab import Vocabulary

TINY = Path(__file__).parent / "data" / "tiny_corpus.abc"


@pytest.fixture(scope="session")
def train_tiny_run(tmp_path_factory) -> Callable[..., RunPaths]:
    """Return a function that trains the tiny preset on the tiny corpus with given settings."""

    def run_training(**settings: object) -> RunPaths:
        tunes = load_corpus([str(TINY)]).tunes
        vocab = Vocabulary.from_texts(t.text for t in tunes)
        overrides = {"batch_size": 4, "seq_len": 32, "validation_fraction": 0.2, **settings}
        config = build_config(vocab.size, "tiny", overrides)
        run = RunPaths(tmp_path_factory.mktemp("run"))
        train(tunes, config, run, progress=0)
        return run

    return run_training
