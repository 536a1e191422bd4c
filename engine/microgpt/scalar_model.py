"""MicroGPT on the scalar autograd engine: the reference's computation, node by node.

Every forward value is computed with the same floating-point operations, in the same order, as
the reference program (division as `a * b**-1`, softmax minus the max logit's data, RMSNorm as
x * ((mean(x²) + 1e-8) ** 0.5) ** -1, sums as left folds from 0), so the losses and samples match
it. It is faster because the graph is smaller: a dot product is one fused node instead of 2n,
and multiplying by a constant is one node instead of two (no constant Value per operation).
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Value
from .config import Config
from .init import ParamLayout


def _scale(a: Value, c: float) -> Value:
    """a * c for a constant c, without a node for c."""
    return Value(a.data * c, (a,), (c,), "*")


def _shift(a: Value, c: float) -> Value:
    """a + c for a constant c, without a node for c."""
    return Value(a.data + c, (a,), (1.0,), "+")


def _linear(x: list[Value], w: list[list[Value]]) -> list[Value]:
    return [Value.dot(row, x) for row in w]


def _softmax(logits: list[Value]) -> list[Value]:
    max_logit = max(v.data for v in logits)
    exps = [_shift(v, -max_logit).exp() for v in logits]
    inverse = Value.sum(exps) ** -1
    return [e * inverse for e in exps]


def _rmsnorm(x: list[Value]) -> list[Value]:
    mean_square = _scale(Value.sum([xi**2 for xi in x]), len(x) ** -1)
    inverse = (_shift(mean_square, 1e-8) ** 0.5) ** -1
    return [xi * inverse for xi in x]


class ScalarGPT:
    """The model as Value objects; `loss_and_grad` builds one step's graph and runs backward."""

    engine = "scalar"

    def __init__(self, config: Config, vocab_size: int, weights: np.ndarray) -> None:
        self.config = config
        self.vocab_size = vocab_size
        self.layout = ParamLayout.of(config, vocab_size)
        self.params = [Value(float(x)) for x in weights]
        self.state: dict[str, list[list[Value]]] = {}
        for name, (start, stop) in self.layout.offsets().items():
            cols = self.layout.shapes[name][1]
            self.state[name] = [self.params[i:i + cols] for i in range(start, stop, cols)]

    # The flat interface the trainer and Adam use.

    def weight_vector(self) -> np.ndarray:
        return np.fromiter((p.data for p in self.params), np.float64, len(self.params))

    def set_weight_vector(self, flat: np.ndarray) -> None:
        for p, x in zip(self.params, flat.tolist(), strict=True):
            p.data = x

    def grad_vector(self) -> np.ndarray:
        return np.fromiter((p.grad for p in self.params), np.float64, len(self.params))

    # The model.

    def _gpt(self, token_id: int, pos_id: int, keys: list, values: list) -> list[Value]:
        """Logits for the next token, appending this position's keys and values to the cache."""
        cfg, sd = self.config, self.state
        x = [te + pe for te, pe in zip(sd["wte"][token_id], sd["wpe"][pos_id], strict=True)]
        x = _rmsnorm(x)
        head_dim = cfg.head_dim
        score_scale = math.sqrt(head_dim) ** -1
        for i in range(cfg.n_layer):
            residual = x
            x = _rmsnorm(x)
            q = _linear(x, sd[f"blocks.{i}.attn.wq"])
            keys[i].append(_linear(x, sd[f"blocks.{i}.attn.wk"]))
            values[i].append(_linear(x, sd[f"blocks.{i}.attn.wv"]))
            attended: list[Value] = []
            for h in range(cfg.n_head):
                lo, hi = h * head_dim, (h + 1) * head_dim
                qh = q[lo:hi]
                scores = [_scale(Value.dot(qh, k[lo:hi]), score_scale) for k in keys[i]]
                weights = _softmax(scores)
                for j in range(lo, hi):
                    attended.append(Value.dot(weights, [v[j] for v in values[i]]))
            x = _linear(attended, sd[f"blocks.{i}.attn.wo"])
            x = [a + b for a, b in zip(x, residual, strict=True)]
            residual = x
            x = _rmsnorm(x)
            x = [h.relu() for h in _linear(x, sd[f"blocks.{i}.mlp_fc1"])]
            x = _linear(x, sd[f"blocks.{i}.mlp_fc2"])
            x = [a + b for a, b in zip(x, residual, strict=True)]
        return _linear(x, sd["lm_head"])

    def _sequence_loss(self, tokens: list[int]) -> Value:
        n = len(tokens) - 1
        keys: list[list] = [[] for _ in range(self.config.n_layer)]
        values: list[list] = [[] for _ in range(self.config.n_layer)]
        losses = []
        for pos in range(n):
            probs = _softmax(self._gpt(tokens[pos], pos, keys, values))
            losses.append(-probs[tokens[pos + 1]].log(clamp=1e-10))
        return _scale(Value.sum(losses), n**-1)

    def loss_and_grad(self, batch: list[list[int]]) -> float:
        """Mean over the batch of each sequence's mean next-token loss (nats); fills grads.

        batch: token sequences, each BOS + name + BOS cut to at most block_size + 1 tokens.
        """
        for p in self.params:
            p.grad = 0.0
        total = Value.sum([self._sequence_loss(tokens) for tokens in batch])
        loss = _scale(total, len(batch) ** -1)
        loss.backward()
        return loss.data

    def decoder(self) -> ScalarDecoder:
        """A fresh KV cache for generating one sequence."""
        return ScalarDecoder(self)


class ScalarDecoder:
    """Feeds tokens one at a time through the model, keeping its keys and values."""

    def __init__(self, model: ScalarGPT) -> None:
        self.model = model
        self.keys: list[list] = [[] for _ in range(model.config.n_layer)]
        self.values: list[list] = [[] for _ in range(model.config.n_layer)]

    def feed(self, token_id: int) -> list[float]:
        """The next-token logits after this token (placed after the tokens fed before)."""
        logits = self.model._gpt(token_id, len(self.keys[0]), self.keys, self.values)
        return [v.data for v in logits]
