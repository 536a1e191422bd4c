""""Why this character?": a prediction taken apart, from its probability back to attention.

The model has no final norm: the last position's residual stream is the normalised embedding
plus every block's attention and MLP outputs, and the logit of c is lm_head[c] · that sum, so
each stage's terms add up exactly (to rounding) to the number the stage before it used:

    p(c) = softmax(z / T)[c]                      probability
    z = lm_head · x                               logits
    z_c = Σ_i lm_head[c, i] · x_i                 lm_head
    z_c = lm_head[c] · (embedding + Σ_layers attention + MLP)      residual
    attention_l = Σ_heads Σ_j a_j · Wo[:, head] · v_j              attention

The pieces come from the NumPy model's own forward pass (its tape), which adds them up and
would otherwise throw them away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .numpy_model import NumpyGPT, softmax
from .readouts import Term, WhyChain, WhyStage
from .token_losses import name_tokens, predicted_label, read_label
from .tokenizer import Tokenizer

TOP_K = 5


@dataclass(frozen=True)
class Pieces:
    """The last position's residual stream in parts, and each layer's attention internals."""

    embedding: np.ndarray  # (C,) the normalised token + position embedding
    attention_out: list[np.ndarray]  # per layer (C,): what the attention block added
    mlp_out: list[np.ndarray]  # per layer (C,): what the MLP block added
    weights: list[np.ndarray]  # per layer (H, t): the last query's attention weights
    values: list[np.ndarray]  # per layer (t, C): every position's value vector

    @property
    def final(self) -> np.ndarray:
        return self.embedding + sum(a + m for a, m in zip(self.attention_out, self.mlp_out,
                                                          strict=True))


def residual_pieces(model: NumpyGPT, inputs: list[int]) -> Pieces:
    """The last position's parts, read from the model's own forward pass over `inputs`
    (t ≤ block_size tokens): its tape keeps each block's inputs, from which the block's
    additions are recomputed with the forward pass's own products."""
    cfg, w = model.config, model.w
    t, c = len(inputs), cfg.n_embed
    _, tape = model._forward(np.array([inputs], dtype=np.intp), keep=True)
    _, x0, inverse = tape[0]
    embedding = (x0 * inverse)[-1]
    attention_out, mlp_out, weights, values = [], [], [], []
    for i, layer in enumerate(tape[1:-1]):
        p = f"blocks.{i}."
        v, att, heads, active = layer[5], layer[6], layer[7], layer[12]
        attention_out.append((heads @ w[p + "attn.wo"].T)[-1])
        mlp_out.append((active @ w[p + "mlp_fc2"].T)[-1])
        weights.append(att[0, :, -1, :])  # (H, t): the last query's row in every head
        values.append(v[0].transpose(1, 0, 2).reshape(t, c))
    return Pieces(embedding, attention_out, mlp_out, weights, values)


def _by_size(terms: list[Term]) -> tuple[Term, ...]:
    return tuple(sorted(terms, key=lambda term: -abs(term.value)))


def _top_with(scores: np.ndarray, target: int, k: int) -> list[int]:
    """The k highest-scoring ids, most first, with `target` appended when not among them."""
    top = [int(i) for i in np.argsort(-scores, kind="stable")[:k]]
    return top if target in top else [*top, target]


def explain(model: NumpyGPT, tokenizer: Tokenizer, name: str, position: int,
            temperature: float, step: int, char: str | None = None,
            k: int = TOP_K) -> WhyChain:
    """Why the model gave the character after `position` of `name` the probability it did.

    `char` is the character explained: by default the one that truly comes next (END_LABEL
    when it is the end); any other vocabulary character (or END_LABEL) may be asked about.
    ValueError (one line) for a character outside the vocabulary or a position out of range.
    """
    tokens = name_tokens(tokenizer, name, model.config.block_size)
    last = len(tokens) - 2
    if not 0 <= position <= last:
        raise ValueError(f"position must be in 0..{last} for {name!r}, got {position}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    inputs = tokens[: position + 1]
    labels = [predicted_label(tokenizer, i) for i in range(tokenizer.vocab_size)]
    if char is None:
        target = tokens[position + 1]
    elif char in labels:
        target = labels.index(char)
    else:
        raise ValueError(f"{char!r} is not a character the model can predict")
    c = labels[target]
    pieces = residual_pieces(model, inputs)
    lm_head = model.w["lm_head"]
    x = pieces.final
    logits = lm_head @ x
    z_c = float(logits[target])
    probs = softmax(logits / temperature)
    rank = int((logits > logits[target]).sum()) + 1

    probability = WhyStage(
        "probability", f"p({c}) = {probs[target]:.4f} at temperature {temperature:g}",
        "p(c) = softmax(z / T)[c]",
        tuple(Term(labels[i], float(probs[i]), "explained" if i == target else "")
              for i in _top_with(probs, target, k)), None)
    logit_stage = WhyStage(
        "logits", f"z({c}) = {z_c:+.4f}, rank {rank} of {len(logits)}",
        "z = lm_head · x",
        tuple(Term(labels[i], float(logits[i]), "explained" if i == target else "")
              for i in _top_with(logits, target, k)), None)
    products = lm_head[target] * x
    head_stage = WhyStage(
        "lm_head", f"z({c}) = Σ over {len(x)} dimensions of lm_head[{c}]_i · x_i = {z_c:+.4f}",
        "z_c = Σ_i lm_head[c, i] · x_i",
        _by_size([Term(f"x[{i}]", float(products[i]),
                       f"{lm_head[target, i]:+.3f} × {x[i]:+.3f}") for i in range(len(x))]),
        float(products.sum()))
    residual_terms = [Term("embedding", float(lm_head[target] @ pieces.embedding),
                           "token + position, normalised")]
    for layer, (att, mlp) in enumerate(zip(pieces.attention_out, pieces.mlp_out, strict=True)):
        residual_terms.append(Term(f"L{layer} attention", float(lm_head[target] @ att)))
        residual_terms.append(Term(f"L{layer} MLP", float(lm_head[target] @ mlp)))
    residual_stage = WhyStage(
        "residual", f"z({c}) = {z_c:+.4f} split by what wrote the residual stream",
        "z_c = lm_head[c] · (embedding + Σ_layers (attention + MLP))",
        tuple(residual_terms), float(sum(term.value for term in residual_terms)))

    cfg = model.config
    d = cfg.head_dim
    read = [read_label(tokenizer, token) for token in inputs]
    attention_terms = []
    for layer in range(cfg.n_layer):
        wo = model.w[f"blocks.{layer}.attn.wo"]
        for head in range(cfg.n_head):
            span = slice(head * d, (head + 1) * d)
            # lm_head[c] · Wo[:, head] · v_j for every position j, weighted by a_j
            through = (lm_head[target] @ wo[:, span]) @ pieces.values[layer][:, span].T
            weights = pieces.weights[layer][head]
            for j, label in enumerate(read):
                attention_terms.append(Term(
                    f"L{layer} H{head} ← {label} @{j}", float(weights[j] * through[j]),
                    f"weight {weights[j]:.3f}"))
    attention_stage = WhyStage(
        "attention", f"the attention blocks' share of z({c}), per head and position read",
        "attention_c = Σ_heads Σ_j a_j · lm_head[c] · Wo[:, head] · v_j",
        _by_size(attention_terms), float(sum(term.value for term in attention_terms)))
    return WhyChain(name=name, position=position, context=tokenizer.decode(inputs),
                    char=c, temperature=float(temperature),
                    stages=(probability, logit_stage, head_stage, residual_stage,
                            attention_stage), step=step)
