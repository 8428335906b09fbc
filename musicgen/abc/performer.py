"""Turn the tokens of one voice into events with pitches and lengths in ticks.

The performer keeps the state that the notation carries from note to note in
written order: the key, meter and unit length in force, the accidentals of the
current bar, ties, tuplets, broken rhythm, dynamics, pending decorations,
grace notes and chord symbols, and the notes of the last music line for the
lyrics under it. Pitches come from :mod:`musicgen.abc.pitches`, tuplets and
broken rhythm from :mod:`musicgen.abc.rhythm`. Repeats are left to
:mod:`musicgen.abc.playback`, and what each decoration does is listed in
:mod:`musicgen.abc.decorations`. Lengths are integer ticks
(:mod:`musicgen.abc.ticks`).
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
    InvalidLengthError,
    InvalidTieError,
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
from musicgen.abc.keys import parse_key
from musicgen.abc.lyrics import align_lyrics
from musicgen.abc.model import DEFAULT_VELOCITY, Ornament
from musicgen.abc.pitches import LETTER_PLACES, PitchTracker, continues_tie
from musicgen.abc.rhythm import Broken, Tuplet, felt_length, new_tuplet
from musicgen.abc.ticks import TICKS_PER_BEAT, scale, to_ticks
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

# ABC 2.1 section 4.12 leaves the timing of grace notes to the player. Each
# grace note lasts a quarter of the unit length, taken from the start of the
# note or rest after it, as abc2midi 4.84 plays them; see playback for a group
# too long for its note and for grace notes before a bar line.
GRACE_FRACTION = Fraction(1, 4)

# The maximum length of a note, chord or rest, in quarter notes: 64 whole
# notes, over four minutes at 60 beats a minute. A longer one is a mistake,
# such as "C99999999", that would make a MIDI file last for months.
MAX_NOTE_BEATS = 256
_MAX_NOTE_TICKS = MAX_NOTE_BEATS * TICKS_PER_BEAT


@dataclass(slots=True)
class Performer(PitchTracker):
    """Collect the events of one voice from its tokens, in written order.

    Args:
        state: The settings at the start of the voice.
        reporter: Where problems go.
        quirks: abc2midi behaviours to imitate (see :mod:`musicgen.abc.quirks`).
    """

    quirks: frozenset[str] = frozenset()
    events: list[Event] = field(default_factory=list)
    velocity: int = DEFAULT_VELOCITY
    _tuplet: Tuplet | None = None
    _broken: Broken | None = None
    _last: NoteEvent | None = None
    # The written length of _last in ticks, before tuplets, broken rhythm and
    # fermatas; None for a chord.
    _last_written: int | None = None
    # The note a "-" ties: the last one, even across a broken rhythm as in "d>-c".
    _tie_target: NoteEvent | None = None
    _decorations: list[str] = field(default_factory=list)
    # A one-character staccato "." is among _decorations (see NoteEvent.dotted).
    _dotted: bool = False
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
            # ABC 2.1 section 4.20 does not say which note a decoration marks
            # when something else comes between them, such as a space or a
            # slur in "~(G2 F2)". The decoration then marks none, as in
            # abc2midi. A dynamic still sets the velocity of the notes after it.
            dropped = not token.attached or (
                not token.before_note and q.DECORATION_CHAIN in self.quirks
            )
            if not dropped or token.name in DYNAMICS:
                self._decorate(token.name)
                self._dotted = self._dotted or (token.symbol and token.name in STACCATO)
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
            self.reporter.problem(InvalidFieldError, str(error), line, column, "field skipped")

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

    def _too_long(self, token: NoteToken | ChordToken | RestToken, ticks: int) -> int:
        """Report a note, chord or rest longer than MAX_NOTE_BEATS; return one unit length."""
        self.reporter.problem(
            InvalidLengthError,
            f"length of {ticks / TICKS_PER_BEAT:g} quarter notes is over the "
            f"{MAX_NOTE_BEATS} this converter plays; write a shorter length",
            token.line,
            token.column,
            "played as one unit length",
        )
        return self.state.unit_ticks

    def _ticks(self, numerator: int, denominator: int) -> int:
        """Return the ticks of ``numerator / denominator`` unit lengths."""
        return scale(self.state.unit_ticks, numerator, denominator)

    def _sounds(self, notes: list[NoteToken], ticks: int, chord_tie: bool) -> list[Sound]:
        """Return the sounds of a note or chord, each ``ticks`` long."""
        sounds: list[Sound] = []
        for note in notes:
            for decoration in note.decorations:
                self._decorate(decoration)
            resolved = self._pitch(note)
            if resolved is not None:
                letter, _, octave = LETTER_PLACES[note.letter]
                name = (letter, octave + note.octave)
                pitch, bend = resolved
                sounds.append(Sound(pitch, ticks, note.tie or chord_tie, name, bend))
        return sounds

    def add_note(self, token: NoteToken | ChordToken | RestToken) -> None:
        """Add the event of a note, chord or rest (as :meth:`feed_token` does)."""
        if type(token) is ChordToken:
            # ABC 2.1 section 4.17: the chord lasts as long as its first note,
            # and so does every note in it, as abc2midi plays it.
            (note_numerator, note_denominator), (numerator, denominator) = (
                token.notes[0].length,
                token.length,
            )
            numerator *= note_numerator
            denominator *= note_denominator
        else:
            numerator, denominator = token.length
        if denominator == 1:
            ticks = self.state.unit_ticks * numerator
        else:
            ticks = scale(self.state.unit_ticks, numerator, denominator)
        if ticks > _MAX_NOTE_TICKS:
            ticks = self._too_long(token, ticks)

        if type(token) is NoteToken:
            continues = bool(self._tied) and continues_tie(self._tied, [token])
            sound = self._note_sound(token, ticks)
            sounds = [] if sound is None else [sound]
            tied = token.tie
        elif type(token) is ChordToken:
            continues = bool(self._tied) and continues_tie(self._tied, token.notes)
            sounds = self._sounds(token.notes, ticks, token.tie)
            tied = any(sound.tie for sound in sounds)
        else:
            continues, sounds, tied = False, [], False
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
        written = None if isinstance(token, ChordToken) else ticks
        if self._broken is not None or self._tuplet is not None:
            self._apply_rhythm(event, written)
        self.events.append(event)
        self._last = event
        self._last_written = written
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
        event.dotted = event.staccato and self._dotted and bool(event.sounds)
        self._dotted = False

    def _apply_rhythm(self, event: NoteEvent, written: int | None) -> None:
        if self._tuplet is not None:
            event.scale(self._tuplet.factor)
            self._tuplet.remaining -= 1
            if self._tuplet.remaining <= 0:
                self._tuplet = None
        broken, self._broken = self._broken, None
        if broken is None:
            return
        if (
            broken.first_written is not None
            and written is not None
            and (broken.first_written != written or q.BROKEN_RHYTHM in self.quirks)
            and felt_length(broken.first) != felt_length(event)
        ):
            return
        broken.first.scale(broken.first_factor)
        event.scale(broken.second_factor)

    def _add_multi_rest(self, token: MultiRestToken) -> None:
        meter = self.state.meter
        if meter is None:
            self.reporter.problem(
                InvalidFieldError,
                "multi-measure rest 'Z' in free meter (M:none) has no bar length",
                token.line,
                token.column,
                "played as bars of 4 beats",
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
                "broken rhythm has no note after it before the bar line",
                token.line,
                token.column,
                "ignored",
            )
            self._broken = None
        # Grace notes and decorations before a bar line belong to no note (a
        # fermata there marks the bar line); abc2midi drops them too.
        self._graces = ()
        self._decorations = []
        self._dotted = False
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
    # Between notes of unequal written lengths the standard leaves the result
    # undefined ("should be avoided"). The converter then does what abc2midi
    # 4.84 does: a pair with a chord changes all the same, and two notes or
    # rests change only when they are equal once staccato halves a note and
    # a fermata doubles it (see felt_length).
    def _break_rhythm(self, token: BrokenRhythmToken) -> None:
        if self._last is None or not 1 <= token.count <= 3:
            reason = "has no note before it" if self._last is None else "has more than three marks"
            self.reporter.problem(
                InvalidBrokenRhythmError,
                f"broken rhythm {'>' * token.count if token.direction > 0 else '<' * token.count}"
                f" {reason}",
                token.line,
                token.column,
                "ignored",
            )
            return
        power = 2**token.count
        short, long = (1, power), (2 * power - 1, power)
        first, second = (long, short) if token.direction > 0 else (short, long)
        self._broken = Broken(self._last, self._last_written, first, second)
        self._last = None

    def _tie_last(self, token: TieToken) -> None:
        target = self._tie_target
        if target is None or not target.sounds:
            self.reporter.problem(
                InvalidTieError,
                "tie '-' does not follow a note",
                token.line,
                token.column,
                "ignored",
            )
            return
        for sound in target.sounds:
            sound.tie = True
        if target is self._last:
            self._remember_ties(target.sounds)

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
                numerator, denominator = note.length
                ticks = self._ticks(numerator * factor.numerator, denominator * factor.denominator)
                graces.append(Grace(pitch, ticks, bend))
        return graces

    def _start_tuplet(self, token: TupletToken) -> None:
        if self._tuplet is not None and q.NESTED_TUPLET in self.quirks:
            return
        tuplet = new_tuplet(token, self.state.meter, self.quirks, self.reporter)
        if tuplet is not None:
            self._tuplet = tuplet
