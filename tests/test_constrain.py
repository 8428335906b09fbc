"""Constrained sampling: the line checker and sampling under it."""

from pathlib import Path

import keras
import pytest

from musicgen.abc import parse_tune
from musicgen.config import build_config
from musicgen.constrain import TuneChecker
from musicgen.corpus import load_corpus
from musicgen.evaluation.bars import read_written
from musicgen.evaluation.metrics import count_complete_bars
from musicgen.model import build_model, load_model
from musicgen.runs import RunPaths
from musicgen.sample import Sampler, SamplingSettings
from musicgen.train import train
from musicgen.vocab import Vocabulary

TINY = Path(__file__).parent / "data" / "tiny_corpus.abc"
HEADER = "T:Test\nM:6/8\nL:1/8\nK:D"


@pytest.mark.parametrize(
    "text",
    [
        "T:Only a title",
        "T:Title\nM:6/8",
        HEADER,
        HEADER + "\nA|dfa afd|gfe dcB|",
        HEADER + "\ndfa afd|gf",  # the last bar may go on in the next line
    ],
)
def test_checker_accepts_valid_prefixes(text):
    assert TuneChecker().problem(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEADER + "\ndfa afd|gfe|dcB AFA|", "differ from the meter"),
        ("T:Bad key\nK:GB", "invalid mode"),
        ("T:Music first\nABC|\nK:D", "before the K: field"),
        (HEADER + "\nd>|fa afd|", "broken rhythm"),
    ],
)
def test_checker_rejects_invalid_prefixes(text, expected):
    problem = TuneChecker().problem(text)
    assert problem is not None
    assert expected in problem


def test_checker_needs_music_to_finish():
    assert TuneChecker().problem(HEADER, finished=True) == "the tune ends before any music"


def test_lone_bar_line_keeps_later_bars():
    # A line holding only a bar line must not end the rewritten tune early.
    written = read_written(HEADER + "\ndfa afd|\n|\ngfe dcB|AFA GFE|")
    assert [str(bar.length) for bar in written.bars] == ["3", "3", "3"]


@pytest.fixture(scope="module")
def barely_trained(tmp_path_factory):
    tunes = load_corpus([str(TINY)]).tunes
    vocab = Vocabulary.from_texts(t.text for t in tunes)
    config = build_config(
        vocab.size,
        "tiny",
        {"epochs": 3, "batch_size": 4, "seq_len": 32, "units": 32, "validation_fraction": 0.2},
    )
    run = RunPaths(tmp_path_factory.mktemp("run"))
    train(tunes, config, run, progress=0)
    return Sampler(load_model(str(run.best_model)), vocab)


def test_constrained_tunes_parse_with_full_bars(barely_trained):
    settings = SamplingSettings(max_length=300, seed=2)
    texts = barely_trained.sample_checked(6, settings, TuneChecker(), prime=HEADER + "\n")
    with_music = [text for text in texts if text.strip() != HEADER]
    assert with_music, "no constrained tune got past its header"
    for text in with_music:
        parse_tune("X:1\n" + text, strict=True)
        checked, complete = count_complete_bars(read_written(text).bars)
        assert complete == checked, text


def test_constrained_sampling_repeats_with_seed(barely_trained):
    settings = SamplingSettings(max_length=120, seed=4)
    first = barely_trained.sample_checked(3, settings, TuneChecker(), prime=HEADER + "\n")
    second = barely_trained.sample_checked(3, settings, TuneChecker(), prime=HEADER + "\n")
    assert first == second


def test_untrained_constrained_sampling_stays_valid():
    tunes = load_corpus([str(TINY)]).tunes
    vocab = Vocabulary.from_texts(t.text for t in tunes)
    keras.utils.set_random_seed(0)
    model = build_model(build_config(vocab.size, "tiny", {}).model)
    texts = Sampler(model, vocab).sample_checked(
        4, SamplingSettings(max_length=80), TuneChecker(), prime=HEADER + "\n"
    )
    for text in texts:
        assert text.startswith(HEADER)
        assert TuneChecker().problem(text) is None
