"""Turn tunes into training windows: the input pipeline of ``tf.data``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from musicgen.vocab import Vocabulary


def encode_tunes(texts: Sequence[str], vocab: Vocabulary) -> list[np.ndarray]:
    """Encode each text as ids between a start-of-tune and an end-of-tune marker."""
    return [vocab.encode(text, add_start=True, add_end=True) for text in texts]


def make_windows(tunes: Sequence[np.ndarray], seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut encoded tunes into inputs and next-character targets of ``seq_len`` ids.

    The tunes are laid back to back in one stream. Each tune is cut into
    windows that start at its start marker, then every ``seq_len`` ids; its
    last window runs on into the next tune instead of being padded. So no
    step is spent on padding, and every tune's first characters are learned
    from the zero recurrent state that sampling starts from. The final
    windows that would run past the end of the stream are dropped.

    Returns:
        ``inputs`` and ``targets``, each of shape (windows, seq_len), int32,
        where ``targets[i, t]`` is the id that follows ``inputs[i, t]``.

    Raises:
        ValueError: ``seq_len`` is below 1 or the tunes make no window.
    """
    if seq_len < 1:
        raise ValueError(f"seq_len must be at least 1, got {seq_len}")
    stream = np.concatenate(tunes) if tunes else np.zeros(0, dtype=np.int32)
    starts: list[int] = []
    offset = 0
    for tune in tunes:
        for start in range(offset, offset + len(tune) - 1, seq_len):
            if start + seq_len + 1 <= len(stream):
                starts.append(start)
        offset += len(tune)
    if not starts:
        raise ValueError(
            f"{len(stream)} characters make no training window of {seq_len + 1}; "
            "use more tunes or a smaller --seq-len"
        )
    index = np.asarray(starts)[:, None] + np.arange(seq_len)[None, :]  # (windows, seq_len)
    return stream[index], stream[index + 1]
