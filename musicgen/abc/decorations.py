"""What each decoration does to the sound (ABC 2.1 section 4.14).

Decorations are read by name, whether written as a symbol (``.`` ``~`` ``H``
``L`` ``T``), as ``!name!``, as the old ``+name+`` or through a ``U:``
definition. The ones that change what is heard:

* dynamics (``!p!``, ``!ff!``, ...) set the velocity of the notes that follow;
* accents (``L``, ``!accent!``, ``!>!``, ``!emphasis!``, ``!sfz!``) raise the
  velocity of their note by :data:`ACCENT_BOOST`;
* the fermata (``H``, ``!fermata!``, ``!invertedfermata!``) makes its note or
  rest, and the time to the next one, :data:`FERMATA_FACTOR` times longer;
* the staccato dot (``.``, ``!staccato!``) sounds half the note and keeps its
  slot (see :mod:`musicgen.abc.playback`);
* the trill (``T``, ``!trill!``) and the roll (``~``, ``!roll!``) are played
  as ornament notes (see :mod:`musicgen.abc.ornaments`).

Every other decoration is read and ignored on purpose: mordents, turns,
bowings, fingerings, breath marks, navigation marks (segno, coda, D.C.) and
the crescendo and diminuendo hairpins, which give no target loudness.
"""

from __future__ import annotations

# ABC 2.1 section 4.14: the velocities of the dynamics marks.
DYNAMICS = {
    "pppp": 30, "ppp": 30, "pp": 45, "p": 60, "mp": 75,
    "mf": 90, "f": 105, "ff": 120, "fff": 127, "ffff": 127,
}  # fmt: skip

# How much an accent adds to the velocity in force (capped at 127).
ACCENT_BOOST = 20
ACCENTS = frozenset({"accent", ">", "emphasis", "sfz", "sf"})

# A fermata doubles its note's length, as abc2midi 4.84 plays it.
FERMATA_FACTOR = 2
FERMATAS = frozenset({"fermata", "invertedfermata"})

STACCATO = frozenset({"staccato"})
# Ornaments played as notes, by the name of their kind.
ORNAMENTS = {"trill": "trill", "roll": "roll"}
