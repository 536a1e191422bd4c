""""Let Fortran do it": `a @ b` hands the product to the BLAS numpy was built with.

threadpoolctl reads which BLAS that is (OpenBLAS, MKL, BLIS…), the kernel it picked for this CPU
("Haswell", "SkylakeX"…) and its thread count, and sets the thread count for a while. That is
what makes 1-thread and all-threads runs, and a fair Strassen-vs-BLAS race, possible.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from .loops import Matrix, check_shapes

# OpenBLAS picks its kernel from the CPU unless this variable names one; an older kernel on a
# newer CPU is much slower (Haswell's AVX2 instead of AVX-512), so a forced choice is reported.
CORETYPE_ENV = "OPENBLAS_CORETYPE"


def blas(a: Matrix, b: Matrix) -> np.ndarray:
    """A (m×k) @ B (k×p) by the BLAS; shapes are checked first, as for every algorithm here."""
    check_shapes(a, b)
    return np.asarray(a) @ np.asarray(b)


@dataclass(frozen=True)
class BlasInfo:
    library: str  # "openblas", "mkl", "blis"… or "unknown"
    version: str | None
    architecture: str | None  # the kernel it runs, e.g. "Haswell", "SkylakeX", "Zen"
    threads: int  # threads it uses now
    threading_layer: str | None  # "pthreads", "openmp"…
    forced_by: str | None  # "OPENBLAS_CORETYPE=Haswell" when the kernel is not the library's pick

    def describe(self) -> str:
        """One line: "openblas 0.3.31 (Haswell kernel, 2 threads)"."""
        kernel = f"{self.architecture} kernel, " if self.architecture else ""
        threads = "1 thread" if self.threads == 1 else f"{self.threads} threads"
        forced = f"; forced by {self.forced_by}" if self.forced_by else ""
        version = f" {self.version}" if self.version else ""
        return f"{self.library}{version} ({kernel}{threads}{forced})"


def blas_info() -> BlasInfo:
    """The BLAS behind numpy's `@`, as threadpoolctl sees it now (threads follow any limit)."""
    np.ones((2, 2)) @ np.ones((2, 2))  # make sure numpy's BLAS is loaded before asking
    found = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    if not found:
        return BlasInfo("unknown", None, None, 1, None, None)
    pool = found[0]
    library = str(pool.get("internal_api", "unknown"))
    coretype = os.environ.get(CORETYPE_ENV, "").strip()
    forced = f"{CORETYPE_ENV}={coretype}" if coretype and library == "openblas" else None
    return BlasInfo(
        library=library,
        version=pool.get("version"),
        architecture=pool.get("architecture"),
        threads=int(pool.get("num_threads", 1)),
        threading_layer=pool.get("threading_layer"),
        forced_by=forced,
    )


@contextmanager
def limit_threads(threads: int | None) -> Iterator[int]:
    """Run the block with the BLAS limited to `threads` (None: leave it as it is); yields the
    thread count in force inside."""
    if threads is None:
        yield blas_info().threads
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a whole number of at least 1, not {threads!r}")
    with threadpool_limits(limits=threads, user_api="blas"):
        yield blas_info().threads
