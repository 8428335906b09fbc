"""Measure how well a model predicts held-out tunes: loss, perplexity, bits per character."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from musicgen.data import encode_tunes, make_windows
from musicgen.model import CharRNN
from musicgen.vocab import Vocabulary


@dataclass(frozen=True)
class Likelihood:
    """A model's cross-entropy on held-out tunes.

    Attributes:
        loss: Mean cross-entropy in nats per character.
        characters: Characters predicted (windows times window length).
    """

    loss: float
    characters: int

    @property
    def perplexity(self) -> float:
        """e to the power of the loss: the number of equally likely characters it amounts to."""
        return math.exp(self.loss)

    @property
    def bits_per_character(self) -> float:
        """The loss in bits per character."""
        return self.loss / math.log(2)


def measure_likelihood(
    model: CharRNN,
    vocab: Vocabulary,
    texts: Sequence[str],
    seq_len: int,
    batch_size: int = 64,
) -> Likelihood:
    """Return the mean cross-entropy of ``model`` on ``texts``.

    The tunes are cut into windows exactly as training cuts its validation
    tunes (:func:`musicgen.data.make_windows`), so the loss of the trained
    model is comparable with ``val_loss`` in the run's history.

    Raises:
        ValueError: the texts make no window of ``seq_len`` characters, or
            contain characters outside the vocabulary.
    """
    inputs, targets = make_windows(encode_tunes(texts, vocab), seq_len)
    total = 0.0
    for start in range(0, len(inputs), batch_size):
        batch = inputs[start : start + batch_size]
        logits = np.asarray(model(batch, training=False), dtype=np.float64)  # (batch, time, vocab)
        peak = logits.max(axis=-1, keepdims=True)
        log_sums = peak[..., 0] + np.log(np.exp(logits - peak).sum(axis=-1))  # (batch, time)
        chosen = np.take_along_axis(logits, targets[start : start + batch_size, :, None], axis=-1)
        total += float((log_sums - chosen[..., 0]).sum())
    return Likelihood(total / targets.size, int(targets.size))
