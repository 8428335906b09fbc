"""Corpus loading: tunebook splitting, header inheritance, cleaning, deduplication, splits."""

from pathlib import Path

import pytest

from musicgen.abc.tunebook import split_tunebook
from musicgen.corpus import (
    BUNDLED_CORPORA,
    CorpusReport,
    bundled_corpus_files,
    clean_tune,
    load_corpus,
    resolve_inputs,
    split_train_validation,
)
from musicgen.errors import UserError

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny_corpus.abc"


def test_split_tunebook_finds_every_tune_and_its_line():
    tunes = split_tunebook(TINY.read_text(), source="tiny_corpus.abc")
    assert [t.reference for t in tunes] == ["1", "2", "3", "4", "5", "6", "7"]
    assert tunes[0].line == 6
    assert tunes[0].title == "Test Jig One"
    assert tunes[0].label == "tiny_corpus.abc, tune X:1"


def test_file_header_applies_to_every_tune():
    # ABC 2.1, section 2.2.2: file header fields apply to all tunes of the file.
    tunes = split_tunebook(TINY.read_text())
    assert tunes[0].header == ("M:6/8", "L:1/8")
    text, reason = clean_tune(tunes[0])
    assert reason is None
    assert text.split("\n")[:5] == ["T:Test Jig One", "M:6/8", "L:1/8", "Q:3/8=100", "K:D"]


def test_tune_field_overrides_file_header():
    tunes = split_tunebook(TINY.read_text())
    text, _ = clean_tune(tunes[2])
    assert "M:4/4" in text.split("\n")
    assert "M:6/8" not in text.split("\n")


def test_clean_drops_non_musical_fields():
    tunes = split_tunebook(TINY.read_text())
    text, _ = clean_tune(tunes[0])
    assert "Z:" not in text
    assert "N:" not in text
    assert "X:" not in text
    lyrics, _ = clean_tune(tunes[3])
    assert "w:" not in lyrics
    assert "R:jig" in clean_tune(tunes[1])[0]


def test_crlf_and_comments_are_normalised():
    tunes = split_tunebook("X:1\r\nT:A\r\nK:C\r\nCDEF | GABc % a comment\r\n")
    text, reason = clean_tune(tunes[0])
    assert reason is None
    assert text == "T:A\nK:C\nCDEF | GABc"


def test_blank_line_ends_a_tune():
    # ABC 2.1, section 2.2: a tune ends at the first empty line; free text may follow.
    tunes = split_tunebook("X:1\nK:C\nCDEF|\n\nfree text GABc\n")
    assert tunes[0].text == "X:1\nK:C\nCDEF|"


def test_load_corpus_reports_drop_reasons():
    corpus = load_corpus([str(TINY)])
    report = corpus.report
    assert report.files == 1
    assert report.read == 7
    assert report.kept == 5
    assert report.dropped["duplicate of an earlier tune"] == 1
    assert report.dropped["no notes"] == 1
    assert report.lines()[0] == "read 7 tunes from 1 file, kept 5, dropped 2"


@pytest.mark.parametrize(
    ("files", "read", "kept", "line"),
    [
        (1, 1, 1, "read 1 tune from 1 file, kept 1, dropped 0"),
        (2, 0, 0, "read 0 tunes from 2 files, kept 0, dropped 0"),
        (3, 2, 2, "read 2 tunes from 3 files, kept 2, dropped 0"),
    ],
)
def test_corpus_report_singular_and_plural(files, read, kept, line):
    assert CorpusReport(files=files, read=read, kept=kept).lines() == [line]


def test_folder_is_searched_recursively(tmp_path):
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "one.abc").write_text("X:1\nK:C\nCDEF|\n")
    (tmp_path / "two.ABC").write_text("X:1\nK:G\nGABc|\n")
    (tmp_path / "notes.txt").write_text("X:1\nK:C\nC|\n")
    assert len(resolve_inputs([str(tmp_path)])) == 2
    assert load_corpus([str(tmp_path)]).report.kept == 2


@pytest.mark.parametrize("name", sorted(BUNDLED_CORPORA))
def test_bundled_corpus_is_found_in_music21(name):
    files = bundled_corpus_files(name)
    assert files
    assert all(path.suffix == ".abc" for path in files)
    assert "music21" in files[0].parts


def test_oneills_has_about_two_thousand_tunes():
    corpus = load_corpus(["oneills"])
    assert 1900 <= corpus.report.kept <= 2100


def test_unknown_input_names_the_choices():
    with pytest.raises(UserError, match=r"'nosuch' is not a file, a folder or a bundled corpus"):
        resolve_inputs(["nosuch"])


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(UserError, match=r"contains no \.abc files"):
        resolve_inputs([str(tmp_path)])


def test_split_is_seeded_and_by_tune():
    tunes = load_corpus(["oneills"]).tunes
    train_a, val_a = split_train_validation(tunes, 0.05, seed=1)
    train_b, val_b = split_train_validation(tunes, 0.05, seed=1)
    _, val_c = split_train_validation(tunes, 0.05, seed=2)
    assert val_a == val_b
    assert train_a == train_b
    assert val_a != val_c
    assert len(val_a) == round(len(tunes) * 0.05)
    assert not {t.source for t in val_a} & {t.source for t in train_a}


def test_split_rejects_bad_fraction():
    with pytest.raises(ValueError, match=r"validation_fraction must be between 0 and 0\.5"):
        split_train_validation([], 0.9)
