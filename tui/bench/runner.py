"""Benchmarks measured side by side with a named peer, in one run, reported as medians and ratios.

A benchmark alternates ours and the peer round by round (so drift in machine load hits both),
takes the median of each, and states the speed-up ours has over the peer against the issue's
goal. Throughputs (higher is better) and times (lower is better) are both supported.
"""

from __future__ import annotations

import importlib
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from ...engine.stats import nearest_rank
from ..kit.format import format_value
from ..registry import all_benchmarks


@dataclass(frozen=True)
class Goal:
    """Ours must be at least `min_speedup` times better than the peer; `text` says it in words."""

    min_speedup: float
    text: str


@dataclass
class Comparison:
    label: str
    ours: str
    peer: str
    unit: str  # "s" for times; anything else ("darts/s") is a throughput
    goal: Goal | None
    ours_samples: list[float] = field(default_factory=list)
    peer_samples: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def higher_is_better(self) -> bool:
        return self.unit != "s"

    @property
    def ours_median(self) -> float:
        return statistics.median(self.ours_samples)

    @property
    def peer_median(self) -> float:
        return statistics.median(self.peer_samples)

    @property
    def speedup(self) -> float:
        """How many times better ours is than the peer (>1 = ours wins)."""
        if self.higher_is_better:
            return self.ours_median / self.peer_median
        return self.peer_median / self.ours_median

    @property
    def met(self) -> bool | None:
        return None if self.goal is None else self.speedup >= self.goal.min_speedup

    def record(self, bench: str) -> dict:
        return {
            "bench": bench,
            "label": self.label,
            "ours": self.ours,
            "peer": self.peer,
            "unit": self.unit,
            "rounds": len(self.ours_samples),
            "ours_median": self.ours_median,
            "peer_median": self.peer_median,
            "speedup": self.speedup,
            "goal": None if self.goal is None else self.goal.text,
            "goal_min_speedup": None if self.goal is None else self.goal.min_speedup,
            "met": self.met,
            "note": self.note,
        }

    def line(self, bench: str) -> str:
        """The table row and its details line, as `microgpt-tui bench` prints them."""
        met = self.met
        verdict = "" if met is None else ("met" if met else "NOT met")
        goal = "" if self.goal is None else f"{self.goal.text}: {verdict}"
        return (
            f"{bench + ': ' + self.label:<40.40} "
            f"{format_value(self.ours_median, self.unit):>11} "
            f"{format_value(self.peer_median, self.unit):>11} "
            f"{self.speedup:>8.2f}×  {goal}\n"
            f"{'':<4}ours = {self.ours}; peer = {self.peer}; "
            f"{len(self.ours_samples)} rounds"
            + (f"; {self.note}" if self.note else "")
        )


def side_by_side(
    comparison: Comparison,
    ours: Callable[[], float],
    peer: Callable[[], float],
    rounds: int,
    warmup: int = 1,
) -> Comparison:
    """Alternate ours and the peer; each call returns one sample (seconds or a throughput)."""
    for _ in range(warmup):
        ours()
        peer()
    for index in range(rounds):
        # Swap who goes first each round so neither always runs on a warmer cache.
        first, second = (ours, peer) if index % 2 == 0 else (peer, ours)
        a, b = first(), second()
        ours_sample, peer_sample = (a, b) if index % 2 == 0 else (b, a)
        comparison.ours_samples.append(ours_sample)
        comparison.peer_samples.append(peer_sample)
    return comparison


@dataclass
class Measurement:
    """An absolute budget rather than a peer: e.g. terminal bytes/s ≤ 30 KB/s, replay < 1 s.

    The budget applies to the median, or with `percentile` (e.g. 95) to that percentile of the
    samples (nearest rank): a latency goal is about the slow presses, not the typical one. A
    measurement that could not be taken has no samples, says why in `note`, and is not met.
    """

    label: str
    what: str  # what was measured, in words
    unit: str
    limit: float
    at_most: bool  # True: the statistic must be ≤ limit; False: ≥ limit
    samples: list[float] = field(default_factory=list)
    note: str = ""
    percentile: int = 50

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else math.nan

    @property
    def value(self) -> float:
        """The statistic the budget applies to (NaN without samples)."""
        if self.percentile == 50 or not self.samples:
            return self.median
        return nearest_rank(self.samples, self.percentile)

    @property
    def statistic(self) -> str:
        return "median" if self.percentile == 50 else f"p{self.percentile}"

    @property
    def met(self) -> bool:
        return self.value <= self.limit if self.at_most else self.value >= self.limit

    @property
    def goal_text(self) -> str:
        prefix = "" if self.percentile == 50 else f"{self.statistic} "
        return f"{prefix}{'≤' if self.at_most else '≥'} {format_value(self.limit, self.unit)}"

    def record(self, bench: str) -> dict:
        record = {
            "bench": bench,
            "label": self.label,
            "what": self.what,
            "unit": self.unit,
            "rounds": len(self.samples),
            "median": self.median if self.samples else None,
            "goal": self.goal_text,
            "met": self.met,
            "note": self.note,
        }
        if self.percentile != 50:
            record[self.statistic] = self.value if self.samples else None
        return record

    def line(self, bench: str) -> str:
        """The table row (the budget in the peer column) and its details line."""
        verdict = "met" if self.met else "NOT met"
        shown = format_value(self.value, self.unit) if self.samples else "failed"
        spread = (
            "" if self.percentile == 50 or not self.samples
            else f"; median {format_value(self.median, self.unit)} (above: {self.statistic})"
        )
        return (
            f"{bench + ': ' + self.label:<40.40} "
            f"{shown:>11} {'(budget)':>11} {'':>9}  "
            f"{self.goal_text}: {verdict}\n"
            f"{'':<4}{self.what}; {len(self.samples)} rounds{spread}"
            + (f"; {self.note}" if self.note else "")
        )


@dataclass(frozen=True)
class Benchmark:
    name: str
    default_rounds: int
    run: Callable[[int], list[Comparison | Measurement]]  # rounds -> results


# name -> (module holding BENCHMARK, one-line description), read from the feature registry.
# The description lives there, so `bench --list` imports no benchmark (nor textual, nor numpy).
REGISTRY: dict[str, tuple[str, str]] = {
    bench.name: (bench.module, bench.description) for bench in all_benchmarks()
}


def load(name: str) -> Benchmark:
    return importlib.import_module(REGISTRY[name][0]).BENCHMARK
