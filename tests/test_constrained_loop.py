"""Constrained sampling in one compiled loop: the same tunes as masking step by step on the host."""

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from musicgen.config import build_config
from musicgen.constrain import END, AbcState
from musicgen.constrain.masked import MaskTable, sample_constrained
from musicgen.corpus import load_corpus
from musicgen.model import build_model, load_model
from musicgen.sample import Sampler, SamplingSettings, choose_next
from musicgen.vocab import Vocabulary

TINY = Path(__file__).parent / "data" / "tiny_corpus.abc"
HEADER = "T:Test\nM:6/8\nL:1/8\nK:D\n"


def mask_step_by_step(sampler: Sampler, settings: SamplingSettings, prime: str) -> str:
    """Sample one tune the slow way, one eager network step and one mask per character.

    This is the definition the compiled loop must match, seeds included:
    step ``t`` draws with the seed pair ``(seed, t)``.
    """
    machine = AbcState(max_bars=settings.max_bars)
    assert machine.feed(prime) is None
    table = MaskTable(sampler.vocab)
    ids = tf.constant(sampler.vocab.encode(prime, add_start=True)[None, :])  # (1, prime length)
    states = sampler.model.initial_states(1)
    written: list[str] = []
    closed = None
    for step in range(settings.max_length + 1):
        allowed = machine.allowed()
        if END in allowed:
            closed = len(written)
        if len(written) >= settings.max_length:
            break
        logits, states = sampler.model(ids, states=states, return_state=True, training=False)
        mask = tf.constant(table.mask(allowed)[None, :])
        seed = tf.constant([settings.seed, step], dtype=tf.int32)
        drawn = int(choose_next(logits[:, -1, :], settings, seed, mask).numpy()[0])
        token = table.tokens[drawn]
        machine.step(token)
        if token == END:
            break
        written.append(token)
        ids = tf.constant([[drawn]], dtype=tf.int32)
    if machine.mode != "end" and closed is not None:
        written = written[:closed]
    return prime + "".join(written)


@pytest.fixture(scope="module")
def tiny_trained(train_tiny_run):
    run = train_tiny_run(epochs=30, units=64)
    return Sampler(load_model(str(run.best_model)), Vocabulary.load(run.vocab))


@pytest.fixture(scope="module")
def untrained():
    vocab = Vocabulary.from_texts(t.text for t in load_corpus([str(TINY)]).tunes)
    keras.utils.set_random_seed(3)
    return Sampler(build_model(build_config(vocab.size, "tiny", {}).model), vocab)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loop_matches_stepwise(tiny_trained, seed):
    settings = SamplingSettings(max_length=150, seed=seed)
    expected = mask_step_by_step(tiny_trained, settings, HEADER)
    assert sample_constrained(tiny_trained, 1, settings, HEADER) == [expected]


def test_loop_matches_stepwise_top_k(tiny_trained):
    settings = SamplingSettings(max_length=150, seed=4, top_k=3, temperature=1.5)
    expected = mask_step_by_step(tiny_trained, settings, HEADER)
    assert sample_constrained(tiny_trained, 1, settings, HEADER) == [expected]


def test_loop_matches_stepwise_untrained(untrained):
    # An untrained network draws from nearly flat logits, so the mask
    # decides most characters.
    settings = SamplingSettings(max_length=60, seed=5)
    expected = mask_step_by_step(untrained, settings, HEADER)
    assert sample_constrained(untrained, 1, settings, HEADER) == [expected]


def test_loop_stops_at_max_bars(tiny_trained):
    settings = SamplingSettings(max_length=300, max_bars=2, seed=6)
    expected = mask_step_by_step(tiny_trained, settings, HEADER)
    assert sample_constrained(tiny_trained, 1, settings, HEADER) == [expected]


def test_loop_cuts_tunes_at_max_length(tiny_trained):
    settings = SamplingSettings(max_length=25, seed=7)
    texts = sample_constrained(tiny_trained, 4, settings, HEADER)
    for text in texts:
        assert len(text) <= len(HEADER) + 25
        state = AbcState()
        assert state.feed(text) is None
        assert state.can_end, text


def test_loop_warns_unendable_tunes(tiny_trained, caplog):
    # One character after the header is never a tune that may end.
    texts = sample_constrained(tiny_trained, 2, SamplingSettings(max_length=1), HEADER)
    assert all(len(text) == len(HEADER) + 1 for text in texts)
    assert caplog.text.count("before it could end") == 2


def test_guide_error_reaches_caller(tiny_trained):
    def failing_guide(drawn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise KeyError("no such tune")

    first = np.ones((2, tiny_trained.vocab.size), dtype=bool)
    with pytest.raises(KeyError, match="no such tune"):
        tiny_trained.sample_guided(2, SamplingSettings(max_length=40), HEADER, failing_guide, first)
    # The sampler is usable again afterwards.
    assert len(sample_constrained(tiny_trained, 1, SamplingSettings(max_length=20), HEADER)) == 1


def test_guided_loop_checks_first_mask(tiny_trained):
    wrong = np.ones((3, tiny_trained.vocab.size), dtype=bool)
    with pytest.raises(ValueError, match="first_mask must be a bool array of shape"):
        tiny_trained.sample_guided(
            2, SamplingSettings(), HEADER, lambda drawn: (wrong, wrong), wrong
        )


def test_batch_tunes_stay_valid(untrained):
    texts = sample_constrained(untrained, 5, SamplingSettings(max_length=80, seed=7), HEADER)
    for text in texts:
        assert text.startswith(HEADER)
        assert AbcState().feed(text) is None


def test_guide_sees_every_step(tiny_trained):
    calls = []
    vocab_size = tiny_trained.vocab.size

    def guide(drawn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls.append(drawn.copy())
        finished = np.full(len(drawn), len(calls) >= 5)
        return np.ones((len(drawn), vocab_size), dtype=bool), finished

    settings = SamplingSettings(max_length=40)
    first = np.ones((2, vocab_size), dtype=bool)
    steps = tiny_trained.sample_guided(2, settings, HEADER, guide, first)
    assert len(calls) == 5
    assert steps == 6
    assert all(drawn.shape == (2,) for drawn in calls)
