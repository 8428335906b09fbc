"""Play chord symbols as a bass-and-chord accompaniment, on request only.

ABC 2.1 section 4.18 leaves chord symbols silent; abc2midi's ``%%MIDI
gchord`` shows that players may accompany them. This module's pattern, per
bar of the meter in force:

* Beats: compound meters (6/8, 9/8, 12/8, 6/4: numerator above 3 and divisible
  by 3) count dotted beats of three denominators, other meters count one
  denominator per beat; ``M:none`` counts as 4/4. A bar longer than the
  meter (a multi-measure rest) repeats its beats.
* The first beat of a bar plays the bass, every other beat plays the chord;
  in a bar of four beats (4/4, 12/8) the third beat plays the bass on the
  chord's fifth. A chord symbol that falls between beats starts a new chord
  hit where it stands.
* The bass note is the root (or the note after ``/``) from C2 to B2 (MIDI 36
  to 47); the chord is its notes in close position from the root between
  F#2 and F3 upwards (MIDI 42 to 53 for the root). Hits last until the next
  beat, at velocity 80 for the bass and 64 for the chord.
* A short first bar (a pickup) lines its beats up with the bar's end.
  Nothing plays before the first chord symbol, after ``"N.C."``, or for text
  that is not a chord (see :mod:`musicgen.abc.chords`).
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import pairwise

from musicgen.abc.chords import NO_CHORD, Chord, parse_chord_symbol
from musicgen.abc.model import MeterChange, Note, Tune

BASS_VELOCITY = 80
MAX_BEATS = 32
MAX_HITS = 4096  # per bar, so that a rest of many bars cannot grow without end
CHORD_VELOCITY = 64
_BASS_LOW = 36  # C2
_CHORD_LOW = 42  # F#2


def beat_grid(meter: tuple[int, int] | None) -> tuple[int, Fraction]:
    """Return (beats per bar, beat length in quarter-note beats) for ``meter``.

    A meter of more than :data:`MAX_BEATS` beats is played as one beat per bar.
    """
    numerator, denominator = meter or (4, 4)
    beats, beat = numerator, Fraction(4, denominator)
    if numerator > 3 and numerator % 3 == 0:
        beats, beat = numerator // 3, 3 * beat
    if beats > MAX_BEATS:
        return 1, beats * beat
    return beats, beat


def accompaniment_notes(tune: Tune, voice: int) -> list[Note]:
    """Return the accompaniment of ``tune``'s chord symbols as notes of voice ``voice``."""
    changes = _chord_changes(tune)
    if not changes:
        return []
    bounds = [*tune.bar_starts, tune.duration]
    notes: list[Note] = []
    for number, (start, end) in enumerate(pairwise(bounds)):
        if end <= start:
            continue
        beats, beat = beat_grid(_meter_at(tune.meter_changes, start))
        pickup = number == 0 and end - start < beats * beat
        origin = end - beats * beat if pickup else start
        count = min(MAX_HITS, math.ceil((end - origin) / beat))
        hits = {origin + k * beat: k % beats for k in range(count) if start <= origin + k * beat}
        times = sorted({*hits, *(t for t, _ in changes if start < t < end)})
        for time, following in zip(times, [*times[1:], end], strict=False):
            chord = _chord_at(changes, time)
            if chord is not None:
                notes.extend(_hit(chord, hits.get(time), beats, time, following - time, voice))
    return notes


def _hit(
    chord: Chord, beat: int | None, beats: int, time: Fraction, length: Fraction, voice: int
) -> list[Note]:
    if beat == 0 or (beat == 2 and beats == 4):
        bass = chord.bass if beat == 0 else (chord.root + 7) % 12
        return [Note(_BASS_LOW + bass, time, length, BASS_VELOCITY, voice)]
    root = _CHORD_LOW + (chord.root - _CHORD_LOW) % 12
    return [Note(root + step, time, length, CHORD_VELOCITY, voice) for step in chord.intervals]


def _chord_changes(tune: Tune) -> list[tuple[Fraction, Chord | None]]:
    """Return (time, chord) for each chord symbol that names a chord or no chord."""
    changes: list[tuple[Fraction, Chord | None]] = []
    for symbol in tune.chord_symbols:
        if symbol.text.strip() in NO_CHORD:
            changes.append((symbol.time, None))
            continue
        chord = parse_chord_symbol(symbol.text)
        if chord is not None:
            changes.append((symbol.time, chord))
    return changes


def _chord_at(changes: list[tuple[Fraction, Chord | None]], time: Fraction) -> Chord | None:
    chord = None
    for change_time, change in changes:
        if change_time > time:
            break
        chord = change
    return chord


def _meter_at(changes: list[MeterChange], time: Fraction) -> tuple[int, int] | None:
    meter = changes[0].meter if changes else (4, 4)
    for change in changes:
        if change.time > time:
            break
        meter = change.meter
    return meter
