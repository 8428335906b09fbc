"""Turn the tokens of one voice into events with pitches and lengths in beats.

The performer keeps the state that the notation carries from note to note in
written order: the key, meter and unit length in force, the accidentals of the
current bar, ties, tuplets, broken rhythm, dynamics and pending grace notes.
Repeats are left to :mod:`musicgen.abc.playback`.

Decorations other than dynamics and ``staccato`` are read and skipped on
purpose: they never become notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction

from musicgen.abc.errors import (
    InvalidBrokenRhythmError,
    InvalidFieldError,
    InvalidTieError,
    InvalidTupletError,
    PitchRangeError,
    Reporter,
    UnsupportedFeatureError,
)
from musicgen.abc.events import (
    BarEvent,
    Event,
    KeyEvent,
    MeterEvent,
    NoteEvent,
    PartEvent,
    Sound,
    TempoEvent,
)
from musicgen.abc.fields import parse_meter, parse_tempo, parse_unit_length
from musicgen.abc.keys import SEMITONES, KeySignature, parse_key
from musicgen.abc.model import DEFAULT_VELOCITY
from musicgen.abc.tokens import (
    BarToken,
    BrokenRhythmToken,
    ChordToken,
    DecorationToken,
    EndingToken,
    FieldToken,
    GraceToken,
    MultiRestToken,
    NoteToken,
    OverlayToken,
    RestToken,
    TieToken,
    Token,
    TupletToken,
)

# Semitones of each note name above C.
_STEPS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

# ABC 2.1 section 4.14: the velocities of the dynamics marks.
DYNAMICS = {
    "pppp": 30, "ppp": 30, "pp": 45, "p": 60, "mp": 75,
    "mf": 90, "f": 105, "ff": 120, "fff": 127, "ffff": 127,
}  # fmt: skip

# ABC 2.1 section 4.13: "(p" puts p notes in the time of q; None means 3 in
# compound meter (6/8, 9/8, 12/8) and 2 otherwise.
_TUPLET_TIME: dict[int, int | None] = {2: 3, 3: 2, 4: 3, 5: None, 6: 2, 7: None, 8: 3, 9: None}

# The length of a grace note, as a fraction of the unit length. abc2midi 4.84
# plays each grace note as a quarter of the unit length, taken from the note
# after it, and this converter does the same.
GRACE_FRACTION = Fraction(1, 4)


@dataclass
class VoiceState:
    """The settings in force at a point of a voice.

    Attributes:
        key: The key signature.
        meter: (numerator, denominator), or None for free meter.
        unit_length: The unit note length as a fraction of a whole note.
        propagate: ``%%propagate-accidentals``: ``pitch`` (all octaves),
            ``octave`` (that octave only) or ``not`` (that note only).
    """

    key: KeySignature
    meter: tuple[int, int] | None
    unit_length: Fraction
    propagate: str = "pitch"


@dataclass
class _Tuplet:
    remaining: int
    factor: Fraction


@dataclass
class Performer:
    """Collect the events of one voice from its tokens, in written order.

    Args:
        state: The settings at the start of the voice.
        reporter: Where problems go.
    """

    state: VoiceState
    reporter: Reporter
    events: list[Event] = field(default_factory=list)
    velocity: int = DEFAULT_VELOCITY
    _bar_accidentals: dict[tuple[str, int | None], int] = field(default_factory=dict)
    _tied: dict[tuple[str, int], int] = field(default_factory=dict)
    _tuplet: _Tuplet | None = None
    _broken: Fraction | None = None
    _last: NoteEvent | None = None
    # The note a "-" ties: the last one, even across a broken rhythm as in "d>-c".
    _tie_target: NoteEvent | None = None
    _decorations: list[str] = field(default_factory=list)
    _graces: list[tuple[int, Fraction]] = field(default_factory=list)
    _rest_bars: int = 0

    def feed(self, tokens: list[Token]) -> None:
        """Process the tokens of one line."""
        for token in tokens:
            self.feed_token(token)

    def feed_token(self, token: Token) -> None:
        """Process one token."""
        if isinstance(token, (NoteToken, ChordToken, RestToken, MultiRestToken)):
            self._add_note_event(token)
            return
        if isinstance(token, DecorationToken):
            self._decorate(token.name)
            return
        if isinstance(token, BrokenRhythmToken):
            self._break_rhythm(token)
            return
        if isinstance(token, TieToken):
            self._tie_last(token)
            return
        if isinstance(token, GraceToken):
            self._graces = self._grace_sounds(token)
            return
        if isinstance(token, TupletToken):
            self._start_tuplet(token)
            return
        self._last = None
        self._tie_target = None
        if isinstance(token, (BarToken, EndingToken)):
            self._add_bar(token)
        elif isinstance(token, FieldToken):
            self.apply_field(token.name, token.value, token.line, token.column)
        elif isinstance(token, OverlayToken):
            self.reporter.problem(
                UnsupportedFeatureError,
                "voice overlay '&' is not supported; the notes after it play in sequence",
                token.line,
                token.column,
            )

    # ABC 2.1 section 3.2: K:, M:, L:, Q: and P: may change within the body,
    # on their own line or inline in brackets.
    def apply_field(self, name: str, value: str, line: int, column: int) -> None:
        """Apply a body field; other fields are skipped because they do not sound."""
        try:
            if name == "K":
                self._change_key(value)
            elif name == "M":
                self.state.meter = parse_meter(value)
                self.events.append(MeterEvent(self.state.meter))
            elif name == "L":
                self.state.unit_length = parse_unit_length(value)
            elif name == "Q":
                qpm = parse_tempo(value, self.state.unit_length)
                if qpm is not None:
                    self.events.append(TempoEvent(qpm))
            elif name == "P":
                self.events.append(PartEvent(value.strip(), line, column))
        except ValueError as error:
            self.reporter.problem(InvalidFieldError, f"{error}; field skipped", line, column)

    def _change_key(self, value: str) -> None:
        # ABC 2.1 section 3.1.14: a new key replaces the whole signature.
        key = parse_key(value)
        if key.transpose == 0:
            # A K: without transposition settings keeps the one in force.
            key = replace(key, transpose=self.state.key.transpose)
        if key.has_tonic:
            self.state.key = key
            self.events.append(KeyEvent(key.sharps, key.is_minor))
        else:
            self.state.key = replace(self.state.key, transpose=key.transpose)

    def _beats(self, length: Fraction) -> Fraction:
        """Return the beats of ``length`` unit lengths."""
        return length * self.state.unit_length * 4

    # ABC 2.1 section 4.2: an accidental holds for the rest of the bar; with
    # %%propagate-accidentals pitch (the default) in every octave.
    def _pitch(self, note: NoteToken) -> int | None:
        letter = note.letter.upper()
        octave = note.octave + (1 if note.letter.islower() else 0)
        bar_key: tuple[str, int | None] = (
            (letter, None) if self.state.propagate == "pitch" else (letter, octave)
        )
        if note.accidental is not None:
            semitones = SEMITONES[note.accidental]
            if self.state.propagate != "not":
                self._bar_accidentals[bar_key] = semitones
        elif (letter, octave) in self._tied:
            # ABC 2.1 section 4.11: a tied note keeps the pitch it is tied from.
            return self._tied[(letter, octave)]
        elif bar_key in self._bar_accidentals:
            semitones = self._bar_accidentals[bar_key]
        else:
            semitones = self.state.key.accidentals.get(letter, 0)
        pitch = 60 + _STEPS[letter] + 12 * octave + semitones + self.state.key.transpose
        if not 0 <= pitch <= 127:
            self.reporter.problem(
                PitchRangeError,
                f"note {note.letter!r} is MIDI pitch {pitch}, outside 0 to 127; skipped",
                note.line,
                note.column,
            )
            return None
        return pitch

    def _sounds(self, notes: list[NoteToken], outer: Fraction, chord_tie: bool) -> list[Sound]:
        sounds: list[Sound] = []
        for note in notes:
            for decoration in note.decorations:
                self._decorate(decoration)
            pitch = self._pitch(note)
            if pitch is not None:
                length = self._beats(note.length * outer)
                name = (note.letter.upper(), note.octave + note.letter.islower())
                sounds.append(Sound(pitch, length, note.tie or chord_tie, name))
        return sounds

    def _add_note_event(self, token: NoteToken | ChordToken | RestToken | MultiRestToken) -> None:
        if isinstance(token, MultiRestToken):
            self._add_multi_rest(token)
            return
        if isinstance(token, NoteToken):
            sounds = self._sounds([token], Fraction(1), False)
            advance = self._beats(token.length)
        elif isinstance(token, ChordToken):
            sounds = self._sounds(token.notes, token.length, token.tie)
            # ABC 2.1 section 4.17: a chord lasts as long as its first note.
            advance = self._beats(token.notes[0].length * token.length)
        else:
            sounds = []
            advance = self._beats(token.length)
        event = NoteEvent(sounds, advance, self.velocity, token.line, token.column)
        event.staccato = "staccato" in self._decorations
        self._decorations = []
        if sounds:
            event.graces, self._graces = self._graces, []
        self._remember_ties(sounds)
        self._apply_rhythm(event)
        self.events.append(event)
        self._last = event
        self._tie_target = event

    def _apply_rhythm(self, event: NoteEvent) -> None:
        if self._broken is not None:
            event.scale(self._broken)
            self._broken = None
        if self._tuplet is not None:
            event.scale(self._tuplet.factor)
            self._tuplet.remaining -= 1
            if self._tuplet.remaining <= 0:
                self._tuplet = None

    def _add_multi_rest(self, token: MultiRestToken) -> None:
        meter = self.state.meter
        if meter is None:
            self.reporter.problem(
                InvalidFieldError,
                "multi-measure rest 'Z' in free meter (M:none) has no bar length; "
                "played as bars of 4 beats",
                token.line,
                token.column,
            )
            meter = (4, 4)
        bar = Fraction(meter[0] * 4, meter[1])
        self.events.append(NoteEvent([], bar * token.bars, self.velocity, token.line, token.column))
        self._rest_bars += token.bars - 1
        self._last = None

    def _add_bar(self, token: BarToken | EndingToken) -> None:
        self._bar_accidentals = {}
        if self._broken is not None:
            self.reporter.problem(
                InvalidBrokenRhythmError,
                "broken rhythm has no note after it before the bar line; ignored",
                token.line,
                token.column,
            )
            self._broken = None
        if isinstance(token, EndingToken):
            previous = self.events[-1] if self.events else None
            if isinstance(previous, BarEvent) and previous.endings is None:
                previous.endings = token.endings
            else:
                self.events.append(BarEvent(token.line, token.column, endings=token.endings))
            return
        self.events.append(
            BarEvent(
                token.line,
                token.column,
                token.end_repeats,
                token.start_repeats,
                token.double,
                token.endings,
                self._rest_bars,
            )
        )
        self._rest_bars = 0

    def _decorate(self, name: str) -> None:
        if name in DYNAMICS:
            self.velocity = DYNAMICS[name]
        else:
            self._decorations.append(name)

    # ABC 2.1 section 4.4: a>b makes a 3/2 and b 1/2 of their lengths, >> 7/4
    # and 1/4, >>> 15/8 and 1/8; "<" mirrors it.
    def _break_rhythm(self, token: BrokenRhythmToken) -> None:
        if self._last is None or not 1 <= token.count <= 3:
            reason = "has no note before it" if self._last is None else "has more than three marks"
            self.reporter.problem(
                InvalidBrokenRhythmError,
                f"broken rhythm {'>' * token.count if token.direction > 0 else '<' * token.count}"
                f" {reason}; ignored",
                token.line,
                token.column,
            )
            return
        short = Fraction(1, 2**token.count)
        long = 2 - short
        first, second = (long, short) if token.direction > 0 else (short, long)
        self._last.scale(first)
        self._broken = second
        self._last = None

    def _tie_last(self, token: TieToken) -> None:
        target = self._tie_target
        if target is None or not target.sounds:
            self.reporter.problem(
                InvalidTieError, "tie '-' does not follow a note; ignored", token.line, token.column
            )
            return
        for sound in target.sounds:
            sound.tie = True
        if target is self._last:
            self._remember_ties(target.sounds)

    def _remember_ties(self, sounds: list[Sound]) -> None:
        self._tied = {
            sound.name: sound.pitch for sound in sounds if sound.tie and sound.name is not None
        }

    def _grace_sounds(self, token: GraceToken) -> list[tuple[int, Fraction]]:
        graces: list[tuple[int, Fraction]] = []
        for note in token.notes:
            pitch = self._pitch(note)
            if pitch is not None:
                graces.append((pitch, self._beats(note.length * GRACE_FRACTION)))
        return graces

    def _start_tuplet(self, token: TupletToken) -> None:
        q = token.q if token.q is not None else _TUPLET_TIME.get(token.p, 0)
        if q is None:
            compound = self.state.meter is not None and self.state.meter[0] % 3 == 0
            compound = compound and self.state.meter is not None and self.state.meter[0] > 3
            q = 3 if compound else 2
        r = token.r if token.r is not None else token.p
        if token.p < 1 or q < 1 or r < 1:
            self.reporter.problem(
                InvalidTupletError,
                f"tuplet ({token.p} has no defined time; write (p:q:r with all above 0; ignored",
                token.line,
                token.column,
            )
            return
        self._tuplet = _Tuplet(r, Fraction(q, token.p))
