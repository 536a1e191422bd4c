"""Numbers as people read them, shared by the screens, the CLI and the benchmarks."""

from __future__ import annotations


def format_value(value: float, unit: str) -> str:
    """`value` in `unit` with a prefix that keeps it short: seconds as µs / ms / s, anything
    else (a rate such as "darts/s") with k or M."""
    if unit == "s":
        if value < 1e-3:
            return f"{value * 1e6:.1f} µs"
        if value < 1:
            return f"{value * 1e3:.1f} ms"
        return f"{value:.2f} s"
    if value >= 1e6:
        return f"{value / 1e6:.2f} M{unit}"
    if value >= 1e3:
        return f"{value / 1e3:.1f} k{unit}"
    return f"{value:.1f} {unit}"
