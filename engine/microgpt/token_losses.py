"""A name scored position by position: each next character's probability and loss.

The numbers are the training loss's own: softmax of the logits at temperature 1 and
-ln(p + 1e-10) per position, so a strip's mean loss is the name's `sequence_losses` entry.
"""

from __future__ import annotations

import numpy as np

from .numpy_model import LOG_EPS, NumpyGPT, softmax
from .readouts import BOS_LABEL, END_LABEL, TokenLoss, TokenStrip
from .tokenizer import Tokenizer


def name_tokens(tokenizer: Tokenizer, name: str, block_size: int) -> list[int]:
    """BOS + name + BOS cut to block_size + 1 tokens (as training reads it).

    ValueError, one line, naming the characters outside the vocabulary.
    """
    unknown = sorted({c for c in name if c not in tokenizer.chars})
    if unknown:
        raise ValueError(f"{name!r} has characters outside the vocabulary: "
                         f"{''.join(unknown)!r} (the vocabulary is {''.join(tokenizer.chars)!r})")
    return tokenizer.encode(name)[: block_size + 1]


def read_label(tokenizer: Tokenizer, token: int) -> str:
    """A token as read: a character, or BOS_LABEL."""
    return BOS_LABEL if token == tokenizer.bos else tokenizer.chars[token]


def predicted_label(tokenizer: Tokenizer, token: int) -> str:
    """A token as predicted: a character, or END_LABEL."""
    return END_LABEL if token == tokenizer.bos else tokenizer.chars[token]


def token_labels(tokenizer: Tokenizer) -> tuple[str, ...]:
    """One label per token id (a wte row): the characters, then BOS_LABEL."""
    return (*tokenizer.chars, BOS_LABEL)


def sequence_logits(model: NumpyGPT, tokens: list[int]) -> np.ndarray:
    """Logits (len(tokens), V): row i is the prediction after reading tokens[: i + 1]."""
    logits, _ = model._forward(np.array([tokens], dtype=np.intp), keep=False)
    return logits


def token_strip(model: NumpyGPT, tokenizer: Tokenizer, name: str, source: str, step: int,
                k: int = 5) -> TokenStrip:
    """`name` scored by `model`: one TokenLoss per predicted token (the closing end included).

    ValueError for a character outside the vocabulary.
    """
    tokens = name_tokens(tokenizer, name, model.config.block_size)
    probs = softmax(sequence_logits(model, tokens[:-1]))
    k = max(1, min(k, probs.shape[1]))
    rows = []
    for position, target in enumerate(tokens[1:]):
        p = probs[position]
        top = np.argsort(-p, kind="stable")[:k]
        prob = float(p[target])
        rows.append(TokenLoss(
            position=position,
            context=tokenizer.decode(tokens[1:position + 1]),
            target=predicted_label(tokenizer, target),
            prob=prob,
            loss=float(-np.log(prob + LOG_EPS)),
            top=tuple((predicted_label(tokenizer, int(i)), float(p[i])) for i in top),
        ))
    return TokenStrip(name=name, source=source, tokens=tuple(rows), step=step)
