"""Broken rhythm, tuplets and tempo in less common forms (ABC 2.1 sections 4.4, 4.13, 3.1.8)."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from musicgen.abc import parse_tune


def timed(body: str, meter: str = "4/4") -> list[tuple[int, F, F]]:
    tune = parse_tune(f"X:1\nM:{meter}\nL:1/8\nK:C\n{body}\n", strict=True)
    return [(note.pitch, note.start, note.duration) for note in tune.notes]


def test_broken_rhythm_after_decorated_note():
    # abc2midi 4.84 plays ".B>c" without the dot; the standard dots B.
    assert [(s, d) for _, s, d in timed("!p!B>c .B>c")][2:] == [(F(1), F(3, 8)), (F(7, 4), F(1, 4))]


def test_triple_broken_rhythm():
    assert timed("c>>>d d<<<c") == [
        (72, F(0), F(15, 16)), (74, F(15, 16), F(1, 16)),
        (74, F(1), F(1, 16)), (72, F(17, 16), F(15, 16)),
    ]  # fmt: skip


def test_broken_rhythm_on_chords_and_with_spaces():
    notes = timed("[CE] > [DF]")
    assert notes == [
        (60, F(0), F(3, 4)), (64, F(0), F(3, 4)), (62, F(3, 4), F(1, 4)), (65, F(3, 4), F(1, 4)),
    ]  # fmt: skip


def test_tuplet_with_mixed_lengths():
    # (3:2:4 plays the next four notes, of any lengths, in two thirds of their time.
    notes = timed("(3:2:4c2de f2 g")
    assert [(s, d) for _, s, d in notes] == [
        (F(0), F(2, 3)), (F(2, 3), F(1, 3)), (F(1), F(1, 3)), (F(4, 3), F(2, 3)), (F(2), F(1, 2)),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("meter", "p", "time_of"),
    [("6/8", 5, 3), ("9/8", 7, 3), ("12/8", 9, 3), ("4/4", 5, 2), ("3/4", 7, 2), ("2/4", 9, 2)],
)
def test_tuplet_time_depends_on_compound_meter(meter, p, time_of):
    notes = timed(f"({p}" + "c" * p + " d", meter)
    assert notes[0][2] == F(time_of, p) / 2
    assert notes[-1][1] == F(time_of, 2)


def test_tuplet_counts_rests_and_chords():
    notes = timed("(3z[ce]g a")
    assert [s for _, s, _ in notes] == [F(1, 3), F(1, 3), F(2, 3), F(1)]


def test_summed_beat_tempo():
    # abc2midi 4.84 rejects this form; the beat is 1/4 + 3/8 = 5/8.
    tune = parse_tune("X:1\nQ:1/4 3/8=40\nK:C\nc|\n", strict=True)
    assert tune.tempo_qpm == 100


def test_inline_tempo_change():
    tune = parse_tune("X:1\nL:1/4\nQ:1/4=120\nK:C\nc d [Q:1/4=60] e|\nQ:1/2=30\nf|\n", strict=True)
    assert [(t.time, t.qpm) for t in tune.tempo_changes] == [(0, 120), (2, 60), (3, 60)]
