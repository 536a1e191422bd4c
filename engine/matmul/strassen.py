"""Strassen's matrix multiplication: seven half-size products instead of eight, recursively.

Split A (m×k) and B (k×p) into 2×2 quadrants. The schoolbook product needs the eight quadrant
products A_ik·B_kj; Strassen (1969) found seven products of sums of quadrants that combine into C
with additions only. Applied k levels deep it does 7^k block products instead of 8^k, so the
work falls from n³ to n^log2(7) ≈ n^2.807 — at the price of extra additions (memory passes) and
a weaker error bound, which `microgpt-tui bench matmul` measures rather than hides.

How this version is built to be fast with numpy (each point is a measured effect, not a guess):
* The leaves are BLAS (`np.matmul(x, y, out=...)`, written straight into C's quadrant views):
  below `cutoff` (or after `levels` levels) the library's GEMM beats another level of additions.
* Winograd's variant (the default) needs 15 quadrant additions per level instead of 18, and the
  schedule below (Boyer, Dumas, Pernet and Zhou, 2009) runs it with two temporaries (three for
  non-square shapes), keeping four of the seven products in C's own quadrants until used.
* Quadrants are views, not copies, and every addition is in place (`np.add(x, y, out=...)`).
* Temporaries come from a `Workspace`: allocated once per depth and reused by all the
  sub-products at that depth. New memory is expensive here — faulting in the 256 MiB of
  temporaries for n = 8192 costs ~0.3 s on this VM, most of what a level saves — so a caller
  that multiplies repeatedly passes the same Workspace, as OpenBLAS keeps its packing buffers.
* The call runs its own threads: BLAS single-threaded in each, every leaf product and every
  addition cut into row bands run at once (one band per core). With OpenBLAS's own threads,
  its idle workers spin for a while after each product and hold the second core through the
  additions that follow; at n = 8192 this way is ~6% faster. (Small products keep BLAS's
  threads: there, waking our threads costs more than the spinning does.)
* Odd sizes are peeled, not padded: the even core recurses and the leftover row, column or
  rank-1 term is a thin BLAS product (O(n²) work), so no operand is ever copied.

The schemes are also described as data (`WINOGRAD`, `STRASSEN`: names and formulas) for the
Strassen view, and the classic scheme is run straight from that data, so the picture on the
screen is the arithmetic that runs.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
from threadpoolctl import ThreadpoolController

# Leaves at or below this size go to BLAS. Measured on this machine (2 cores, OpenBLAS's own
# SkylakeX kernel at ~205 GFLOP/s): at 8192, two levels (leaves of 2048) 1.15× BLAS, one level
# 1.09×, three 1.08×; at 4096 one level is 0.97× (its additions cost what the product saved).
DEFAULT_CUTOFF = 2048
PEEL_ROWS = 256  # rows per chunk of the rank-1 fix-up for an odd inner dimension
PARALLEL_MIN_ELEMENTS = 1 << 18  # below this an addition is too short to share between threads
# Below this C size the call keeps BLAS's own threads. Waking a thread of ours costs tens of µs
# on this VM (OpenBLAS's idle workers spin instead of sleeping), and small products need many
# wake-ups: measured, own threads are 0.45× BLAS at 1024 and 0.74× at 2048 (BLAS's threads:
# 0.84× and 0.90×), but 1.00× at 3072 and 1.01× at 4096 (0.92×, 0.96×).
OWN_THREADS_MIN_ELEMENTS = 2560 * 2560


# --- the schemes as data ------------------------------------------------------------------


@dataclass(frozen=True)
class Combination:
    """`name = ±term ±term …`: a sum of quadrants, of earlier sums, or of products."""

    name: str
    terms: tuple[tuple[int, str], ...]  # (+1 or -1, operand name)

    @property
    def expression(self) -> str:
        text = ""
        for index, (sign, operand) in enumerate(self.terms):
            if index == 0:
                text = operand if sign > 0 else f"−{operand}"
            else:
                text += f" {'+' if sign > 0 else '−'} {operand}"
        return text

    @property
    def formula(self) -> str:
        return f"{self.name} = {self.expression}"

    @property
    def additions(self) -> int:
        return len(self.terms) - 1


@dataclass(frozen=True)
class Product:
    """`name = left · right`, one of the seven half-size multiplications."""

    name: str
    left: str  # an A quadrant or an A-side sum
    right: str  # a B quadrant or a B-side sum

    @property
    def formula(self) -> str:
        return f"{self.name} = {self.left}·{self.right}"


@dataclass(frozen=True)
class Scheme:
    """One level of a seven-product scheme: the sums, the products, C's assembly."""

    name: str
    sums: tuple[Combination, ...]  # A-side and B-side, in the order they are computed
    products: tuple[Product, ...]
    assembly: tuple[Combination, ...]  # shared partial sums first, then C11, C12, C21, C22

    @property
    def additions(self) -> int:
        return sum(step.additions for step in self.sums + self.assembly)

    @property
    def multiplications(self) -> int:
        return len(self.products)

    def expanded(self, name: str) -> dict[str, int]:
        """A sum written over the quadrants (or a partial sum over the products): name → sign."""
        steps = {step.name: step for step in self.sums + self.assembly}
        if name not in steps:
            return {name: 1}
        total: dict[str, int] = {}
        for sign, operand in steps[name].terms:
            for inner, coefficient in self.expanded(operand).items():
                total[inner] = total.get(inner, 0) + sign * coefficient
        return {operand: total[operand] for operand in sorted(total) if total[operand] != 0}

    def expanded_formula(self, name: str) -> str:
        """`M4 = A22·(B11 − B12 − B21 + B22)` or `C12 = M1 + M3 + M5 + M6`: sums written out
        over the quadrants (products) in name order, for the Strassen view."""
        product = next((p for p in self.products if p.name == name), None)
        if product is None:
            return Combination(name, _terms(self.expanded(name))).formula

        def factor(operand: str) -> str:
            text = Combination("", _terms(self.expanded(operand))).expression
            return f"({text})" if " " in text else text

        return f"{name} = {factor(product.left)}·{factor(product.right)}"


def _terms(coefficients: dict[str, int]) -> tuple[tuple[int, str], ...]:
    """Signed terms from coefficients: {"A11": 1, "A22": -2} → +A11 −A22 −A22."""
    return tuple((1 if c > 0 else -1, operand) for operand, c in coefficients.items()
                 for _ in range(abs(c)))


def _sum(name: str, text: str) -> Combination:
    """`_sum("S1", "A21 + A22")`: parse a short signed sum (ASCII '-' for minus)."""
    tokens = text.split()
    signs, operands = tokens[1::2], tokens[2::2]
    terms = [(1, tokens[0])] + [
        (1 if op == "+" else -1, operand) for op, operand in zip(signs, operands, strict=True)
    ]
    return Combination(name, tuple(terms))


# Winograd's variant: 8 sums, 7 products, 7 assembly additions = 15 additions per level.
WINOGRAD = Scheme(
    name="Strassen–Winograd",
    sums=(
        _sum("S1", "A21 + A22"),
        _sum("S2", "S1 - A11"),
        _sum("S3", "A11 - A21"),
        _sum("S4", "A12 - S2"),
        _sum("T1", "B12 - B11"),
        _sum("T2", "B22 - T1"),
        _sum("T3", "B22 - B12"),
        _sum("T4", "T2 - B21"),
    ),
    products=(
        Product("M1", "A11", "B11"),
        Product("M2", "A12", "B21"),
        Product("M3", "S4", "B22"),
        Product("M4", "A22", "T4"),
        Product("M5", "S1", "T1"),
        Product("M6", "S2", "T2"),
        Product("M7", "S3", "T3"),
    ),
    assembly=(
        _sum("U2", "M1 + M6"),
        _sum("U3", "U2 + M7"),
        _sum("U4", "U2 + M5"),
        _sum("C11", "M1 + M2"),
        _sum("C12", "U4 + M3"),
        _sum("C21", "U3 - M4"),
        _sum("C22", "U3 + M5"),
    ),
)

# Strassen's original: 10 sums, 7 products, 8 assembly additions = 18 additions per level.
STRASSEN = Scheme(
    name="Strassen",
    sums=(
        _sum("S1", "A11 + A22"),
        _sum("S2", "A21 + A22"),
        _sum("S3", "A11 + A12"),
        _sum("S4", "A21 - A11"),
        _sum("S5", "A12 - A22"),
        _sum("T1", "B11 + B22"),
        _sum("T2", "B12 - B22"),
        _sum("T3", "B21 - B11"),
        _sum("T4", "B11 + B12"),
        _sum("T5", "B21 + B22"),
    ),
    products=(
        Product("M1", "S1", "T1"),
        Product("M2", "S2", "B11"),
        Product("M3", "A11", "T2"),
        Product("M4", "A22", "T3"),
        Product("M5", "S3", "B22"),
        Product("M6", "S4", "T4"),
        Product("M7", "S5", "T5"),
    ),
    assembly=(
        _sum("C11", "M1 + M4 - M5 + M7"),
        _sum("C12", "M3 + M5"),
        _sum("C21", "M2 + M4"),
        _sum("C22", "M1 - M2 + M3 + M6"),
    ),
)


def scheme(winograd: bool = True) -> Scheme:
    return WINOGRAD if winograd else STRASSEN


@dataclass(frozen=True)
class MultiplicationCount:
    """Block products after `levels` levels: Strassen's 7^k against the schoolbook's 8^k."""

    levels: int
    strassen: int
    classical: int

    @property
    def fraction(self) -> float:
        """Strassen's share of the schoolbook's multiplications, (7/8)^k."""
        return self.strassen / self.classical

    def scalar(self, n: int) -> tuple[int, int]:
        """Scalar multiplications for n×n (leaves of ⌈n/2^k⌉, schoolbook inside): ours, n³."""
        leaf = -(-n // 2**self.levels)
        return self.strassen * leaf**3, n**3


def levels_for(m: int, k: int, p: int, cutoff: int = DEFAULT_CUTOFF,
               levels: int | None = None) -> int:
    """How many levels `strassen` does for an m×k by k×p product (its stopping rule)."""
    depth = 0
    while min(m, k, p) > cutoff and depth != levels:
        m, k, p, depth = m // 2, k // 2, p // 2, depth + 1  # halves of the even core
    return depth


def multiplications(levels: int) -> MultiplicationCount:
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 0:
        raise ValueError(f"levels must be a whole number ≥ 0, got {levels!r}")
    return MultiplicationCount(levels, 7**levels, 8**levels)


# --- the multiplication -------------------------------------------------------------------


class Workspace:
    """Temporaries by (depth, role), allocated on first use and reused from then on.

    All seven sub-products at one depth have the same shapes, so one set of buffers per depth
    serves the whole recursion. Passing the same Workspace to repeated calls of the same size
    also skips the allocation (and its page faults) after the first call.
    """

    def __init__(self) -> None:
        self._buffers: dict[tuple[int, str], np.ndarray] = {}

    def buffer(self, depth: int, role: str, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
        found = self._buffers.get((depth, role))
        if found is None or found.shape != shape or found.dtype != dtype:
            found = np.empty(shape, dtype)
            self._buffers[(depth, role)] = found
        return found

    @property
    def nbytes(self) -> int:
        return sum(buffer.nbytes for buffer in self._buffers.values())


def strassen(
    a: np.ndarray,
    b: np.ndarray,
    cutoff: int = DEFAULT_CUTOFF,
    levels: int | None = None,
    winograd: bool = True,
    workspace: Workspace | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """A @ B by Strassen's recursion with BLAS leaves.

    Recursion stops at whichever comes first: the smallest dimension is at most `cutoff`, or
    `levels` levels have been done (None: no limit). `cutoff=1, levels=k` forces k levels.
    Any shapes: odd dimensions are peeled, empty ones give zeros. Integer inputs stay exact
    (wrapping like numpy's own product); booleans and non-numeric arrays are refused.
    `threads`: the cores the call uses (None: as many as the BLAS uses now, so a comparison
    with `a @ b` is like for like). BLAS is limited to one thread for the call, and each leaf
    product and addition is split into that many row bands run in parallel. The limit is
    process-wide while the call runs (threadpoolctl), as any BLAS thread setting is. With
    None, products smaller than 2560² keep BLAS's own threads instead (see the constants).
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"strassen multiplies 2-D matrices; got shapes {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(
            f"cannot multiply shapes {a.shape} and {b.shape}: "
            f"inner dimensions {a.shape[1]} and {b.shape[0]} differ"
        )
    if isinstance(cutoff, bool) or not isinstance(cutoff, int) or cutoff < 1:
        raise ValueError(f"cutoff must be a whole number ≥ 1, got {cutoff!r}")
    if levels is not None and (isinstance(levels, bool) or not isinstance(levels, int)
                               or levels < 0):
        raise ValueError(f"levels must be a whole number ≥ 0 or None, got {levels!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise ValueError(f"threads must be a whole number ≥ 1 or None, got {threads!r}")
    dtype = np.result_type(a, b)
    if dtype == np.bool_ or dtype.kind not in "iufc":
        raise ValueError(f"strassen needs numeric matrices (int, float, complex), got {dtype}")
    a, b = a.astype(dtype, copy=False), b.astype(dtype, copy=False)
    out = np.empty((a.shape[0], b.shape[1]), dtype)
    if out.size == 0:
        return out
    if a.shape[1] == 0:
        out.fill(0)
        return out
    scheme = WINOGRAD if winograd else STRASSEN
    workspace = workspace if workspace is not None else Workspace()
    if threads is None and out.size < OWN_THREADS_MIN_ELEMENTS:
        # Small products keep BLAS's own threads, and the additions stay in this thread.
        _Plan(cutoff, levels, scheme, workspace, None, 1).multiply(a, b, out, depth=0)
        return out
    threads = blas_threads() if threads is None else threads
    # This call drives its cores itself: BLAS runs single-threaded inside it, and every leaf
    # product and every addition is cut into `threads` row bands run at once. Left to its own
    # threads, OpenBLAS's idle workers spin for a while after each product and hold the other
    # core through the additions that follow, so the additions would run on one core.
    with (_blas_controller().limit(limits=1),
          ThreadPoolExecutor(threads - 1) if threads > 1 else nullcontext() as pool):
        _Plan(cutoff, levels, scheme, workspace, pool, threads).multiply(a, b, out, depth=0)
    return out


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """numpy's BLAS as threadpoolctl sees it, found once: a fresh `threadpool_limits` scans
    every loaded library (~0.7 ms a call); limiting through this one takes ~10 µs."""
    np.ones((2, 2)) @ np.ones((2, 2))  # make sure the BLAS is loaded before the scan
    return ThreadpoolController().select(user_api="blas")


def blas_threads() -> int:
    """The thread count of the BLAS numpy uses now (1 if threadpoolctl finds none)."""
    return max((pool["num_threads"] for pool in _blas_controller().info()), default=1)


@dataclass
class _Plan:
    cutoff: int
    levels: int | None
    scheme: Scheme
    workspace: Workspace
    pool: ThreadPoolExecutor | None
    threads: int

    def apply(self, ufunc: np.ufunc, x: np.ndarray, y: np.ndarray, out: np.ndarray) -> None:
        """out = ufunc(x, y) in place, in row bands over the threads (see `split`)."""
        self.split(lambda rows: ufunc(x[rows], y[rows], out=out[rows]), out)

    def split(self, work: Callable[[slice], object], out: np.ndarray) -> None:
        """Run work(rows) on `self.threads` bands of out's rows at once (one band if small).

        Every band covers the same rows of all operands, so in-place steps (out is an input)
        stay correct. numpy's ufuncs and single-threaded BLAS calls release the GIL, so the
        bands really run on separate cores.
        """
        rows = out.shape[0]
        bands = min(self.threads, rows) if out.size >= PARALLEL_MIN_ELEMENTS else 1
        if self.pool is None or bands <= 1:
            work(slice(None))
            return
        bounds = [rows * band // bands for band in range(bands + 1)]
        pieces = [slice(start, stop) for start, stop in itertools.pairwise(bounds)]
        futures = [self.pool.submit(work, piece) for piece in pieces[1:]]
        work(pieces[0])
        for future in futures:
            future.result()

    def multiply(self, a: np.ndarray, b: np.ndarray, out: np.ndarray, depth: int) -> None:
        """out[...] = a @ b, recursing while the sizes and the depth allow it."""
        m, k = a.shape
        p = b.shape[1]
        if min(m, k, p) <= self.cutoff or depth == self.levels:  # a leaf: BLAS, in row bands
            self.split(lambda rows: np.matmul(a[rows], b, out=out[rows]), out)
            return
        m2, k2, p2 = m & ~1, k & ~1, p & ~1  # the even core; the rest is peeled off below
        core = out[:m2, :p2]
        if self.scheme is WINOGRAD:
            self.winograd_level(a[:m2, :k2], b[:k2, :p2], core, depth)
        else:
            self.scheme_level(a[:m2, :k2], b[:k2, :p2], core, depth)
        if k2 < k:  # odd inner dimension: add the last column of A times the last row of B
            self.add_rank_one(a[:m2, k2], b[k2, :p2], core, depth)
        if m2 < m:  # odd rows: the last row of C is one vector-matrix product
            np.matmul(a[m2:], b, out=out[m2:])
        if p2 < p:  # odd columns: the last column of C is one matrix-vector product
            np.matmul(a[:m2], b[:, p2:], out=out[:m2, p2:])

    def add_rank_one(self, column: np.ndarray, row: np.ndarray, out: np.ndarray,
                     depth: int) -> None:
        """out += column ⊗ row, in chunks of rows so the temporary stays small."""
        rows = min(PEEL_ROWS, out.shape[0])
        scratch = self.workspace.buffer(depth, "peel", (rows, out.shape[1]), out.dtype)
        for start in range(0, out.shape[0], rows):
            stop = min(start + rows, out.shape[0])
            chunk = scratch[: stop - start]
            np.multiply(column[start:stop, None], row[None, :], out=chunk)
            np.add(out[start:stop], chunk, out=out[start:stop])

    def winograd_level(self, a: np.ndarray, b: np.ndarray, c: np.ndarray, depth: int) -> None:
        """One level of Strassen–Winograd in 22 steps with two temporaries X and Y (and Z).

        The order is Boyer–Dumas–Pernet–Zhou's: C's quadrants hold products until they are
        needed, so only one A-side sum (X), one B-side sum (Y) and M1 (Z) need buffers.
        """
        mh, kh, ph = a.shape[0] // 2, a.shape[1] // 2, b.shape[1] // 2
        a11, a12, a21, a22 = a[:mh, :kh], a[:mh, kh:], a[mh:, :kh], a[mh:, kh:]
        b11, b12, b21, b22 = b[:kh, :ph], b[:kh, ph:], b[kh:, :ph], b[kh:, ph:]
        c11, c12, c21, c22 = c[:mh, :ph], c[:mh, ph:], c[mh:, :ph], c[mh:, ph:]
        x = self.workspace.buffer(depth, "X", (mh, kh), a.dtype)
        y = self.workspace.buffer(depth, "Y", (kh, ph), a.dtype)
        # M1 is computed once S4 (in X) has been used: X can hold it when the shapes agree,
        # which saves a third of the fresh memory (and its page faults) for square inputs.
        z = x if kh == ph else self.workspace.buffer(depth, "Z", (mh, ph), a.dtype)
        below = depth + 1
        self.apply(np.subtract, a11, a21, x)  # S3
        self.apply(np.subtract, b22, b12, y)  # T3
        self.multiply(x, y, c21, below)  # M7 = S3·T3
        self.apply(np.add, a21, a22, x)  # S1
        self.apply(np.subtract, b12, b11, y)  # T1
        self.multiply(x, y, c22, below)  # M5 = S1·T1
        self.apply(np.subtract, x, a11, x)  # S2 = S1 − A11
        self.apply(np.subtract, b22, y, y)  # T2 = B22 − T1
        self.multiply(x, y, c12, below)  # M6 = S2·T2
        self.apply(np.subtract, a12, x, x)  # S4 = A12 − S2
        self.multiply(x, b22, c11, below)  # M3 = S4·B22
        self.multiply(a11, b11, z, below)  # M1 = A11·B11
        self.apply(np.add, z, c12, c12)  # U2 = M1 + M6
        self.apply(np.add, c12, c21, c21)  # U3 = U2 + M7
        self.apply(np.add, c12, c22, c12)  # U4 = U2 + M5
        self.apply(np.add, c21, c22, c22)  # C22 = U3 + M5
        self.apply(np.add, c12, c11, c12)  # C12 = U4 + M3
        self.apply(np.subtract, y, b21, y)  # T4 = T2 − B21
        self.multiply(a22, y, c11, below)  # M4 = A22·T4
        self.apply(np.subtract, c21, c11, c21)  # C21 = U3 − M4
        self.multiply(a12, b21, c11, below)  # M2 = A12·B21
        self.apply(np.add, z, c11, c11)  # C11 = M1 + M2

    def scheme_level(self, a: np.ndarray, b: np.ndarray, c: np.ndarray, depth: int) -> None:
        """One level run straight from the scheme's data (the classic 18-addition Strassen).

        Each product's operands are summed into X and Y, multiplied into Z, and Z is added into
        every quadrant of C that uses it: simple and faithful to the formulas, not the fastest.
        """
        mh, kh, ph = a.shape[0] // 2, a.shape[1] // 2, b.shape[1] // 2
        blocks = {
            "A11": a[:mh, :kh], "A12": a[:mh, kh:], "A21": a[mh:, :kh], "A22": a[mh:, kh:],
            "B11": b[:kh, :ph], "B12": b[:kh, ph:], "B21": b[kh:, :ph], "B22": b[kh:, ph:],
        }
        quadrants = {"C11": c[:mh, :ph], "C12": c[:mh, ph:], "C21": c[mh:, :ph],
                     "C22": c[mh:, ph:]}
        x = self.workspace.buffer(depth, "X", (mh, kh), a.dtype)
        y = self.workspace.buffer(depth, "Y", (kh, ph), a.dtype)
        z = self.workspace.buffer(depth, "Z", (mh, ph), a.dtype)
        sums = {step.name: step for step in self.scheme.sums}
        assembly = [step for step in self.scheme.assembly if step.name in quadrants]
        started: set[str] = set()
        for product in self.scheme.products:
            left = self.evaluate(sums, blocks, product.left, x)
            right = self.evaluate(sums, blocks, product.right, y)
            self.multiply(left, right, z, depth + 1)
            for step in assembly:
                for sign, operand in step.terms:
                    if operand != product.name:
                        continue
                    target = quadrants[step.name]
                    if step.name not in started:  # the quadrant's first term: a copy
                        if sign > 0:
                            np.copyto(target, z)
                        else:
                            np.negative(z, out=target)
                        started.add(step.name)
                    else:
                        self.apply(np.add if sign > 0 else np.subtract, target, z, target)

    def evaluate(self, sums: dict[str, Combination], blocks: dict[str, np.ndarray], name: str,
                 buffer: np.ndarray) -> np.ndarray:
        """A quadrant itself (a view), or a sum of quadrants computed into `buffer`."""
        if name in blocks:
            return blocks[name]
        (first_sign, first), (second_sign, second), *rest = sums[name].terms
        # The first two terms in one pass, `first ± second`, negated after if first has a minus.
        same_sign = first_sign == second_sign
        self.apply(np.add if same_sign else np.subtract, blocks[first], blocks[second], buffer)
        if first_sign < 0:
            np.negative(buffer, out=buffer)
        for sign, operand in rest:
            self.apply(np.add if sign > 0 else np.subtract, buffer, blocks[operand], buffer)
        return buffer
