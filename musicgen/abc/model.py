"""The converter's results: notes in beats, tunes and tunebooks.

All times are :class:`fractions.Fraction` counts of quarter-note beats from the
start of the tune, as played (repeats unrolled). Conversion to seconds or MIDI
ticks happens only in :mod:`musicgen.midi`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from musicgen.abc.errors import AbcError, AbcWarning

# ABC 2.1 section 4.14: without a dynamics mark a note is played mf.
DEFAULT_VELOCITY = 90
# ABC 2.1 section 3.1.8: without Q: the tempo is 120 quarter notes per minute.
DEFAULT_TEMPO_QPM = 120.0


@dataclass(frozen=True)
class Ornament:
    """A trill or roll written on a note, played as several notes (see musicgen.abc.ornaments).

    Attributes:
        kind: ``"trill"`` or ``"roll"``.
        upper: The MIDI pitch of the note one step up in the key.
        lower: The MIDI pitch of the note one step down in the key.
        unit: The unit note length in force, in quarter-note beats.
        qpm: The tempo in force, in quarter notes per minute.
        length: The ornamented note's own length in beats, before a tie
            lengthened it, with the time its grace notes took from it.
        grace_time: The beats grace notes took from the start of the note.
    """

    kind: str
    upper: int
    lower: int
    unit: Fraction
    qpm: float = 120.0
    length: Fraction = Fraction(0)
    grace_time: Fraction = Fraction(0)


@dataclass(frozen=True)
class Note:
    """One sounding note.

    Attributes:
        pitch: The MIDI note number, 0 to 127 (60 is middle C, ABC ``C``).
        start: The onset in quarter-note beats from the start of the tune.
        duration: The sounding length in quarter-note beats, above zero.
        velocity: The MIDI velocity, 1 to 127.
        voice: The index of the voice in :attr:`Tune.voices`.
        bend: A microtone's pitch bend in semitones (ABC 2.1 section 4.2),
            such as 1/2 for ``^/c``; 0 for a note without one.
        ornament: A trill or roll written on the note, or None. The note
            stands for the whole ornament; :func:`musicgen.abc.ornaments.played_notes`
            returns the notes that are heard.
    """

    pitch: int
    start: Fraction
    duration: Fraction
    velocity: int = DEFAULT_VELOCITY
    voice: int = 0
    bend: Fraction = Fraction(0)
    ornament: Ornament | None = None

    @property
    def end(self) -> Fraction:
        """The time the note stops, in quarter-note beats."""
        return self.start + self.duration


@dataclass(frozen=True)
class TempoChange:
    """A tempo in quarter notes per minute, in effect from ``time`` (beats) on."""

    time: Fraction
    qpm: float


@dataclass(frozen=True)
class MeterChange:
    """A meter in effect from ``time`` (beats) on, or None for ``M:none``."""

    time: Fraction
    meter: tuple[int, int] | None


@dataclass(frozen=True)
class KeyChange:
    """A key signature from ``time`` (beats) on: sharps (-7 to 7) and mode."""

    time: Fraction
    sharps: int
    is_minor: bool


@dataclass(frozen=True)
class Lyric:
    """A syllable of a ``w:`` line, sung from ``time`` (beats) in voice ``voice``.

    A syllable that continues its word ends with ``-``, as in MIDI karaoke files.
    """

    time: Fraction
    text: str
    voice: int = 0


@dataclass(frozen=True)
class ChordSymbol:
    """A chord symbol such as ``"Am7"`` in force from ``time`` (beats), as written."""

    time: Fraction
    text: str


@dataclass(frozen=True)
class Voice:
    """One ABC voice, which becomes one MIDI track.

    Attributes:
        name: The ``V:`` identifier, or ``"1"`` for a tune without voices.
        program: The General MIDI program from ``%%MIDI program``, or None.
        channel: The MIDI channel from ``%%MIDI channel`` (0-based), or None.
    """

    name: str
    program: int | None = None
    channel: int | None = None


@dataclass
class Tune:
    """One converted tune.

    Attributes:
        reference: The ``X:`` value as written.
        title: The first ``T:`` value, or an empty string.
        meter: The first meter as (numerator, denominator), or None for
            ``M:none``. A tune without ``M:`` is taken as 4/4, as abc2midi does.
        unit_length: The first unit note length, as a fraction of a whole note.
        key: The first ``K:`` value as written, such as ``"Ador"``.
        key_sharps: Sharps (positive) or flats (negative) of the first key signature.
        key_is_minor: True when the first key is minor (``m``, ``min``, ``aeo``).
        tempo_qpm: The first tempo in quarter notes per minute.
        notes: The notes as played, sorted by start time then pitch.
        warnings: Problems worked around in lenient mode.
        bar_count: The number of bars as played, counting each ``Z`` bar.
        duration: The playing time of the tune in quarter-note beats.
        tempo_changes: Every tempo, the first one at time 0.
        meter_changes: Every meter, the first one at time 0.
        key_changes: Every key signature, the first one at time 0.
        voices: The voices; notes refer to them by index.
        source: The tunebook label.
        line: The line of the ``X:`` field in the tunebook.
        lyrics: The syllables of the ``w:`` lines, in time order.
        chord_symbols: The chord symbols of the first voice, in time order.
        bar_starts: The times of the bar lines of the first voice as played,
            in beats, starting with 0.
    """

    reference: str
    title: str
    meter: tuple[int, int] | None
    unit_length: Fraction
    key: str
    key_sharps: int
    key_is_minor: bool
    tempo_qpm: float
    notes: list[Note] = field(default_factory=list)
    warnings: list[AbcWarning] = field(default_factory=list)
    bar_count: int = 0
    duration: Fraction = Fraction(0)
    tempo_changes: list[TempoChange] = field(default_factory=list)
    meter_changes: list[MeterChange] = field(default_factory=list)
    key_changes: list[KeyChange] = field(default_factory=list)
    voices: list[Voice] = field(default_factory=lambda: [Voice("1")])
    source: str = "<string>"
    line: int = 1
    lyrics: list[Lyric] = field(default_factory=list)
    chord_symbols: list[ChordSymbol] = field(default_factory=list)
    bar_starts: list[Fraction] = field(default_factory=list)


@dataclass
class Tunebook:
    """The tunes of one tunebook that converted, and the errors of those that did not.

    Attributes:
        tunes: The converted tunes in file order.
        errors: One error per tune that could not be converted.
        source: The tunebook label.
    """

    tunes: list[Tune] = field(default_factory=list)
    errors: list[AbcError] = field(default_factory=list)
    source: str = "<string>"
