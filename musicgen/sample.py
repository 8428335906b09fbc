"""Sample tunes from a network: batched, one recurrent step per character, state carried along.

Plain sampling runs the whole loop inside one compiled TensorFlow graph
(``tf.while_loop``), so the tunes reach the host only once they are done.
Guided sampling (:meth:`Sampler.sample_guided`, used by constrained sampling
in :mod:`musicgen.constrain.masked`) runs the same kind of loop, and every
step calls back into Python with the drawn ids to get the next step's mask.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from gettext import ngettext
from typing import Any, Protocol

import numpy as np
import tensorflow as tf

from musicgen.model import CharRNN
from musicgen.vocab import Vocabulary

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SamplingSettings:
    """Settings for drawing the next character from the network's output.

    Attributes:
        temperature: Divides the logits; below 1 is more conservative, above
            1 more adventurous. Must be above 0.
        top_k: Keep only the k most likely characters; 0 keeps all.
        top_p: Keep the smallest set of most likely characters whose
            probabilities add up to at least p (nucleus sampling); 1 keeps all.
        max_length: Characters per tune at most, primer excluded.
        seed: Seed of the random draws; the same seed gives the same tunes.
        max_bars: Bars per tune at most, counted by closed bar lines in the
            tune body (a pickup bar counts as one); 0 for no limit.

    Raises:
        ValueError: a value is out of range. The message names the field by
            the command-line option that sets it, such as ``--top-k`` for
            ``top_k``, because generate and evaluate show it to the user as it is.
    """

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    max_length: int = 1000
    seed: int = 0
    max_bars: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.temperature < math.inf:
            raise ValueError(f"--temperature must be a number above 0, got {self.temperature}")
        if self.top_k < 0:
            raise ValueError(f"--top-k must be 0 (off) or more, got {self.top_k}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"--top-p must be above 0 and at most 1, got {self.top_p}")
        if self.max_length < 1:
            raise ValueError(f"--max-length must be at least 1, got {self.max_length}")
        if self.max_bars < 0:
            raise ValueError(f"--max-bars must be 0 (off) or more, got {self.max_bars}")


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


def choose_next(
    logits: tf.Tensor, settings: SamplingSettings, seed: tf.Tensor, mask: tf.Tensor | None = None
) -> tf.Tensor:
    """Draw one id per row of ``logits`` (batch, vocab); ``seed`` is a stateless seed pair.

    ``mask`` (batch, vocab), when given, is True for the ids that may be
    drawn; top-k and top-p then choose among those only.
    """
    if mask is not None:
        logits = tf.where(mask, tf.cast(logits, tf.float32), float("-inf"))
    filtered = filter_logits(logits, settings.temperature, settings.top_k, settings.top_p)
    drawn = tf.random.stateless_categorical(filtered, 1, seed=seed, dtype=tf.int32)
    return drawn[:, 0]  # (batch,)


class Guide(Protocol):
    """The host side of guided sampling: it reads each step's drawn ids and masks the next step."""

    def __call__(self, drawn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Read the ids drawn for every tune (batch,) int32.

        Returns:
            The next step's mask (batch, vocab), True where an id may be
            drawn and with at least one True per row, and which tunes are
            finished (batch,). Finished tunes go on drawing until the batch
            is done, and the guide ignores their ids.
        """
        ...


class Sampler:
    """Draws tunes from ``model`` for a whole batch at once.

    The primer runs through the network once; after that every step feeds
    one character per tune and carries the recurrent state to the next step.
    """

    def __init__(self, model: CharRNN, vocab: Vocabulary) -> None:
        self.model = model
        self.vocab = vocab
        self._loops: dict[tuple[float, int, float], Callable[..., Any]] = {}
        self._guided_loops: dict[tuple[float, int, float], Callable[..., Any]] = {}
        # The guide of the guided loop now running, which the graph calls back.
        self._guide: Guide | None = None
        self._guide_error: Exception | None = None
        self._guide_lock = threading.Lock()

    def _loop_function(self, settings: SamplingSettings) -> Callable[..., Any]:
        """Return the compiled sampling loop for the drawing settings."""
        key = (settings.temperature, settings.top_k, settings.top_p)
        if key not in self._loops:
            self._loops[key] = tf.function(self._make_loop(settings), reduce_retracing=True)
        return self._loops[key]

    def _make_loop(self, settings: SamplingSettings) -> Callable[..., Any]:
        model = self.model
        end_id = self.vocab.end_id

        def loop(
            prime: tf.Tensor,
            states: list[tf.Tensor],
            seed: tf.Tensor,
            length: tf.Tensor,
            stop_at_end: tf.Tensor,
        ) -> tf.Tensor:
            logits, states = model(prime, states=states, return_state=True, training=False)
            first = choose_next(logits[:, -1, :], settings, tf.stack([seed, 0]))  # (batch,)
            drawn = tf.TensorArray(tf.int32, size=0, dynamic_size=True).write(0, first)

            def running(step, ids, states, finished, drawn):  # type: ignore[no-untyped-def]
                all_done = tf.logical_and(stop_at_end, tf.reduce_all(finished))
                return tf.logical_and(step < length, tf.logical_not(all_done))

            def advance(step, ids, states, finished, drawn):  # type: ignore[no-untyped-def]
                logits, states = model(
                    ids[:, None], states=states, return_state=True, training=False
                )  # logits: (batch, 1, vocab)
                next_ids = choose_next(logits[:, -1, :], settings, tf.stack([seed, step]))
                next_ids = tf.where(finished, end_id, next_ids)
                finished = tf.logical_or(finished, tf.equal(next_ids, end_id))
                return step + 1, next_ids, states, finished, drawn.write(step, next_ids)

            *_, drawn = tf.while_loop(
                running,
                advance,
                (tf.constant(1), first, states, tf.equal(first, end_id), drawn),
            )
            return tf.transpose(drawn.stack())  # (batch, steps)

        return loop

    def _guided_loop_function(self, settings: SamplingSettings) -> Callable[..., Any]:
        """Return the compiled guided loop for the drawing settings."""
        key = (settings.temperature, settings.top_k, settings.top_p)
        if key not in self._guided_loops:
            state_specs = [
                tf.TensorSpec((None, state.shape[-1]), state.dtype)
                for state in self.model.initial_states(1)
            ]
            signature = [
                tf.TensorSpec((None, None), tf.int32),
                state_specs,
                tf.TensorSpec((None, self.vocab.size), tf.bool),
                tf.TensorSpec((), tf.int32),
                tf.TensorSpec((), tf.int32),
            ]
            function = tf.function(self._make_guided_loop(settings), input_signature=signature)
            # The concrete function skips the argument checks of tf.function.
            self._guided_loops[key] = function.get_concrete_function()
        return self._guided_loops[key]

    def _make_guided_loop(self, settings: SamplingSettings) -> Callable[..., Any]:
        model = self.model
        vocab_size = self.vocab.size

        def ask_guide(drawn: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            masks, finished = tf.numpy_function(
                self._call_guide, [drawn], [tf.bool, tf.bool], stateful=True
            )
            masks.set_shape((None, vocab_size))
            finished.set_shape((None,))
            return masks, finished

        def loop(
            prime: tf.Tensor,
            states: list[tf.Tensor],
            mask: tf.Tensor,
            seed: tf.Tensor,
            length: tf.Tensor,
        ) -> tf.Tensor:
            logits, states = model(prime, states=states, return_state=True, training=False)
            first = choose_next(logits[:, -1, :], settings, tf.stack([seed, 0]), mask)

            def running(step, ids, states, finished):  # type: ignore[no-untyped-def]
                return tf.logical_and(step < length, tf.logical_not(tf.reduce_all(finished)))

            def advance(step, ids, states, finished):  # type: ignore[no-untyped-def]
                # The guide and the network both read only the ids of the
                # last step, so TensorFlow may run the two at the same time.
                masks, finished = ask_guide(ids)
                logits, states = model(
                    ids[:, None], states=states, return_state=True, training=False
                )  # logits: (batch, 1, vocab)
                next_ids = choose_next(logits[:, -1, :], settings, tf.stack([seed, step]), masks)
                return step + 1, next_ids, states, finished

            not_finished = tf.zeros_like(first, dtype=tf.bool)
            steps, *_ = tf.while_loop(
                running, advance, (tf.constant(1), first, states, not_finished)
            )
            return steps

        return loop

    def _call_guide(self, drawn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # An exception raised here would reach the caller as TensorFlow's
        # UnknownError. So the first one is stored and every tune is
        # reported finished, which ends the loop; sample_guided re-raises it.
        if self._guide is not None and self._guide_error is None:
            try:
                return self._guide(drawn)
            except Exception as error:
                self._guide_error = error
        batch = len(drawn)
        return np.ones((batch, self.vocab.size), dtype=bool), np.ones(batch, dtype=bool)

    def sample_guided(
        self,
        count: int,
        settings: SamplingSettings,
        prime: str,
        guide: Guide,
        first_mask: np.ndarray,
    ) -> int:
        """Sample ``count`` tunes after ``prime``, every step masked by ``guide``.

        The first step draws under ``first_mask`` (count, vocab). After each
        step ``guide`` reads the drawn ids and returns the next step's mask.
        The loop ends when the guide reports every tune finished, so the
        guide must finish each tune by ``settings.max_length`` characters.
        After ``settings.max_length + 1`` steps the loop stops in any case.
        The tunes' text is the guide's to keep. Calls from several threads
        run one after another.

        Returns:
            The number of steps taken.

        Raises:
            UnknownCharacterError: the primer contains characters outside the vocabulary.
            ValueError: ``first_mask`` is not a boolean array of shape (count, vocab).
            Exception: whatever ``guide`` raised; the loop stops at that step.
        """
        prime_ids = self.vocab.encode(prime, add_start=True)
        expected = (count, self.vocab.size)
        if first_mask.shape != expected or first_mask.dtype != np.bool_:
            raise ValueError(
                f"first_mask must be a bool array of shape {expected}, "
                f"got {first_mask.dtype} {first_mask.shape}"
            )
        primes = tf.constant(np.repeat(prime_ids[None, :], count, axis=0))  # (count, prime length)
        loop = self._guided_loop_function(settings)
        with self._guide_lock:
            self._guide, self._guide_error = guide, None
            try:
                steps = loop(
                    primes,
                    self.model.initial_states(count),
                    tf.constant(first_mask),
                    tf.constant(settings.seed, tf.int32),
                    tf.constant(settings.max_length + 1, tf.int32),
                )
            finally:
                self._guide = None
            if self._guide_error is not None:
                raise self._guide_error
        return int(steps)

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
        ``settings.max_bars`` is not applied here (see
        :func:`musicgen.generate.cut_after_bars`).

        Returns:
            The tunes' texts, primer included, without the markers. A tune that
            reaches ``settings.max_length`` is cut there.

        Raises:
            UnknownCharacterError: the primer contains characters outside the vocabulary.
        """
        prime_ids = self.vocab.encode(prime, add_start=True)
        primes = tf.constant(np.repeat(prime_ids[None, :], count, axis=0))  # (count, prime length)
        drawn = self._loop_function(settings)(
            primes,
            self.model.initial_states(count),
            tf.constant(settings.seed, tf.int32),
            tf.constant(settings.max_length, tf.int32),
            tf.constant(stop_at_end),
        ).numpy()  # (count, steps)
        steps = drawn.shape[1]
        logger.debug(
            "sampled %d %s in %d %s",
            count,
            ngettext("tune", "tunes", count),
            steps,
            ngettext("step", "steps", steps),
        )
        return [prime + self.vocab.decode(row) for row in drawn]
