"""The training order and the held-out names.

Like the reference, the names are shuffled once by the seeded RNG (its first use) and step s
trains on names s*B .. s*B+B-1, wrapping around. The held-out names are the LAST tenth of the
shuffled list, so the first len(train)/B steps see exactly the reference's batches (1000 steps ×
8 names reach name 8,000 of makemore's 28,830 training names). A name that also occurs in the
training part (makemore's list repeats 2,539 names) is not held out from anything, so it is
left out of the held-out set.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .tokenizer import Tokenizer

HELDOUT_FRACTION = 10  # one name in ten is held out, when there are at least ten


@dataclass(frozen=True)
class Corpus:
    docs: list[str]  # all names in shuffled order
    train: list[str]
    heldout: list[str]

    def batch(self, step: int, batch_size: int) -> list[str]:
        """The names step `step` (0-based) trains on."""
        return wrap_batch(self.train, step, batch_size)


def wrap_batch(items: list, step: int, batch_size: int) -> list:
    """Items step*B .. step*B+B-1 of `items`, wrapping around (the reference's batch order)."""
    start = step * batch_size
    return [items[(start + b) % len(items)] for b in range(batch_size)]


def shuffled_corpus(names: list[str], rng: random.Random) -> Corpus:
    """Shuffle a copy of `names` with `rng` (consuming it as the reference does) and split."""
    docs = list(names)
    rng.shuffle(docs)
    heldout_count = len(docs) // HELDOUT_FRACTION
    train = docs[: len(docs) - heldout_count]
    seen = set(train)
    return Corpus(docs=docs, train=train,
                  heldout=[name for name in docs[len(train):] if name not in seen])


def sequences(names: list[str], tokenizer: Tokenizer, block_size: int) -> list[list[int]]:
    """Each name as BOS + name + BOS, cut to block_size + 1 tokens (block_size predictions)."""
    return [tokenizer.encode(name)[: block_size + 1] for name in names]
