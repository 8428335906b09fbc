"""Constrained sampling: the incremental ABC state machine and the line checker.

:class:`AbcState` masks, before every character, what would break the tune;
:class:`TuneChecker` checks whole lines with the strict parser. Neither
imports TensorFlow.
"""

from musicgen.constrain.abcstate import END, AbcState
from musicgen.constrain.checker import TuneChecker

__all__ = ["END", "AbcState", "TuneChecker"]
