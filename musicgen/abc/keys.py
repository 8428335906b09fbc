"""Read ``K:`` fields into key signatures and the pitch changes they imply.

ABC 2.1 section 3.1.14: a key is a tonic with an optional mode, ``none``, or
the bagpipe keys ``HP``/``Hp``, followed by optional explicit accidentals
(``^f =c``), ``exp`` (the accidentals are the whole signature) and clef
settings. Only the settings that change the sounding pitch are kept:
``transpose=``, ``octave=`` and the ``+8``/``-8`` clef suffixes. ``clef=bass``
and ``middle=`` move the staff, not the sound, and are skipped on purpose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

# Position of each note name on the circle of fifths, from C (0).
_LETTER_FIFTHS = {"F": -1, "C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5}
_SHARP_ORDER = "FCGDAEB"
_FLAT_ORDER = "BEADGCF"

# ABC 2.1 section 3.1.14: modes, recognised by their first three letters in
# any case, and how many fifths each lies below or above major.
_MODE_OFFSETS = {
    "maj": 0, "ion": 0, "min": -3, "aeo": -3, "m": -3,
    "dor": -2, "phr": -4, "lyd": 1, "mix": -1, "loc": -5,
}  # fmt: skip
_MINOR_MODES = {"min", "aeo", "m"}
_CLEF_NAMES = {"treble", "bass", "alto", "tenor", "perc", "none"}
_TONIC = re.compile(r"^([A-G])([#b]?)")
_ACCIDENTAL = re.compile(r"^(\^\^|__|\^\d*/\d*|_\d*/\d*|\^|_|=)([A-Ga-g])$")
_CLEF_OCTAVE = re.compile(r"([+-])8$")

SEMITONES = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}


# ABC 2.1 section 4.2: a microtonal accidental such as ^/ or _3/4 raises or
# lowers by that fraction of a semitone; a bare slash stands for /2.
def accidental_offset(text: str) -> Fraction:
    """Return the semitones of an accidental such as ``^``, ``__`` or ``^3/4``."""
    if text in SEMITONES:
        return Fraction(SEMITONES[text])
    numerator, _, denominator = text[1:].partition("/")
    offset = Fraction(int(numerator or 1), int(denominator or 2) or 2)
    return offset if text[0] == "^" else -offset


@dataclass(frozen=True)
class KeySignature:
    """A key signature and the settings of ``K:`` that change pitch.

    Attributes:
        text: The field value as written, such as ``"Ador"``.
        sharps: Sharps (positive) or flats (negative) implied by tonic and mode,
            -7 to 7, for the MIDI key signature event.
        is_minor: True for ``m``, ``min`` and ``aeo``.
        accidentals: Semitone change per note name (upper case) that the
            signature applies in every octave; a fraction for a microtone.
        transpose: Semitones added to every pitch (``transpose=``, ``octave=``,
            clef ``+8``/``-8``).
        has_tonic: False when the field gave only clef settings, so the key
            in force stays.
    """

    text: str
    sharps: int = 0
    is_minor: bool = False
    accidentals: dict[str, Fraction] = field(default_factory=dict)
    transpose: int = 0
    has_tonic: bool = True


def signature_accidentals(sharps: int) -> dict[str, Fraction]:
    """Return the note names a signature of ``sharps`` (-7 to 7) raises or lowers."""
    if sharps >= 0:
        return {letter: Fraction(1) for letter in _SHARP_ORDER[:sharps]}
    return {letter: Fraction(-1) for letter in _FLAT_ORDER[:-sharps]}


def parse_key(value: str) -> KeySignature:
    """Read a ``K:`` value.

    Args:
        value: The field value, such as ``"D mix"``, ``"F#m"``, ``"D =c ^g"``,
            ``"HP"`` or ``"none"``.

    Returns:
        The key signature.

    Raises:
        ValueError: The tonic, mode, accidental or setting is invalid, or the
            key needs more than 7 sharps or flats.
    """
    text = value.strip()
    words = text.split()
    sharps, is_minor, has_tonic, used = _read_tonic_and_mode(words, value)
    accidentals = signature_accidentals(sharps)
    if words[:1] in (["HP"], ["Hp"]):
        # Bagpipe keys: F and C sharp, G natural.
        accidentals = {"F": Fraction(1), "C": Fraction(1)}
        sharps = 2

    transpose = 0
    explicit: dict[str, Fraction] = {}
    for word in words[used:]:
        accidental = _ACCIDENTAL.match(word)
        if accidental:
            explicit[accidental.group(2).upper()] = accidental_offset(accidental.group(1))
        elif word == "exp":
            accidentals = {}
        else:
            transpose += _pitch_setting(word, value)
    accidentals.update(explicit)
    return KeySignature(text, sharps, is_minor, accidentals, transpose, has_tonic)


def tonic_key(value: str) -> KeySignature | None:
    """Return the major key of the tonic that starts ``value``, or None if there is none.

    Lenient mode falls back on it for a key it cannot read, such as ``Es``.
    """
    tonic = _TONIC.match(value.strip())
    if not tonic:
        return None
    fifths = _LETTER_FIFTHS[tonic.group(1)] + {"": 0, "#": 7, "b": -7}[tonic.group(2)]
    if not -7 <= fifths <= 7:
        return None
    return KeySignature(tonic.group(0), fifths, False, signature_accidentals(fifths))


def _read_tonic_and_mode(words: list[str], value: str) -> tuple[int, bool, bool, int]:
    """Return (sharps, is_minor, has_tonic, words used) for the start of a key."""
    if not words:
        return 0, False, False, 0
    first = words[0]
    if first in ("none", "HP", "Hp"):
        return 0, False, True, 1
    tonic = _TONIC.match(first)
    if not tonic:
        if first.lower() in _CLEF_NAMES or "=" in first or _ACCIDENTAL.match(first):
            return 0, False, False, 0
        raise ValueError(f"invalid key {value!r}: write a tonic A-G, then #/b and a mode")
    fifths = _LETTER_FIFTHS[tonic.group(1)] + {"": 0, "#": 7, "b": -7}[tonic.group(2)]
    mode_text = first[tonic.end() :]
    used = 1
    if not mode_text and len(words) > 1 and _mode_offset(words[1]) is not None:
        mode_text = words[1]
        used = 2
    offset = _mode_offset(mode_text) if mode_text else 0
    if offset is None:
        raise ValueError(
            f"invalid mode {mode_text!r} in key {value!r}: "
            "use maj, min, m, ion, dor, phr, lyd, mix, aeo or loc"
        )
    sharps = fifths + offset
    if not -7 <= sharps <= 7:
        raise ValueError(f"invalid key {value!r}: it needs {abs(sharps)} sharps or flats, max 7")
    mode = "m" if mode_text in ("m", "M") else mode_text[:3].lower()
    return sharps, mode in _MINOR_MODES, True, used


def _mode_offset(word: str) -> int | None:
    """Return the fifths offset of a mode word, or None if it names no mode.

    Modes are read in any case, so ``M`` is minor like ``m``, as abc2midi reads it.
    """
    if word in ("m", "M"):
        return _MODE_OFFSETS["m"]
    return _MODE_OFFSETS.get(word[:3].lower()) if len(word) >= 3 else None


# ABC 2.1 section 4.6: transpose= and octave= and the +8/-8 clef suffixes
# change the sounding pitch; other clef settings only move the staff.
def _pitch_setting(word: str, value: str) -> int:
    """Return the semitone change a clef setting word makes to the sound."""
    name, _, setting = word.partition("=")
    try:
        if name == "transpose":
            return int(setting)
        if name == "octave":
            return 12 * int(setting)
    except ValueError:
        raise ValueError(f"invalid {name}= value {setting!r} in key {value!r}") from None
    clef = setting if name == "clef" else word
    suffix = _CLEF_OCTAVE.search(clef)
    if suffix and name in ("clef", word):
        return 12 if suffix.group(1) == "+" else -12
    return 0
