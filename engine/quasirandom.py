"""Low-discrepancy points: the van der Corput radical inverse and the 2-D Halton sequence.

The radical inverse of an index i in base b mirrors i's base-b digits about the radix point:
i = d0 + d1·b + d2·b² + …  ↦  d0/b + d1/b² + d2/b³ + …  (so in base 2: 1 ↦ .1, 2 ↦ .01, 3 ↦ .11).
Consecutive indices fill [0, 1) evenly, each new point landing in the largest gap left. Pairing
bases 2 and 3 (coprime) gives the Halton sequence, whose first n points fill the unit square with
star discrepancy O((log n)² / n) — which is why a quasi-random dart count converges roughly like
1/n instead of the 1/√n of independent random darts.

Digits are handled a group at a time through a lookup table (e.g. 16 binary digits or 10 ternary
digits per table entry), so a batch of indices costs a few vectorised passes, not one per digit.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# Table entries per base: the largest power of the base not above 2^16 (64 Ki entries, 512 KiB).
_TABLE_LIMIT = 1 << 16


@lru_cache(maxsize=8)
def _digit_group_table(base: int) -> tuple[np.ndarray, int]:
    """(radical inverse of every r < base^k using exactly k digits, base^k), float64."""
    size, digits = base, 1
    while size * base <= _TABLE_LIMIT:
        size, digits = size * base, digits + 1
    r = np.arange(size, dtype=np.int64)
    table = np.zeros(size, dtype=np.float64)
    scale = 1.0 / base
    for _ in range(digits):
        table += (r % base) * scale
        r //= base
        scale /= base
    table.setflags(write=False)
    return table, size


def radical_inverse(indices: np.ndarray, base: int) -> np.ndarray:
    """The base-`base` radical inverse of each index.

    indices: non-negative integers, any shape (converted to uint64).
    Returns float64 values in [0, 1) with the same shape; exact in base 2 for indices < 2^53.
    """
    if base < 2:
        raise ValueError("base must be at least 2")
    table, group = _digit_group_table(base)
    rest = np.asarray(indices, dtype=np.uint64).copy()
    result = np.zeros(rest.shape, dtype=np.float64)
    scale = 1.0
    group_u = np.uint64(group)
    while rest.any():
        result += table[rest % group_u] * scale
        rest //= group_u
        scale /= group
    return result


def halton_points(start: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Points start … start+count−1 of the 2-D Halton sequence (bases 2 and 3).

    Point k uses index k + 1, so point 0 is (1/2, 1/3) rather than the corner (0, 0).
    Returns (x, y): two float64 arrays of shape (count,), values in [0, 1).
    """
    indices = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    return radical_inverse(indices, 2), radical_inverse(indices, 3)
