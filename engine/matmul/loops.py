"""Matrix multiplication in plain Python: the seed's triple loop, the i-k-j order, cache blocking.

All three take lists of lists or 2-D numpy arrays (converted once with `tolist()`), check the
shapes first and return a new list of lists. They are slow on purpose: they are what the
question's "write it" means, and what the cache model (cache_model.py) replays address by
address. Long runs can be watched and stopped: `progress(fraction)` is called after each row
(each tile step for `blocked`) and `cancel()` is checked there; a truthy answer raises
`Cancelled` (a `cancel` that raises its own exception, such as a job's `check`, works too).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

import numpy as np

Matrix = Sequence[Sequence[Any]] | np.ndarray
Rows = list[list[Any]]
CancelCheck = Callable[[], object]
ProgressReport = Callable[[float], None]


class Cancelled(Exception):
    """A run stopped because its `cancel()` said so."""


def shape_of(matrix: Matrix) -> tuple[int, int]:
    """(rows, columns) of a 2-D numpy array or a rectangular list of lists.

    An empty list has no row to take a width from: it is 0×0. A 0×n matrix needs numpy.
    """
    if isinstance(matrix, np.ndarray):
        if matrix.ndim != 2:
            raise ValueError(f"a matrix must be 2-D, not {matrix.ndim}-D {matrix.shape}")
        return int(matrix.shape[0]), int(matrix.shape[1])
    try:
        widths = [len(row) for row in matrix]
    except TypeError:
        raise ValueError("a matrix must be a list of rows, each a list of numbers") from None
    if not widths:
        return 0, 0
    for index, width in enumerate(widths):
        if width != widths[0]:
            raise ValueError(
                f"rows of a matrix must have one length: row 0 has {widths[0]}, "
                f"row {index} has {width}"
            )
    return len(widths), widths[0]


def format_shape(shape: tuple[int, int]) -> str:
    return f"{shape[0]}×{shape[1]}"


def check_shapes(a: Matrix, b: Matrix) -> tuple[int, int, int]:
    """(m, k, p) for an m×k times k×p product; ValueError naming both shapes otherwise.

    The seed returns -1 here; a caller that forgets to test for it gets a wrong answer later,
    so this raises instead.
    """
    shape_a, shape_b = shape_of(a), shape_of(b)
    if shape_a[1] != shape_b[0]:
        raise ValueError(
            f"cannot multiply {format_shape(shape_a)} by {format_shape(shape_b)}: "
            f"inner sizes {shape_a[1]} and {shape_b[0]} differ"
        )
    return shape_a[0], shape_a[1], shape_b[1]


def as_rows(matrix: Matrix) -> Rows:
    """The matrix as a list of row lists of real numbers (numpy arrays via one `tolist()`)."""
    if isinstance(matrix, np.ndarray):
        if matrix.dtype.kind not in "biuf":
            raise ValueError(f"matrix entries must be real numbers, not {matrix.dtype}")
        return matrix.tolist()
    rows = [list(row) for row in matrix]
    for row in rows:
        for value in row:
            if not isinstance(value, Real):
                raise ValueError(f"matrix entries must be real numbers, not {value!r}")
    return rows


def _prepare(a: Matrix, b: Matrix) -> tuple[Rows, Rows, int, int, int]:
    m, k, p = check_shapes(a, b)
    return as_rows(a), as_rows(b), m, k, p


def checkpoint(done: int, total: int, cancel: CancelCheck | None,
               progress: ProgressReport | None) -> None:
    """Between rows or tile steps: stop if `cancel()` says so, else report `done / total`."""
    if cancel is not None and cancel():
        raise Cancelled
    if progress is not None:
        progress(done / total)


def progress_part(progress: ProgressReport | None, index: int, count: int
                  ) -> ProgressReport | None:
    """Part `index` of `count` equal parts of one progress bar (None stays None)."""
    if progress is None:
        return None
    report = progress
    return lambda fraction: report((index + fraction) / count)


def naive_ijk(a: Matrix, b: Matrix, *, cancel: CancelCheck | None = None,
              progress: ProgressReport | None = None) -> Rows:
    """The seed's i-j-k triple loop, as written there: C[i][j] += A[i][k]·B[k][j].

    The inner loop walks down a column of B: one element per row, a new cache line each time.
    """
    a, b, m, n1, p = _prepare(a, b)
    c = [[0 for _ in range(p)] for _ in range(m)]
    for i in range(m):
        for j in range(p):
            for k in range(n1):
                c[i][j] += a[i][k] * b[k][j]
        checkpoint(i + 1, m, cancel, progress)
    return c


def ikj(a: Matrix, b: Matrix, *, cancel: CancelCheck | None = None,
        progress: ProgressReport | None = None) -> Rows:
    """The same sums with the j and k loops swapped: the inner loop adds A[i][k] times row k of
    B to row i of C, walking both rows left to right (the cache-friendly order).

    A[i][k] and the two rows are loop-invariant in the inner loop, so they are named once
    outside it; in Python that saves interpreter work too, which is most of the measured gain
    (the cache model shows the memory side).
    """
    a, b, m, n1, p = _prepare(a, b)
    c = [[0 for _ in range(p)] for _ in range(m)]
    for i in range(m):
        a_row, c_row = a[i], c[i]
        for k in range(n1):
            a_ik, b_row = a_row[k], b[k]
            for j in range(p):
                c_row[j] += a_ik * b_row[j]
        checkpoint(i + 1, m, cancel, progress)
    return c


def tile_steps(m: int, k: int, p: int, tile: int) -> list[tuple[int, int, int]]:
    """The blocked loop's order of tile steps, (i0, j0, k0): each tile of C stays put while
    the k tiles of A's row band and B's column band pass through it."""
    return [
        (i0, j0, k0)
        for i0 in range(0, m, tile)
        for j0 in range(0, p, tile)
        for k0 in range(0, k, tile)
    ]


def check_tile(tile: int) -> None:
    if isinstance(tile, bool) or not isinstance(tile, int) or tile < 1:
        raise ValueError(f"the tile size must be a whole number of at least 1, not {tile!r}")


def blocked(a: Matrix, b: Matrix, tile: int, *, cancel: CancelCheck | None = None,
            progress: ProgressReport | None = None) -> Rows:
    """Cache blocking: C is computed tile×tile at a time from tile×tile pieces of A and B,
    small enough that the three stay in L1 while they are reused `tile` times each.

    Within a step the loops run in i-k-j order. In Python the interpreter's own overhead hides
    the effect on time; the cache model counts it.
    """
    check_tile(tile)
    a, b, m, n1, p = _prepare(a, b)
    c = [[0 for _ in range(p)] for _ in range(m)]
    steps = tile_steps(m, n1, p, tile)
    for done, (i0, j0, k0) in enumerate(steps, start=1):
        j1, k1 = min(j0 + tile, p), min(k0 + tile, n1)
        for i in range(i0, min(i0 + tile, m)):
            a_row, c_row = a[i], c[i]
            for k in range(k0, k1):
                a_ik, b_row = a_row[k], b[k]
                for j in range(j0, j1):
                    c_row[j] += a_ik * b_row[j]
        checkpoint(done, len(steps), cancel, progress)
    return c
