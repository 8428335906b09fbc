"""Find the MIDI pitch of each written note of a voice.

The pitch of a note follows from its letter and octave marks, the key
signature and transposition in force, the accidentals written earlier in the
bar and a tie from the note before. :class:`PitchTracker` keeps the last two
and is the base of the performer (:mod:`musicgen.abc.performer`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from musicgen.abc.errors import PitchRangeError, Reporter
from musicgen.abc.events import Sound
from musicgen.abc.keys import KeySignature, accidental_offset
from musicgen.abc.tokens import NoteToken
from musicgen.abc.voicestate import VoiceState

# Semitones of each note name above C, and the note names in scale order.
_STEPS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_LETTERS = "CDEFGAB"
# ABC 2.1 section 4.1: each note letter's name, semitones above C and octave
# (C is middle C, c an octave up).
LETTER_PLACES = {
    **{letter: (letter, step, 0) for letter, step in _STEPS.items()},
    **{letter.lower(): (letter, step, 1) for letter, step in _STEPS.items()},
}

_NATURAL = Fraction(0)

# A note letter's MIDI pitch in a key without octave marks, its name and
# octave for ties, and the key's bend for it.
Place = tuple[int, tuple[str, int], Fraction]


def key_places(key: KeySignature) -> dict[str, Place]:
    """Return the place of each note letter (``C`` to ``b``) in ``key``, as _pitch finds it."""
    places: dict[str, Place] = {}
    accidentals, transpose = key.accidentals, key.transpose
    for written, (letter, step, octave) in LETTER_PLACES.items():
        offset = accidentals.get(letter)
        pitch = 60 + step + 12 * octave + transpose
        bend = _NATURAL
        if offset is not None and offset.denominator == 1:
            pitch += offset.numerator
        elif offset is not None:
            bend = offset
        places[written] = (pitch, (letter, octave), bend)
    return places


def continues_tie(
    tied: dict[tuple[str, int], tuple[int, Fraction]], notes: list[NoteToken]
) -> bool:
    """Return True when every note continues a tie from the note before."""
    return bool(tied) and all(
        (note.letter.upper(), note.octave + note.letter.islower()) in tied for note in notes
    )


@dataclass(slots=True)
class PitchTracker:
    """The state of a voice that decides the pitch of its next note.

    Args:
        state: The settings in force; its key and propagate mode are read here.
        reporter: Where problems go.
    """

    state: VoiceState
    reporter: Reporter
    _bar_accidentals: dict[tuple[str, int | None], Fraction] = field(
        default_factory=dict, init=False
    )
    _tied: dict[tuple[str, int], tuple[int, Fraction]] = field(default_factory=dict, init=False)
    # The key that _places was made for (see key_places).
    _places_key: KeySignature | None = field(default=None, init=False)
    _places: dict[str, Place] = field(default_factory=dict, init=False)

    # ABC 2.1 section 4.2: an accidental holds for the rest of the bar; with
    # %%propagate-accidentals pitch (the default) in every octave. A
    # microtone keeps the note's natural pitch and bends it, as abc2midi does.
    def _pitch(self, note: NoteToken) -> tuple[int, Fraction] | None:
        letter, step, octave = LETTER_PLACES[note.letter]
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
                f"note {note.letter!r} is MIDI pitch {pitch}, outside 0 to 127",
                note.line,
                note.column,
                "skipped",
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

    def _note_sound(self, note: NoteToken, ticks: int) -> Sound | None:
        """Return the sound of a single note that is not in a chord, or None when out of range."""
        if note.accidental is None and not self._tied and not self._bar_accidentals:
            # Neither the note, its bar nor a tie changes the key's pitch.
            key = self.state.key
            if key is not self._places_key:
                self._places = key_places(key)
                self._places_key = key
            base, name, bend = self._places[note.letter]
            marks = note.octave
            pitch = base + 12 * marks
            if 0 <= pitch <= 127:
                if marks:
                    name = (name[0], name[1] + marks)
                return Sound(pitch, ticks, note.tie, name, bend)
        resolved = self._pitch(note)
        if resolved is None:
            return None
        letter, _, octave = LETTER_PLACES[note.letter]
        pitch, bend = resolved
        return Sound(pitch, ticks, note.tie, (letter, octave + note.octave), bend)

    def _remember_ties(self, sounds: list[Sound]) -> None:
        self._tied = {
            sound.name: (sound.pitch, sound.bend)
            for sound in sounds
            if sound.tie and sound.name is not None
        }
