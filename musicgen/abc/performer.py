"""Turn the tokens of one voice into events with pitches and lengths in ticks.

The performer keeps the state that the notation carries from note to note in
written order: the key, meter and unit length in force, the accidentals of the
current bar, ties, tuplets, broken rhythm, dynamics, pending decorations,
grace notes and chord symbols, and the notes of the last music line for the
lyrics under it. Repeats are left to :mod:`musicgen.abc.playback`, and what
each decoration does is listed in :mod:`musicgen.abc.decorations`. Lengths
are integer ticks (:mod:`musicgen.abc.ticks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction

from musicgen.abc import quirks as q
from musicgen.abc.decorations import (
    ACCENT_BOOST,
    ACCENTS,
    DYNAMICS,
    FERMATA_FACTOR,
    FERMATAS,
    ORNAMENTS,
    STACCATO,
)
from musicgen.abc.errors import (
    InvalidBrokenRhythmError,
    InvalidFieldError,
    InvalidTieError,
    InvalidTupletError,
    PitchRangeError,
    Reporter,
)
from musicgen.abc.events import (
    BarEvent,
    Event,
    Grace,
    KeyEvent,
    MeterEvent,
    NoteEvent,
    OverlayEvent,
    PartEvent,
    Sound,
    TempoEvent,
)
from musicgen.abc.fields import parse_meter, parse_tempo, parse_unit_length
from musicgen.abc.keys import KeySignature, accidental_offset, parse_key
from musicgen.abc.lyrics import align_lyrics
from musicgen.abc.model import DEFAULT_VELOCITY, Ornament
from musicgen.abc.ticks import scale, to_ticks
from musicgen.abc.tokens import (
    BarToken,
    BrokenRhythmToken,
    ChordSymbolToken,
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

# Semitones of each note name above C, and the note names in scale order.
_STEPS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_LETTERS = "CDEFGAB"
# ABC 2.1 section 4.1: each note letter's name, semitones above C and octave
# (C is middle C, c an octave up).
_LETTER_PLACES = {
    **{letter: (letter, step, 0) for letter, step in _STEPS.items()},
    **{letter.lower(): (letter, step, 1) for letter, step in _STEPS.items()},
}

# ABC 2.1 section 4.13: "(p" puts p notes in the time of q; None means 3 in
# compound meter (6/8, 9/8, 12/8) and 2 otherwise.
_TUPLET_TIME: dict[int, int | None] = {2: 3, 3: 2, 4: 3, 5: None, 6: 2, 7: None, 8: 3, 9: None}

# ABC 2.1 section 4.12 leaves the timing of grace notes to the player. Each
# grace note lasts a quarter of the unit length, taken from the start of the
# note or rest after it, as abc2midi 4.84 plays them; see playback for a group
# too long for its note and for grace notes before a bar line.
GRACE_FRACTION = Fraction(1, 4)

# (numerator, denominator) of a factor applied to lengths in ticks.
Ratio = tuple[int, int]
_NATURAL = Fraction(0)


@dataclass(slots=True)
class VoiceState:
    """The settings in force at a point of a voice.

    Attributes:
        key: The key signature.
        meter: (numerator, denominator), or None for free meter.
        unit_length: The unit note length as a fraction of a whole note.
        propagate: ``%%propagate-accidentals``: ``pitch`` (all octaves),
            ``octave`` (that octave only) or ``not`` (that note only).
        qpm: The tempo in quarter notes per minute, which sets the speed of trills.
        unit_ticks: The unit length in ticks, kept in step by :meth:`set_unit_length`.
    """

    key: KeySignature
    meter: tuple[int, int] | None
    unit_length: Fraction
    propagate: str = "pitch"
    qpm: float = 120.0
    unit_ticks: int = 0

    def __post_init__(self) -> None:
        self.set_unit_length(self.unit_length)

    def set_unit_length(self, unit_length: Fraction) -> None:
        """Set the unit note length (a fraction of a whole note)."""
        self.unit_length = unit_length
        self.unit_ticks = to_ticks(unit_length * 4)


@dataclass(slots=True)
class _Tuplet:
    remaining: int
    factor: Ratio


@dataclass(slots=True)
class _Broken:
    """A broken rhythm waiting for its second note."""

    first: NoteEvent
    first_factor: Ratio
    second_factor: Ratio


@dataclass(slots=True)
class Performer:
    """Collect the events of one voice from its tokens, in written order.

    Args:
        state: The settings at the start of the voice.
        reporter: Where problems go.
        quirks: abc2midi behaviours to imitate (see :mod:`musicgen.abc.quirks`).
    """

    state: VoiceState
    reporter: Reporter
    quirks: frozenset[str] = frozenset()
    events: list[Event] = field(default_factory=list)
    velocity: int = DEFAULT_VELOCITY
    _bar_accidentals: dict[tuple[str, int | None], Fraction] = field(default_factory=dict)
    _tied: dict[tuple[str, int], tuple[int, Fraction]] = field(default_factory=dict)
    _tuplet: _Tuplet | None = None
    _broken: _Broken | None = None
    _last: NoteEvent | None = None
    # The note a "-" ties: the last one, even across a broken rhythm as in "d>-c".
    _tie_target: NoteEvent | None = None
    _decorations: list[str] = field(default_factory=list)
    _graces: tuple[Grace, ...] = ()
    _chord_symbol: str | None = None
    _rest_bars: int = 0
    # Where the last music line's events start, and its w: lines so far.
    _line_start: int = 0
    _verses: int = 0

    def feed(self, tokens: list[Token]) -> None:
        """Process the tokens of one line."""
        for token in tokens:
            self.feed_token(token)

    def feed_token(self, token: Token) -> None:
        """Process one token."""
        if isinstance(token, (NoteToken, ChordToken, RestToken)):
            self.add_note(token)
        elif isinstance(token, DecorationToken):
            detached = not token.attached and q.DETACHED_DECORATION in self.quirks
            if not detached or token.name in DYNAMICS:
                self._decorate(token.name)
        elif isinstance(token, BrokenRhythmToken):
            self._break_rhythm(token)
        elif isinstance(token, TieToken):
            self._tie_last(token)
        elif isinstance(token, GraceToken):
            self._graces = self._graces + tuple(self._grace_notes(token))
        elif isinstance(token, TupletToken):
            self._start_tuplet(token)
        elif isinstance(token, ChordSymbolToken):
            self._chord_symbol = self._chord_symbol or token.text
        elif isinstance(token, MultiRestToken):
            self._add_multi_rest(token)
        else:
            self._last = None
            self._tie_target = None
            if isinstance(token, (BarToken, EndingToken)):
                self._add_bar(token)
            elif isinstance(token, FieldToken):
                self.apply_field(token.name, token.value, token.line, token.column)
            elif isinstance(token, OverlayToken):
                self._overlay(token)

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
                self.state.set_unit_length(parse_unit_length(value))
            elif name == "Q":
                qpm = parse_tempo(value, self.state.unit_length)
                if qpm is not None:
                    self.state.qpm = qpm
                    self.events.append(TempoEvent(qpm))
            elif name == "P":
                self.events.append(PartEvent(value.strip(), line, column))
        except ValueError as error:
            self.reporter.problem(InvalidFieldError, f"{error}; field skipped", line, column)

    def start_line(self, continued: bool = False) -> None:
        """Mark the start of a music line; its w: lines align with its notes."""
        if not continued:
            self._line_start = len(self.events)
            self._verses = 0

    # ABC 2.1 section 5.1: a w: line gives the syllables of the music line above.
    def add_lyrics(self, text: str) -> None:
        """Align a ``w:`` line with the notes of the last music line, as the next verse."""
        align_lyrics(text, self.events[self._line_start :], self._verses)
        self._verses += 1

    def _change_key(self, value: str) -> None:
        # ABC 2.1 section 3.1.14: a new key replaces the whole signature.
        key = parse_key(value)
        if key.transpose == 0:
            # A K: without transposition settings keeps the one in force.
            key = replace(key, transpose=self.state.key.transpose)
        if q.EXP_KEY in self.quirks and "exp" in value.split():
            key = replace(key, accidentals={**self.state.key.accidentals, **key.accidentals})
        if key.has_tonic:
            self.state.key = key
            self.events.append(KeyEvent(key.sharps, key.is_minor))
        else:
            self.state.key = replace(self.state.key, transpose=key.transpose)

    def _ticks(self, length: Fraction) -> int:
        """Return the ticks of ``length`` unit lengths."""
        return scale(self.state.unit_ticks, length.numerator, length.denominator)

    # ABC 2.1 section 4.2: an accidental holds for the rest of the bar; with
    # %%propagate-accidentals pitch (the default) in every octave. A
    # microtone keeps the note's natural pitch and bends it, as abc2midi does.
    def _pitch(self, note: NoteToken) -> tuple[int, Fraction] | None:
        letter, step, octave = _LETTER_PLACES[note.letter]
        octave += note.octave
        propagate = self.state.propagate
        bar_key = (letter, None if propagate == "pitch" else octave)
        key = self.state.key
        if note.accidental is not None:
            offset = accidental_offset(note.accidental)
            if propagate != "not":
                self._bar_accidentals[bar_key] = offset
        elif self._tied and (letter, octave) in self._tied:
            # ABC 2.1 section 4.11: a tied note keeps the pitch it is tied from.
            return self._tied[(letter, octave)]
        elif self._bar_accidentals and bar_key in self._bar_accidentals:
            offset = self._bar_accidentals[bar_key]
        else:
            offset = key.accidentals.get(letter, _NATURAL)
        pitch = 60 + step + 12 * octave + key.transpose
        bend = _NATURAL
        if offset.denominator == 1:
            pitch += offset.numerator
        else:
            bend = offset
        if not 0 <= pitch <= 127:
            self.reporter.problem(
                PitchRangeError,
                f"note {note.letter!r} is MIDI pitch {pitch}, outside 0 to 127; skipped",
                note.line,
                note.column,
            )
            return None
        return pitch, bend

    def _neighbour(self, note: NoteToken, step: int) -> int:
        """Return the pitch one note name up (``step`` 1) or down (-1) in the key."""
        position = _LETTERS.index(note.letter.upper()) + step
        octave = note.octave + (1 if note.letter.islower() else 0) + position // 7
        letter = _LETTERS[position % 7]
        offset = int(self.state.key.accidentals.get(letter, 0))
        pitch = 60 + _STEPS[letter] + 12 * octave + offset + self.state.key.transpose
        return min(127, max(0, pitch))

    def _sounds(self, notes: list[NoteToken], ticks: int, chord_tie: bool) -> list[Sound]:
        """Return the sounds of a note or chord, each ``ticks`` long."""
        sounds: list[Sound] = []
        for note in notes:
            for decoration in note.decorations:
                self._decorate(decoration)
            resolved = self._pitch(note)
            if resolved is not None:
                letter, _, octave = _LETTER_PLACES[note.letter]
                name = (letter, octave + note.octave)
                pitch, bend = resolved
                sounds.append(Sound(pitch, ticks, note.tie or chord_tie, name, bend))
        return sounds

    def _note_sounds(self, note: NoteToken, ticks: int) -> list[Sound]:
        """Return the sound of a single note (the common case of :meth:`_sounds`)."""
        resolved = self._pitch(note)
        if resolved is None:
            return []
        letter, _, octave = _LETTER_PLACES[note.letter]
        pitch, bend = resolved
        return [Sound(pitch, ticks, note.tie, (letter, octave + note.octave), bend)]

    def add_note(self, token: NoteToken | ChordToken | RestToken) -> None:
        """Add the event of a note, chord or rest (as :meth:`feed_token` does)."""
        if isinstance(token, NoteToken):
            length = token.length
            ticks = scale(self.state.unit_ticks, length.numerator, length.denominator)
            continues = bool(self._tied) and _continues_tie(self._tied, [token])
            sounds = self._note_sounds(token, ticks)
            tied = token.tie
        elif isinstance(token, ChordToken):
            # ABC 2.1 section 4.17: the chord lasts as long as its first note,
            # and so does every note in it, as abc2midi plays it.
            ticks = self._ticks(token.notes[0].length * token.length)
            continues = bool(self._tied) and _continues_tie(self._tied, token.notes)
            sounds = self._sounds(token.notes, ticks, token.tie)
            tied = any(sound.tie for sound in sounds)
        else:
            ticks, continues, sounds, tied = self._ticks(token.length), False, [], False
        event = NoteEvent(sounds, ticks, self.velocity, token.line, token.column)
        event.tie_continuation = continues and bool(sounds)
        if self._decorations:
            self._apply_decorations(event, token)
        if self._graces:
            event.graces, self._graces = self._graces, ()
        if self._chord_symbol is not None:
            event.chord_symbol, self._chord_symbol = self._chord_symbol, None
        if self._tied or tied:
            self._remember_ties(sounds)
        if self._broken is not None or self._tuplet is not None:
            self._apply_rhythm(event)
        self.events.append(event)
        self._last = event
        self._tie_target = event

    def _apply_decorations(self, event: NoteEvent, token: Token) -> None:
        decorations, self._decorations = self._decorations, []
        if not decorations:
            return
        names = set(decorations)
        ornaments = [ORNAMENTS[name] for name in decorations if name in ORNAMENTS]
        if names & ACCENTS:
            event.velocity = min(127, event.velocity + ACCENT_BOOST)
        if names & FERMATAS:
            event.scale((FERMATA_FACTOR, 1))
        if ornaments and isinstance(token, NoteToken) and len(event.sounds) == 1:
            unit = self.state.unit_length * 4
            upper, lower = self._neighbour(token, 1), self._neighbour(token, -1)
            event.ornament = Ornament(ornaments[0], upper, lower, unit, self.state.qpm)
        else:
            # A trill or roll keeps its note's full length, as abc2midi plays it.
            event.staccato = bool(names & STACCATO)

    def _apply_rhythm(self, event: NoteEvent) -> None:
        if self._tuplet is not None:
            event.scale(self._tuplet.factor)
            self._tuplet.remaining -= 1
            if self._tuplet.remaining <= 0:
                self._tuplet = None
        broken, self._broken = self._broken, None
        if broken is not None and not (
            q.BROKEN_RHYTHM in self.quirks and _felt_length(broken.first) != _felt_length(event)
        ):
            broken.first.scale(broken.first_factor)
            event.scale(broken.second_factor)

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
        rest = to_ticks(Fraction(meter[0] * 4 * token.bars, meter[1]))
        self.events.append(NoteEvent([], rest, self.velocity, token.line, token.column))
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
        # Grace notes and decorations before a bar line belong to no note (a
        # fermata there marks the bar line); abc2midi drops them too.
        self._graces = ()
        self._decorations = []
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
                token.text,
            )
        )
        self._rest_bars = 0

    # ABC 2.1 section 7.4: "&" overlays a second voice on the bar so far.
    def _overlay(self, token: OverlayToken) -> None:
        self._broken = None
        self._tuplet = None
        self.events.append(OverlayEvent(token.line, token.column))

    def _decorate(self, name: str) -> None:
        if name in DYNAMICS:
            self.velocity = DYNAMICS[name]
        else:
            self._decorations.append(name)

    # ABC 2.1 section 4.4: a>b makes a 3/2 and b 1/2 of their lengths, >> 7/4
    # and 1/4, >>> 15/8 and 1/8; "<" mirrors it. Both change once b is read.
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
        power = 2**token.count
        short, long = (1, power), (2 * power - 1, power)
        first, second = (long, short) if token.direction > 0 else (short, long)
        self._broken = _Broken(self._last, first, second)
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
            sound.name: (sound.pitch, sound.bend)
            for sound in sounds
            if sound.tie and sound.name is not None
        }

    def _grace_notes(self, token: GraceToken) -> list[Grace]:
        # Grace notes written inside a tuplet shrink with it, as abc2midi plays them.
        factor = GRACE_FRACTION
        if self._tuplet is not None:
            factor *= Fraction(*self._tuplet.factor)
        graces: list[Grace] = []
        for note in token.notes:
            resolved = self._pitch(note)
            if resolved is not None:
                pitch, bend = resolved
                graces.append(Grace(pitch, self._ticks(note.length * factor), bend))
        return graces

    def _start_tuplet(self, token: TupletToken) -> None:
        if self._tuplet is not None and q.NESTED_TUPLET in self.quirks:
            return
        q_time = token.q if token.q is not None else _TUPLET_TIME.get(token.p, 0)
        if q_time is None:
            meter = self.state.meter
            triple = meter is not None and meter[0] % 3 == 0
            big = meter is not None and meter[0] > 3
            compound = triple and (big or q.TUPLET_TRIPLE in self.quirks)
            q_time = 3 if compound else 2
        r = token.r if token.r is not None else token.p
        if token.p < 1 or q_time < 1 or r < 1:
            self.reporter.problem(
                InvalidTupletError,
                f"tuplet ({token.p} has no defined time; write (p:q:r with all above 0; ignored",
                token.line,
                token.column,
            )
            return
        self._tuplet = _Tuplet(r, (q_time, token.p))


def _continues_tie(
    tied: dict[tuple[str, int], tuple[int, Fraction]], notes: list[NoteToken]
) -> bool:
    """Return True when every note continues a tie from the note before."""
    return bool(tied) and all(
        (note.letter.upper(), note.octave + note.letter.islower()) in tied for note in notes
    )


def _felt_length(event: NoteEvent) -> int:
    """Return the length abc2midi compares for a broken rhythm: staccato halves it."""
    return event.advance // 2 if event.staccato else event.advance
