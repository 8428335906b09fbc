"""Vocabulary, training windows and configuration files."""

import json

import numpy as np
import pytest

from musicgen.config import ModelConfig, TrainConfig, build_config
from musicgen.data import encode_tunes, make_windows
from musicgen.vocab import END, PAD, START, UnknownCharacterError, Vocabulary


def test_vocabulary_has_markers_then_sorted_characters():
    vocab = Vocabulary.from_texts(["K:G\nGAB", "ba"])
    assert vocab.tokens[:3] == (PAD, START, END)
    assert vocab.characters == ("\n", ":", "A", "B", "G", "K", "a", "b")
    assert vocab.size == 11


def test_encode_decode_round_trip():
    vocab = Vocabulary.from_texts(["K:G\nGAB|"])
    ids = vocab.encode("GAB|", add_start=True, add_end=True)
    assert ids[0] == vocab.start_id
    assert ids[-1] == vocab.end_id
    assert vocab.decode(ids) == "GAB|"


def test_decode_stops_at_end_marker():
    vocab = Vocabulary.from_texts(["AB"])
    ids = [*vocab.encode("A"), vocab.end_id, *vocab.encode("B")]
    assert vocab.decode(ids) == "A"


def test_unknown_characters_are_listed():
    vocab = Vocabulary.from_texts(["ABC"])
    with pytest.raises(UnknownCharacterError, match=r"'\$' 'Z'"):
        vocab.encode("AZ$")


def test_vocabulary_file_round_trip(tmp_path):
    vocab = Vocabulary.from_texts(["T:é\nK:C\nC"])
    vocab.save(tmp_path / "vocab.json")
    assert Vocabulary.load(tmp_path / "vocab.json") == vocab
    payload = json.loads((tmp_path / "vocab.json").read_text(encoding="utf-8"))
    assert payload["special_tokens"] == [PAD, START, END]


def test_windows_start_at_each_tune_start():
    vocab = Vocabulary.from_texts(["abcde"])
    tunes = encode_tunes(["abcde", "ab", "abc"], vocab)  # 7, 4 and 5 ids
    stream = np.concatenate(tunes)
    inputs, targets = make_windows(tunes, 3)
    # Tune 1 starts at 0 and is cut at 3; tune 2 at 7; tune 3 at 11 (13 would overrun).
    assert inputs[:, 0].tolist() == [vocab.start_id] + [stream[3]] + [vocab.start_id] * 2
    assert inputs.shape == (4, 3)
    for row, start in enumerate([0, 3, 7, 11]):
        assert np.array_equal(inputs[row], stream[start : start + 3])
        assert np.array_equal(targets[row], stream[start + 1 : start + 4])


def test_last_window_runs_into_next_tune():
    vocab = Vocabulary.from_texts(["ab"])
    tunes = encode_tunes(["a", "b"], vocab)  # <s> a </s> <s> b </s>
    inputs, _ = make_windows(tunes, 4)
    assert inputs.tolist() == [[vocab.start_id, 3, vocab.end_id, vocab.start_id]]


def test_windows_need_enough_text():
    with pytest.raises(ValueError, match="make no training window"):
        make_windows([np.arange(5, dtype=np.int32)], 8)


def test_config_json_round_trip(tmp_path):
    config = build_config(40, "tiny", {"units": 12, "epochs": 3, "data": ("a.abc",)})
    config.save(tmp_path / "config.json")
    loaded = TrainConfig.load(tmp_path / "config.json")
    assert loaded == config
    assert loaded.model.units == 12
    assert loaded.epochs == 3


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="cell must be one of lstm, gru, rnn"):
        ModelConfig(10, cell="transformer")
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        build_config(10, "huge", {})
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        ModelConfig(10, dropout=1.0)
