"""Header field values: keys, meters, unit lengths and tempos (ABC 2.1 section 3.1)."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from musicgen.abc.fields import default_unit_length, parse_meter, parse_tempo, parse_unit_length
from musicgen.abc.keys import parse_key


# ABC 2.1 section 3.1.14: tonic and mode, any case, first three letters.
@pytest.mark.parametrize(
    ("value", "sharps", "is_minor"),
    [
        ("C", 0, False), ("G", 1, False), ("F", -1, False), ("Bb", -2, False),
        ("C#", 7, False), ("Cb", -7, False), ("Am", 0, True), ("Amin", 0, True),
        ("A minor", 0, True), ("Aaeo", 0, True), ("F#m", 3, True), ("Gmaj", 1, False),
        ("Gion", 1, False), ("Ador", 1, False), ("ADOR", 1, False), ("D dorian", 0, False),
        ("Ephr", 0, False), ("Flyd", 0, False), ("Gmix", 0, False), ("Bloc", 0, False),
        ("EMix", 3, False), ("none", 0, False), ("HP", 2, False), ("Hp", 2, False),
    ],
)  # fmt: skip
def test_key_signature_sharps(value, sharps, is_minor):
    key = parse_key(value)
    assert key.sharps == sharps
    assert key.is_minor == is_minor


def test_key_explicit_accidentals():
    key = parse_key("D =c ^g")
    assert key.sharps == 2
    assert key.accidentals == {"F": 1, "C": 0, "G": 1}


def test_key_exp_replaces_signature():
    assert parse_key("D exp _b").accidentals == {"B": -1}


def test_key_bagpipe_has_f_and_c_sharp():
    assert parse_key("HP").accidentals == {"F": 1, "C": 1}


def test_key_clef_does_not_transpose():
    assert parse_key("G clef=bass middle=d").transpose == 0
    assert parse_key("G clef=treble-8").transpose == -12
    assert parse_key("G transpose=-2").transpose == -2


@pytest.mark.parametrize("value", ["H#", "Cfoo", "G#maj#", "D#", "Fbm"])
def test_key_invalid_raises(value):
    with pytest.raises(ValueError, match=r"key|mode"):
        parse_key(value)


@pytest.mark.parametrize(
    ("value", "meter"),
    [("6/8", (6, 8)), ("C", (4, 4)), ("C|", (2, 2)), ("none", None), ("2+3/8", (5, 8)),
     ("(2+2+3)/8", (7, 8))],
)  # fmt: skip
def test_meter_forms(value, meter):
    assert parse_meter(value) == meter


@pytest.mark.parametrize("value", ["3/0", "x", "6/"])
def test_meter_invalid_raises(value):
    with pytest.raises(ValueError, match="meter"):
        parse_meter(value)


def test_unit_length_forms():
    assert parse_unit_length("1/8") == F(1, 8)
    assert parse_unit_length(" 1/16 ") == F(1, 16)
    assert parse_unit_length("1") == F(1)
    with pytest.raises(ValueError, match="unit note length"):
        parse_unit_length("1/0")


# ABC 2.1 section 3.1.7: a meter below 0.75 gives 1/16, else 1/8.
@pytest.mark.parametrize(
    ("meter", "unit"),
    [((2, 4), F(1, 16)), ((3, 8), F(1, 16)), ((3, 4), F(1, 8)), ((6, 8), F(1, 8)),
     ((4, 4), F(1, 8)), (None, F(1, 8))],
)  # fmt: skip
def test_default_unit_length(meter, unit):
    assert default_unit_length(meter) == unit


# ABC 2.1 section 3.1.8: the beat, =, and beats per minute; text is skipped.
@pytest.mark.parametrize(
    ("value", "qpm"),
    [
        ("1/4=120", 120.0), ("3/8=50", 75.0), ("1/2=60", 120.0),
        ('"Allegro" 1/4=132', 132.0), ('1/4=100 "slowly"', 100.0),
        ("1/4 3/8=40", 100.0), ("120", 60.0), ("C=120", 60.0), ('"Allegro"', 130.0),
    ],
)  # fmt: skip
def test_tempo_forms(value, qpm):
    # The deprecated bare forms count unit lengths (here 1/8) per minute.
    assert parse_tempo(value, F(1, 8)) == qpm


def test_tempo_unknown_text_gives_none():
    assert parse_tempo('"with feeling"', F(1, 8)) is None


@pytest.mark.parametrize("value", ["1/4=", "fast=3", "1/4=0"])
def test_tempo_invalid_raises(value):
    with pytest.raises(ValueError, match="tempo"):
        parse_tempo(value, F(1, 8))
