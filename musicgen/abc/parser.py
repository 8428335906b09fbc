"""Convert ABC tunes and tunebooks into notes: :func:`parse_tune` and :func:`parse_tunebook`.

A tune is read line by line. The header, up to and including ``K:``, sets the
meter, unit length, tempo and key. Fields of the file header come first, and
the tune's own fields override them (ABC 2.1 section 2.2.2). Body lines are
fields, directives or music; music goes through the lexer and one performer
per voice, and playback then unrolls repeats and joins ties.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from fractions import Fraction

from musicgen.abc.errors import (
    AbcError,
    EmptyTuneError,
    InvalidFieldError,
    MissingFieldError,
    Reporter,
)
from musicgen.abc.fields import default_unit_length, parse_meter, parse_tempo, parse_unit_length
from musicgen.abc.keys import KeySignature, parse_key, tonic_key
from musicgen.abc.lexer import DEFAULT_SYMBOLS, lex_line
from musicgen.abc.model import DEFAULT_TEMPO_QPM, Tune, Tunebook
from musicgen.abc.parts import arrange_parts
from musicgen.abc.quirks import check_quirks
from musicgen.abc.tokens import FieldToken, NoteToken
from musicgen.abc.tunebook import RawTune, normalize_newlines, split_tunebook
from musicgen.abc.voices import VoiceSet, assemble
from musicgen.abc.voicestate import VoiceState

_FIELD = re.compile(r"^([A-Za-z+]):(.*)$")
# ABC 2.1 section 3: the fields allowed in a tune body. Other letters followed
# by a colon in the body (A:, B:, C:, ...) would be notes, so they are music.
_BODY_FIELDS = set("IKLMmNPQRrsTUVWw+")
_DIRECTIVE_PROPAGATE = re.compile(r"^%%(?:MIDI\s+)?propagate-accidentals\s+(\w+)")


@dataclass
class _Header:
    """The header fields of a tune, with the line of each for messages."""

    meter: tuple[int, int] | None = (4, 4)
    meter_set: bool = False
    unit_length: tuple[str, int | None] | None = None
    tempo: tuple[str, int | None] | None = None
    parts: str | None = None
    propagate: str = "pitch"
    symbols: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SYMBOLS))
    directives: list[str] = field(default_factory=list)


def parse_tune(
    text: str | RawTune,
    *,
    strict: bool = False,
    source: str = "<string>",
    quirks: Collection[str] = (),
) -> Tune:
    """Convert one ABC tune into notes.

    Args:
        text: The tune as a RawTune from :func:`split_tunebook`, or as text
            starting at its ``X:`` line. Text with several tunes converts the
            first one only.
        strict: Raise at the first problem. When False, convert as much as
            possible and record each problem in :attr:`Tune.warnings`.
        source: A label for messages, usually the file name; ignored for a RawTune.
        quirks: Names from :data:`musicgen.abc.quirks.QUIRKS`: abc2midi
            departures from the standard to imitate. Only for comparing with
            abc2midi; empty by default.

    Returns:
        The tune with its notes in quarter-note beats.

    Raises:
        MissingFieldError: The tune has no ``K:`` field (in lenient mode too).
        EmptyTuneError: The tune has no notes to play (in lenient mode too). In
            lenient mode the message names the first problem that skipped notes.
        AbcError: In strict mode, the subclass for the first problem found.
        ValueError: ``quirks`` names an unknown quirk.
    """
    quirk_set = frozenset(quirks)
    check_quirks(quirk_set)
    raw = _as_raw_tune(text, source)
    reporter = Reporter(strict=strict, source=raw.source, tune=raw.reference or raw.title or None)
    lines = raw.text.split("\n")
    header = _Header()
    for header_line in raw.header:
        _read_header_line(header, header_line, None, reporter)
    key_index = _read_tune_header(header, lines, raw.line, reporter)
    if key_index is None:
        raise reporter.error(
            MissingFieldError, "tune has no K: (key) field; add one such as K:C", raw.line, 1
        )
    key_line = raw.line + key_index
    key = _header_key(lines[key_index][2:], key_line, reporter)
    unit_length = _header_unit_length(header, reporter)
    tempo = _header_tempo(header, unit_length, reporter)
    state = VoiceState(key, header.meter, unit_length, header.propagate, tempo)
    voices = VoiceSet(state, reporter, header.directives, quirk_set)
    for offset, body_line in enumerate(lines[key_index + 1 :], start=key_index + 1):
        _read_body_line(voices, header, body_line, raw.line + offset, reporter)

    if header.parts:
        arrange_parts(voices, header.parts, reporter)
    tune = Tune(
        reference=raw.reference,
        title=raw.title,
        meter=header.meter,
        unit_length=unit_length,
        key=key.text,
        key_sharps=key.sharps,
        key_is_minor=key.is_minor,
        tempo_qpm=tempo,
        source=raw.source,
        line=raw.line,
    )
    assemble(tune, voices, reporter, has_parts=bool(header.parts))
    tune.warnings = reporter.warnings
    if not tune.notes:
        raise reporter.error(EmptyTuneError, reporter.no_notes_message(), raw.line, 1)
    return tune


def parse_tunebook(text: str, *, strict: bool = False, source: str = "<string>") -> Tunebook:
    """Convert every tune of a tunebook; a tune that fails does not stop the others.

    Args:
        text: The whole tunebook.
        strict: Stop each tune at its first problem (see :func:`parse_tune`).
        source: A label for messages, usually the file name.

    Returns:
        The converted tunes, and one error for each tune that failed. Text with
        no ``X:`` line gives a MissingFieldError.
    """
    book = Tunebook(source=source)
    for result in iter_tunebook(text, strict=strict, source=source):
        if isinstance(result, AbcError):
            book.errors.append(result)
        else:
            book.tunes.append(result)
    return book


def iter_tunebook(
    text: str, *, strict: bool = False, source: str = "<string>"
) -> Iterator[Tune | AbcError]:
    """Convert the tunes of a tunebook one at a time, as :func:`parse_tunebook` does.

    Yields each converted Tune, or the AbcError of a tune that failed, in file
    order. A caller that uses each tune and drops it keeps one tune in memory
    instead of the whole book, which also keeps converting a corpus fast.
    """
    raw_tunes = split_tunebook(text, source)
    if not raw_tunes:
        yield MissingFieldError("no tune found: each tune starts with an X: line", source=source)
    for raw in raw_tunes:
        try:
            tune = parse_tune(raw, strict=strict)
        except AbcError as error:
            yield error
            continue
        yield tune


def _as_raw_tune(text: str | RawTune, source: str) -> RawTune:
    if isinstance(text, RawTune):
        return text
    tunes = split_tunebook(text, source)
    if tunes:
        return tunes[0]
    return RawTune(normalize_newlines(text).strip("\n"), (), source, 1)


def _read_tune_header(
    header: _Header, lines: list[str], first_line: int, reporter: Reporter
) -> int | None:
    """Read the header lines of the tune and return the index of its K: line."""
    for index, text in enumerate(lines):
        if text.startswith("K:"):
            return index
        if not text.strip() or (text.startswith("%") and not text.startswith("%%")):
            continue
        if _FIELD.match(text) or text.startswith("%%"):
            _read_header_line(header, text, first_line + index, reporter)
        else:
            reporter.problem(
                MissingFieldError,
                "music before the K: field, which must end the tune header",
                first_line + index,
                1,
                "line skipped",
                drops_notes=True,
            )
    return None


# ABC 2.1 section 3.1: the header fields that decide how the tune sounds.
def _read_header_line(header: _Header, text: str, line: int | None, reporter: Reporter) -> None:
    if text.startswith("%%"):
        _read_directive(header, text)
        return
    match = _FIELD.match(text)
    if not match:
        return
    name, value = match.group(1), _strip_comment(match.group(2)).strip()
    if name == "M":
        try:
            header.meter = parse_meter(value)
            header.meter_set = True
        except ValueError as error:
            reporter.problem(InvalidFieldError, str(error), line, 3, "used 4/4")
    elif name == "L":
        header.unit_length = (value, line)
    elif name == "Q":
        header.tempo = (value, line)
    elif name == "P":
        header.parts = value
    elif name == "U":
        _define_symbol(header, value)


def _read_directive(header: _Header, text: str) -> None:
    propagate = _DIRECTIVE_PROPAGATE.match(text)
    if propagate and propagate.group(1) in ("not", "octave", "pitch"):
        header.propagate = propagate.group(1)
    elif text.split()[:2] == ["%%MIDI", "nobarlines"]:
        # abc2midi's directive for music without bar lines: an accidental
        # applies to its own note only.
        header.propagate = "not"
    header.directives.append(text)


# ABC 2.1 section 4.16: U: gives a decoration a one-character name.
def _define_symbol(header: _Header, value: str) -> None:
    letter, _, name = value.partition("=")
    letter, name = letter.strip(), name.strip()
    if len(letter) == 1 and name:
        header.symbols[letter] = name.strip("!+")


def _strip_comment(text: str) -> str:
    return text.split("%", 1)[0]


def _header_key(value: str, line: int, reporter: Reporter) -> KeySignature:
    try:
        return parse_key(_strip_comment(value))
    except ValueError as error:
        # A key such as "Es" or "Bn": keep its tonic, as abc2midi does.
        key = tonic_key(value)
        used = f"used {key.text} major" if key is not None else "used C major"
        reporter.problem(InvalidFieldError, str(error), line, 3, used)
        return key if key is not None else KeySignature(value.strip())


def _header_unit_length(header: _Header, reporter: Reporter) -> Fraction:
    if header.unit_length is not None:
        value, line = header.unit_length
        try:
            return parse_unit_length(value)
        except ValueError as error:
            reporter.problem(InvalidFieldError, str(error), line, 3, "used the default")
    return default_unit_length(header.meter)


def _header_tempo(header: _Header, unit_length: Fraction, reporter: Reporter) -> float:
    if header.tempo is None:
        return DEFAULT_TEMPO_QPM
    value, line = header.tempo
    try:
        qpm = parse_tempo(_strip_comment(value), unit_length)
    except ValueError as error:
        reporter.problem(InvalidFieldError, str(error), line, 3, f"used {DEFAULT_TEMPO_QPM:g}")
        return DEFAULT_TEMPO_QPM
    return DEFAULT_TEMPO_QPM if qpm is None else qpm


def _read_body_line(
    voices: VoiceSet, header: _Header, text: str, line: int, reporter: Reporter
) -> None:
    """Apply one line of the tune body: a directive, a field or music."""
    if text.startswith("%%"):
        voices.directive(text)
        return
    match = _FIELD.match(text)
    if match and match.group(1) in _BODY_FIELDS:
        _apply_body_field(voices, header, match.group(1), _strip_comment(match.group(2)), line)
        return
    performer = voices.current
    performer.start_line(voices.continued)
    for token in lex_line(text, line, reporter, header.symbols):
        if type(token) is NoteToken:  # the common case first
            performer.add_note(token)
        elif isinstance(token, FieldToken) and token.name in "VUP":
            _apply_body_field(voices, header, token.name, token.value, line, token.column)
            performer = voices.current
            if token.name == "V":
                performer.start_line()
        else:
            performer.feed_token(token)
    # ABC 2.1 section 4.19: a music line that ends with "\" goes on in the next.
    voices.continued = _strip_comment(text).rstrip().endswith("\\")


# ABC 2.1 section 3.2: fields in the body. V: switches voice, U: defines a
# decoration symbol, w: gives lyrics, P: starts a part in every voice, and
# K: M: L: Q: change the current voice. The others (W:, T:, N:, I:, s:, r:,
# +:) are text, skipped on purpose.
def _apply_body_field(
    voices: VoiceSet, header: _Header, name: str, value: str, line: int, column: int = 3
) -> None:
    if name == "V":
        voices.switch(value.strip(), line)
    elif name == "U":
        _define_symbol(header, value)
    elif name == "w":
        voices.current.add_lyrics(value.strip())
    elif name == "P":
        voices.start_part(value, line, column)
    elif name in "KMLQ":
        voices.current.apply_field(name, value.strip(), line, column)
