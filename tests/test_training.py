"""Real Keras training, checkpoints, resuming and sampling on the tiny test corpus."""

from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from musicgen.config import build_config
from musicgen.corpus import load_corpus
from musicgen.model import build_model, load_model
from musicgen.runs import RunPaths
from musicgen.sample import Sampler, SamplingSettings, filter_logits
from musicgen.train import read_history, train
from musicgen.vocab import UnknownCharacterError, Vocabulary

TINY = Path(__file__).parent / "data" / "tiny_corpus.abc"
SMALL = {"units": 16, "embedding": 8, "epochs": 2, "batch_size": 4, "seq_len": 32, "patience": 0}


@pytest.fixture(scope="module")
def tunes():
    return load_corpus([str(TINY)]).tunes


def make_config(tunes, **changes):
    vocab = Vocabulary.from_texts(t.text for t in tunes)
    settings = {**SMALL, "validation_fraction": 0.2, **changes}
    return build_config(vocab.size, "tiny", settings)


def run_training(tunes, folder, **changes):
    folder.mkdir()
    run = RunPaths(folder)
    result = train(tunes, make_config(tunes, **changes), run, progress=0)
    return run, result


def test_training_writes_a_complete_run(tunes, tmp_path):
    run, result = run_training(tunes, tmp_path / "run")
    for path in (run.best_model, run.last_model, run.vocab, run.config, run.history, run.loss_plot):
        assert path.exists(), path
    assert run.loss_plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    history = read_history(run.history)
    assert [row["epoch"] for row in history] == [1, 2]
    assert result.epochs_done == 2
    assert result.best_val_loss == min(row["val_loss"] for row in history)
    assert history[1]["loss"] < history[0]["loss"]
    assert not list(run.root.glob(".*tmp*"))


def test_checkpoint_reloads_with_same_outputs(tunes, tmp_path):
    run, _ = run_training(tunes, tmp_path / "run")
    first = load_model(str(run.last_model))
    second = load_model(str(run.last_model))
    ids = tf.constant([[1, 5, 6, 7]])
    assert np.array_equal(first(ids).numpy(), second(ids).numpy())
    assert int(first.optimizer.iterations.numpy()) > 0


def test_same_seed_gives_same_validation_loss(tunes, tmp_path):
    _, first = run_training(tunes, tmp_path / "a", seed=3)
    _, second = run_training(tunes, tmp_path / "b", seed=3)
    assert first.best_val_loss == second.best_val_loss


def test_resume_continues_from_last_epoch(tunes, tmp_path):
    run, _ = run_training(tunes, tmp_path / "run", epochs=1)
    steps_after_one = int(load_model(str(run.last_model)).optimizer.iterations.numpy())
    config = make_config(tunes, epochs=2)
    config.save(run.config)
    train(tunes, config, run, resume=True, progress=0)
    history = read_history(run.history)
    assert [row["epoch"] for row in history] == [1, 2]
    resumed = load_model(str(run.last_model))
    assert int(resumed.optimizer.iterations.numpy()) == 2 * steps_after_one


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_other_cells_train_and_sample(tunes, tmp_path, cell):
    run, _ = run_training(tunes, tmp_path / cell, cell=cell, epochs=1, layers=2)
    model = load_model(str(run.best_model))
    texts = Sampler(model, Vocabulary.load(run.vocab)).sample(2, SamplingSettings(max_length=20))
    assert len(texts) == 2


@pytest.fixture(scope="module")
def sampler(tunes):
    keras.utils.set_random_seed(0)
    vocab = Vocabulary.from_texts(t.text for t in tunes)
    model = build_model(make_config(tunes).model)
    return Sampler(model, vocab)


def test_sampling_with_fixed_seed_repeats(sampler):
    settings = SamplingSettings(max_length=60, seed=7)
    assert sampler.sample(3, settings) == sampler.sample(3, settings)
    other = sampler.sample(3, replace(settings, seed=8))
    assert other != sampler.sample(3, settings)


def test_top_k_one_equals_greedy_decoding(sampler):
    vocab = sampler.vocab
    length = 25
    sampled = sampler.sample(1, SamplingSettings(top_k=1, max_length=length), prime="K:")[0]

    # Greedy decoding by re-running the whole text each step: a slow, independent oracle.
    ids = list(vocab.encode("K:", add_start=True))
    greedy = []
    for _ in range(length):
        logits = sampler.model(tf.constant([ids]))[0, -1].numpy()
        next_id = int(np.argmax(logits))
        if next_id == vocab.end_id:
            break
        greedy.append(next_id)
        ids.append(next_id)
    assert sampled == "K:" + vocab.decode(greedy)


def test_primer_starts_every_tune(sampler):
    texts = sampler.sample(4, SamplingSettings(max_length=10), prime="M:6/8\nK:D\n")
    assert all(text.startswith("M:6/8\nK:D\n") for text in texts)


def test_primer_with_unknown_character_is_rejected(sampler):
    with pytest.raises(UnknownCharacterError, match=r"'@'"):
        sampler.sample(1, SamplingSettings(max_length=5), prime="K:@")


def test_top_p_keeps_smallest_set_reaching_p():
    # Probabilities 0.5, 0.3, 0.2: top-p 0.7 keeps the first two, 0.5 only the first.
    logits = tf.math.log(tf.constant([[0.5, 0.3, 0.2]]))
    kept = np.isfinite(filter_logits(logits, 1.0, 0, 0.7).numpy())
    assert kept.tolist() == [[True, True, False]]
    kept = np.isfinite(filter_logits(logits, 1.0, 0, 0.5).numpy())
    assert kept.tolist() == [[True, False, False]]


def test_sampling_settings_reject_bad_values():
    for temperature in (0.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="--temperature must be a number above 0"):
            SamplingSettings(temperature=temperature)
    for top_p in (0.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="--top-p must be above 0 and at most 1"):
            SamplingSettings(top_p=top_p)
    with pytest.raises(ValueError, match=r"--top-k must be 0 \(off\) or more, got -1"):
        SamplingSettings(top_k=-1)
    with pytest.raises(ValueError, match="--max-length must be at least 1, got 0"):
        SamplingSettings(max_length=0)
    with pytest.raises(ValueError, match=r"--max-bars must be 0 \(off\) or more, got -1"):
        SamplingSettings(max_bars=-1)
