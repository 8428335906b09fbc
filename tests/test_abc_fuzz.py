"""Random and mutated ABC text only ever raises AbcError subclasses, in bounded time.

A small sample for every test run; benchmarks/fuzz_converter.py runs 100,000 inputs.
"""

from __future__ import annotations

import contextlib
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicgen.abc import AbcError, parse_tune, parse_tunebook
from musicgen.midi import midi_bytes

# Characters that mean something in ABC, so random text reaches deep branches.
ABC_ALPHABET = "ABCDEFGabcdefgzxZyHLMOPSTuv^_=,'/0123456789|:[]{}()<>-!+\"~.%&\\ \n KLMQPVXwU"

SEED_TUNE = """X:1
T:Seed
M:6/8
L:1/8
Q:3/8=80
P:AB
K:Ador
P:A
|: ^A>B c (3ded | {g}e2- e [CEG]2 z :|1 !p!.d3 :|2 ~d3 ||
P:B
[K:G][M:9/8] (5abcde [L:1/16] a//b |:: c>>>d ::| Z2 | [1,3 e :| [2 f |]
V:2
A,2 B,2 &C2|
"""

SLOW = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def convert_or_abc_error(text: str, strict: bool) -> None:
    """Convert ``text`` to MIDI bytes; only AbcError may escape, within two seconds."""
    started = time.perf_counter()
    with contextlib.suppress(AbcError):
        midi_bytes(parse_tune(text, strict=strict), accompaniment=True)
    assert time.perf_counter() - started < 2.0


@SLOW
@given(st.text(alphabet=ABC_ALPHABET, max_size=200), st.booleans())
def test_random_body_raises_only_abc_errors(body, strict):
    convert_or_abc_error(f"X:1\nK:C\n{body}\n", strict)


@SLOW
@given(st.text(alphabet=ABC_ALPHABET, max_size=300))
def test_random_text_raises_only_abc_errors(text):
    convert_or_abc_error(text, strict=False)
    parse_tunebook(text)


@SLOW
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(SEED_TUNE) - 1),
            st.integers(0, 3),
            st.text(alphabet=ABC_ALPHABET, max_size=3),
        ),
        max_size=8,
    ),
    st.booleans(),
)
def test_mutated_tune_raises_only_abc_errors(edits, strict):
    text = SEED_TUNE
    for position, deleted, inserted in edits:
        position = min(position, len(text))
        text = text[:position] + inserted + text[position + deleted :]
    convert_or_abc_error(text, strict)
