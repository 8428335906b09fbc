"""Sample tunes from a network: batched, one recurrent step per character, state carried along."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tensorflow as tf

from musicgen.constrain import TuneChecker
from musicgen.model import CharRNN
from musicgen.vocab import Vocabulary

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SamplingSettings:
    """How the next character is drawn from the network's output.

    Attributes:
        temperature: Divides the logits; below 1 is more conservative, above
            1 more adventurous. Must be above 0.
        top_k: Keep only the k most likely characters; 0 keeps all.
        top_p: Keep the smallest set of most likely characters whose
            probabilities add up to at least p (nucleus sampling); 1 keeps all.
        max_length: Characters per tune at most, primer excluded.
        seed: Seed of the random draws; the same seed gives the same tunes.
    """

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    max_length: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.temperature <= 0:
            raise ValueError(f"temperature must be above 0, got {self.temperature}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be 0 (off) or more, got {self.top_k}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_length < 1:
            raise ValueError(f"max_length must be at least 1, got {self.max_length}")


def filter_logits(logits: tf.Tensor, temperature: float, top_k: int, top_p: float) -> tf.Tensor:
    """Scale logits by temperature and mask what top-k and top-p leave out.

    Args:
        logits: Shape (batch, vocab).

    Returns:
        Logits of the same shape; masked entries are set to -inf.
    """
    logits = tf.cast(logits, tf.float32) / temperature
    negative_infinity = tf.fill(tf.shape(logits), float("-inf"))
    if top_k > 0:
        k = min(top_k, int(logits.shape[-1]))
        kth_largest = tf.math.top_k(logits, k=k).values[:, -1:]  # (batch, 1)
        logits = tf.where(logits < kth_largest, negative_infinity, logits)
    if top_p < 1.0:
        sorted_logits = tf.sort(logits, direction="DESCENDING", axis=-1)
        probabilities = tf.nn.softmax(sorted_logits, axis=-1)
        # Mass of the characters ranked above each one; keep while it is below p.
        mass_before = tf.cumsum(probabilities, axis=-1, exclusive=True)
        kept = tf.where(
            mass_before < top_p, sorted_logits, tf.fill(tf.shape(sorted_logits), np.inf)
        )
        threshold = tf.reduce_min(kept, axis=-1, keepdims=True)  # (batch, 1)
        logits = tf.where(logits < threshold, negative_infinity, logits)
    return logits


def choose_next(logits: tf.Tensor, settings: SamplingSettings, seed: tf.Tensor) -> tf.Tensor:
    """Draw one id per row of ``logits`` (batch, vocab); ``seed`` is a stateless seed pair."""
    filtered = filter_logits(logits, settings.temperature, settings.top_k, settings.top_p)
    drawn = tf.random.stateless_categorical(filtered, 1, seed=seed, dtype=tf.int32)
    return drawn[:, 0]  # (batch,)


class Sampler:
    """Draws tunes from ``model`` for a whole batch at once.

    The primer runs through the network once; after that every step feeds
    one character per tune and carries the recurrent state to the next step.
    """

    def __init__(self, model: CharRNN, vocab: Vocabulary) -> None:
        self.model = model
        self.vocab = vocab
        self._compiled: dict[tuple[float, int, float], Callable[..., Any]] = {}

    def _advance_function(self, settings: SamplingSettings) -> Callable[..., Any]:
        """Return the compiled step: feed ids, carry the states, draw the next ids."""
        key = (settings.temperature, settings.top_k, settings.top_p)
        if key not in self._compiled:

            def advance(
                ids: tf.Tensor, states: list[tf.Tensor], seed: tf.Tensor
            ) -> tuple[tf.Tensor, list[tf.Tensor]]:
                logits, new_states = self.model(
                    ids, states=states, return_state=True, training=False
                )  # logits: (batch, time, vocab)
                return choose_next(logits[:, -1, :], settings, seed), new_states

            self._compiled[key] = tf.function(advance, reduce_retracing=True)
        return self._compiled[key]

    def sample(
        self,
        count: int,
        settings: SamplingSettings,
        prime: str = "",
        *,
        stop_at_end: bool = True,
    ) -> list[str]:
        """Sample ``count`` tunes, each starting with ``prime``.

        With ``stop_at_end=False`` every tune runs to ``settings.max_length``
        steps even after an end marker, which benchmarks use to time a fixed
        number of steps; the returned text still ends at the first marker.

        Returns:
            The tunes' texts, primer included, without the markers. A tune that
            reaches ``settings.max_length`` is cut there.

        Raises:
            UnknownCharacterError: the primer holds characters outside the vocabulary.
        """
        advance = self._advance_function(settings)
        prime_ids = self.vocab.encode(prime, add_start=True)
        ids = tf.constant(np.repeat(prime_ids[None, :], count, axis=0))  # (count, prime length)
        states = self.model.initial_states(count)

        generated = np.zeros((count, settings.max_length), dtype=np.int32)
        finished = np.zeros(count, dtype=bool)
        length = 0
        for position in range(settings.max_length):
            seed = tf.constant([settings.seed, position], dtype=tf.int32)
            next_ids_tensor, states = advance(ids, states, seed)
            next_ids = next_ids_tensor.numpy()
            next_ids[finished] = self.vocab.end_id
            generated[:, position] = next_ids
            finished |= next_ids == self.vocab.end_id
            length = position + 1
            if stop_at_end and finished.all():
                break
            ids = tf.constant(next_ids[:, None])  # (count, 1)
        logger.debug("sampled %d tunes in %d steps", count, length)
        return [prime + self.vocab.decode(row[:length]) for row in generated]

    def sample_checked(
        self,
        count: int,
        settings: SamplingSettings,
        checker: TuneChecker,
        prime: str = "",
        max_attempts: int = 20,
    ) -> list[str]:
        """Sample ``count`` tunes whose every line passes ``checker``.

        When a tune finishes a line (or the whole tune), ``checker`` looks at
        its text so far. A rejected line is drawn again from the recurrent
        state and input at its start. After ``max_attempts`` rejections in a
        row, or at ``settings.max_length``, the tune ends at its last accepted
        line.

        Raises:
            UnknownCharacterError: the primer holds characters outside the vocabulary.
        """
        advance = self._advance_function(settings)
        prime_ids = self.vocab.encode(prime, add_start=True)
        newline = self.vocab.encode("\n")[0] if "\n" in self.vocab.characters else -1
        # Feed all but the last primer id, so each step then feeds one id per tune.
        states = self.model.initial_states(count)
        if len(prime_ids) > 1:
            head = tf.constant(np.repeat(prime_ids[None, :-1], count, axis=0))
            _, states = advance(head, states, tf.constant([settings.seed, -1]))
        rows = [_Row(prime, int(prime_ids[-1])) for _ in range(count)]
        for row, snapshot in zip(rows, _split_states(states), strict=True):
            row.snapshot = snapshot

        for position in range(settings.max_length):
            if all(row.done for row in rows):
                break
            ids = tf.constant([[row.next_input] for row in rows])  # (count, 1)
            seed = tf.constant([settings.seed, position], dtype=tf.int32)
            drawn, states = advance(ids, states, seed)
            restore: dict[int, list[np.ndarray]] = {}
            split = None
            for index, (row, token) in enumerate(zip(rows, drawn.numpy(), strict=True)):
                if row.done:
                    continue
                token = int(token)
                if token == self.vocab.end_id or token == newline:
                    split = split or _split_states(states)
                    self._end_line(row, token, split[index], checker, max_attempts, restore, index)
                else:
                    row.line.append(token)
                    row.next_input = token
            if restore:
                states = _replace_rows(states, restore)
        return [row.accepted for row in rows]

    def _end_line(
        self,
        row: _Row,
        token: int,
        state_after: list[np.ndarray],
        checker: TuneChecker,
        max_attempts: int,
        restore: dict[int, list[np.ndarray]],
        index: int,
    ) -> None:
        finished = token == self.vocab.end_id
        line = self.vocab.decode(row.line)
        text = row.accepted + line + ("" if finished else "\n")
        if not finished and not line.strip():
            # An empty line ends a tune (ABC 2.1, section 2.2), so a tune may not contain one.
            problem: str | None = "empty line inside the tune"
        else:
            problem = checker.problem(text.rstrip("\n"), finished=finished)
        if problem is None:
            row.accepted = text
            row.line = []
            row.attempts = 0
            row.done = finished
            row.snapshot = state_after
            row.snapshot_input = token
            row.next_input = token
            return
        row.attempts += 1
        logger.debug("line rejected (attempt %d): %s", row.attempts, problem)
        row.line = []
        if row.attempts >= max_attempts:
            logger.debug(
                "tune ended at its last valid line after %d rejected attempts: %s",
                row.attempts,
                problem,
            )
            row.done = True
            return
        restore[index] = row.snapshot
        row.next_input = row.snapshot_input


@dataclass
class _Row:
    """The progress of one tune in constrained sampling."""

    accepted: str
    snapshot_input: int
    line: list[int] = field(default_factory=list)
    attempts: int = 0
    done: bool = False
    snapshot: list[np.ndarray] = field(default_factory=list)
    next_input: int = 0

    def __post_init__(self) -> None:
        self.next_input = self.snapshot_input


def _split_states(states: list[tf.Tensor]) -> list[list[np.ndarray]]:
    """Turn per-layer states of shape (batch, units) into one list of rows per tune."""
    arrays = [state.numpy() for state in states]
    return [[array[row] for array in arrays] for row in range(arrays[0].shape[0])]


def _replace_rows(
    states: list[tf.Tensor], replacements: dict[int, list[np.ndarray]]
) -> list[tf.Tensor]:
    arrays = [state.numpy().copy() for state in states]
    for row, row_states in replacements.items():
        for array, value in zip(arrays, row_states, strict=True):
            array[row] = value
    return [tf.constant(array) for array in arrays]
