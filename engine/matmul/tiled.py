"""Cache blocking with numpy tiles: the blocked loop of loops.py, each tile product one `@`.

Sweeping `tile` shows both ends of the trade: small tiles pay Python's per-call overhead
(one `@` per tile step, (n/tile)³ of them), tiles larger than the cache lose the reuse that
blocking is for. BLAS does the same blocking internally, with tiles chosen for this CPU.
"""

from __future__ import annotations

import numpy as np

from .loops import (
    CancelCheck,
    Matrix,
    ProgressReport,
    check_shapes,
    check_tile,
    checkpoint,
    tile_steps,
)


def numpy_tiled(a: Matrix, b: Matrix, tile: int, *, cancel: CancelCheck | None = None,
                progress: ProgressReport | None = None) -> np.ndarray:
    """A (m×k) @ B (k×p) as an m×p array, tile×tile blocks at a time (edge tiles smaller).

    The dtype is numpy's for `a @ b` (float32 stays float32). Progress and cancel are checked
    once per tile of C.
    """
    check_tile(tile)
    m, k, p = check_shapes(a, b)
    a, b = np.asarray(a), np.asarray(b)
    c = np.zeros((m, p), dtype=np.result_type(a, b))
    c_tiles = [(i0, j0) for i0, j0, k0 in tile_steps(m, k, p, tile) if k0 == 0]
    for done, (i0, j0) in enumerate(c_tiles, start=1):
        c_tile = c[i0:i0 + tile, j0:j0 + tile]  # a view: the sums land in c
        for k0 in range(0, k, tile):
            c_tile += a[i0:i0 + tile, k0:k0 + tile] @ b[k0:k0 + tile, j0:j0 + tile]
        checkpoint(done, len(c_tiles), cancel, progress)
    return c
