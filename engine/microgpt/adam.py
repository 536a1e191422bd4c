"""Adam with the reference's constants and linear learning-rate decay, on flat float64 vectors.

Element for element it performs the reference's float operations in the same order, so the
scalar engine's updates are bit-identical to the reference's given the same gradients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AdamView:
    """One weight's Adam quantities after an update (the inspector's row)."""

    weight: float  # after the update
    grad: float
    m: float
    v: float
    m_hat: float
    v_hat: float
    update: float  # what was subtracted from the weight
    lr: float


class Adam:
    """m, v and the step count t; `step` updates the weights in place."""

    def __init__(self, size: int, beta1: float, beta2: float, eps: float) -> None:
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = np.zeros(size)
        self.v = np.zeros(size)
        self.t = 0  # updates done
        self.last_grad = np.zeros(size)
        self.last_update = np.zeros(size)
        self.last_lr = 0.0

    def step(self, weights: np.ndarray, grad: np.ndarray, lr: float) -> None:
        """weights -= lr · m̂ / (√v̂ + eps), after folding `grad` into m and v."""
        b1, b2 = self.beta1, self.beta2
        self.t += 1
        m, v = self.m, self.v
        m *= b1
        m += (1 - b1) * grad
        v *= b2
        v += (1 - b2) * (grad * grad)
        m_hat = m / (1 - b1**self.t)
        denominator = np.sqrt(v / (1 - b2**self.t))
        denominator += self.eps
        update = lr * m_hat
        update /= denominator
        weights -= update
        self.last_grad = grad.copy()
        self.last_update = update
        self.last_lr = lr

    def inspect(self, weights: np.ndarray, index: int) -> AdamView:
        """The quantities of the last update for flat weight `index`."""
        t = max(self.t, 1)
        m, v = float(self.m[index]), float(self.v[index])
        return AdamView(
            weight=float(weights[index]),
            grad=float(self.last_grad[index]),
            m=m,
            v=v,
            m_hat=m / (1 - self.beta1**t),
            v_hat=v / (1 - self.beta2**t),
            update=float(self.last_update[index]),
            lr=self.last_lr,
        )

    def load_state(self, m: np.ndarray, v: np.ndarray, t: int,
                   last_grad: np.ndarray | None = None, last_update: np.ndarray | None = None,
                   last_lr: float = 0.0) -> None:
        """Restore m, v and t, and the last update's gradient, step and learning rate (zeros
        when not known, as for a checkpoint from before they were saved)."""
        self.m, self.v, self.t = np.array(m, dtype=np.float64), np.array(v, dtype=np.float64), t
        size = len(self.m)
        self.last_grad = (np.zeros(size) if last_grad is None
                          else np.array(last_grad, dtype=np.float64))
        self.last_update = (np.zeros(size) if last_update is None
                            else np.array(last_update, dtype=np.float64))
        self.last_lr = float(last_lr)


def linear_decay(learning_rate: float, step: int, num_steps: int) -> float:
    """The reference's schedule: lr · (1 - step / num_steps) for 0-based step."""
    return learning_rate * (1 - step / num_steps)


