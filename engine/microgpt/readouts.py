"""What the Training screen's inspection views show, as plain data.

The engine computes these (token_losses, why, grad_health, gradcheck, embedding_map); the
screen, the `inspect` CLI and the tests consume them. Character labels: a name's characters as
themselves, the start-of-name token as BOS_LABEL, the end-of-name token (the same BOS id,
predicted) as END_LABEL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BOS_LABEL = "⟨bos⟩"
END_LABEL = "⟨end⟩"


@dataclass(frozen=True)
class TokenLoss:
    """One position of a name: what the model read, what came next, and how it scored it."""

    position: int  # 0-based; the model read `context` and predicted `target`
    context: str  # the characters read so far ("" at position 0: only BOS was read)
    target: str  # the character that came next (END_LABEL after the last one)
    prob: float  # the model's probability of `target` (temperature 1)
    loss: float  # -ln(prob + 1e-10), nats: the reference's per-token loss
    top: tuple[tuple[str, float], ...]  # the k most probable next characters, most first


@dataclass(frozen=True)
class TokenStrip:
    """A name scored position by position (a sampled or a held-out name)."""

    name: str
    source: str  # "sampled" or "held-out"
    tokens: tuple[TokenLoss, ...]
    step: int  # the training step whose weights scored it

    @property
    def mean_loss(self) -> float:
        """The name's mean next-token loss: the number the training loss averages."""
        return sum(t.loss for t in self.tokens) / len(self.tokens) if self.tokens else 0.0


@dataclass(frozen=True)
class Term:
    """One number of a stage: a summand, or one candidate among others."""

    label: str
    value: float
    detail: str = ""


@dataclass(frozen=True)
class WhyStage:
    """One step back from a character's probability towards what produced it."""

    key: str  # "probability", "logits", "lm_head", "residual", "attention"
    title: str  # one line saying what this stage shows, with its numbers
    formula: str  # the arithmetic, e.g. "z = lm_head[c] · x"
    terms: tuple[Term, ...]  # largest |value| first where they are summands
    total: float | None  # what the terms add up to where the stage is a sum, else None


@dataclass(frozen=True)
class WhyChain:
    """"Why this character?": the stages from p(char) back to the attention that fed it."""

    name: str
    position: int  # the position whose prediction is explained (as TokenLoss.position)
    context: str
    char: str
    temperature: float
    stages: tuple[WhyStage, ...]
    step: int


@dataclass(frozen=True)
class HealthGrid:
    """Gradient health over time: one row per parameter tensor, one column per step range."""

    names: tuple[str, ...]  # parameter tensors, the rows
    steps: tuple[int, ...]  # the last step each column covers
    values: np.ndarray  # (len(names), len(steps)) log10 of the quantity; NaN = no data
    kind: str  # "grad norm" or "update/weight"


GRADCHECK_TOLERANCE = 1e-5  # relative error below which the three gradients agree


def relative_error(a: float, b: float) -> float:
    """|a − b| / max(|a|, |b|, 1e-12): how far two gradients of one weight disagree."""
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


@dataclass(frozen=True)
class GradCheck:
    """One weight's gradient three ways on one batch: scalar autograd, the NumPy engine's
    hand-written backward, and a central finite difference of the loss."""

    param: str
    row: int
    col: int
    weight: float
    scalar_grad: float
    numpy_grad: float
    numeric_grad: float  # (L(w+h) − L(w−h)) / 2h
    h: float
    loss: float  # L(w) on the batch
    batch_names: tuple[str, ...]
    step: int

    @property
    def rel_error(self) -> float:
        """The scalar engine's gradient against the finite difference."""
        return relative_error(self.scalar_grad, self.numeric_grad)

    @property
    def agrees(self) -> bool:
        return self.rel_error < GRADCHECK_TOLERANCE


@dataclass(frozen=True)
class EmbeddingMap:
    """The token embedding table projected on its top two principal components."""

    labels: tuple[str, ...]  # one per wte row: the characters, then BOS_LABEL
    xy: np.ndarray  # (len(labels), 2)
    explained: tuple[float, float]  # share of the variance along PC1 and PC2
    step: int
