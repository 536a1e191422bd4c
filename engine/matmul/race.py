"""The race: every algorithm on the same seeded n×n inputs, timed, as GFLOP/s, as a fraction of
this machine's peak, and with its error against float64 — plain data for the screen and CLI.

Pure Python cannot finish n = 4096 in a lifetime (the naive loop at ~40 ns a term would take
~45 minutes, and i-k-j about as long), so past `max_n` its time is estimated: the loop is
timed at a few small sizes, t = c·n³ is fitted to them, and the result says `estimated=True`
(with no error: nothing was computed).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .blas import blas, limit_threads
from .loops import (
    CancelCheck,
    Cancelled,
    ProgressReport,
    blocked,
    check_tile,
    checkpoint,
    ikj,
    naive_ijk,
    progress_part,
)
from .measure import (
    dtype_name,
    gflops,
    machine_peak,
    note_peak,
    parse_dtype,
    reference,
    relative_error,
)
from .tiled import numpy_tiled

__all__ = ["ALGORITHMS", "Algorithm", "Cancelled", "Result", "run_algorithm", "run_race"]

MAX_N = 8192  # three float64 matrices of 8192² are 1.5 GiB; larger is refused
PURE_PYTHON_MAX_N = 256  # ~1 s for the naive loop here; beyond it, an n³ estimate
FIT_SIZES = (64, 96, 128)  # what the estimate is fitted to: ~0.4 s of loops in all
FIT_REPEATS = 2
DEFAULT_TILE = 64
FAST_REPEAT_SECONDS = 0.2  # fast runs repeat (best time kept) until this much time is spent
MIN_REPEATS, MAX_REPEATS = 3, 50
LONG_SECONDS = 3.0  # ...but a size this slow is timed once or twice: n = 8192 takes seconds


@dataclass(frozen=True)
class Algorithm:
    name: str
    label: str
    max_n: int  # the largest n really run; a pure-Python loop beyond it is estimated
    pure_python: bool
    summary: str


ALGORITHMS: dict[str, Algorithm] = {
    algorithm.name: algorithm
    for algorithm in (
        Algorithm("naive", "naive i-j-k", PURE_PYTHON_MAX_N, True,
                  "the seed's triple loop over Python lists"),
        Algorithm("ikj", "i-k-j order", PURE_PYTHON_MAX_N, True,
                  "the same loop, rows of B walked in order"),
        Algorithm("blocked", "blocked loops", PURE_PYTHON_MAX_N, True,
                  "cache-blocked loops in pure Python"),
        Algorithm("tiled", "numpy tiles", MAX_N, False,
                  "blocked with numpy tile products"),
        Algorithm("strassen", "Strassen", MAX_N, False,
                  "seven products per level, BLAS leaves"),
        Algorithm("blas", "BLAS (a @ b)", MAX_N, False,
                  "numpy's @: the BLAS library"),
    )
}


@dataclass(frozen=True)
class Result:
    """One algorithm at one size. `threads` is the BLAS thread limit the run had (the pure
    Python loops use one thread whatever it is); `fraction_of_peak` compares with the machine's
    peak at that many threads. `error` is measure.relative_error, None when estimated."""

    algo: str
    n: int
    dtype: str  # "f64" or "f32"
    threads: int
    seconds: float
    gflops: float
    fraction_of_peak: float
    error: float | None
    estimated: bool
    tile: int | None = None  # blocked and tiled only
    cutoff: int | None = None  # strassen only

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_size(n: int, what: str = "n") -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_N:
        raise ValueError(f"{what} must be a whole number from 1 to {MAX_N}, not {n!r}")


def make_inputs(n: int, dtype: str | np.dtype = "f64", seed: int = 0
                ) -> tuple[np.ndarray, np.ndarray]:
    """Two n×n matrices of uniform numbers in [-1, 1): signed, so sums cancel as in real use."""
    rng = np.random.default_rng(seed)
    resolved = parse_dtype(dtype)
    return (rng.uniform(-1.0, 1.0, (n, n)).astype(resolved),
            rng.uniform(-1.0, 1.0, (n, n)).astype(resolved))


def fit_n3(points: Sequence[tuple[int, float]]) -> float:
    """c in t ≈ c·n³ from measured (n, seconds) points: the geometric mean of t/n³, so every
    size counts alike and one slow outlier does not dominate."""
    usable = [(n, t) for n, t in points if n > 0 and t > 0]
    if not usable:
        raise ValueError("an n³ fit needs at least one timed run")
    return math.exp(sum(math.log(t / n**3) for n, t in usable) / len(usable))


_fits: dict[tuple[str, str, int], float] = {}


def _pure_python(name: str, tile: int) -> Callable[..., list[list[Any]]]:
    if name == "naive":
        return naive_ijk
    if name == "ikj":
        return ikj
    return lambda a, b, **hooks: blocked(a, b, tile, **hooks)


def _n3_coefficient(name: str, dtype: str, tile: int, seed: int,
                    cancel: CancelCheck | None, progress: ProgressReport | None) -> float:
    """Time the loop at FIT_SIZES (once per process and settings) and fit c·n³."""
    key = (name, dtype, tile)
    if key not in _fits:
        loop = _pure_python(name, tile)
        total = sum(n**3 for n in FIT_SIZES)
        done, points = 0, []
        for n in FIT_SIZES:
            a, b = (matrix.tolist() for matrix in make_inputs(n, dtype, seed))
            best = math.inf
            for _ in range(FIT_REPEATS):  # the best of a few: a busy machine only slows runs
                began = time.perf_counter()
                loop(a, b, cancel=cancel)
                best = min(best, time.perf_counter() - began)
            points.append((n, best))
            done += n**3
            checkpoint(done, total, cancel, progress)
        _fits[key] = fit_n3(points)
    return _fits[key]


def _best_time(run: Callable[[], np.ndarray], cancel: CancelCheck | None
               ) -> tuple[float, np.ndarray]:
    """The best of repeated runs of a fast algorithm: at least MIN_REPEATS (a busy machine's
    one slow run is not the answer) and FAST_REPEAT_SECONDS, unless LONG_SECONDS pass first."""
    best, spent, result = math.inf, 0.0, None
    for repeat in range(1, MAX_REPEATS + 1):
        began = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - began
        best, spent = min(best, seconds), spent + seconds
        if spent >= LONG_SECONDS or (repeat >= MIN_REPEATS and spent >= FAST_REPEAT_SECONDS):
            break
        checkpoint(0, 1, cancel, None)
    assert result is not None
    return best, result


def run_algorithm(name: str, n: int, dtype: str | np.dtype = "f64", threads: int | None = None,
                  seed: int = 0, tile: int = DEFAULT_TILE, cutoff: int | None = None,
                  cancel: CancelCheck | None = None, progress: ProgressReport | None = None,
                  peak: float | None = None) -> Result:
    """Run algorithm `name` on seeded n×n inputs and measure it.

    `threads`: BLAS threads (None: all). `tile` for blocked/tiled, `cutoff` for Strassen
    (None: its default). `cancel()` is checked per row / tile / repeat (raises Cancelled);
    `progress(fraction)` reports along the way. `peak` (GFLOP/s) skips measuring the
    machine's peak. Pure-Python loops beyond their max n are estimated (see the module).
    """
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; choose one of: {', '.join(ALGORITHMS)}")
    check_size(n)
    check_tile(tile)
    if cutoff is not None:
        _check_cutoff(cutoff)
    algorithm, dtype = ALGORITHMS[name], dtype_name(dtype)
    if name == "strassen" and cutoff is None:
        from .strassen import DEFAULT_CUTOFF

        cutoff = DEFAULT_CUTOFF  # reported as run, not as "default"
    with limit_threads(threads) as used_threads:
        if algorithm.pure_python and n > algorithm.max_n:
            seconds = _n3_coefficient(name, dtype, tile, seed, cancel, progress) * n**3
            error = None
        else:
            seconds, error = _measure(name, n, dtype, seed, tile, cutoff, cancel, progress)
    rate = gflops(n, n, n, seconds)
    if name == "blas":  # a BLAS run is itself a measure of what the machine can do
        note_peak(dtype, used_threads, rate)
    top = peak if peak is not None else machine_peak(dtype, used_threads)
    return Result(
        algo=name, n=n, dtype=dtype, threads=used_threads, seconds=seconds, gflops=rate,
        fraction_of_peak=rate / top if top > 0 else math.nan, error=error,
        estimated=algorithm.pure_python and n > algorithm.max_n,
        tile=tile if name in ("blocked", "tiled") else None,
        cutoff=cutoff if name == "strassen" else None,
    )


def _check_cutoff(cutoff: int) -> None:
    if isinstance(cutoff, bool) or not isinstance(cutoff, int) or cutoff < 1:
        raise ValueError(f"the Strassen cutoff must be a whole number of at least 1, "
                         f"not {cutoff!r}")


def _measure(name: str, n: int, dtype: str, seed: int, tile: int, cutoff: int | None,
             cancel: CancelCheck | None, progress: ProgressReport | None
             ) -> tuple[float, float]:
    """(best seconds, relative error) of one real run (pure Python: one run, lists made first)."""
    a, b = make_inputs(n, dtype, seed)
    if ALGORITHMS[name].pure_python:
        a_rows, b_rows = a.tolist(), b.tolist()  # outside the timed part
        began = time.perf_counter()
        rows = _pure_python(name, tile)(a_rows, b_rows, cancel=cancel, progress=progress)
        seconds = time.perf_counter() - began
        c = np.array(rows, dtype=np.float64)  # Python sums in float64 whatever the input
    else:
        seconds, c = _best_time(_fast_runner(name, a, b, tile, cutoff, cancel), cancel)
        if progress is not None:
            progress(1.0)
    return seconds, relative_error(c, a, b, reference(a, b))


def _fast_runner(name: str, a: np.ndarray, b: np.ndarray, tile: int, cutoff: int | None,
                 cancel: CancelCheck | None) -> Callable[[], np.ndarray]:
    """The call that `_best_time` repeats for a numpy-based algorithm."""
    if name == "tiled":
        return lambda: numpy_tiled(a, b, tile, cancel=cancel)
    if name == "strassen":
        from .strassen import Workspace, strassen

        workspace = Workspace()  # reused by the repeats, as a caller in a loop would
        if cutoff is None:
            return lambda: strassen(a, b, workspace=workspace)
        return lambda: strassen(a, b, cutoff, workspace=workspace)
    return lambda: blas(a, b)


def run_race(names: Sequence[str], n: int, **options: Any) -> Iterator[Result]:
    """run_algorithm for each name in turn (same inputs, same options), yielding each result
    as it is ready; `progress` (if given) sees one fraction for the whole race."""
    progress: ProgressReport | None = options.pop("progress", None)
    for index, name in enumerate(names):
        yield run_algorithm(name, n, progress=progress_part(progress, index, len(names)), **options)
