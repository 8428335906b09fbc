"""Turn tunes into training windows: the input pipeline of ``tf.data``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from musicgen.vocab import Vocabulary


def encode_tunes(texts: Sequence[str], vocab: Vocabulary) -> np.ndarray:
    """Concatenate ``texts`` into one id stream, each tune between start and end markers."""
    if not texts:
        return np.zeros(0, dtype=np.int32)
    parts = [vocab.encode(text, add_start=True, add_end=True) for text in texts]
    return np.concatenate(parts)


def make_windows(stream: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``stream`` into inputs and next-character targets of ``seq_len`` ids.

    Tunes are packed back to back, so no step is spent on padding; a window may
    span the end of one tune and the start of the next, which teaches the model
    what follows the end marker. The last partial window is dropped.

    Returns:
        ``inputs`` and ``targets``, each of shape (windows, seq_len), int32,
        where ``targets[i, t] == inputs[i, t + 1]`` inside a window.

    Raises:
        ValueError: ``seq_len`` is below 1 or the stream is shorter than one window.
    """
    if seq_len < 1:
        raise ValueError(f"seq_len must be at least 1, got {seq_len}")
    count = (len(stream) - 1) // seq_len
    if count < 1:
        raise ValueError(
            f"{len(stream)} characters make no training window of {seq_len + 1}; "
            "use more tunes or a smaller --seq-len"
        )
    inputs = stream[: count * seq_len].reshape(count, seq_len)
    targets = stream[1 : count * seq_len + 1].reshape(count, seq_len)
    return inputs, targets
