"""Problems in ABC text: strict mode raises with the position, lenient mode warns."""

from __future__ import annotations

import pytest

from musicgen.abc import AbcError, AbcWarning, Tune, parse_tune, parse_tunebook
from musicgen.abc.errors import (
    EmptyTuneError,
    InvalidBrokenRhythmError,
    InvalidFieldError,
    InvalidLengthError,
    InvalidTieError,
    InvalidTupletError,
    MissingFieldError,
    PitchRangeError,
    UnexpectedCharacterError,
    UnterminatedError,
)
from musicgen.abc.parser import iter_tunebook

BROKEN = [
    # (tune text, error class, line, column, words in the message)
    ("X:1\nT:t\nK:C\nabc A/0 d|", InvalidLengthError, 4, 6, "'/0'"),
    ("X:1\nK:C\nab ; c|", UnexpectedCharacterError, 3, 4, "';'"),
    ("X:1\nK:C\nab [CE", UnterminatedError, 3, 4, "chord"),
    ('X:1\nK:C\nab "Am c|', UnterminatedError, 3, 4, "chord symbol"),
    ("X:1\nK:H#\nabc|", InvalidFieldError, 2, 3, "key"),
    ("X:1\nM:3/0\nK:C\nabc|", InvalidFieldError, 2, 3, "meter"),
    ("X:1\nT:t\nL:0\nK:C\nabc|", InvalidFieldError, 3, 3, "unit note length '0'"),
    ("X:1\nK:C\n>c d|", InvalidBrokenRhythmError, 3, 1, "no note before"),
    ("X:1\nK:C\nc | -e|", InvalidTieError, 3, 5, "tie"),
    ("X:1\nK:C\nc (0cd|", InvalidTupletError, 3, 3, "tuplet"),
    ("X:1\nK:C\nc c'''''''''|", PitchRangeError, 3, 3, "outside 0 to 127"),
    ("X:1\nK:C\nc [K:Q#] d|", InvalidFieldError, 3, 3, "key"),
    ("X:1\nK:C\nc C99999999 d|", InvalidLengthError, 3, 3, "over the 256"),
]


@pytest.mark.parametrize(("text", "kind", "line", "column", "words"), BROKEN)
def test_strict_raises_with_position(text, kind, line, column, words):
    with pytest.raises(kind, match=words) as caught:
        parse_tune(text, strict=True, source="bad.abc")
    error = caught.value
    assert (error.line, error.column) == (line, column)
    assert error.source == "bad.abc"
    assert error.tune == "1"
    assert str(error).startswith(f"bad.abc, tune X:1, line {line}:{column}: ")


@pytest.mark.parametrize(("text", "kind", "line", "column", "words"), BROKEN)
def test_lenient_warns_with_position(text, kind, line, column, words):
    tune = parse_tune(text, source="bad.abc")
    assert tune.notes
    first = tune.warnings[0]
    assert isinstance(first, AbcWarning)
    assert (first.line, first.column) == (line, column)
    assert first.kind == kind.__name__
    assert words in first.message


@pytest.mark.parametrize(
    ("text", "repair"),
    [
        ("X:1\nK:H#\nabc|", "; used C major"),
        ("X:1\nK:C\nab ; c|", "; skipped"),
        ("X:1\nK:C\nab [DF d|", "; '[' skipped"),
        ('X:1\nK:C\nab "Am c|', "; rest of the line skipped"),
        ("X:1\nK:C\nab [K:G c|", "; rest of the line skipped"),
    ],
)
def test_only_lenient_messages_name_the_repair(text, repair):
    with pytest.raises(AbcError) as caught:
        parse_tune(text, strict=True)
    assert repair not in str(caught.value)
    assert parse_tune(text).warnings[0].message.endswith(repair)


def test_lenient_keeps_the_notes_around_a_problem():
    tune = parse_tune("X:1\nL:1/4\nK:C\nc ; d A/0 e|")
    assert [note.pitch for note in tune.notes] == [72, 74, 69, 76]
    assert len(tune.warnings) == 2


def test_missing_key_is_an_error_in_lenient_mode():
    with pytest.raises(MissingFieldError, match="K:"):
        parse_tune("X:1\nT:no key\n")


def test_tune_without_notes_is_an_error():
    with pytest.raises(EmptyTuneError, match="no notes"):
        parse_tune("X:1\nK:C\nz4 | % only rests\n")


def test_empty_tune_names_out_of_range_note():
    text = "X:1\nK:C\nc" + "'" * 14 + "  C,,,,,,,,,,,|\n"
    with pytest.raises(EmptyTuneError) as caught:
        parse_tune(text)
    assert caught.value.message == (
        "tune has no notes to play: note 'c' is MIDI pitch 240, outside 0 to 127 "
        "(line 3:1, the first of 2 problems that skipped notes)"
    )


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ('X:1\nK:C\n"Am cde|\n', "chord symbol or annotation is never closed with '\"' (line 3:1)"),
        ("X:1\nK:C\n[K:G cde|\n", "inline field is never closed with ']' (line 3:1)"),
        (
            "X:1\nabc|\nK:C\n",
            "music before the K: field, which must end the tune header (line 2:1)",
        ),
        ("X:1\nP:B\nK:C\nP:A\nabc|\n", "part 'B' of P:B is not in the tune"),
    ],
)
def test_empty_tune_names_skipped_music(text, cause):
    with pytest.raises(EmptyTuneError) as caught:
        parse_tune(text)
    assert caught.value.message == f"tune has no notes to play: {cause}"


def test_empty_tune_ignores_problems_that_skip_nothing():
    with pytest.raises(EmptyTuneError) as caught:
        parse_tune("X:1\nK:C\nz ; z|\n")
    assert caught.value.message == "tune has no notes to play"


def test_music_before_key_warns():
    tune = parse_tune("X:1\nabc\nK:C\ndef|")
    assert [note.pitch for note in tune.notes] == [74, 76, 77]
    assert tune.warnings[0].line == 2


def test_error_classes_share_the_root():
    for kind in (InvalidLengthError, MissingFieldError, EmptyTuneError, PitchRangeError):
        assert issubclass(kind, AbcError)


def test_tunebook_bad_tune_does_not_stop_others():
    text = "X:1\nK:C\ncde|\n\nX:2\nT:broken\nK:C\nc A/0 d|\n\nX:3\nT:no key\n\nX:4\nK:G\ng|\n"
    book = parse_tunebook(text, strict=True, source="book.abc")
    assert [tune.reference for tune in book.tunes] == ["1", "4"]
    assert [type(error) for error in book.errors] == [InvalidLengthError, MissingFieldError]
    assert str(book.errors[0]).startswith("book.abc, tune X:2, line 8:4: ")


def test_iter_tunebook_yields_tunes_and_errors_in_order():
    text = "X:1\nK:C\ncde|\n\nX:2\nT:broken\nK:C\nc A/0 d|\n\nX:3\nT:no key\n\nX:4\nK:G\ng|\n"
    items = list(iter_tunebook(text, strict=True, source="book.abc"))
    assert [type(item) for item in items] == [Tune, InvalidLengthError, MissingFieldError, Tune]
    assert [item.reference for item in items if isinstance(item, Tune)] == ["1", "4"]


def test_tunebook_lenient_keeps_warned_tunes():
    text = "X:1\nK:C\ncde|\n\nX:2\nK:C\nc A/0 d|\n"
    book = parse_tunebook(text, source="book.abc")
    assert len(book.tunes) == 2
    assert not book.errors
    assert str(book.tunes[1].warnings[0]).startswith("book.abc, tune X:2, line 7:4: ")


def test_text_without_tunes_is_an_error():
    book = parse_tunebook("just some words\n", source="empty.abc")
    assert not book.tunes
    assert isinstance(book.errors[0], MissingFieldError)


def test_unclosed_chord_reported_at_its_bracket():
    tune = parse_tune("X:1\nL:1/8\nK:D\n[DFA d2 fe|dcBA G4|]\n")
    assert len(tune.warnings) == 1
    warning = tune.warnings[0]
    assert (warning.line, warning.column) == (4, 1)
    assert warning.kind == "UnterminatedError"
    assert warning.message == "chord is never closed with ']'; '[' skipped"


def test_unclosed_chord_notes_play_in_turn():
    tune = parse_tune("X:1\nL:1/8\nK:D\n[DFA d2 fe|dcBA G4|]\n")
    assert [note.pitch for note in tune.notes] == [62, 66, 69, 74, 78, 76, 74, 73, 71, 69, 67]
    starts = [note.start for note in tune.notes]
    assert starts == sorted(set(starts))


def test_strict_unclosed_chord_raises_first():
    with pytest.raises(UnterminatedError, match=r"chord is never closed with '\]'$") as caught:
        parse_tune("X:1\nK:D\n[DFA d2 fe|dcBA G4|]\n", strict=True)
    assert (caught.value.line, caught.value.column) == (3, 1)


@pytest.mark.parametrize(
    ("body", "pitches"),
    [
        ("[CE|G]", [60, 64, 67]),  # a bar line
        ("[C[EG]", [60, 64, 67]),  # another chord opening
        ("[CE % [G]", [60, 64]),  # a comment
        ("[CE!trill|G!", [60, 64]),  # a decoration that runs to the end of the line
    ],
)
def test_chord_ends_at_bar_or_comment(body, pitches):
    tune = parse_tune(f"X:1\nK:C\n{body}\n")
    assert tune.warnings[0].message == "chord is never closed with ']'; '[' skipped"
    assert (tune.warnings[0].line, tune.warnings[0].column) == (3, 1)
    assert sorted(note.pitch for note in tune.notes) == pitches


def test_chord_closed_after_symbol_and_decoration():
    tune = parse_tune('X:1\nK:C\n[!>!C"^a]b"EG]2 c|\n')
    assert tune.warnings == []
    assert [(note.pitch, note.start) for note in tune.notes[:3]] == [(60, 0), (64, 0), (67, 0)]
