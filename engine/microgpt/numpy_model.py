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
    inverse = (np.mean(x * x, axis=-1, keepdims=True) + RMS_EPS) ** -0.5
    return x * inverse, inverse


def _rmsnorm_backward(dy: np.ndarray, x: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    # y = x·r, r = (m + eps)^-½, m = mean(x²): dx = dy·r + x·(2/C)·dm, dm = -½ r³ Σ dy·x
    dm = -0.5 * inverse**3 * np.sum(dy * x, axis=-1, keepdims=True)
    return dy * inverse + x * (dm * (2.0 / x.shape[-1]))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Batch:
    """Token sequences padded into arrays, with each position's weight in the batch loss."""

    def __init__(self, sequences: list[list[int]], pad_id: int) -> None:
        lengths = np.array([len(s) - 1 for s in sequences])
        if len(sequences) == 0 or lengths.min() < 1:
            raise ValueError("every sequence needs at least two tokens")
        self.size, self.length = len(sequences), int(lengths.max())
        self.inputs = np.full((self.size, self.length), pad_id, dtype=np.intp)
        self.targets = np.zeros((self.size, self.length), dtype=np.intp)
        for b, tokens in enumerate(sequences):
            self.inputs[b, : len(tokens) - 1] = tokens[:-1]
            self.targets[b, : len(tokens) - 1] = tokens[1:]
        self.mask = np.arange(self.length)[None, :] < lengths[:, None]  # (B, T)
        self.lengths = lengths
        # The loss is mean over names of mean over positions: position weight 1 / (n_b · B).
        self.weights = self.mask * (lengths[:, None] ** -1.0) * (self.size**-1.0)


class NumpyGPT:
    """The model's weights in one flat float64 vector; `views` are its matrices."""

    engine = "numpy"

    def __init__(self, config: Config, vocab_size: int, weights: np.ndarray) -> None:
        self.config = config
        self.vocab_size = vocab_size
        self.layout = ParamLayout.of(config, vocab_size)
        self.flat = np.array(weights, dtype=np.float64)
        self.grad = np.zeros_like(self.flat)
        self.w = self.layout.views(self.flat)
        self.g = self.layout.views(self.grad)
        t = config.block_size
        self.causal = np.tril(np.ones((t, t), dtype=bool))

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
        """Logits (B, T, V) for token ids (B, T); with keep, also what backward needs."""
        cfg, w = self.config, self.w
        b, t = inputs.shape
        h, d = cfg.n_head, cfg.head_dim
        x0 = w["wte"][inputs] + w["wpe"][:t]
        x, inv0 = _rmsnorm(x0)
        mask = self.causal[:t, :t]
        scale = np.sqrt(d) ** -1
        tape: list = [(inputs, x0, inv0)]
        for i in range(cfg.n_layer):
            p = f"blocks.{i}."
            residual = x
            xn, inv1 = _rmsnorm(x)
            q = (xn @ w[p + "attn.wq"].T).reshape(b, t, h, d).transpose(0, 2, 1, 3)
            k = (xn @ w[p + "attn.wk"].T).reshape(b, t, h, d).transpose(0, 2, 1, 3)
            v = (xn @ w[p + "attn.wv"].T).reshape(b, t, h, d).transpose(0, 2, 1, 3)
            scores = np.where(mask, (q @ k.transpose(0, 1, 3, 2)) * scale, -np.inf)
            att = _softmax(scores)  # (B, H, T, T)
            heads = (att @ v).transpose(0, 2, 1, 3).reshape(b, t, h * d)
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

    def _token_losses(self, logits: np.ndarray, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        probs = _softmax(logits)
        p_target = np.take_along_axis(probs, batch.targets[..., None], axis=-1)[..., 0]
        return probs, np.where(batch.mask, -np.log(p_target + LOG_EPS), 0.0)

    def loss_and_grad(self, batch_tokens: list[list[int]]) -> float:
        """Mean over the batch of each sequence's mean next-token loss (nats); fills `grad`.

        batch_tokens: token sequences, each BOS + name + BOS cut to at most block_size + 1.
        """
        cfg, w, g = self.config, self.w, self.g
        batch = Batch(batch_tokens, pad_id=self.vocab_size - 1)
        logits, tape = self._forward(batch.inputs, keep=True)
        probs, token_losses = self._token_losses(logits, batch)
        loss = float(np.sum(token_losses.sum(axis=1) / batch.lengths) / batch.size)

        b, t = batch.inputs.shape
        h, d = cfg.n_head, cfg.head_dim
        scale = np.sqrt(d) ** -1
        # d loss / d p_target = -weight / (p + 1e-10); through softmax: dz = p_t·dp_t·(onehot - p)
        p_target = np.take_along_axis(probs, batch.targets[..., None], axis=-1)
        d_target = -batch.weights[..., None] * p_target / (p_target + LOG_EPS)
        dlogits = -d_target * probs
        np.put_along_axis(dlogits, batch.targets[..., None],
                          np.take_along_axis(dlogits, batch.targets[..., None], axis=-1)
                          + d_target, axis=-1)

        x = tape[-1]
        g["lm_head"][:] = dlogits.reshape(-1, self.vocab_size).T @ x.reshape(-1, cfg.n_embed)
        dx = dlogits @ w["lm_head"]
        for i in reversed(range(cfg.n_layer)):
            p = f"blocks.{i}."
            (residual, xn, inv1, q, k, v, att, heads, residual2, xm, inv2, hidden,
             active) = tape[i + 1]
            # MLP block
            flat_dx = dx.reshape(-1, cfg.n_embed)
            g[p + "mlp_fc2"][:] = flat_dx.T @ active.reshape(-1, 4 * cfg.n_embed)
            dhidden = (dx @ w[p + "mlp_fc2"]) * (hidden > 0)
            g[p + "mlp_fc1"][:] = dhidden.reshape(-1, 4 * cfg.n_embed).T @ xm.reshape(
                -1, cfg.n_embed)
            dx = _rmsnorm_backward(dhidden @ w[p + "mlp_fc1"], residual2, inv2) + dx
            # attention block
            g[p + "attn.wo"][:] = dx.reshape(-1, cfg.n_embed).T @ heads.reshape(-1, cfg.n_embed)
            dheads = (dx @ w[p + "attn.wo"]).reshape(b, t, h, d).transpose(0, 2, 1, 3)
            datt = dheads @ v.transpose(0, 1, 3, 2)
            dv = att.transpose(0, 1, 3, 2) @ dheads
            dscores = att * (datt - np.sum(datt * att, axis=-1, keepdims=True)) * scale
            dq = dscores @ k
            dk = dscores.transpose(0, 1, 3, 2) @ q
            dq, dk, dv = (a.transpose(0, 2, 1, 3).reshape(-1, cfg.n_embed) for a in (dq, dk, dv))
            flat_xn = xn.reshape(-1, cfg.n_embed)
            g[p + "attn.wq"][:] = dq.T @ flat_xn
            g[p + "attn.wk"][:] = dk.T @ flat_xn
            g[p + "attn.wv"][:] = dv.T @ flat_xn
            dxn = dq @ w[p + "attn.wq"] + dk @ w[p + "attn.wk"] + dv @ w[p + "attn.wv"]
            dx = _rmsnorm_backward(dxn.reshape(b, t, cfg.n_embed), residual, inv1) + dx
        inputs, x0, inv0 = tape[0]
        dx0 = _rmsnorm_backward(dx, x0, inv0)
        g["wpe"][:] = 0.0
        g["wpe"][:t] = dx0.sum(axis=0)
        one_hot = np.zeros((b * t, self.vocab_size))
        one_hot[np.arange(b * t), inputs.ravel()] = 1.0
        g["wte"][:] = one_hot.T @ dx0.reshape(-1, cfg.n_embed)
        return loss

    def sequence_losses(self, sequences: list[list[int]], chunk: int = 512) -> np.ndarray:
        """Each sequence's mean next-token loss in nats (no gradients), shape (len(sequences),)."""
        out = []
        for start in range(0, len(sequences), chunk):
            batch = Batch(sequences[start:start + chunk], pad_id=self.vocab_size - 1)
            logits, _ = self._forward(batch.inputs, keep=False)
            _, token_losses = self._token_losses(logits, batch)
            out.append(token_losses.sum(axis=1) / batch.lengths)
        return np.concatenate(out) if out else np.zeros(0)

    def attention(self, tokens: list[int]) -> np.ndarray:
        """Attention weights while reading `tokens`: shape (n_layer, n_head, T, T), row = query."""
        _, tape = self._forward(np.array([tokens], dtype=np.intp), keep=True)
        return np.stack([layer[6][0] for layer in tape[1:-1]])

    def decoder(self) -> NumpyDecoder:
        return NumpyDecoder(self)


class NumpyDecoder:
    """Feeds tokens one at a time; recomputes the (at most block_size) prefix each time."""

    def __init__(self, model: NumpyGPT) -> None:
        self.model = model
        self.tokens: list[int] = []

    def feed(self, token_id: int) -> list[float]:
        self.tokens.append(token_id)
        logits, _ = self.model._forward(np.array([self.tokens], dtype=np.intp), keep=False)
        return logits[0, -1].tolist()
