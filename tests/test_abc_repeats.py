"""Repeats, variant endings, ties into endings and parts (ABC 2.1 sections 4.8-4.11, 3.1.11)."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from musicgen.abc import parse_tune


def pitches(body: str, header: str = "") -> list[int]:
    """Return the pitches of a tune with unit length 1/4 in C, in playing order."""
    tune = parse_tune(f"X:1\n{header}L:1/4\nK:C\n{body}\n", strict=True)
    return [note.pitch for note in tune.notes]


C, D, E, F_, G, A, B = 60, 62, 64, 65, 67, 69, 71


# ABC 2.1 section 4.8: the repeat forms.
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("|: C D :| E |", [C, D, C, D, E]),
        ("|: C :: D :| E |", [C, C, D, D, E]),
        ("|: C :|: D :||: E :|", [C, C, D, D, E, E]),
        ("C |: D :| E", [C, D, D, E]),
        # |:: ... ::| plays three times (abc2midi 4.84 plays it twice).
        ("|:: C ::| D |", [C, C, C, D]),
        ("|: C ::| D |", [C, C, C, D]),
        # A :| with no |: goes back to the latest ||, end of repeat or start.
        ("C D :| E |", [C, D, C, D, E]),
        ("C || D :| E |", [C, D, D, E]),
        ("|: C :| D || E :| F |", [C, C, D, E, E, F_]),
        # abc2midi 4.84 jumps back to the older |: here.
        ("|: C :| D E :| F |", [C, C, D, E, D, E, F_]),
    ],
)
def test_repeat_forms(body, expected):
    assert pitches(body) == expected


# ABC 2.1 section 4.9: variant endings with lists, ranges and more than two.
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("|: C |1 D :|2 E ||", [C, D, C, E]),
        ("|: C [1 D :| [2 E ||", [C, D, C, E]),
        ("|: C |1 D :|2 E :|3 F ||", [C, D, C, E, C, F_]),
        ("|: C |1,3 D :|2 E :|4 F ||", [C, D, C, E, C, D, C, F_]),
        ("|: C |1-3 D :|4 E ||", [C, D, C, D, C, D, C, E]),
        ("|: C [1,2 D :| [3 E ||", [C, D, C, D, C, E]),
        ("|: C |1 D | E :|2 F | G || A", [C, D, E, C, F_, G, A]),
    ],
)
def test_variant_endings(body, expected):
    assert pitches(body) == expected


def test_tie_into_second_ending():
    # ABC 2.1 section 4.11: the tie leads back to the repeat, not into ending 2.
    tune = parse_tune("X:1\nL:1/4\nK:C\n|: C |1 E2- :|2 E2 ||\n", strict=True)
    notes = [(n.pitch, n.start, n.duration) for n in tune.notes]
    assert notes == [(C, F(0), F(1)), (E, F(1), F(2)), (C, F(3), F(1)), (E, F(4), F(2))]


def test_tie_across_bar_inside_repeat():
    tune = parse_tune("X:1\nL:1/4\nK:C\n|: C- | C D :|\n", strict=True)
    assert [(n.pitch, n.duration) for n in tune.notes] == [(C, 2), (D, 1), (C, 2), (D, 1)]


def test_bar_count_counts_played_bars():
    tune = parse_tune("X:1\nM:2/4\nL:1/4\nK:C\n|: C D | E F :| Z3 |\n", strict=True)
    assert tune.bar_count == 7


# ABC 2.1 section 3.1.11: P: in the header gives the order of the parts.
@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("ABA", [C, D, C]),
        ("(AB)2", [C, D, C, D]),
        ("A2.B", [C, C, D]),
        ("B A", [D, C]),
    ],
)
def test_part_order(order, expected):
    assert pitches("P:A\nC|\nP:B\nD|", header=f"P:{order}\n") == expected


def test_parts_with_repeats():
    assert pitches("P:A\n|: C :|\nP:B\nD|", header="P:BA\n") == [D, C, C]


def test_unknown_part_warns():
    tune = parse_tune("X:1\nP:AC\nL:1/4\nK:C\nP:A\nC|\n")
    assert [n.pitch for n in tune.notes] == [C]
    assert "part 'C'" in tune.warnings[0].message


def test_endless_repeats_stop_in_bounded_time():
    tune = parse_tune("X:1\nL:1/4\nK:C\n" + "|::::::::: C " * 5 + "\n")
    assert len(tune.notes) < 1000
