"""The Pi screen's view-model: the run's steps, its tally and the chart's points; no widgets.

A run throws darts step by step: a frame of `darts per frame` darts, or a burst of many. Each
finished step is logged as a Frame (first dart, how many, how many inside) together with what
it replaced, so stepping back restores the tally and the chart exactly. Darts are a pure
function of (seed, mode, dart index): the darts a frame drew are thrown again when the canvas
needs them (at most DRAW_LIMIT a frame) instead of being kept.

The `DartRun` methods that throw darts (`throw_frame`, `drawn`, `burst`) are the work the screen
runs in jobs: they read only the run's seed and mode, which never change (a new seed or mode
is a new run), so they are safe on any thread. The same work as module-level functions of plain
data (`thrown_frame`, `taken_back`) can run in a worker process, as the plain-Python mode's does.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from ...engine.montecarlo import (
    CancelFlag,
    Darts,
    Mode,
    Progress,
    Tally,
    count_inside,
    estimate_pi,
    throw_darts,
)

DRAW_LIMIT = 4000  # darts drawn per frame, the newest (all are counted)
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000,
          100_000, 200_000, 500_000, 1_000_000)  # darts per frame, walked by +/-
DEFAULT_SPEED = 10
POINTS_PER_DECADE = 64  # the convergence chart keeps about this many points per decade of n
PROGRESS_SECONDS = 0.1  # a burst reports at most ~10 times a second (bytes on an SSH link)
UNDO_STEPS = 100_000  # steps kept for stepping back (≈ 2 h of animation, ~20 MB)
MODE_ORDER = (Mode.PSEUDO, Mode.QUASI, Mode.PYTHON)
MODE_NAMES = {  # at most 32 characters: the statistics column is 37 wide at 80 columns
    Mode.PSEUDO: "pseudo-random, numpy, every core",
    Mode.QUASI: "quasi-random, Halton 2 and 3",
    Mode.PYTHON: "plain Python, one dart at a time",
}
MAX_BURST_POWER = 15  # bursts go up to 10^15 darts, as the CLI does
NO_DARTS = Darts(np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool))

Point = tuple[int, float]  # (darts, |estimate − π|)


@dataclass(frozen=True, slots=True)
class Frame:
    """Darts start … start+count−1, of which `inside` landed inside the quarter circle."""

    start: int
    count: int
    inside: int


@dataclass(frozen=True, slots=True)
class _Before:
    """What a step replaced: the tally and the chart's end (the chart only ever appends a
    point or replaces its last one, so its length and last point restore it)."""

    tally: Tally
    points_kept: int
    last_point: Point | None


@dataclass(frozen=True)
class BurstResult:
    """What a burst counted (None if cancelled before its first piece) and the darts to draw."""

    progress: Progress | None
    drawn: Darts


class DartRun:
    """The darts counted so far for one seed and mode, as a log of steps that can be undone."""

    def __init__(self, seed: int, mode: Mode) -> None:
        self.seed = seed
        self.mode = mode
        self.tally = Tally(0, 0)
        self.points: list[Point] = []
        self._steps: deque[tuple[Frame, _Before]] = deque(maxlen=UNDO_STEPS)
        self._forgotten = 0  # steps dropped from the front of the log (beyond UNDO_STEPS)
        self._before: _Before | None = None  # set while a step (a burst) is in progress

    @property
    def steps(self) -> int:
        """Steps taken (frames and bursts): the playback position."""
        return self._forgotten + len(self._steps)

    @property
    def can_undo(self) -> bool:
        return bool(self._steps)

    @property
    def last_frame(self) -> Frame | None:
        return self._steps[-1][0] if self._steps else None

    @property
    def previous_frame(self) -> Frame | None:
        """The frame before the last one: the newest once the last is taken back."""
        return self._steps[-2][0] if len(self._steps) > 1 else None

    # -- bookkeeping (UI thread) ---------------------------------------------------------

    def begin_step(self) -> None:
        """Remember what the coming step replaces (a burst shows progress before it ends)."""
        if self._before is None:
            last = self.points[-1] if self.points else None
            self._before = _Before(self.tally, len(self.points), last)

    def step_progress(self, counted: Tally) -> None:
        """The step has counted `counted` darts so far: update the tally and the chart."""
        self.begin_step()
        assert self._before is not None
        self.tally = self._before.tally + counted
        self._record_point()

    def end_step(self) -> Frame | None:
        """Log the step as one frame; None (nothing logged) when it counted no darts."""
        before, self._before = self._before, None
        if before is None or self.tally.darts == before.tally.darts:
            return None
        frame = Frame(before.tally.darts, self.tally.darts - before.tally.darts,
                      self.tally.inside - before.tally.inside)
        if len(self._steps) == self._steps.maxlen:
            self._forgotten += 1
        self._steps.append((frame, before))
        return frame

    def add(self, frame: Frame) -> None:
        """A whole frame at once (one frame of the animation)."""
        self.step_progress(Tally(frame.count, frame.inside))
        self.end_step()

    def undo(self) -> Frame | None:
        """Take back the last step: the tally and the chart as they were before it."""
        if not self._steps:
            return None
        frame, before = self._steps.pop()
        self.tally = before.tally
        del self.points[before.points_kept:]
        if before.last_point is not None:
            self.points[-1] = before.last_point
        return frame

    def _record_point(self) -> None:
        """Add (n, |error|) to the chart's series, one point per 1/POINTS_PER_DECADE decade."""
        n = self.tally.darts
        if n == 0:
            return
        point = (n, self.tally.error)
        if self.points and math.log10(n) - math.log10(self.points[-1][0]) < 1 / POINTS_PER_DECADE:
            self.points[-1] = point
        else:
            self.points.append(point)

    # -- work (any thread: reads only seed and mode) -------------------------------------

    def drawn(self, frame: Frame | None) -> Darts:
        """The darts `frame` drew: its newest DRAW_LIMIT (all of them when fewer)."""
        return drawn_darts(self.seed, self.mode, frame)

    def throw_frame(self, start: int, count: int) -> tuple[Frame, Darts]:
        """Throw darts start … start+count−1: the frame and the darts it draws."""
        return thrown_frame(self.seed, self.mode, start, count)

    def burst(self, start: int, count: int, cancel: CancelFlag,
              report: Callable[[Progress], None],
              executor: Executor | None = None) -> BurstResult:
        """Count darts start … start+count−1 on every core (or on `executor`, see
        `estimate_pi`), reporting progress; stops early (keeping an exact prefix) when
        `cancel` is set."""
        last: Progress | None = None
        reported = -math.inf
        for last in estimate_pi(count, seed=self.seed, mode=self.mode, start=start,
                                cancel=cancel, executor=executor):
            now = time.monotonic()
            if now - reported >= PROGRESS_SECONDS and not last.complete:
                reported = now
                report(last)
        counted = None if last is None else Frame(start, last.tally.darts, last.tally.inside)
        return BurstResult(last, self.drawn(counted))


def next_burst_power(darts: int) -> int:
    """k of the smallest power of ten above `darts` (10^1 at 0 darts): the next burst's size."""
    return max(1, len(str(darts)))


def duration_words(seconds: float) -> str:
    """A duration as a person says it: "<1 s", "40 s", "14 min", "2.5 h", "3.1 days"."""
    if seconds < 1:
        return "<1 s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.2g} h"
    return f"{seconds / 86400:.2g} days"


def rate_words(darts_per_second: float) -> str:
    """A rate in darts/s with two significant figures: 1.2e9 rather than 1.2e+09."""
    mantissa, _, exponent = f"{darts_per_second:.1e}".partition("e")
    return f"{mantissa}e{int(exponent)}" if darts_per_second >= 1e4 else f"{darts_per_second:.0f}"


def burst_note(power: int, count: int, darts_per_second: float | None) -> str:
    """What a burst of `count` darts (to 10^power) will take at the rate last measured."""
    if darts_per_second is None or not darts_per_second > 0:
        return (f"Burst to 10^{power}: {count:,} darts; the time left shows once the speed "
                "is measured. c cancels.")
    seconds = count / darts_per_second
    return (f"Burst to 10^{power}: about {duration_words(seconds)} at "
            f"{rate_words(darts_per_second)} darts/s. c cancels.")


# The work as plain functions of plain data, so that it can also run in a worker process.


def drawn_darts(seed: int, mode: Mode, frame: Frame | None) -> Darts:
    """The darts `frame` drew: its newest DRAW_LIMIT (all of them when fewer)."""
    if frame is None or frame.count == 0:
        return NO_DARTS
    count = min(DRAW_LIMIT, frame.count)
    return throw_darts(count, seed=seed, mode=mode, start=frame.start + frame.count - count)


def taken_back(seed: int, mode: Mode, last: Frame | None,
               previous: Frame | None) -> tuple[Darts, Darts]:
    """The darts the last frame drew (to take away) and those of the frame before it."""
    return drawn_darts(seed, mode, last), drawn_darts(seed, mode, previous)


def thrown_frame(seed: int, mode: Mode, start: int, count: int) -> tuple[Frame, Darts]:
    """Throw darts start … start+count−1: the frame and the darts it draws."""
    drawn = drawn_darts(seed, mode, Frame(start, count, 0))
    if count <= DRAW_LIMIT:
        inside = int(np.count_nonzero(drawn.inside))
    else:
        # None only when cancelled, and this count has no cancel flag.
        inside = count_inside(count, seed=seed, mode=mode, start=start) or 0
    return Frame(start, count, inside), drawn
