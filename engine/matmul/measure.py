"""How good and how fast a product is: its error against float64, GFLOP/s, and this machine's
peak (what a BLAS run at a large size reaches), so every algorithm reads as a fraction of it.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .blas import blas_info, limit_threads
from .loops import Matrix, check_shapes

DTYPES: dict[str, np.dtype] = {"f64": np.dtype(np.float64), "f32": np.dtype(np.float32)}
PEAK_N = 2048  # large enough that BLAS runs at full speed, small enough to take ~0.1 s a call

_peaks: dict[tuple[str, int, int], float] = {}
_faster: dict[tuple[str, int], float] = {}  # the best BLAS rate seen per (dtype, threads)


def parse_dtype(dtype: str | np.dtype | type) -> np.dtype:
    """"f64"/"f32" (or anything numpy reads as float64/float32) → the numpy dtype."""
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype]
    try:
        resolved = None if dtype is None else np.dtype(dtype)  # np.dtype(None) is float64
    except TypeError:
        resolved = None
    if resolved is None or resolved not in DTYPES.values():
        raise ValueError(f"dtype must be f64 or f32, not {dtype!r}")
    return resolved


def dtype_name(dtype: str | np.dtype | type) -> str:
    """"f64" or "f32"."""
    resolved = parse_dtype(dtype)
    return next(name for name, value in DTYPES.items() if value == resolved)


def reference(a: Matrix, b: Matrix) -> np.ndarray:
    """A @ B computed in float64 by the BLAS: the answer every result is compared with."""
    check_shapes(a, b)
    return np.asarray(a, dtype=np.float64) @ np.asarray(b, dtype=np.float64)


def relative_error(c: Matrix, a: Matrix, b: Matrix, ref: np.ndarray | None = None) -> float:
    """max|C − C_ref| / (max|A| · max|B| · k) for an m×k by k×p product.

    The denominator bounds every entry of |A||B| (each is a sum of k products of at most
    max|A|·max|B|), so this is the error relative to the size of the numbers summed, not of
    the result: a result near 0 by cancellation does not inflate it. Rounding in float64 gives
    ~1e-16 here, float32 ~1e-8; Strassen's extra additions show as a larger value. C_ref is
    float64 BLAS (pass `ref` to reuse one), so float64 BLAS measures 0 against itself.
    """
    m, k, p = check_shapes(a, b)
    result = np.asarray(c, dtype=np.float64)
    if result.shape != (m, p):
        raise ValueError(f"the result is {result.shape}, expected ({m}, {p})")
    if m == 0 or p == 0:
        return 0.0
    expected = reference(a, b) if ref is None else ref
    worst = float(np.max(np.abs(result - expected)))
    a64, b64 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = (float(np.max(np.abs(a64))) if a64.size else 0.0) * (
        float(np.max(np.abs(b64))) if b64.size else 0.0) * k
    if scale == 0.0:  # A or B all zeros: any nonzero entry of C is simply wrong
        return 0.0 if worst == 0.0 else math.inf
    return worst / scale


def gflops(n: int, m: int, k: int, seconds: float) -> float:
    """Billions of floating-point operations per second for an n×k by k×m product: 2·n·m·k
    operations (a multiply and an add per term), whatever the algorithm actually did.

    Strassen does fewer; its rate on this scale is its "effective" rate. NaN for 0 seconds.
    """
    if seconds < 0:
        raise ValueError(f"seconds must not be negative, not {seconds}")
    if seconds == 0:
        return math.nan
    return 2.0 * n * m * k / seconds / 1e9


def machine_peak(dtype: str | np.dtype | type = "f64", threads: int | None = None,
                 seconds: float = 1.0, n: int = PEAK_N) -> float:
    """GFLOP/s of float `dtype` that this machine reaches: the best of BLAS runs at n×n for
    about `seconds` (after one warm-up), with the BLAS limited to `threads` (None: all).

    Measured once per (dtype, threads, n) in this process; later calls return the same number,
    raised by any faster BLAS run seen since (note_peak): a peak first taken while other work
    held the cores must not leave BLAS at "700% of peak" for the rest of the session.
    """
    resolved = parse_dtype(dtype)
    if threads is None:
        threads = blas_info().threads  # "all threads" and an explicit count share one entry
    key = (resolved.name, threads, n)
    if key not in _peaks:
        rng = np.random.default_rng(0)
        a = rng.random((n, n)).astype(resolved)
        b = rng.random((n, n)).astype(resolved)
        c = np.empty((n, n), dtype=resolved)  # reused: no page faults inside the timed calls
        best = math.inf
        with limit_threads(threads):
            np.matmul(a, b, out=c)  # warm-up: thread start-up and first touch of c
            deadline = time.perf_counter() + seconds
            while True:
                began = time.perf_counter()
                np.matmul(a, b, out=c)
                best = min(best, time.perf_counter() - began)
                if time.perf_counter() >= deadline:
                    break
        _peaks[key] = max(gflops(n, n, n, best), _faster.get(key[:2], 0.0))
    return max(_peaks[key], _faster.get(key[:2], 0.0))


def note_peak(dtype: str | np.dtype | type, threads: int, rate: float) -> None:
    """A BLAS run of `rate` GFLOP/s at `threads` threads: the machine can do at least that."""
    key = (parse_dtype(dtype).name, threads)
    if math.isfinite(rate) and rate > _faster.get(key, 0.0):
        _faster[key] = rate
