"""MicroGPT training steps: our NumPy and scalar backends against the reference program and
PyTorch eager, side by side in one run, on the same data, seed and batch.

The reference program's step is its own code: `ReferenceProgram` below is a copy of its Value
class, model and training-loop body (only wrapped in a class, so the app never needs the
reference file). PyTorch is imported only here, only when installed, and never by the app.
Every comparison also checks that both sides computed the same losses.
"""

# The reference's code below is kept verbatim, plain zip() included (B905).
# ruff: noqa: B905

from __future__ import annotations

import math
import random
import time

from ...engine.data import load_names
from ...engine.microgpt.config import Config
from ...engine.microgpt.trainer import Trainer
from .reference_value import ReferenceValue
from .runner import Benchmark, Comparison, Goal, side_by_side

NUMPY_STEPS_PER_SAMPLE = 25  # one NumPy step is ~1 ms: time a few and report the mean


# --- the reference program (a copy of its logic; names kept, comments trimmed) ---------------

class ReferenceProgram:
    """The reference's globals and one iteration of its training loop, as `step()`."""

    def __init__(self, names: list[str], num_steps: int, seed: int = 42) -> None:
        rng = random.Random(seed)
        self.docs = list(names)
        rng.shuffle(self.docs)
        self.chars = sorted(set("".join(self.docs)))
        self.BOS = len(self.chars)
        self.vocab_size = len(self.chars) + 1
        self.n_embed, self.n_head, self.n_layer, self.block_size = 16, 4, 1, 16
        self.head_dim = self.n_embed // self.n_head

        def matrix(rows, cols):
            return [[ReferenceValue(rng.gauss(0, 0.08)) for _ in range(cols)] for _ in range(rows)]

        sd = {"wte": matrix(self.vocab_size, self.n_embed),
              "wpe": matrix(self.block_size, self.n_embed),
              "lm_head": matrix(self.vocab_size, self.n_embed)}
        for i in range(self.n_layer):
            sd[f"blocks.{i}.attn.wq"] = matrix(self.n_embed, self.n_embed)
            sd[f"blocks.{i}.attn.wk"] = matrix(self.n_embed, self.n_embed)
            sd[f"blocks.{i}.attn.wv"] = matrix(self.n_embed, self.n_embed)
            sd[f"blocks.{i}.attn.wo"] = matrix(self.n_embed, self.n_embed)
            sd[f"blocks.{i}.mlp_fc1"] = matrix(4 * self.n_embed, self.n_embed)
            sd[f"blocks.{i}.mlp_fc2"] = matrix(self.n_embed, 4 * self.n_embed)
        self.state_dict = sd
        self.params = [p for mat in sd.values() for row in mat for p in row]
        self.learning_rate, self.beta1, self.beta2, self.eps_adam = 0.01, 0.85, 0.99, 1e-8
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.num_steps = num_steps
        self.step_index = 0

    @staticmethod
    def linear(x, w):
        return [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]

    @staticmethod
    def softmax(logits):
        max_logit = max(val.data for val in logits)
        exp_logits = [(logit - max_logit).exp() for logit in logits]
        sum_exp_logits = sum(exp_logits)
        return [exp_logit / sum_exp_logits for exp_logit in exp_logits]

    @staticmethod
    def rmsnorm(x):
        eps = 1e-8
        mean_square = sum(xi**2 for xi in x) / len(x)
        root_mean_square = (mean_square + eps) ** 0.5
        return [xi / root_mean_square for xi in x]

    def gpt(self, token_id, pos_id, keys, values):
        sd, linear, rmsnorm, softmax = self.state_dict, self.linear, self.rmsnorm, self.softmax
        head_dim = self.head_dim
        x = [te + pe for te, pe in zip(sd["wte"][token_id], sd["wpe"][pos_id])]
        x = rmsnorm(x)
        for i in range(self.n_layer):
            x_residual = x
            x = rmsnorm(x)
            q = linear(x, sd[f"blocks.{i}.attn.wq"])
            k = linear(x, sd[f"blocks.{i}.attn.wk"])
            v = linear(x, sd[f"blocks.{i}.attn.wv"])
            keys[i].append(k)
            values[i].append(v)
            x_attention = []
            for h in range(self.n_head):
                hsize = h * head_dim
                qh = q[hsize:hsize + head_dim]
                kh = [ki[hsize:hsize + head_dim] for ki in keys[i]]
                vh = [vi[hsize:hsize + head_dim] for vi in values[i]]
                attention_scores = [
                    sum(qhi * khi for qhi, khi in zip(qh, khj)) / math.sqrt(head_dim)
                    for khj in kh]
                attention_weights = softmax(attention_scores)
                head_output = [sum(aw * vhi for aw, vhi in zip(attention_weights, vhj))
                               for vhj in zip(*vh)]
                x_attention.extend(head_output)
            x_attention = linear(x_attention, sd[f"blocks.{i}.attn.wo"])
            x = [a + b for a, b in zip(x_attention, x_residual)]
            x_residual = x
            x = rmsnorm(x)
            x = linear(x, sd[f"blocks.{i}.mlp_fc1"])
            x = [xi.relu() for xi in x]
            x = linear(x, sd[f"blocks.{i}.mlp_fc2"])
            x = [a + b for a, b in zip(x, x_residual)]
        return linear(x, sd["lm_head"])

    def step(self) -> float:
        """One iteration of the reference's training loop; returns its loss."""
        step, docs, chars = self.step_index, self.docs, self.chars
        total_loss = ReferenceValue(0.0)
        batch_size = 8
        for b in range(batch_size):
            doc = docs[(step * batch_size + b) % len(docs)]
            tokens = [self.BOS] + [chars.index(c) for c in doc] + [self.BOS]
            n = min(self.block_size, len(tokens) - 1)
            keys = [[] for _ in range(self.n_layer)]
            values = [[] for _ in range(self.n_layer)]
            losses = []
            for pos_id in range(n):
                token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
                logits = self.gpt(token_id, pos_id, keys, values)
                probs = self.softmax(logits)
                losses.append(-probs[target_id].log())
            total_loss += sum(losses) / n
        loss = total_loss / batch_size
        loss.backward()
        m, v, beta1, beta2 = self.m, self.v, self.beta1, self.beta2
        learning_rate_target = self.learning_rate * (1 - step / self.num_steps)
        for i, param in enumerate(self.params):
            m[i] = beta1 * m[i] + (1 - beta1) * param.grad
            v[i] = beta2 * v[i] + (1 - beta2) * param.grad**2
            m_hat = m[i] / (1 - beta1 ** (step + 1))
            v_hat = v[i] / (1 - beta2 ** (step + 1))
            param.data -= learning_rate_target * m_hat / (math.sqrt(v_hat) + self.eps_adam)
            param.grad = 0
        self.step_index += 1
        return loss.data


# --- PyTorch eager: the same model, batch and Adam, float64 on one CPU thread ----------------

class TorchTrainer:
    """Our NumPy model's computation in PyTorch ops with autograd and torch.optim.Adam."""

    def __init__(self, trainer: Trainer) -> None:
        import torch

        torch.set_num_threads(1)
        self.torch, self.trainer, self.config = torch, trainer, trainer.config
        views = trainer.layout.views(trainer.model.weight_vector().copy())
        self.w = {name: torch.tensor(w, dtype=torch.float64, requires_grad=True)
                  for name, w in views.items()}
        cfg = self.config
        self.optimizer = torch.optim.Adam(self.w.values(), lr=cfg.learning_rate,
                                          betas=(cfg.beta1, cfg.beta2), eps=cfg.eps_adam)
        self.causal = torch.tril(torch.ones(cfg.block_size, cfg.block_size, dtype=torch.bool))
        self.step_index = 0

    def _rmsnorm(self, x):
        return x * (x.pow(2).mean(dim=-1, keepdim=True) + 1e-8) ** -0.5

    def step(self) -> float:
        torch, cfg, w = self.torch, self.config, self.w
        seqs = self.trainer.batch_tokens(self.step_index)
        b, t = len(seqs), max(len(s) for s in seqs) - 1
        inputs = torch.full((b, t), self.trainer.tokenizer.bos, dtype=torch.long)
        targets = torch.zeros((b, t), dtype=torch.long)
        weights = torch.zeros((b, t), dtype=torch.float64)
        for i, s in enumerate(seqs):
            n = len(s) - 1
            inputs[i, :n] = torch.tensor(s[:-1])
            targets[i, :n] = torch.tensor(s[1:])
            weights[i, :n] = 1.0 / (n * b)
        h, d = cfg.n_head, cfg.head_dim
        x = self._rmsnorm(w["wte"][inputs] + w["wpe"][:t])
        for i in range(cfg.n_layer):
            p = f"blocks.{i}."
            xn = self._rmsnorm(x)
            q, k, v = ((xn @ w[p + name].T).view(b, t, h, d).transpose(1, 2)
                       for name in ("attn.wq", "attn.wk", "attn.wv"))
            scores = (q @ k.transpose(-1, -2)) * d**-0.5
            att = torch.softmax(scores.masked_fill(~self.causal[:t, :t], float("-inf")), dim=-1)
            x = (att @ v).transpose(1, 2).reshape(b, t, h * d) @ w[p + "attn.wo"].T + x
            xm = self._rmsnorm(x)
            x = torch.relu(xm @ w[p + "mlp_fc1"].T) @ w[p + "mlp_fc2"].T + x
        probs = torch.softmax(x @ w["lm_head"].T, dim=-1)
        p_target = probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        loss = (-(p_target + 1e-10).log() * weights).sum()
        self.optimizer.zero_grad()
        loss.backward()
        for group in self.optimizer.param_groups:
            group["lr"] = cfg.learning_rate * (1 - self.step_index / cfg.num_steps)
        self.optimizer.step()
        self.step_index += 1
        return float(loss.detach())


# --- the benchmark ---------------------------------------------------------------------------

def _timed(step, losses: list[float], repeat: int = 1):
    def sample() -> float:
        start = time.perf_counter()
        for _ in range(repeat):
            losses.append(step())
        return (time.perf_counter() - start) / repeat
    return sample


def _loss_note(ours: list[float], peer: list[float], what: str) -> str:
    count = min(len(ours), len(peer))
    gap = max(abs(a - b) for a, b in zip(ours[:count], peer[:count], strict=True))
    verdict = "same losses" if gap <= 1e-9 else "LOSSES DIFFER"
    return f"{verdict} as {what}: max |Δ| {gap:.1e} over {count} steps"


def run(rounds: int) -> list[Comparison]:
    names = load_names().names
    long_run = 1_000_000  # the lr schedule's length: steps never get near its end
    config = Config(num_steps=long_run)
    reference = ReferenceProgram(names, long_run)
    reference_losses: list[float] = []
    results = []

    scalar = Trainer(names, config, "scalar")
    scalar_losses: list[float] = []
    comparison = side_by_side(
        Comparison("step: scalar vs reference", "scalar backend",
                   "reference program", "s", Goal(2.5, "≥ 2.5× faster than the reference")),
        _timed(lambda: scalar.train_step().loss, scalar_losses),
        _timed(reference.step, reference_losses), rounds)
    comparison.note = _loss_note(scalar_losses, reference_losses, "the reference")
    results.append(comparison)

    # The NumPy trainer replays the same steps the reference runs next, from step 0.
    numpy_trainer = Trainer(names, config, "numpy")
    numpy_losses: list[float] = []
    for _ in range(reference.step_index):
        numpy_losses.append(numpy_trainer.train_step().loss)
    comparison = side_by_side(
        Comparison("step: NumPy vs reference", "NumPy backend",
                   "reference program", "s", Goal(1000, "≥ 1000× faster than the reference")),
        _timed(lambda: numpy_trainer.train_step().loss, numpy_losses, NUMPY_STEPS_PER_SAMPLE),
        _timed(reference.step, reference_losses), rounds)
    # The NumPy side ran more steps per sample: compare the steps both ran.
    comparison.note = _loss_note(numpy_losses, reference_losses, "the reference")
    results.append(comparison)

    try:
        import torch  # noqa: F401 (optional peer)
    except ImportError:
        return results
    numpy_trainer = Trainer(names, config, "numpy")
    peer = TorchTrainer(numpy_trainer)
    numpy_losses, torch_losses = [], []
    comparison = side_by_side(
        Comparison("step: NumPy vs PyTorch eager", "NumPy backend",
                   "PyTorch eager (CPU, float64, 1 thread)", "s",
                   Goal(3, "≥ 3× faster than PyTorch eager")),
        _timed(lambda: numpy_trainer.train_step().loss, numpy_losses, NUMPY_STEPS_PER_SAMPLE),
        _timed(peer.step, torch_losses, NUMPY_STEPS_PER_SAMPLE), max(rounds, 5))
    comparison.note = _loss_note(numpy_losses, torch_losses, "PyTorch")
    results.append(comparison)
    return results


BENCHMARK = Benchmark(
    name="microgpt",
    default_rounds=3,
    run=run,
)
