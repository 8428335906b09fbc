"""Constrained sampling: draw each character from logits masked to what ABC allows there.

Each tune of the batch has its own :class:`~musicgen.constrain.abcstate.AbcState`.
The network runs the whole sampling loop as one compiled graph
(:meth:`~musicgen.sample.Sampler.sample_guided`). After every step the graph
calls :class:`MachineGuide` on the host with the drawn ids; the guide
advances the state machines and returns the next step's mask (batch,
vocab). A tune ends when it draws the end-of-tune marker, which the mask
allows only where the tune may end. A tune that reaches ``max_length``
first is cut at the last point where it could have ended, so it stays
valid. Only a tune that reaches ``max_length`` before it could ever end
(a very small ``max_length``, or a vocabulary that lacks a character the
state machine needs) comes back unfinished, with a warning.
"""

from __future__ import annotations

import logging

import numpy as np

from musicgen.constrain.abcstate import END, AbcState
from musicgen.sample import Sampler, SamplingSettings
from musicgen.vocab import SPECIAL_TOKENS, Vocabulary

logger = logging.getLogger(__name__)


class InvalidPrimerError(ValueError):
    """A primer that constrained sampling cannot continue, with the position of the problem."""

    def __init__(self, prime: str, index: int) -> None:
        self.index = index
        context = prime[max(0, index - 20) : index] + "[" + prime[index] + "]"
        super().__init__(
            f"the primer cannot start a valid tune: character {index + 1} ({prime[index]!r}) is "
            f"not allowed there, in ...{context!r}; write header lines such as 'M:6/8\\nK:D\\n', "
            "or use plain sampling"
        )


class MaskTable:
    """Boolean masks over a vocabulary's ids, made from sets of allowed characters."""

    def __init__(self, vocab: Vocabulary) -> None:
        # The token of each id: END for the end marker, "" for the others, which are never drawn.
        self.tokens = [END if i == vocab.end_id else "" for i in range(len(SPECIAL_TOKENS))]
        self.tokens += vocab.characters
        self.end_only = np.zeros(vocab.size, dtype=bool)
        self.end_only[vocab.end_id] = True
        self._cache: dict[frozenset[str], tuple[np.ndarray, bool]] = {}

    def mask(self, allowed: frozenset[str]) -> np.ndarray:
        """Return the mask (vocab,) that is True for the ids of ``allowed``."""
        return self._lookup(allowed)[0]

    def drawable(self, allowed: frozenset[str]) -> np.ndarray | None:
        """Return the mask of ``allowed``, or None when the vocabulary has none of its ids."""
        mask, empty = self._lookup(allowed)
        return None if empty else mask

    def _lookup(self, allowed: frozenset[str]) -> tuple[np.ndarray, bool]:
        found = self._cache.get(allowed)
        if found is None:
            mask = np.array([token in allowed for token in self.tokens], dtype=bool)
            found = self._cache[allowed] = (mask, not mask.any())
        return found


class MachineGuide:
    """The host side of constrained sampling: one state machine and text per tune."""

    def __init__(self, machines: list[AbcState], table: MaskTable, max_length: int) -> None:
        self.machines = machines
        self.table = table
        self.max_length = max_length
        self.written: list[list[str]] = [[] for _ in machines]
        # Characters written when each tune could last have ended; None until it can.
        self.closed: list[int | None] = [None] * len(machines)
        self.finished = np.zeros(len(machines), dtype=bool)
        self.masks = np.ones((len(machines), len(table.tokens)), dtype=bool)
        self._active = list(range(len(machines)))  # the tunes not finished

    def first_masks(self) -> np.ndarray:
        """Return the masks (batch, vocab) of the first step, after the primer."""
        for tune in range(len(self.machines)):
            self._update_mask(tune)
        return self.masks.copy()

    def __call__(self, drawn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advance every unfinished tune by its drawn id; return the next masks and finished flags.

        ``drawn`` is (batch,); see :class:`musicgen.sample.Guide`.
        """
        tokens = self.table.tokens
        ids = drawn.tolist()
        for tune in self._active:
            machine = self.machines[tune]
            token = tokens[ids[tune]]
            if token == END:
                # The mask allows the end marker where the tune may end. It
                # also allows it alone when the tune has no valid
                # continuation, and then the tune is cut where it last could end.
                if machine.can_end:
                    machine.step(END)
                self.finished[tune] = True
                continue
            machine.step(token)
            self.written[tune].append(token)
            self._update_mask(tune)
        self._active = [tune for tune in self._active if not self.finished[tune]]
        return self.masks.copy(), self.finished.copy()

    def _update_mask(self, tune: int) -> None:
        allowed = self.machines[tune].allowed()
        if END in allowed:
            self.closed[tune] = len(self.written[tune])
        if len(self.written[tune]) >= self.max_length:
            self.finished[tune] = True
            return
        mask = self.table.drawable(allowed)
        if mask is None:
            # NOTE: a vocabulary can lack a character the state machine needs,
            # as a tiny corpus without "C" cannot finish "K:Dlo" as "K:Dloc".
            # The tune then ends where it last could, or stays invalid.
            logger.warning(
                "tune %d has no valid continuation; it ends where it last could", tune + 1
            )
            mask = self.table.end_only
        self.masks[tune] = mask

    def texts(self, prime: str) -> list[str]:
        """Return the tunes' texts after ``prime``; an unfinished tune is cut where it could end."""
        texts = []
        for tune, machine in enumerate(self.machines):
            characters = self.written[tune]
            cut = self.closed[tune]
            if machine.mode != "end" and cut is not None:
                logger.debug("tune %d did not end by itself; cut where it could end", tune + 1)
                characters = characters[:cut]
            elif machine.mode != "end":
                logger.warning(
                    "tune %d reached %d characters before it could end and is left unfinished; "
                    "raise the maximum length",
                    tune + 1,
                    len(characters),
                )
            texts.append(prime + "".join(characters))
        return texts


def sample_constrained(
    sampler: Sampler,
    count: int,
    settings: SamplingSettings,
    prime: str = "",
    *,
    enforce_bars: bool = True,
    enforce_repeats: bool = True,
    fixed_fields: str = "",
) -> list[str]:
    """Sample ``count`` tunes that the state machine accepts, each starting with ``prime``.

    ``fixed_fields`` names the fields the tune body may not set again (see
    :class:`~musicgen.constrain.abcstate.AbcState`).

    Returns:
        The tunes' texts, primer included. Each can end where it stops,
        except a tune that reached ``settings.max_length`` before it ever
        could, which a warning names.

    Raises:
        UnknownCharacterError: the primer contains characters outside the vocabulary.
        InvalidPrimerError: the state machine rejects a character of the primer.
    """
    sampler.vocab.encode(prime)  # unknown characters first: that error lists them all
    machines = []
    for _ in range(count):
        # A new machine fed the primer is cheaper than a deep copy of one.
        machine = AbcState(
            enforce_bars=enforce_bars,
            enforce_repeats=enforce_repeats,
            max_bars=settings.max_bars,
            fixed_fields=fixed_fields,
        )
        rejected = machine.feed(prime)
        if rejected is not None:
            raise InvalidPrimerError(prime, rejected)
        machines.append(machine)
    guide = MachineGuide(machines, MaskTable(sampler.vocab), settings.max_length)
    steps = sampler.sample_guided(count, settings, prime, guide, guide.first_masks())
    logger.debug("sampled %d constrained tunes in %d steps", count, steps)
    return guide.texts(prime)
