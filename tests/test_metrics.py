"""Tune metrics on small tunes whose values are counted by hand."""

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from musicgen.evaluation.bars import read_written
from musicgen.evaluation.distances import feature_overlap, gaussian_density, overlap_area
from musicgen.evaluation.metrics import (
    NOTE_LENGTH_LABELS,
    entropy_bits,
    measure_tune,
    scale_pitch_classes,
    summarize,
)
from musicgen.evaluation.novelty import TrainingIndex

DATA = Path(__file__).parent / "data"


def read(name):
    return (DATA / name).read_text()


def tune(body, meter="4/4", unit="1/8", key="C"):
    return f"X:1\nT:Test\nM:{meter}\nL:{unit}\nK:{key}\n{body}\n"


def test_written_bars_ignore_repeats():
    written = read_written(read("metrics_pickup.abc"))
    lengths = [bar.length for bar in written.bars]
    # Pickup, 7 full bars, the closing bar of 5 eighths, the B part's pickup,
    # 3 full bars and a closing bar of 5 eighths; 3 beats a bar in 6/8.
    half, full, five = Fraction(1, 2), Fraction(3), Fraction(5, 2)
    assert lengths == [half, *[full] * 7, five, half, *[full] * 3, five]
    assert written.bars[8].after.end_repeat
    assert written.bars[9].before.start_repeat


def test_pickup_and_split_bars_fit_the_meter():
    metrics = measure_tune(read("metrics_pickup.abc"))
    # 14 bars: the pickup and the last bar are not checked; the two short
    # bars around ":|" and "|:" complete each other.
    assert metrics.bar_count == 14
    assert metrics.checked_bars == 12
    assert metrics.complete_bars == 12


def test_short_bar_counts_as_incomplete():
    metrics = measure_tune(read("metrics_short_bar.abc"))
    assert metrics.bar_count == 4
    assert metrics.checked_bars == 3
    assert metrics.complete_bars == 2
    assert metrics.bar_accuracy == pytest.approx(2 / 3)


def test_short_bar_before_repeat_needs_its_partner():
    # The bar before ":|" has 3 eighths and the repeated part starts with a
    # full bar, so nothing completes it.
    metrics = measure_tune(tune("|:CDEF GABc|CDE:|cBAG FEDC|C8|"))
    assert (metrics.checked_bars, metrics.complete_bars) == (3, 2)


def test_out_of_key_note_is_counted():
    metrics = measure_tune(read("metrics_out_of_key.abc"))
    assert len(metrics.pitches) == 8
    assert metrics.in_key_notes == 7
    assert metrics.in_key_share == pytest.approx(7 / 8)
    assert metrics.pitch_range == 12  # G4 (67) to G5 (79)


@pytest.mark.parametrize(
    ("sharps", "names"),
    [
        (0, "C D E F G A B"),
        (2, "C# D E F# G A B"),
        (-3, "C D Eb F G Ab Bb"),
    ],
)
def test_scale_of_key_signature(sharps, names):
    classes = {"C": 0, "C#": 1, "D": 2, "Eb": 3, "E": 4, "F": 5, "F#": 6}
    classes.update({"G": 7, "Ab": 8, "A": 9, "Bb": 10, "B": 11})
    assert scale_pitch_classes(sharps) == {classes[name] for name in names.split()}


def test_mode_uses_its_signature():
    # A dorian has no sharps, so F natural is in its scale and F sharp is not.
    metrics = measure_tune(tune("A B c d e =f ^f g|", key="Ador"))
    assert metrics.in_key_notes == 7


def test_key_change_applies_from_its_bar():
    # F sharp is outside C major but inside G major after the key change.
    metrics = measure_tune(tune("CDEF ^F2 G2|[K:G] GABc d2 f2|"))
    assert metrics.in_key_notes == len(metrics.pitches) - 1


def test_pitch_class_histogram_and_entropy():
    metrics = measure_tune(tune("CDEF CDEF|"))
    assert metrics.pitch_classes == [2, 0, 2, 0, 2, 2, 0, 0, 0, 0, 0, 0]
    # Four equally common pitch classes: log2(4) bits.
    assert metrics.pitch_class_entropy == pytest.approx(2.0)
    assert entropy_bits([1, 1, 0]) == pytest.approx(1.0)
    assert entropy_bits([5]) == 0.0


def test_note_length_histogram():
    # L:1/8 in quarter-note beats: A is 1/2, B2 is 1, C/ is 1/4, D3 is 3/2,
    # E5 (5/2) falls in "other".
    metrics = measure_tune(tune("A B2 C/ D3 E5 z/|"))
    counts = dict(zip(NOTE_LENGTH_LABELS, metrics.note_lengths, strict=True))
    assert counts == {**dict.fromkeys(NOTE_LENGTH_LABELS, 0), "1/2": 1, "1": 1, "1/4": 1,
                      "3/2": 1, "other": 1}  # fmt: skip


def test_repetition_counts_bars_seen_before():
    metrics = measure_tune(tune("ABcd ABcd|efga efga|ABcd ABcd|ABcd ABcd|"))
    assert metrics.repeated_bars == 2
    assert metrics.repetition == pytest.approx(0.5)


def test_repeated_bar_differs_in_spelling_only():
    # "A2" and "A-A" are the same notes; spacing and decorations do not count.
    metrics = measure_tune(tune("A2 B2 c4|A-A B-B c4| ~A2 !trill!B2 c4|"))
    assert metrics.repeated_bars == 2


@pytest.mark.parametrize(
    ("text", "levels"),
    [
        (tune("CDEF GABc|"), (True, True, True, True)),
        ("X:1\nM:4/4\nCDEF|\n", (False, False, False, False)),
        ("X:1\nL:1/8\nK:C\nCDEF GABc|\n", (True, True, False, True)),
        (tune("CDEF GABc| @ |"), (True, False, True, True)),
        (tune("z8|"), (False, False, True, False)),
    ],
    ids=["valid", "no key", "no meter", "strict error", "rests only"],
)
def test_validity_levels(text, levels):
    metrics = measure_tune(text)
    assert (metrics.extracted, metrics.parsed, metrics.has_fields, metrics.converts) == levels


def training_index(*bodies):
    return TrainingIndex(read_written(tune(body)).bars for body in bodies)


def test_copied_tune_is_found_in_training_set():
    training = "CDEF GABc|dcBA GFED|CEGc CEGc|BAGF EDCB|CDEF GABc|dcBA GFED|CEGc ecAF|G8|"
    index = training_index(training, "cdef gabc|")
    copied = measure_tune(tune(training))
    index.fill([copied])
    assert copied.longest_copy == 8
    assert copied.plagiarised
    assert (copied.four_bar_found, copied.four_bar_total) == (5, 5)


def test_partial_copy_is_not_plagiarised():
    index = training_index("CDEF GABc|dcBA GFED|CEGc CEGc|BAGF EDCB|C8|")
    # Three bars copied in order, then one bar from elsewhere in the tune
    # (which breaks the run), then a new bar.
    metrics = measure_tune(tune("CDEF GABc|dcBA GFED|CEGc CEGc|C8|F8|"))
    index.fill([metrics])
    assert metrics.longest_copy == 3
    assert not metrics.plagiarised
    assert (metrics.four_bar_found, metrics.four_bar_total) == (0, 2)


def test_transposed_copy_counts_as_new():
    index = training_index("CDEF GABc|dcBA GFED|")
    metrics = measure_tune(tune("DEFG ABcd|edcB AGFE|"))
    index.fill([metrics])
    assert metrics.longest_copy == 0


def test_summary_pools_its_tunes():
    summary = summarize("set", [read("metrics_short_bar.abc"), read("metrics_out_of_key.abc")])
    assert summary.count == 2
    assert summary.share("converts") == 1.0
    # 3 checked bars of which 2 fit, and the one-bar tune has only its last bar.
    assert summary.bar_accuracy == pytest.approx(2 / 3)
    assert sum(summary.pitch_classes) == pytest.approx(1.0)
    assert summary.mean("in_key_share") == pytest.approx((1 + 7 / 8) / 2)


def test_gaussian_density_integrates_to_one():
    grid = np.linspace(-10, 10, 2001)
    density = gaussian_density(np.array([0.0, 1.0, 2.0]), grid)
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-3)


def test_overlap_area_of_same_and_far_samples():
    rng = np.random.default_rng(0)
    same = overlap_area(rng.normal(0, 1, 500), rng.normal(0, 1, 500))
    far = overlap_area(rng.normal(0, 1, 500), rng.normal(10, 1, 500))
    assert same > 0.9
    assert far < 0.01
    # Two unit normals one standard deviation apart overlap by 2 Phi(-1/2).
    shifted = overlap_area(rng.normal(0, 1, 4000), rng.normal(1, 1, 4000))
    assert shifted == pytest.approx(1 + math.erf(-0.5 / math.sqrt(2)), abs=0.05)


def test_feature_overlap_needs_two_real_tunes():
    real = summarize("real", [read("metrics_short_bar.abc")]).tunes
    assert feature_overlap(real, real, "pitch range") is None
    real = summarize("real", [read("metrics_short_bar.abc"), read("metrics_out_of_key.abc")])
    value = feature_overlap(real.tunes, real.tunes, "pitch-class histogram")
    assert value is not None
    assert 0.0 <= value <= 1.0
