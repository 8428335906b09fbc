"""Constrained sampling: the ABC state machine, the line checker and sampling under them."""

import re
from fractions import Fraction
from pathlib import Path

import keras
import pytest

from musicgen.abc import AbcError, parse_tune
from musicgen.abc.fields import parse_meter, parse_tempo, parse_unit_length
from musicgen.abc.keys import parse_key
from musicgen.cli import main
from musicgen.config import build_config
from musicgen.constrain import END, AbcState, TuneChecker
from musicgen.constrain.languages import ALL_FIELD_VALUES, PLAIN_FIELD_VALUES
from musicgen.constrain.masked import InvalidPrimerError, sample_constrained
from musicgen.constrain.tunestate import WHOLE
from musicgen.corpus import load_corpus
from musicgen.evaluation.bars import read_written
from musicgen.evaluation.metrics import measure_tune
from musicgen.generate import conditioning_primer, cut_after_bars
from musicgen.model import build_model, load_model
from musicgen.sample import Sampler, SamplingSettings
from musicgen.vocab import UnknownCharacterError, Vocabulary

TINY = Path(__file__).parent / "data" / "tiny_corpus.abc"
HEADER = "T:Test\nM:6/8\nL:1/8\nK:D"


def syntax_only() -> AbcState:
    return AbcState(enforce_bars=False, enforce_repeats=False, enforce_style=False)


def strict_tunes(tunes):
    """Return the tunes the converter parses strictly."""
    parsed = []
    for tune in tunes:
        try:
            parse_tune("X:1\n" + tune.text, strict=True)
        except AbcError:
            continue
        parsed.append(tune)
    return parsed


def test_state_machine_accepts_oneills_sample():
    # Every tenth tune of O'Neill's that the converter parses strictly.
    tunes = strict_tunes(load_corpus(["oneills"]).tunes[7::10])
    for tune in tunes:
        state = syntax_only()
        assert state.feed(tune.text) is None, tune.source
        assert state.can_end, tune.source
    assert len(tunes) >= 190


@pytest.mark.slow
@pytest.mark.parametrize(
    ("corpus", "minimum"), [("oneills", 2000), ("ryans", 900), ("essen", 8400)]
)
def test_syntax_accepts_every_strict_corpus_tune(corpus, minimum):
    tunes = strict_tunes(load_corpus([corpus]).tunes)
    rejected = []
    for tune in tunes:
        state = syntax_only()
        index = state.feed(tune.text)
        if index is not None or not state.can_end:
            rejected.append((tune.source, index))
    assert len(tunes) >= minimum
    assert rejected == []


# The rare forms of the corpora: the keys of O'Neill's "Kelly the Rake" and
# Ryan's "The Pausteen Fawn", the tempo of Ryan's "Winnick's Favorite" and
# the text ending of Ryan's "My Lady's Goon Has Gairs On't".
RARE_FORMS = [
    "K:Dmixm\nAB",
    "K:Dmix=c\nAB",
    "K:D mixm\nAB",
    "Q:1/4 =50\nK:D\nAB",
    "Q:1/4= 50\nK:D\nAB",
    'K:D\nAB||["Coda" AB(cd)|]',
]


@pytest.mark.parametrize("text", RARE_FORMS)
def test_syntax_accepts_rare_forms(text):
    parse_tune("X:1\n" + text, strict=True)
    state = syntax_only()
    assert state.feed(text) is None
    assert state.can_end


@pytest.mark.parametrize(
    ("valid", "rest"),
    [
        ("K:Dmix", "m\nAB"),
        ("K:Dmix", "=c\nAB"),
        ("Q:1/4", " =50\nK:D\nAB"),
        ("K:D\nAB||[", '"Coda" AB|]'),
        # Chords and grace groups stop at four notes, and a chord has no spaces.
        ("T:t\nM:4/4\nL:1/8\nK:D\n[DFAd", "f]2 AB|"),
        ("T:t\nM:4/4\nL:1/8\nK:D\n[DF", " A]2 AB|"),
        ("T:t\nM:4/4\nL:1/8\nK:D\n{gfed", "c}B2 AB|"),
    ],
)
def test_style_rejects_rare_forms(valid, rest):
    assert AbcState().feed(valid + rest) == len(valid)


@pytest.mark.parametrize(
    ("valid", "rest"),
    [
        # The converter reads "Dmixmm" and "Dmix=cd", but the key language
        # takes one ending after a mode.
        ("K:Dmixm", "m\nAB"),
        ("K:Dmix=c", "d\nAB"),
        ("K:Dmi", "=c\nAB"),  # an accidental after no mode
        ("K:Dm", "=c\nAB"),  # "m=c" is no mode either
        ("K:Dmix=", "h\nAB"),  # no such note
        ("Q:1/4 =", "\nK:D\nAB"),  # no rate
        ("Q:1/4 ", "50\nK:D\nAB"),  # no "="
        ('K:D\n["Am"CEG', "]"),  # '["' starts a text ending, not a chord
        ('K:D\nAB["Coda', "\nAB"),  # a text ending open at the line end
        ("K:D\n[C", "(E)G]"),  # a slur inside a chord
    ],
)
def test_syntax_rejects_broken_rare_forms(valid, rest):
    assert syntax_only().feed(valid + rest) == len(valid)


@pytest.mark.parametrize("values", [ALL_FIELD_VALUES, PLAIN_FIELD_VALUES])
def test_field_values_parse_with_converter(values):
    readers = {
        "M": parse_meter,
        "L": parse_unit_length,
        "Q": lambda text: parse_tempo(text, Fraction(1, 8)),
        "K": parse_key,
    }
    for field, language in values.items():
        for word in sorted(language.words):
            try:
                readers[field](word)
            except ValueError as error:
                pytest.fail(f"{field}:{word} is invalid: {error}")


@pytest.mark.parametrize(
    ("valid", "rest"),
    [
        ("M:6/8\nK:D\nAB", "&c"),  # voice overlay
        ("K:D\n[AB", "\nc]"),  # chord open at the line end
        ("K:D\nA>", "|B"),  # broken rhythm before a bar line
        ("K:D\nz", "-A"),  # tie after a rest
        ("K:D", "x"),  # no such mode
        ("M:6/", "0\nK:D"),  # zero denominator
        ("K:D\nA/", "0"),  # zero divisor
        ("K:D\n(", "0AB"),  # tuplet of zero notes: "(" alone opens a slur
        ("K:D\nAB\n", "\nc"),  # an empty line ends the tune
        ("T:Title\n", "AB"),  # music before K:
        ('K:D\n"Am', '\nA"'),  # chord symbol open at the line end
        ("K:D\nA:", "B"),  # a lone colon
    ],
)
def test_state_machine_rejects_at_first_bad_character(valid, rest):
    assert syntax_only().feed(valid + rest) == len(valid)


@pytest.mark.parametrize(
    ("valid", "rest"),
    [
        (HEADER + "\nA|dfa af|", "d"),  # a plain bar line after a short bar
        (HEADER + "\nA|dfa afd", "d"),  # a note in a full bar
        (HEADER + "\nA|dfa afd2", " "),  # "2" may still become "2/2", but not end
        (HEADER + "\nA|(3a2b", " "),  # tuplet notes of unequal lengths
        (HEADER + "\nA|dfa a>f2", " "),  # a broken pair of unequal lengths
        (HEADER + "\nA|dfa afd|d[", "M:3/4]"),  # meter change inside a bar
    ],
)
def test_bar_rules_reject_at_first_bad_character(valid, rest):
    assert AbcState().feed(valid + rest) == len(valid)


def test_short_section_bar_needs_its_complement():
    state = AbcState()
    assert state.feed(HEADER + "\nA|dfa afd|dfa af||") is None
    assert END in state.allowed()  # the short bar may be the last
    assert state.feed("\nd") is None
    assert "|" in state.allowed()
    assert state.feed("|") is None


def test_time_stays_exact_at_shortest_durations():
    # The shortest chord (1/256 unit length) at L:1/64, in a 9-tuplet, then
    # broken pairs chained as only the syntax rules allow.
    state = syntax_only()
    assert state.feed("L:1/64\nK:C\n(9:7[A////]////>>>B////>>>c////<<<d") is None
    chord = Fraction(1, 256) * Fraction(1, 64) * Fraction(7, 9)
    note = Fraction(1, 16) * Fraction(1, 64) * Fraction(7, 9) / 8  # second of a pair
    expected = chord * Fraction(15, 8) + note * Fraction(15, 8) + note / 8
    assert Fraction(state.time, WHOLE) == expected


def test_tune_ends_only_when_closed():
    for text in ("|:dfa afd|", "(3ab", "d-", "dfa (afd", "[df"):
        state = AbcState()
        state.feed(HEADER + "\n" + text)
        assert not state.can_end, text
    closed = AbcState()
    closed.feed(HEADER + "\n|:dfa afd:|")
    assert closed.can_end


def test_open_repeat_cannot_end_a_section():
    opened = HEADER + "\n|:dfa afd"
    assert AbcState().feed(opened + "|] ") == len(opened) + 1
    assert AbcState().feed(opened + ":| ") is None


def test_max_bars_leaves_only_the_end():
    state = AbcState(max_bars=2)
    assert state.feed(HEADER + "\ndfa afd|dfa af") is None
    assert state.allowed() != frozenset({END})
    assert state.feed("d|") is None
    assert state.allowed() == frozenset({END})


@pytest.mark.parametrize("change", ["\nK:G\n", "[K:G]", "\nM:3/4\n", "[L:1/16]"])
def test_fixed_fields_cannot_change_in_body(change):
    body = HEADER + "\ndfa afd|"
    assert AbcState().feed(body + change + "dfa afd|") is None
    assert AbcState(fixed_fields="KML").feed(body + change) is not None


def test_fixed_fields_in_header_and_line_starts():
    fixed = "KMLQ"
    assert AbcState(fixed_fields=fixed).feed("M:6/8\nL:1/8\nM:3/4\n") == 12
    # "L" and "M" at a line start would be read as decorations.
    assert AbcState(fixed_fields=fixed).feed("T:t\nM:6/8\nL:1/8\nK:D\nLd") == 20
    assert AbcState().feed("T:t\nM:6/8\nL:1/8\nK:D\nLd") is None


def test_decoration_must_touch_its_note():
    # The converter plays a decoration only on the note right after it.
    for text in ("~(d3", "~{g}d3", "T(3def", "~ d3"):
        assert AbcState().feed(HEADER + "\n" + text) == len(HEADER) + 2, text


def test_missing_header_fields_follow_once():
    assert AbcState(fixed_fields="KML").feed("T:t\nK:D\nM:6/8\nL:1/8\ndfa afd|") is None
    assert AbcState(fixed_fields="KML").feed("T:t\nK:D\nM:6/8\nM:") == 14
    assert AbcState(fixed_fields="KML").feed("T:t\nK:D\nK:") == 8


def test_max_bars_closes_an_open_repeat():
    state = AbcState(max_bars=1)
    assert state.feed(HEADER + "\n|:dfa afd|dfa af") is None
    assert ":" not in state.allowed()  # the bar is not full yet
    assert state.feed("d") is None
    assert ":" in state.allowed()
    assert "|" not in state.allowed()
    assert state.feed(" ") is None
    assert ":" in state.allowed()
    assert "|" not in state.allowed()
    assert state.feed(":|") is None
    assert state.allowed() == frozenset({END})


def test_conditioning_primer_writes_training_header():
    primer = conditioning_primer(meter="6/8", key="Dmix", rhythm="jig")
    assert primer == "R:jig\nM:6/8\nL:1/8\nK:Dmix\n"
    assert AbcState().feed(primer) is None
    assert conditioning_primer(meter="2/4") == "M:2/4\nL:1/16\n"
    with pytest.raises(ValueError, match="invalid mode"):
        conditioning_primer(key="Dx")


def test_cut_after_bars_counts_body_bars():
    text = HEADER + "\nA|dfa afd|gfe\ndcB|AFA\n|GFE|"
    assert cut_after_bars(text, 2) == HEADER + "\nA|dfa afd|"
    assert cut_after_bars(text, 4) == HEADER + "\nA|dfa afd|gfe\ndcB|AFA\n|"
    assert cut_after_bars(text, 0) == text


@pytest.mark.parametrize(
    "text",
    [
        "T:Only a title",
        "T:Title\nM:6/8",
        HEADER,
        HEADER + "\nA|dfa afd|gfe dcB|",
        HEADER + "\ndfa afd|gf",  # the last bar may go on in the next line
    ],
)
def test_checker_accepts_valid_prefixes(text):
    assert TuneChecker().problem(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEADER + "\ndfa afd|gfe|dcB AFA|", "1 bar differs from the meter"),
        ("T:Bad key\nK:GB", "invalid mode"),
        ("T:Music first\nABC|\nK:D", "before the K: field"),
        (HEADER + "\nd>|fa afd|", "broken rhythm"),
    ],
)
def test_checker_rejects_invalid_prefixes(text, expected):
    problem = TuneChecker().problem(text)
    assert problem is not None
    assert expected in problem


def test_checker_needs_music_to_finish():
    assert TuneChecker().problem(HEADER, finished=True) == "the tune ends before any music"


def test_lone_bar_line_keeps_later_bars():
    # A line holding only a bar line must not end the rewritten tune early.
    written = read_written(HEADER + "\ndfa afd|\n|\ngfe dcB|AFA GFE|")
    assert [str(bar.length) for bar in written.bars] == ["3", "3", "3"]


@pytest.fixture(scope="module")
def tiny_run(train_tiny_run):
    return train_tiny_run(epochs=3, units=32)


@pytest.fixture(scope="module")
def barely_trained(tiny_run):
    return Sampler(load_model(str(tiny_run.best_model)), Vocabulary.load(tiny_run.vocab))


def test_constrained_tunes_parse_with_full_bars(barely_trained):
    settings = SamplingSettings(max_length=300, seed=2)
    texts = sample_constrained(barely_trained, 6, settings, prime=HEADER + "\n")
    for text in texts:
        metrics = measure_tune("X:1\n" + text)
        assert metrics.parsed, (metrics.problem, text)
        assert metrics.checked_bars == metrics.complete_bars, text


def test_constrained_tunes_without_primer_parse(barely_trained):
    texts = sample_constrained(barely_trained, 4, SamplingSettings(max_length=300, seed=5))
    for text in texts:
        assert measure_tune("X:1\n" + text).parsed, text


def test_constrained_sampling_repeats_with_seed(barely_trained):
    settings = SamplingSettings(max_length=120, seed=4)
    first = sample_constrained(barely_trained, 3, settings, prime=HEADER + "\n")
    second = sample_constrained(barely_trained, 3, settings, prime=HEADER + "\n")
    assert first == second


def test_constrained_primer_with_unknown_character(barely_trained):
    with pytest.raises(UnknownCharacterError, match="'&'"):
        sample_constrained(barely_trained, 1, SamplingSettings(max_length=10), prime="K:D\n&")


def test_constrained_primer_breaking_abc(barely_trained):
    with pytest.raises(InvalidPrimerError, match="character 5"):
        sample_constrained(barely_trained, 1, SamplingSettings(max_length=10), prime="K:D\n\n")


def test_untrained_constrained_sampling_stays_valid():
    tunes = load_corpus([str(TINY)]).tunes
    vocab = Vocabulary.from_texts(t.text for t in tunes)
    keras.utils.set_random_seed(0)
    model = build_model(build_config(vocab.size, "tiny", {}).model)
    texts = sample_constrained(
        Sampler(model, vocab), 4, SamplingSettings(max_length=80), prime=HEADER + "\n"
    )
    for text in texts:
        assert text.startswith(HEADER)
        assert AbcState().feed(text) is None


def test_untrained_sampling_keeps_fixed_fields():
    tunes = load_corpus([str(TINY)]).tunes
    vocab = Vocabulary.from_texts(t.text for t in tunes)
    keras.utils.set_random_seed(1)
    model = build_model(build_config(vocab.size, "tiny", {}).model)
    settings = SamplingSettings(max_length=200, seed=1)
    prime = HEADER + "\n"
    texts = sample_constrained(Sampler(model, vocab), 8, settings, prime, fixed_fields="KML")
    for text in texts:
        body = text[len(prime) :]
        assert not re.search(r"(^|\[)[KML]:", body, re.MULTILINE), text
        assert not re.search(r"^[KML]", body, re.MULTILINE), text


def test_generate_conditions_constrained_tunes(tiny_run, tmp_path):
    arguments = ["generate", "--run", str(tiny_run.root), "--output-dir", str(tmp_path)]
    arguments += ["--sampling", "constrained", "--meter", "6/8", "--key", "D"]
    arguments += ["--rhythm", "jig", "--max-bars", "4", "--count", "2", "--max-length", "200"]
    assert main(arguments) == 0
    files = sorted((tmp_path / "generated").glob("*/trained/*.abc"))
    assert len(files) == 2
    for path in files:
        text = path.read_text()
        assert "R:jig\nM:6/8\nL:1/8\nK:D\n" in text
        metrics = measure_tune(text)
        assert metrics.parsed, metrics.problem
        assert metrics.bar_count <= 4


def test_generate_rejects_invalid_key(tiny_run, tmp_path, capsys):
    arguments = ["generate", "--run", str(tiny_run.root), "--output-dir", str(tmp_path)]
    assert main([*arguments, "--key", "Dx"]) == 2
    assert "invalid mode 'x'" in capsys.readouterr().err


def test_generate_rejects_prime_repeating_meter(tiny_run, tmp_path, capsys):
    arguments = ["generate", "--run", str(tiny_run.root), "--output-dir", str(tmp_path)]
    assert main([*arguments, "--meter", "6/8", "--prime", "M:3/4\\nK:D\\n"]) == 2
    assert "--prime sets M: again after --meter 6/8" in capsys.readouterr().err
    assert main([*arguments, "--key", "D", "--prime", "K:G\\n"]) == 2
    assert "--prime sets K: again after --key D" in capsys.readouterr().err
    assert not (tmp_path / "generated").exists()


def test_generate_rejected_primer_leaves_no_folder(tiny_run, tmp_path, capsys):
    arguments = ["generate", "--run", str(tiny_run.root), "--output-dir", str(tmp_path)]
    assert main([*arguments, "--meter", "7/9"]) == 2
    # The tiny corpus has no 7 or 9, so the vocabulary check rejects the meter.
    assert "--meter, --key or --rhythm contains characters" in capsys.readouterr().err
    # 6/6 is in the vocabulary but not among the meters the state machine writes.
    assert main([*arguments, "--meter", "6/6"]) == 2
    assert "--prime, --meter, --key or --rhythm" in capsys.readouterr().err
    assert not (tmp_path / "generated").exists()
