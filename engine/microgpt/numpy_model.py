"""MicroGPT in NumPy: the same model, a whole batch at once, with a hand-written backward pass.

The batch's names are padded to the longest one and attention is causal, so each position sees
exactly what the reference's KV cache holds; padded positions have loss weight 0 and, being
after every real position, send no gradient anywhere. float64 throughout, so the losses agree
with the scalar engine to ~1e-15 per step.

Shapes: B names, T positions, C = n_embed, H heads of D = C / H, V = vocab size.
"""

from __future__ import annotations

import numpy as np

from .config import Config
from .init import ParamLayout

RMS_EPS = 1e-8
LOG_EPS = 1e-10  # the reference's guard: loss = -log(p + 1e-10)


def _rmsnorm(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x / sqrt(mean(x²) + eps) over the last axis; also returns 1/sqrt(...) (shape [..., 1])."""
    mean_square = (x * x).sum(axis=-1, keepdims=True) * (x.shape[-1] ** -1)
    inverse = 1.0 / np.sqrt(mean_square + RMS_EPS)
    return x * inverse, inverse


def _rmsnorm_backward(dy: np.ndarray, x: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    # y = x·r, r = (m + eps)^-½, m = mean(x²): dx = dy·r + x·(2/C)·dm, dm = -½ r³ Σ dy·x
    dm = (-1.0 / x.shape[-1]) * inverse**3 * (dy * x).sum(axis=-1, keepdims=True)
    return dy * inverse + x * dm


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis (max subtracted first)."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Batch:
    """Token sequences padded into arrays, with each position's weight in the batch loss."""

    def __init__(self, sequences: list[list[int]], pad_id: int) -> None:
        lengths = [len(s) - 1 for s in sequences]
        if not sequences or min(lengths) < 1:
            raise ValueError("every sequence needs at least two tokens")
        self.size, self.length = len(sequences), max(lengths)
        padded = [s + [pad_id] * (self.length + 1 - len(s)) for s in sequences]
        tokens = np.array(padded, dtype=np.intp)
        self.inputs, self.targets = tokens[:, :-1], tokens[:, 1:]
        self.lengths = np.array(lengths, dtype=np.float64)
        self.mask = np.arange(self.length) < self.lengths[:, None]  # (B, T)
        # The loss is mean over names of mean over positions: position weight 1 / (n_b · B).
        self.weights = self.mask * (self.lengths[:, None] ** -1.0) * (self.size**-1.0)


class NumpyGPT:
    """The model's weights in one flat float64 vector; `w` and `g` are views of its matrices."""

    engine = "numpy"

    def __init__(self, config: Config, vocab_size: int, weights: np.ndarray) -> None:
        self.config = config
        self.vocab_size = vocab_size
        self.layout = ParamLayout.of(config, vocab_size)
        self.flat = np.array(weights, dtype=np.float64)
        self.grad = np.zeros_like(self.flat)
        self.w = self.layout.views(self.flat)
        self.g = self.layout.views(self.grad)
        # wq, wk, wv lie back to back in the flat vector: one (3C, C) view projects all three.
        spans, c = self.layout.offsets(), config.n_embed
        self.qkv_spans = [(spans[f"blocks.{i}.attn.wq"][0], spans[f"blocks.{i}.attn.wv"][1])
                          for i in range(config.n_layer)]
        self.w_qkv = [self.flat[a:b].reshape(3 * c, c) for a, b in self.qkv_spans]
        self.g_qkv = [self.grad[a:b].reshape(3 * c, c) for a, b in self.qkv_spans]
        t = config.block_size
        self.causal = np.where(np.tril(np.ones((t, t), dtype=bool)), 0.0, -np.inf)

    # The flat interface the trainer and Adam use.

    def weight_vector(self) -> np.ndarray:
        return self.flat

    def set_weight_vector(self, flat: np.ndarray) -> None:
        if flat is not self.flat:
            self.flat[:] = flat

    def grad_vector(self) -> np.ndarray:
        return self.grad

    # Forward and backward.

    def _forward(self, inputs: np.ndarray, keep: bool) -> tuple[np.ndarray, list]:
        """Logits (B·T, V) for token ids (B, T); with keep, also what backward needs.

        Activations stay 2-D, (B·T, C), so every projection is one matrix product.
        """
        cfg, w = self.config, self.w
        b, t = inputs.shape
        c, h, d = cfg.n_embed, cfg.n_head, cfg.head_dim
        x0 = (w["wte"][inputs] + w["wpe"][:t]).reshape(-1, c)
        x, inv0 = _rmsnorm(x0)
        mask = self.causal[:t, :t]
        scale = np.sqrt(d) ** -1
        tape: list = [(inputs, x0, inv0)]
        for i in range(cfg.n_layer):
            p = f"blocks.{i}."
            residual = x
            xn, inv1 = _rmsnorm(x)
            q, k, v = (xn @ self.w_qkv[i].T).reshape(b, t, 3, h, d).transpose(2, 0, 3, 1, 4)
            att = softmax((q @ k.transpose(0, 1, 3, 2)) * scale + mask)  # (B, H, T, T)
            heads = (att @ v).transpose(0, 2, 1, 3).reshape(-1, c)
            x = heads @ w[p + "attn.wo"].T + residual
            residual2 = x
            xm, inv2 = _rmsnorm(x)
            hidden = xm @ w[p + "mlp_fc1"].T
            active = np.maximum(hidden, 0.0)
            x = active @ w[p + "mlp_fc2"].T + residual2
            if keep:
                tape.append((residual, xn, inv1, q, k, v, att, heads, residual2, xm, inv2,
                             hidden, active))
        logits = x @ w["lm_head"].T
        if keep:
            tape.append(x)
        return logits, tape

    def _target_probs(self, logits: np.ndarray, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        """Softmax rows (B·T, V) and each position's probability of its target (B·T,)."""
        probs = softmax(logits)
        return probs, probs[np.arange(probs.shape[0]), batch.targets.ravel()]

    def loss_and_grad(self, batch_tokens: list[list[int]]) -> float:
        """Mean over the batch of each sequence's mean next-token loss (nats); fills `grad`.

        batch_tokens: token sequences, each BOS + name + BOS cut to at most block_size + 1.
        """
        cfg, w, g = self.config, self.w, self.g
        batch = Batch(batch_tokens, pad_id=self.vocab_size - 1)
        logits, tape = self._forward(batch.inputs, keep=True)
        probs, p_target = self._target_probs(logits, batch)
        token_losses = np.where(batch.mask.ravel(), -np.log(p_target + LOG_EPS), 0.0)
        per_name = token_losses.reshape(batch.size, -1).sum(axis=1) * batch.lengths ** -1.0
        loss = float(per_name.sum() * batch.size**-1.0)

        b, t = batch.inputs.shape
        c, h, d = cfg.n_embed, cfg.n_head, cfg.head_dim
        scale = np.sqrt(d) ** -1
        # dL/dp = -weight / (p + 1e-10); through softmax, dz = a·(onehot - p), a = p·dL/dp.
        a = -batch.weights.ravel() * p_target / (p_target + LOG_EPS)
        dlogits = probs * -a[:, None]
        dlogits[np.arange(b * t), batch.targets.ravel()] += a

        x = tape[-1]
        g["lm_head"][:] = dlogits.T @ x
        dx = dlogits @ w["lm_head"]
        for i in reversed(range(cfg.n_layer)):
            p = f"blocks.{i}."
            (residual, xn, inv1, q, k, v, att, heads, residual2, xm, inv2, hidden,
             active) = tape[i + 1]
            # MLP block: x = fc2(relu(fc1(rmsnorm(x)))) + x
            g[p + "mlp_fc2"][:] = dx.T @ active
            dhidden = (dx @ w[p + "mlp_fc2"]) * (hidden > 0)
            g[p + "mlp_fc1"][:] = dhidden.T @ xm
            dx = _rmsnorm_backward(dhidden @ w[p + "mlp_fc1"], residual2, inv2) + dx
            # attention block: x = wo(attention(rmsnorm(x))) + x
            g[p + "attn.wo"][:] = dx.T @ heads
            dheads = (dx @ w[p + "attn.wo"]).reshape(b, t, h, d).transpose(0, 2, 1, 3)
            datt = dheads @ v.transpose(0, 1, 3, 2)
            dv = att.transpose(0, 1, 3, 2) @ dheads
            dscores = att * (datt - (datt * att).sum(axis=-1, keepdims=True)) * scale
            dq = dscores @ k
            dk = dscores.transpose(0, 1, 3, 2) @ q
            dqkv = np.stack((dq, dk, dv)).transpose(1, 3, 0, 2, 4).reshape(-1, 3 * c)
            self.g_qkv[i][:] = dqkv.T @ xn
            dx = _rmsnorm_backward(dqkv @ self.w_qkv[i], residual, inv1) + dx
        inputs, x0, inv0 = tape[0]
        dx0 = _rmsnorm_backward(dx, x0, inv0)
        g["wpe"][t:] = 0.0
        g["wpe"][:t] = dx0.reshape(b, t, c).sum(axis=0)
        one_hot = np.zeros((b * t, self.vocab_size))
        one_hot[np.arange(b * t), inputs.ravel()] = 1.0
        g["wte"][:] = one_hot.T @ dx0
        return loss

    def sequence_losses(self, sequences: list[list[int]], chunk: int = 512) -> np.ndarray:
        """Each sequence's mean next-token loss in nats (no gradients), shape (len(sequences),)."""
        out = []
        for start in range(0, len(sequences), chunk):
            batch = Batch(sequences[start:start + chunk], pad_id=self.vocab_size - 1)
            logits, _ = self._forward(batch.inputs, keep=False)
            _, p_target = self._target_probs(logits, batch)
            token_losses = np.where(batch.mask.ravel(), -np.log(p_target + LOG_EPS), 0.0)
            out.append(token_losses.reshape(batch.size, -1).sum(axis=1) / batch.lengths)
        return np.concatenate(out) if out else np.zeros(0)

    def attention(self, tokens: list[int]) -> np.ndarray:
        """Attention weights while reading `tokens`: shape (n_layer, n_head, T, T), row = query."""
        _, tape = self._forward(np.array([tokens], dtype=np.intp), keep=True)
        return np.stack([layer[6][0] for layer in tape[1:-1]])

    def next_logits(self, prefixes: np.ndarray) -> np.ndarray:
        """Logits (B, V) for the token after each row of prefixes (B, t), t ≤ block_size."""
        logits, _ = self._forward(prefixes, keep=False)
        return logits.reshape(prefixes.shape[0], prefixes.shape[1], -1)[:, -1]

    def decoder(self) -> NumpyDecoder:
        return NumpyDecoder(self)


class NumpyDecoder:
    """Feeds tokens one at a time; recomputes the (at most block_size) prefix each time."""

    def __init__(self, model: NumpyGPT) -> None:
        self.model = model
        self.tokens: list[int] = []

    def feed(self, token_id: int) -> list[float]:
        self.tokens.append(token_id)
        return self.model.next_logits(np.array([self.tokens], dtype=np.intp))[0].tolist()
