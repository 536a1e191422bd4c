"""Small statistics shared by the benchmarks and the screens (p50/p95 of repeated runs)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def nearest_rank(samples: Sequence[float], percentile: float) -> float:
    """The `percentile` of `samples` by nearest rank (p95 of 20 samples: the 19th smallest).

    Nearest rank always returns one of the samples: a p95 of five runs is the slowest run,
    never a number between runs that nobody measured."""
    if not samples:
        raise ValueError("no samples to take a percentile of")
    if not 0 <= percentile <= 100:  # also NaN; past 100 the rank would run off the end
        raise ValueError(f"a percentile is from 0 to 100, not {percentile}")
    ordered = sorted(samples)
    return ordered[max(math.ceil(percentile / 100 * len(ordered)) - 1, 0)]
