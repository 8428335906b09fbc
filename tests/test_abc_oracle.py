"""Agreement with abc2midi, the reference ABC player, and the reason for each known difference.

Notes are compared as (pitch, onset, duration) in abc2midi ticks (480 per
quarter note), after removing abc2midi's one-tick onset delay. Each class of
difference that benchmarks/abc_agreement.py reports has one case below: the
notes ABC 2.1 gives (this converter's), the notes abc2midi 4.84 plays, and
the reasons :func:`explain` finds. docs/converter.md describes each class.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from musicgen.abc import parse_tune
from musicgen.abc.oracle import (
    INVALID,
    REWRITES,
    abc2midi_path,
    compare,
    explain,
    for_abc2midi,
    run_abc2midi,
    tune_ticks,
)
from musicgen.abc.quirks import QUIRKS
from musicgen.abc.tunebook import split_tunebook

NO_ABC2MIDI = "abc2midi (Debian package abcmidi) is not installed"
needs_abc2midi = pytest.mark.skipif(abc2midi_path() is None, reason=NO_ABC2MIDI)

# (reasons, header lines, body, notes by ABC 2.1, notes abc2midi 4.84 plays)
CLASSES = [
    # Section 4.4: a>b dots a and halves b when both are written equal;
    # abc2midi shortens a staccato note before it compares the lengths.
    (("broken-rhythm-decorated",), "L:1/8", "A>.B c2",
     [(69, 0, 360), (71, 360, 60), (72, 480, 480)],
     [(69, 0, 240), (71, 240, 120), (72, 480, 480)]),
    # Section 4.11: the tie holds; the staccato of a note tied onward is ignored.
    (("staccato-breaks-tie",), "L:1/8", ".c2-c2 d2",
     [(72, 0, 960), (74, 960, 480)],
     [(72, 0, 240), (72, 480, 480), (74, 960, 480)]),
    # Section 4.13: 3/4 is a simple meter, so (5 is 5 notes in the time of 2.
    (("tuplet-triple-meter",), "M:3/4\nL:1/8", "(5ccccc d",
     [(72, 0, 96), (72, 96, 96), (72, 192, 96), (72, 288, 96), (72, 384, 96), (74, 480, 240)],
     [(72, 0, 144), (72, 144, 144), (72, 288, 144), (72, 432, 144), (72, 576, 144),
      (74, 720, 240)]),
    # Section 3.1.14: "exp" gives the whole signature.
    (("exp-key-keeps-signature",), "L:1/4", "[K:D] f [K:D exp _b] f b",
     [(78, 0, 480), (77, 480, 480), (82, 960, 480)],
     [(78, 0, 480), (78, 480, 480), (82, 960, 480)]),
    # Section 4.11: the tie at the end of ending 1 leads back into the repeat.
    (("tie-into-next-ending",), "L:1/4", "|: C |1 E2- :|2 E2 ||",
     [(60, 0, 480), (64, 480, 960), (60, 1440, 480), (64, 1920, 960)],
     [(60, 0, 480), (64, 480, 1920), (60, 1440, 480)]),
    # Section 4.20: a note's decorations and annotations stand together
    # before it, so the roll belongs to c.
    (("decoration-chain-dropped",), "L:1/8", '~"^x"c3 d e',
     [(72, 0, 240), (74, 240, 60), (72, 300, 180), (71, 480, 60), (72, 540, 180),
      (74, 720, 240), (76, 960, 240)],
     [(72, 0, 720), (74, 720, 240), (76, 960, 240)]),
    # Section 4.13: a new tuplet starts where it is written.
    (("nested-tuplet-ignored",), "L:1/4", "(3a2 a (3gfg a2",
     [(81, 0, 640), (81, 640, 320), (79, 960, 320), (77, 1280, 320), (79, 1600, 320),
      (81, 1920, 960)],
     [(81, 0, 640), (81, 640, 320), (79, 960, 320), (77, 1280, 480), (79, 1760, 480),
      (81, 2240, 960)]),
    # Section 4.8: |:: ... ::| plays three times.
    (("repeat-colons-ignored",), "L:1/4", "|:: C ::| D",
     [(60, 0, 480), (60, 480, 480), (60, 960, 480), (62, 1440, 480)],
     [(60, 0, 480), (60, 480, 480), (62, 960, 480)]),
    # Section 4.8: ||: starts a repeat.
    (("repeat-double-bar-colon", "repeat-start-guessed"), "L:1/4", "C ||: D :| E",
     [(60, 0, 480), (62, 480, 480), (62, 960, 480), (64, 1440, 480)],
     [(60, 0, 480), (62, 480, 480), (60, 960, 480), (62, 1440, 480), (64, 1920, 480)]),
    # Section 4.8: a :| without |: goes back to the latest ||.
    (("repeat-start-guessed",), "L:1/4", "C || D :| E",
     [(60, 0, 480), (62, 480, 480), (62, 960, 480), (64, 1440, 480)],
     [(60, 0, 480), (62, 480, 480), (60, 960, 480), (62, 1440, 480), (64, 1920, 480)]),
    # Section 4.9: after a ||, new variant endings count their passes afresh.
    (("repeat-pass-kept", "repeat-start-guessed"), "L:1/4", "|: C |1 D :|2 E || F |1 G :|2 A ||",
     [(60, 0, 480), (62, 480, 480), (60, 960, 480), (64, 1440, 480), (65, 1920, 480),
      (67, 2400, 480), (65, 2880, 480), (69, 3360, 480)],
     [(60, 0, 480), (62, 480, 480), (60, 960, 480), (64, 1440, 480), (65, 1920, 480),
      (69, 2400, 480)]),
    # A documented choice: a :| that closes the last ending ends the repeat.
    (("repeat-ending-adds-pass", "repeat-start-guessed"), "L:1/4", "|: C |1 D :|2 E :| F",
     [(60, 0, 480), (62, 480, 480), (60, 960, 480), (64, 1440, 480), (65, 1920, 480)],
     [(60, 0, 480), (62, 480, 480), (60, 960, 480), (64, 1440, 480), (60, 1920, 480),
      (65, 2400, 480)]),
    # Section 4.9: the :: that ends a skipped ending still starts the next repeat.
    (("repeat-skip-swallows-bar",), "L:1/4", "|1 C [2 D :: E :| F",
     [(60, 0, 480), (64, 480, 480), (64, 960, 480), (65, 1440, 480)],
     [(60, 0, 480), (65, 480, 480)]),
    # Section 4.8: [|] is an invisible bar line (the fermata before it marks the bar).
    (("invisible-bar",), "L:1/4", "C D H[|]:| E F|",
     [(60, 0, 480), (62, 480, 480), (60, 960, 480), (62, 1440, 480), (64, 1920, 480),
      (65, 2400, 480)],
     [(60, 0, 480), (62, 480, 480), (60, 960, 480), (62, 960, 480), (64, 960, 480),
      (65, 960, 480)]),
    # Section 4.9: ["Coda" labels a variant ending with text; it is no chord.
    (("text-ending",), "L:1/4", 'C D |["Coda" E F|',
     [(60, 0, 480), (62, 480, 480), (64, 960, 480), (65, 1440, 480)],
     [(60, 0, 480), (62, 480, 480), (64, 960, 480), (65, 960, 480)]),
    # Grace notes before a bar line are not played; abc2midi plays the first of
    # two such groups on the note after the bar and delays that note.
    (("grace-before-bar",), "L:1/8", "d2{e} {fg}| F2 E2",
     [(74, 0, 480), (65, 480, 480), (64, 960, 480)],
     [(74, 0, 480), (76, 480, 60), (65, 540, 480), (64, 1020, 480)]),
    # Ornaments are the player's choice; abc2midi times a roll after > its own way.
    (("ornament-timing",), "L:1/8", "d e>~f g",
     [(74, 0, 240), (76, 240, 360), (79, 600, 60), (77, 660, 60), (79, 720, 240)],
     [(74, 0, 240), (76, 240, 180), (79, 420, 30), (77, 450, 90), (79, 540, 240)]),
    # A chord broken across lines: strict mode rejects it, and each guesses.
    ((INVALID,), "L:1/4", "C [E\nG] A|",
     [(60, 0, 480), (64, 480, 480), (67, 960, 480), (69, 1440, 480)],
     [(60, 0, 480), (64, 480, 480), (67, 480, 480), (69, 960, 480)]),
]  # fmt: skip
IDS = [f"{'+'.join(reasons)}-{body}" for reasons, _, body, _, _ in CLASSES]
IMITATED = [case for case in CLASSES if set(case[0]) <= QUIRKS.keys()]


def tune_text(header: str, body: str) -> str:
    return f"X:1\n{header}\nK:C\n{body}\n"


@pytest.mark.parametrize(("reasons", "header", "body", "standard", "abc2midi"), CLASSES, ids=IDS)
def test_converter_plays_the_standard(reasons, header, body, standard, abc2midi):
    assert tune_ticks(parse_tune(tune_text(header, body))) == standard


# The rewrites stand for notation abc2midi misreads; they are checked against abc2midi only.
@pytest.mark.parametrize(("reasons", "header", "body", "standard", "abc2midi"), IMITATED)
def test_quirks_imitate_abc2midi(reasons, header, body, standard, abc2midi):
    assert tune_ticks(parse_tune(tune_text(header, body), quirks=reasons)) == abc2midi


@needs_abc2midi
@pytest.mark.parametrize(("reasons", "header", "body", "standard", "abc2midi"), CLASSES, ids=IDS)
def test_abc2midi_differs_for_the_reason_given(reasons, header, body, standard, abc2midi):
    text = tune_text(header, body)
    theirs = run_abc2midi(text)
    assert theirs == abc2midi
    assert not compare(standard, theirs).identical
    assert explain(text, theirs, text) == reasons


def test_every_reason_has_a_case():
    covered = {reason for reasons, *_ in CLASSES for reason in reasons}
    assert covered == {*QUIRKS, *REWRITES, INVALID}


def test_unknown_quirk_is_rejected():
    with pytest.raises(ValueError, match="unknown quirks"):
        parse_tune("X:1\nK:C\nc|\n", quirks={"no-such-quirk"})


# Tunes with repeats, endings, ties, triplets, grace notes, rolls and broken
# rhythm; 10 also writes a roll before a slur, ~(G2 F2 G2).
REFERENCES = ["1", "2", "3", "6", "10", "18", "21", "26"]


@pytest.fixture(scope="module")
def oneills():
    music21 = pytest.importorskip("music21")
    path = Path(music21.__file__).parent / "corpus" / "oneills1850" / "0001-0050.abc"
    if not path.exists():
        pytest.skip(f"music21 corpus file {path} not found")
    return {raw.reference: raw for raw in split_tunebook(path.read_text(), path.name)}


@needs_abc2midi
@pytest.mark.parametrize("reference", REFERENCES)
def test_notes_match_abc2midi(oneills, reference):
    raw = oneills[reference]
    ours = tune_ticks(parse_tune(raw, strict=True))
    agreement = compare(ours, run_abc2midi(for_abc2midi(raw.text)))
    assert agreement.ours_only == []
    assert agreement.theirs_only == []
    assert agreement.matched == len(ours)
    assert ours


# Notation whose playing ABC 2.1 leaves open, with the notes abc2midi 4.84
# plays for it: where the standard does not decide, the converter agrees.
UNDEFINED = [
    # Section 4.4: broken rhythm between notes of unequal written lengths
    # "will produce undefined results". Two notes keep their lengths,
    ("d>B/ c2", [(74, 0, 240), (71, 240, 120), (72, 360, 480)]),
    # unless they are equal once staccato halves one,
    (".A2>B c2", [(69, 0, 360), (71, 720, 120), (72, 840, 480)]),
    # and a chord is halved or dotted all the same. A rest's staccato counts for nothing.
    ("[Ac]<a3 c", [(69, 0, 120), (72, 0, 120), (81, 120, 1080), (72, 1200, 240)]),
    (".z2>z c2", [(72, 720, 480)]),
    # Section 4.20 puts a note's decorations right before it, after any slur
    # opening; a decoration apart from its note marks none.
    ("~(c3 d) e", [(72, 0, 720), (74, 720, 240), (76, 960, 240)]),
    ("~ c3 d e", [(72, 0, 720), (74, 720, 240), (76, 960, 240)]),
    (". c2 d", [(72, 0, 480), (74, 480, 240)]),
    # A !name! decoration marks the next note wherever it is.
    ("!fermata!(c2 d)", [(72, 0, 960), (74, 960, 240)]),
    (
        "!trill! c2 d",
        [
            (74, 0, 60),
            (72, 60, 60),
            (74, 120, 60),
            (72, 180, 60),
            (74, 240, 60),
            (72, 300, 60),
            (74, 360, 60),
            (72, 420, 60),
            (74, 480, 240),
        ],
    ),
]


@pytest.mark.parametrize(("body", "notes"), UNDEFINED)
def test_undefined_notation_matches_abc2midi(body, notes):
    assert tune_ticks(parse_tune(tune_text("L:1/8", body), strict=True)) == notes


@needs_abc2midi
@pytest.mark.parametrize(("body", "notes"), UNDEFINED)
def test_abc2midi_plays_undefined_cases(body, notes):
    assert run_abc2midi(tune_text("L:1/8", body)) == notes
