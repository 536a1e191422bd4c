"""Training: the reference's data order, Adam with linear decay, one event per step.

`Trainer.run()` is a generator of `StepEvent`s that the CLI prints, the Training screen draws and
the tests compare with the reference. Everything random comes from one `random.Random(seed)`
used in the reference's order: shuffle the names, draw the initial weights, then (after
training) sample names — so a seed-42 run on makemore's names reproduces the reference.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .adam import Adam, AdamView, linear_decay
from .config import ENGINES, Config, ConfigError, check_temperature
from .corpus import Corpus, sequences, shuffled_corpus, wrap_batch
from .init import ParamLayout, init_weights
from .numpy_model import NumpyGPT
from .sampling import sample_names, sample_names_together
from .tokenizer import Tokenizer


@dataclass(frozen=True)
class StepEvent:
    """One optimisation step done: `step` counts from 1."""

    step: int
    num_steps: int
    loss: float  # mean next-token cross-entropy of the batch, nats
    lr: float  # learning rate this step used
    ms: float  # wall time of the step, milliseconds

    def record(self) -> dict:
        return {"step": self.step, "loss": self.loss, "lr": self.lr, "ms": self.ms}


@dataclass(frozen=True)
class ParamRow:
    """One weight matrix: its L2 norm and the L2 norm of its last gradient."""

    name: str
    shape: tuple[int, int]
    weight_norm: float
    grad_norm: float


class TrainingDiverged(ArithmeticError):
    """The loss or the weights stopped being finite numbers (a learning rate far too large);
    the trainer refuses further steps and saves."""

    def __init__(self, step: int) -> None:
        super().__init__(f"training diverged at step {step} (the loss or weights overflowed "
                         "to infinity or NaN; try a smaller learning rate)")
        self.step = step


def make_model(engine: str, config: Config, vocab_size: int, weights: np.ndarray):
    """The backend named `engine` ("numpy" or "scalar") holding a copy of `weights`."""
    if engine == "numpy":
        return NumpyGPT(config, vocab_size, weights)
    if engine == "scalar":
        from .scalar_model import ScalarGPT

        return ScalarGPT(config, vocab_size, weights)
    raise ConfigError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")


def names_fingerprint(names: list[str]) -> str:
    """A short hash of a names list, to tell a checkpoint's data from another's."""
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


class Trainer:
    """The model, its optimiser, the data order and the RNG: everything a checkpoint holds."""

    def __init__(self, names: list[str], config: Config, engine: str = "numpy") -> None:
        self.config = config.validated()
        check_temperature(config.temperature)
        self.engine = engine
        self.rng = random.Random(config.seed)
        self.corpus: Corpus = shuffled_corpus(names, self.rng)
        self.tokenizer = Tokenizer.from_docs(self.corpus.docs)
        self.layout = ParamLayout.of(config, self.tokenizer.vocab_size)
        weights = init_weights(config, self.tokenizer.vocab_size, self.rng)
        self.model = make_model(engine, config, self.tokenizer.vocab_size, weights)
        self.adam = Adam(self.layout.size, config.beta1, config.beta2, config.eps_adam)
        self.step = 0  # steps done
        self.diverged_at: int | None = None  # the step whose numbers overflowed, if any
        # The training loss of each step done since step `history_start` (0 unless resumed
        # from a checkpoint that did not hold the earlier losses): loss_history[i] is the loss
        # of step history_start + i + 1.
        self.loss_history: list[float] = []
        self.history_start = 0
        # One line for the UI when a resumed run lacks part of its past (an older checkpoint).
        self.restore_note: str | None = None
        self.data_fingerprint = names_fingerprint(names)
        self._train_tokens: list[list[int]] | None = None
        self._heldout_tokens: list[list[int]] | None = None
        self._twin: NumpyGPT | None = None
        self._twin_step = -1

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    @property
    def done(self) -> bool:
        return self.step >= self.config.num_steps

    def batch_tokens(self, step: int) -> list[list[int]]:
        """The token sequences step `step` (0-based) trains on."""
        if self._train_tokens is None:  # encoded once, on first use
            self._train_tokens = sequences(self.corpus.train, self.tokenizer,
                                           self.config.block_size)
        return wrap_batch(self._train_tokens, step, self.config.batch_size)

    def train_step(self) -> StepEvent:
        """One step: forward and backward on the next batch, then one Adam update.

        TrainingDiverged when the loss or the updated weights are not finite: the step is not
        counted, and as Adam has already updated in place, the trainer takes no further step
        and save_checkpoint refuses it.
        """
        if self.diverged_at is not None:
            raise TrainingDiverged(self.diverged_at)
        cfg = self.config
        lr = linear_decay(cfg.learning_rate, self.step, cfg.num_steps)
        start = time.perf_counter()
        try:
            # Overflow is detected below, once, instead of a numpy warning per operation.
            with np.errstate(all="ignore"):
                loss = self.model.loss_and_grad(self.batch_tokens(self.step))
                weights = self.model.weight_vector()
                self.adam.step(weights, self.model.grad_vector(), lr)
            finite = math.isfinite(loss) and bool(np.isfinite(weights).all())
        except ArithmeticError:  # the scalar engine raises on overflow instead
            finite = False
        if not finite:
            self.diverged_at = self.step + 1
            raise TrainingDiverged(self.diverged_at)
        self.model.set_weight_vector(weights)
        self.step += 1
        self.loss_history.append(float(loss))
        ms = (time.perf_counter() - start) * 1e3
        return StepEvent(self.step, cfg.num_steps, loss, lr, ms)

    def check_finite_outputs(self) -> None:
        """TrainingDiverged if the current weights, though finite, overflow the model's
        outputs (the last step can leave weights near 1e308): call before using the model
        after training."""
        if self.diverged_at is not None:
            raise TrainingDiverged(self.diverged_at)
        if not self.step:
            return
        with np.errstate(all="ignore"):
            losses = self.numpy_model().sequence_losses(self.batch_tokens(self.step))
        if not np.isfinite(losses).all():
            self.diverged_at = self.step
            raise TrainingDiverged(self.step)

    def run(self, steps: int | None = None) -> Iterator[StepEvent]:
        """Train until the schedule ends (or `steps` more steps), yielding after each step."""
        stop = self.config.num_steps if steps is None else min(self.config.num_steps,
                                                                self.step + steps)
        while self.step < stop:
            yield self.train_step()

    # Read-outs, computed with the NumPy model (a copy of the weights for the scalar engine).

    def numpy_model(self) -> NumpyGPT:
        if isinstance(self.model, NumpyGPT):
            return self.model
        if self._twin is None or self._twin_step != self.step:
            self._twin = NumpyGPT(self.config, self.vocab_size, self.model.weight_vector())
            self._twin_step = self.step
        return self._twin

    def heldout_loss(self, limit: int | None = None) -> float | None:
        """Cross-entropy per predicted token (nats) over the first `limit` held-out names.

        Every held-out token counts once (the usual held-out metric), unlike the training loss,
        which averages per name first as the reference does. None when nothing is held out.
        """
        if self._heldout_tokens is None:  # encoded once, on first use
            self._heldout_tokens = sequences(self.corpus.heldout, self.tokenizer,
                                             self.config.block_size)
        seqs = self._heldout_tokens[:limit]
        if not seqs:
            return None
        per_name = self.numpy_model().sequence_losses(seqs)
        lengths = np.array([len(s) - 1 for s in seqs])
        return float(np.dot(per_name, lengths) / lengths.sum())

    def sample(self, count: int, temperature: float | None = None,
               rng: random.Random | None = None) -> list[str]:
        """`count` names; by default drawn from the trainer's RNG as the reference does."""
        temperature = self.config.temperature if temperature is None else temperature
        return sample_names(self.model, self.tokenizer, rng or self.rng, count, temperature,
                            self.config.block_size)

    def preview_samples(self, count: int, temperature: float) -> list[str]:
        """Names for a live preview, from an RNG of their own (training's RNG is untouched)."""
        rng = random.Random(f"{self.config.seed}:{self.step}")
        return sample_names_together(self.numpy_model(), self.tokenizer, rng, count, temperature,
                                     self.config.block_size)

    def attention(self, name: str) -> tuple[list[str], np.ndarray]:
        """Token labels and attention maps (n_layer, n_head, T, T) while reading BOS + name
        (each position predicts the next character; the closing BOS is never read)."""
        tokens = self.tokenizer.encode(name)[:-1][: self.config.block_size]
        labels = ["⟨bos⟩" if t == self.tokenizer.bos else self.tokenizer.chars[t]
                  for t in tokens]
        return labels, self.numpy_model().attention(tokens)

    def param_table(self) -> list[ParamRow]:
        weights = self.model.weight_vector()
        grads = self.adam.last_grad
        rows = []
        for name, (start, stop) in self.layout.offsets().items():
            rows.append(ParamRow(name, self.layout.shapes[name],
                                 float(np.linalg.norm(weights[start:stop])),
                                 float(np.linalg.norm(grads[start:stop]))))
        return rows

    def adam_view(self, name: str, row: int, col: int) -> AdamView:
        start, _ = self.layout.offsets()[name]
        index = start + row * self.layout.shapes[name][1] + col
        return self.adam.inspect(self.model.weight_vector(), index)
