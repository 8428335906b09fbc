"""Agreement with abc2midi, the reference ABC player, on real tunes.

The tunes come from O'Neill's Music of Ireland (1850) as bundled with
music21. Notes are compared by pitch, onset and duration within one abc2midi
tick (480 per quarter note), after removing abc2midi's one-tick onset delay.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from musicgen.abc import parse_tune
from musicgen.abc.oracle import (
    abc2midi_path,
    compare,
    run_abc2midi,
    tune_ticks,
    without_ornaments,
)
from musicgen.abc.tunebook import split_tunebook

music21 = pytest.importorskip("music21")
ONEILLS = Path(music21.__file__).parent / "corpus" / "oneills1850" / "0001-0050.abc"

NO_ABC2MIDI = "abc2midi (Debian package abcmidi) is not installed"
pytestmark = [
    pytest.mark.skipif(abc2midi_path() is None, reason=NO_ABC2MIDI),
    pytest.mark.skipif(not ONEILLS.exists(), reason=f"music21 corpus file {ONEILLS} not found"),
]

# Tunes with repeats, endings, ties, triplets, grace notes, rolls and broken rhythm.
REFERENCES = ["1", "2", "3", "6", "10", "18", "21", "26"]


@pytest.fixture(scope="module")
def oneills():
    return {raw.reference: raw for raw in split_tunebook(ONEILLS.read_text(), ONEILLS.name)}


@pytest.mark.parametrize("reference", REFERENCES)
def test_notes_match_abc2midi(oneills, reference):
    raw = oneills[reference]
    tune = parse_tune(raw, strict=True)
    agreement = compare(tune_ticks(tune), run_abc2midi(without_ornaments(raw.text)))
    assert agreement.ours_only == []
    assert agreement.theirs_only == []
    assert agreement.matched == len(tune.notes)


# Cases where abc2midi 4.84 departs from the ABC 2.1 standard: this converter
# follows the standard, so the two must disagree. (body, expected notes as
# (pitch, onset, duration) in abc2midi ticks at L:1/4.)
ABC2MIDI_WRONG = [
    # Section 4.8: |:: ... ::| plays three times; abc2midi plays it twice.
    ("|:: c ::|", [(72, 0, 480), (72, 480, 480), (72, 960, 480)]),
    # Section 4.4: broken rhythm applies after a decorated note.
    ("A>.B", [(69, 0, 720), (71, 720, 120)]),
    # Section 4.14: !staccato! shortens the note like the dot does.
    ("!staccato!c d", [(72, 0, 240), (74, 480, 480)]),
    # Section 3.1.14: a mid-tune exp key replaces the whole signature.
    ("[K:D] f [K:D exp _b] f b", [(78, 0, 480), (77, 480, 480), (82, 960, 480)]),
]  # fmt: skip


@pytest.mark.parametrize(("body", "expected"), ABC2MIDI_WRONG)
def test_standard_where_abc2midi_differs(body, expected):
    text = f"X:1\nL:1/4\nK:C\n{body}\n"
    ours = tune_ticks(parse_tune(text, strict=True))
    assert ours == expected
    assert not compare(ours, run_abc2midi(text)).identical
