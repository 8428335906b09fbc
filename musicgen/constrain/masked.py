"""Constrained sampling: before every step, mask the logits to what the ABC state machine allows.

Each tune of the batch has its own :class:`~musicgen.constrain.abcstate.AbcState`.
The network runs one compiled step for the whole batch; the drawn ids come
back to the host, advance the state machines, and the next step's mask
(batch, vocab) goes back with the next ids. A tune ends when it draws the
end-of-tune marker, which the mask allows only where the tune may end. A
tune that reaches ``max_length`` first is cut at the last point where it
could have ended, so it stays valid.
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
        shown = prime[max(0, index - 20) : index] + "[" + prime[index] + "]"
        super().__init__(
            f"the primer cannot start a valid tune: character {index + 1} ({prime[index]!r}) is "
            f"not allowed there, in ...{shown!r}; write header lines such as 'M:6/8\\nK:D\\n', "
            "or use plain sampling"
        )


class MaskTable:
    """Turns sets of allowed characters into boolean masks over a vocabulary's ids."""

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
        UnknownCharacterError: the primer holds characters outside the vocabulary.
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

    ids = tf.constant(np.repeat(prime_ids[None, :], count, axis=0))  # (count, prime length)
    states = sampler.model.initial_states(count)
    written: list[list[str]] = [[] for _ in range(count)]
    # Characters written when each tune could last have ended; None until it can.
    closed: list[int | None] = [None] * count
    done = np.zeros(count, dtype=bool)
    for position in range(settings.max_length):
        masks = np.empty((count, vocab.size), dtype=bool)
        for row, machine in enumerate(machines):
            masks[row] = table.end_only if done[row] else _row_mask(machine, table)
            if not done[row] and masks[row, vocab.end_id]:
                closed[row] = len(written[row])
            if not masks[row].any():
                logger.debug("tune %d: no character of the vocabulary may follow", row)
                done[row] = True
                masks[row] = table.end_only
        if done.all():
            break
        seed = tf.constant([settings.seed, position], dtype=tf.int32)
        drawn_tensor, states = step(ids, states, seed, tf.constant(masks))
        drawn = drawn_tensor.numpy()
        for row, machine in enumerate(machines):
            if done[row]:
                continue
            token = table.tokens[drawn[row]]
            machine.step(token)
            if token == END:
                done[row] = True
            else:
                written[row].append(token)
        ids = tf.constant(drawn[:, None])  # (count, 1)

    texts = []
    for row in range(count):
        characters = written[row]
        if machines[row].mode != "end" and closed[row] is not None:
            logger.debug("tune %d reached the length limit; cut where it could end", row)
            characters = characters[: closed[row]]
        texts.append(prime + "".join(characters))
    return texts


def _row_mask(machine: AbcState, table: MaskTable) -> np.ndarray:
    return table.mask(machine.allowed())
