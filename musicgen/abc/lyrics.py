"""Align the syllables of ``w:`` lines with the notes above them (ABC 2.1 section 5.1).

A ``w:`` line gives one syllable per note of the music line before it. Its
symbols: a space or ``-`` ends a syllable (``-`` also marks it as part of a
word, kept as a trailing hyphen in the MIDI lyric); a ``-`` after a space or
another ``-`` skips a note; ``_`` holds the last syllable over one more note;
``*`` skips a note; ``~`` is a space inside a syllable; ``\\-`` is a hyphen
inside a syllable; ``|`` moves on to the first note of the next bar. Rests,
grace notes and the continuations of tied notes get no syllable. Each further
``w:`` line under the same music line is the next verse, sung on the next
pass through a repeat.
"""

from __future__ import annotations

from musicgen.abc.events import BarEvent, Event, NoteEvent

# The items of a w: line, in order: a syllable, a note without one, or a bar.
_SKIP = "*"
_BAR = "|"


def split_syllables(text: str) -> list[str]:
    """Return the items of a ``w:`` line: syllables, ``"*"`` for a note without
    one and ``"|"`` for a bar line. A syllable that continues its word ends in ``-``.
    """
    items: list[str] = []
    current = ""
    previous = " "
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and text.startswith("\\-", index):
            current += "-"
            index += 1
        elif char in " \t":
            if current:
                items.append(current)
            current = ""
        elif char == "-":
            if current:
                items.append(current + "-")
            elif previous in " \t-":
                items.append(_SKIP)
            current = ""
        elif char in "_*|":
            if current:
                items.append(current)
            current = ""
            items.append(_BAR if char == "|" else _SKIP)
        elif char == "~":
            current += " "
        else:
            current += char
        previous = char
        index += 1
    if current:
        items.append(current)
    return items


def align_lyrics(text: str, events: list[Event], verse: int) -> None:
    """Give each note of ``events`` its syllable of ``text`` for verse ``verse``.

    Syllables left over after the last note are dropped. Every note that takes
    syllables gets an entry for the verse, None where the verse has none, so
    that a pass beyond the last verse sings the last verse again but a verse
    that skips or holds a note leaves it silent.
    """
    syllables: dict[int, str] = {}
    position = 0
    for item in split_syllables(text):
        if item == _BAR:
            position = _after_next_bar(events, position)
            continue
        position = _next_note(events, position)
        if position >= len(events):
            break
        if item != _SKIP:
            syllables[position] = item
        position += 1
    for index, event in enumerate(events):
        if _takes_syllable(event):
            assert isinstance(event, NoteEvent)
            lyrics = event.lyrics if event.lyrics is not None else []
            lyrics.extend([None] * (verse + 1 - len(lyrics)))
            lyrics[verse] = syllables.get(index)
            event.lyrics = lyrics


def _takes_syllable(event: Event) -> bool:
    return isinstance(event, NoteEvent) and bool(event.sounds) and not event.tie_continuation


def _next_note(events: list[Event], position: int) -> int:
    """Return the index of the first note at or after ``position`` that takes a syllable."""
    while position < len(events) and not _takes_syllable(events[position]):
        position += 1
    return position


def _after_next_bar(events: list[Event], position: int) -> int:
    """Return the index just after the next bar line at or after ``position``."""
    while position < len(events):
        if isinstance(events[position], BarEvent):
            return position + 1
        position += 1
    return position
