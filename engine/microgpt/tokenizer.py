"""Characters to token ids: the sorted unique characters of the corpus, then BOS."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class Tokenizer:
    """Token i < len(chars) is chars[i]; token len(chars) is BOS, which starts and ends names."""

    def __init__(self, chars: Sequence[str]) -> None:
        self.chars = list(chars)
        self.bos = len(self.chars)
        self._ids = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_docs(cls, docs: Iterable[str]) -> Tokenizer:
        return cls(sorted(set("".join(docs))))

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + 1

    def encode(self, name: str) -> list[int]:
        """BOS + the name's characters + BOS. Raises KeyError for a character not in the vocab."""
        return [self.bos, *(self._ids[c] for c in name), self.bos]

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.chars[i] for i in ids if i != self.bos)
