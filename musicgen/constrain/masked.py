"""Constrained sampling: draw each character from logits masked to what ABC allows there.

Each tune of the batch has its own :class:`~musicgen.constrain.abcstate.AbcState`.
The network runs one compiled step for the whole batch. The drawn ids come
back to the host, advance the state machines, and the next step's mask
(batch, vocab) goes back with the next ids. A tune ends when it draws the
end-of-tune marker, which the mask allows only where the tune may end, and
then leaves the batch. A tune that reaches ``max_length`` first is cut at
the last point where it could have ended, so it stays valid.
"""

from __future__ import annotations

import copy
import logging

import numpy as np
import tensorflow as tf

from musicgen.constrain.abcstate import END, AbcState
from musicgen.sample import Sampler, SamplingSettings
from musicgen.vocab import SPECIAL_TOKENS, Vocabulary

logger = logging.getLogger(__name__)


class InvalidPrimerError(ValueError):
    """A primer that constrained sampling cannot continue, with the position of the problem."""

    def __init__(self, prime: str, index: int) -> None:
        self.index = index
        context = prime[max(0, index - 20) : index] + "[" + prime[index] + "]"
        super().__init__(
            f"the primer cannot start a valid tune: character {index + 1} ({prime[index]!r}) is "
            f"not allowed there, in ...{context!r}; write header lines such as 'M:6/8\\nK:D\\n', "
            "or use plain sampling"
        )


class MaskTable:
    """Boolean masks over a vocabulary's ids, made from sets of allowed characters."""

    def __init__(self, vocab: Vocabulary) -> None:
        # The token of each id: END for the end marker, "" for the others, which are never drawn.
        self.tokens = [END if i == vocab.end_id else "" for i in range(len(SPECIAL_TOKENS))]
        self.tokens += vocab.characters
        self.end_only = np.zeros(vocab.size, dtype=bool)
        self.end_only[vocab.end_id] = True
        self._cache: dict[frozenset[str], np.ndarray] = {}

    def mask(self, allowed: frozenset[str]) -> np.ndarray:
        """Return the mask (vocab,) that is True for the ids of ``allowed``."""
        found = self._cache.get(allowed)
        if found is None:
            found = np.array([token in allowed for token in self.tokens], dtype=bool)
            self._cache[allowed] = found
        return found


def sample_constrained(
    sampler: Sampler,
    count: int,
    settings: SamplingSettings,
    prime: str = "",
    *,
    enforce_bars: bool = True,
    enforce_repeats: bool = True,
) -> list[str]:
    """Sample ``count`` tunes that the state machine accepts, each starting with ``prime``.

    Returns:
        The tunes' texts, primer included.

    Raises:
        UnknownCharacterError: the primer contains characters outside the vocabulary.
        InvalidPrimerError: the state machine rejects a character of the primer.
    """
    vocab = sampler.vocab
    prime_ids = vocab.encode(prime, add_start=True)
    first = AbcState(
        enforce_bars=enforce_bars, enforce_repeats=enforce_repeats, max_bars=settings.max_bars
    )
    rejected = first.feed(prime)
    if rejected is not None:
        raise InvalidPrimerError(prime, rejected)
    machines = [copy.deepcopy(first) for _ in range(count)]
    table = MaskTable(vocab)
    step = sampler.masked_step(settings)

    # Feed all but the last primer id at once; every step then feeds one id per tune.
    states = sampler.run_primer(prime_ids[:-1], count)
    ids = np.full((count, 1), prime_ids[-1], dtype=np.int32)  # (active tunes, 1)
    written: list[list[str]] = [[] for _ in range(count)]
    # Characters written when each tune could last have ended; None until it can.
    closed: list[int | None] = [None] * count
    active = np.arange(count)  # the tunes still being written, by row of the batch
    for position in range(settings.max_length):
        masks = np.empty((len(active), vocab.size), dtype=bool)  # (active tunes, vocab)
        for row, tune in enumerate(active.tolist()):
            masks[row] = table.mask(machines[tune].allowed())
            if masks[row, vocab.end_id]:
                closed[tune] = len(written[tune])
            elif not masks[row].any():
                # NOTE: a vocabulary can lack a character the state machine needs,
                # as a tiny corpus without "C" cannot finish "K:Dlo" as "K:Dloc".
                # The tune then ends where it last could, or stays invalid.
                logger.warning("tune %d has no valid continuation; cut where it ends", tune)
                masks[row] = table.end_only
        seed = tf.constant([settings.seed, position], dtype=tf.int32)
        drawn_tensor, states = step(tf.constant(ids), states, seed, tf.constant(masks))
        drawn = drawn_tensor.numpy()  # (active tunes,)
        keep = []
        for row, tune in enumerate(active.tolist()):
            token = table.tokens[drawn[row]]
            if token == END and not machines[tune].can_end:
                continue  # the tune had no valid continuation and is cut below
            machines[tune].step(token)
            if token != END:
                written[tune].append(token)
                keep.append(row)
        if not keep:
            break
        if len(keep) < len(active):
            rows = tf.constant(keep, dtype=tf.int32)
            states = [tf.gather(state, rows) for state in states]
            active = active[keep]
        ids = drawn[keep, None]

    texts = []
    for tune in range(count):
        characters = written[tune]
        cut = closed[tune]
        if machines[tune].mode != "end" and cut is not None:
            logger.debug("tune %d did not end by itself; cut where it could end", tune)
            characters = characters[:cut]
        texts.append(prime + "".join(characters))
    return texts
