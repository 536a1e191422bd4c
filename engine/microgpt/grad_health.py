"""Gradient health over training: per-tensor gradient norms and update/weight ratios, kept
for every step in bounded memory and drawn as a grid (rows = tensors, columns = step ranges).

Called once per training step, so it is a few small NumPy operations: one reduceat for all the
tensors' norms, and adding two rows into a pending bucket.

Memory stays bounded by *merging*, never dropping: the history holds at most `capacity`
buckets, each the mean of log10 over `bucket_size` consecutive steps (a geometric mean). When
the buckets fill, neighbours merge in pairs and the bucket size doubles, so the grid always
covers step 1 to now, at a resolution that coarsens as training goes on.
"""

from __future__ import annotations

import numpy as np

from .init import ParamLayout
from .readouts import HealthGrid

GRAD_NORM = "grad norm"
UPDATE_RATIO = "update/weight"
KINDS = (GRAD_NORM, UPDATE_RATIO)
FLOOR = 1e-30  # log10 of a zero norm: -30, far below anything drawn

_STARTS: dict[tuple, np.ndarray] = {}


def tensor_starts(layout: ParamLayout) -> np.ndarray:
    """Each tensor's first index in the flat vector, in the layout's order (cached)."""
    key = tuple(layout.shapes.items())
    starts = _STARTS.get(key)
    if starts is None:
        sizes = [rows * cols for rows, cols in layout.shapes.values()]
        starts = _STARTS[key] = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp)
    return starts


def tensor_norms(layout: ParamLayout, vector: np.ndarray) -> np.ndarray:
    """The L2 norm of each tensor's part of a flat vector, shape (len(layout.names),)."""
    return np.sqrt(np.add.reduceat(vector * vector, tensor_starts(layout)))


def update_ratios(layout: ParamLayout, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """‖Δw‖ / ‖w‖ per tensor for one update (before → after); inf where ‖w‖ is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return tensor_norms(layout, after - before) / tensor_norms(layout, after)


class HealthHistory:
    """Per-step grad norms and update ratios of each tensor, bounded by merging old steps."""

    def __init__(self, names: list[str] | tuple[str, ...], capacity: int = 512) -> None:
        if capacity < 2:
            raise ValueError(f"capacity must be at least 2, got {capacity}")
        self.names = tuple(names)
        self.capacity = capacity + capacity % 2  # even, so buckets merge in pairs
        n = len(self.names)
        # values[kind] rows are buckets; last_step[b] is the last step bucket b covers
        self._values = np.zeros((2, self.capacity, n))
        self._last_step = np.zeros(self.capacity, dtype=np.int64)
        self._count = 0  # buckets filled
        self.bucket_size = 1  # steps per full bucket
        self._pending = np.zeros((2, n))  # log10 sums of the steps not yet in a bucket
        self._pending_steps = 0
        self._pending_last = 0
        self._squares: np.ndarray | None = None  # record()'s buffer, reused every step

    def __len__(self) -> int:
        """Steps recorded."""
        return self._count * self.bucket_size + self._pending_steps

    def add(self, step: int, grad_norms: np.ndarray, update_ratios: np.ndarray) -> None:
        """Record one step's per-tensor numbers (in `names` order). A non-finite or zero
        value is kept as it is (NaN stays NaN: a diverged step shows as no data)."""
        self.add_pair(step, np.stack((grad_norms, update_ratios)))

    def add_pair(self, step: int, pair: np.ndarray) -> None:
        """`add` with both rows in one (2, n) array (overwritten)."""
        np.maximum(pair, FLOOR, out=pair)
        np.log10(pair, out=pair)  # NaN stays NaN; FLOOR keeps 0 finite
        self.add_logs(step, pair)

    def record(self, trainer) -> None:
        """The step a Trainer just took: its Adam's last gradient and update and the weights
        after it, in one pass over the three vectors (the training loop calls this every
        step, so it is kept to a few µs)."""
        weights = trainer.model.weight_vector()
        if self._squares is None or self._squares.shape[1] != weights.size:
            self._squares = np.empty((3, weights.size))
        squares = self._squares
        for row, vector in enumerate((trainer.adam.last_grad, trainer.adam.last_update, weights)):
            np.multiply(vector, vector, out=squares[row])
        self.add_squares(trainer.step,
                         np.add.reduceat(squares, tensor_starts(trainer.layout), axis=1))

    def add_squares(self, step: int, squares: np.ndarray) -> None:
        """The training loop's per-step call, from per-tensor sums of squares (3, n) of the
        gradient, the update and the weights (overwritten): log10 ‖g‖ = ½ log10 Σg², and
        log10 (‖u‖/‖w‖) = ½ (log10 Σu² − log10 Σw²). One log10 for all three, no square
        roots or division: it runs every step, so every µs counts."""
        np.maximum(squares, FLOOR * FLOOR, out=squares)
        np.log10(squares, out=squares)
        squares[1] -= squares[2]
        squares *= 0.5
        self.add_logs(step, squares[:2])

    def add_logs(self, step: int, logs: np.ndarray) -> None:
        """Record one step from its log10 values (2, n): grad norms, update ratios."""
        pending = self._pending
        pending += logs
        self._pending_steps += 1
        self._pending_last = step
        if self._pending_steps == self.bucket_size:
            if self._count == self.capacity:
                self._merge()
            # _merge may have doubled bucket_size: the pending steps then wait for more
            if self._pending_steps == self.bucket_size:
                self._values[:, self._count] = pending * (1.0 / self.bucket_size)
                self._last_step[self._count] = step
                self._count += 1
                pending[:] = 0.0
                self._pending_steps = 0

    def _merge(self) -> None:
        """Halve the buckets: each neighbouring pair becomes one bucket of twice the steps."""
        half = self.capacity // 2
        self._values[:, :half] = 0.5 * (self._values[:, 0::2] + self._values[:, 1::2])
        self._last_step[:half] = self._last_step[1::2]
        self._count = half
        self.bucket_size *= 2

    def _columns(self, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(values (n, m), last steps (m,), steps per column (m,)) of the buckets, the pending
        partial one included."""
        index = KINDS.index(kind)
        values = self._values[index, :self._count]
        last = self._last_step[:self._count]
        weights = np.full(self._count, float(self.bucket_size))
        if self._pending_steps:
            partial = self._pending[index] / self._pending_steps
            values = np.vstack((values, partial))
            last = np.append(last, self._pending_last)
            weights = np.append(weights, float(self._pending_steps))
        return values.T, last, weights

    def grid(self, kind: str, width: int) -> HealthGrid:
        """log10 of `kind` ("grad norm" or "update/weight") per tensor, in at most `width`
        columns that together cover every step recorded (each the mean over its steps)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if width < 1:
            raise ValueError(f"width must be at least 1, got {width}")
        values, last, weights = self._columns(kind)
        m = values.shape[1]
        if m > width:
            # column c takes buckets edges[c] .. edges[c+1]-1: contiguous, as even as can be
            edges = (np.arange(width + 1) * m) // width
            weighted = np.add.reduceat(values * weights, edges[:-1], axis=1)
            values = weighted / np.add.reduceat(weights, edges[:-1])
            last = last[edges[1:] - 1]
        return HealthGrid(names=self.names, steps=tuple(int(s) for s in last),
                          values=np.array(values), kind=kind)
