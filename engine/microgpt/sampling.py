"""Generating names: temperature softmax over the logits, then one RNG draw per character.

The float operations follow the reference's inference loop exactly (it computes them on Values,
whose forward values are these floats), so the same weights and RNG state give the same names.
"""

from __future__ import annotations

import math
import random
from typing import Protocol

from .config import check_temperature
from .tokenizer import Tokenizer


class Decoder(Protocol):
    def feed(self, token_id: int) -> list[float]: ...


class DecodingModel(Protocol):
    def decoder(self) -> Decoder: ...


def _left_sum(values: list[float]) -> float:
    # Python's sum() of floats compensates rounding from 3.12 on; the reference adds Values.
    total = 0.0
    for value in values:
        total += value
    return total


def next_token_weights(logits: list[float], temperature: float) -> list[float]:
    """Probabilities of each token: softmax(logits / temperature), renormalised.

    temperature must pass check_temperature (sample_names* check it once, not per token).
    """
    scaled = [logit * temperature**-1 for logit in logits]
    max_logit = max(scaled)
    exps = [math.exp(s - max_logit) for s in scaled]
    inverse = _left_sum(exps) ** -1
    probs = [e * inverse for e in exps]
    renormalise = _left_sum(probs) ** -1
    return [p * renormalise for p in probs]


def sample_name(
    model: DecodingModel, tokenizer: Tokenizer, rng: random.Random, temperature: float,
    block_size: int,
) -> str:
    """One name: start from BOS, draw until BOS or block_size characters."""
    decoder = model.decoder()
    token_id = tokenizer.bos
    tokens = range(tokenizer.vocab_size)
    chars = []
    for _ in range(block_size):
        weights = next_token_weights(decoder.feed(token_id), temperature)
        token_id = rng.choices(tokens, weights=weights)[0]
        if token_id == tokenizer.bos:
            break
        chars.append(tokenizer.chars[token_id])
    return "".join(chars)


def sample_names(
    model: DecodingModel, tokenizer: Tokenizer, rng: random.Random, count: int,
    temperature: float, block_size: int,
) -> list[str]:
    """`count` names drawn one after another from `rng` (the reference's order of draws).

    An empty name is the model choosing the end token first; ConfigError for a temperature
    outside [MIN_TEMPERATURE, MAX_TEMPERATURE].
    """
    check_temperature(temperature)
    return [sample_name(model, tokenizer, rng, temperature, block_size) for _ in range(count)]


def sample_names_together(
    model, tokenizer: Tokenizer, rng: random.Random, count: int, temperature: float,
    block_size: int,
) -> list[str]:
    """`count` names grown side by side, one batched forward pass per position.

    model: anything with next_logits(prefixes (B, t)) -> (B, V), i.e. the NumPy model. The
    draws interleave across names, so the names differ from `sample_names` with the same RNG;
    it is for live previews, where only speed and determinism matter.
    """
    check_temperature(temperature)
    import numpy as np

    prefixes = [[tokenizer.bos] for _ in range(count)]
    done = [False] * count
    tokens = range(tokenizer.vocab_size)
    for _ in range(block_size):
        active = [i for i in range(count) if not done[i]]
        if not active:
            break
        logits = model.next_logits(np.array([prefixes[i] for i in active], dtype=np.intp))
        for i, row in zip(active, logits.tolist(), strict=True):
            token_id = rng.choices(tokens, weights=next_token_weights(row, temperature))[0]
            if token_id == tokenizer.bos:
                done[i] = True
            else:
                prefixes[i].append(token_id)
    return [tokenizer.decode(p[1:]) for p in prefixes]
