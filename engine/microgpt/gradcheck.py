"""One weight's gradient three ways: the scalar engine's autograd, the NumPy engine's
hand-written backward pass, and a central finite difference of the NumPy loss.

Everything runs on copies of the trainer's weights; the trainer is left as it was.
"""

from __future__ import annotations

import numpy as np

from .numpy_model import NumpyGPT
from .readouts import GradCheck
from .scalar_model import ScalarGPT
from .trainer import Trainer


def weight_index(trainer: Trainer, param: str, row: int, col: int) -> int:
    """The flat index of param[row, col]; ValueError (one line) when there is no such weight."""
    layout = trainer.layout
    if param not in layout.shapes:
        raise ValueError(f"unknown parameter {param!r}; choose one of: "
                         f"{', '.join(layout.names)}")
    rows, cols = layout.shapes[param]
    if not (0 <= row < rows and 0 <= col < cols):
        raise ValueError(f"{param} is {rows}×{cols}: row must be in 0..{rows - 1} and col in "
                         f"0..{cols - 1}, got row {row}, col {col}")
    return layout.offsets()[param][0] + row * cols + col


def batch_loss(model: NumpyGPT, batch: list[list[int]]) -> float:
    """The training loss of `batch` (mean over names of each name's mean token loss)."""
    return float(model.sequence_losses(batch).mean())


def central_difference(model: NumpyGPT, batch: list[list[int]], index: int, h: float) -> float:
    """(L(w + h) − L(w − h)) / 2h for weight `index`; the weight is put back afterwards."""
    original = model.flat[index]
    try:
        model.flat[index] = original + h
        above = batch_loss(model, batch)
        model.flat[index] = original - h
        below = batch_loss(model, batch)
    finally:
        model.flat[index] = original
    return (above - below) / (2 * h)


def grad_check(trainer: Trainer, param: str, row: int, col: int, h: float = 1e-5,
               names: int = 1) -> GradCheck:
    """param[row, col]'s gradient on the first `names` sequences of the current batch, three
    ways. ValueError for an unknown weight, names < 1 or h ≤ 0."""
    index = weight_index(trainer, param, row, col)
    if names < 1:
        raise ValueError(f"names must be at least 1, got {names}")
    if not h > 0:
        raise ValueError(f"h must be > 0, got {h}")
    batch_names = trainer.corpus.batch(trainer.step, trainer.config.batch_size)[:names]
    batch = trainer.batch_tokens(trainer.step)[:names]
    weights = np.array(trainer.model.weight_vector(), dtype=np.float64)  # a copy
    vocab = trainer.vocab_size
    scalar = ScalarGPT(trainer.config, vocab, weights)
    scalar.loss_and_grad(batch)
    numpy_model = NumpyGPT(trainer.config, vocab, weights)
    loss = numpy_model.loss_and_grad(batch)
    return GradCheck(
        param=param, row=row, col=col, weight=float(weights[index]),
        scalar_grad=float(scalar.params[index].grad),
        numpy_grad=float(numpy_model.grad[index]),
        numeric_grad=central_difference(numpy_model, batch, index, h),
        h=h, loss=loss, batch_names=tuple(batch_names), step=trainer.step)
