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
    without_rolls,
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
    agreement = compare(tune_ticks(tune), run_abc2midi(without_rolls(raw.text)))
    assert agreement.ours_only == []
    assert agreement.theirs_only == []
    assert agreement.matched == len(tune.notes)
