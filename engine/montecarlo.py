"""Monte Carlo pi: darts on the unit square, counted inside the quarter circle x² + y² < 1.

The fraction p of darts inside estimates the quarter circle's area π/4, so π ≈ 4·inside/n, with
standard error 4·√(p(1−p)/n) ≈ 1.64/√n. Three modes throw the darts:

* ``pseudo`` — the fast engine: a numbered stream of independent random darts, counted by
  vectorised numpy on every core (threads: numpy releases the GIL in its loops).
* ``quasi`` — the Halton sequence (``quasirandom.py``): evenly spread, deterministic points whose
  error falls roughly like 1/n instead of 1/√n.
* ``python`` — the classic reference: one dart at a time, ``random()`` twice and
  ``x**2 + y**2 <= 1``, in plain Python (one core: the loop holds the GIL).

**The dart stream.** Dart d lives in block d // 2^24; every block draws from its own PCG64 stream
seeded by ``SeedSequence(seed, spawn_key=(block,))``. So dart d is the same dart however a
request is split, chunked or spread over workers: the count for n equals the sum over any split
of n, and the worker count changes only the scheduling, never the counts. Counts are Python ints
(exact at 10^12 darts and far beyond); memory stays near 5 MiB per worker and under ~50 MiB
in all, at any n and any worker count.

**Number format and its bias.** A dart's coordinates are 30-bit fixed-point numbers taken at cell
midpoints, x = (X + ½)/2^30 with X an integer in [0, 2^30), and the inside test
(2X+1)² + (2Y+1)² < 2^62 is exact integer arithmetic (< 2^63, no rounding). The dart is then
uniform over a 2^30 × 2^30 lattice of cell centres, and its expected estimate is 4·N/2^60 for
N the lattice points inside. Counting N exactly (an integer square root per column, 2^30 of them)
gives 4·N/2^60 − π = +7.6·10^-15: the number format's bias. The statistical error at the
largest n offered (10^15 darts) is 5.2·10^-8, seven million times larger; at 10^12 darts it is
1.6·10^-6. For contrast, the common float32 darts (k/2^24, a corner lattice) with
``x*x + y*y <= 1`` count every point on the axes: their lattice alone biases π by +2.4·10^-7
(exact count, ≈ 4/2^24), which equals the standard error near 5·10^13 darts and dominates
beyond it.

**Speed.** Each 64-bit PCG64 output holds four darts' coarse coordinates (the top 8 bits of X and
Y). A coarse cell with U² + V² ≥ 2^16 lies wholly outside the circle and one with
(U+1)² + (V+1)² ≤ 2^16 wholly inside, so a few uint16 passes settle 98.8 % of the darts; only
the darts in cells near the arc get their remaining 22 bits per coordinate — from a
counter-based SplitMix64 hash of (block key, dart index) — and the exact test. Every dart has
fixed full-resolution coordinates whether or not they are ever looked at (`throw_darts` returns
them, and a test checks that both paths count the same darts).

The ``python`` mode uses its own ``random.Random`` per block of 2^16 darts and 53-bit floats; the
``quasi`` mode ignores the seed and tests x² + y² ≤ 1 in float64.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np

from .cores import usable_cores
from .quasirandom import halton_points
from .seeds import MAX_SEED


class Mode(StrEnum):
    PSEUDO = "pseudo"
    QUASI = "quasi"
    PYTHON = "python"


MAX_DARTS = 10**15  # the largest request offered (≈ 30 days at 4·10^8 darts/s)

BLOCK_DARTS = 1 << 24  # darts per independent PCG64 stream
PYTHON_BLOCK_DARTS = 1 << 16  # darts per random.Random stream in the reference mode
CHUNK_WORDS = 1 << 17  # PCG64 outputs per vectorised pass: 2^19 darts, ~5 MiB of buffers
# All workers' buffers together stay within this (big chunks are faster: fewer GIL handovers).
MEMORY_WORDS = 1 << 19

QUASI_CHUNK = 1 << 16  # Halton points per vectorised pass

# Work handed to one worker at a time (and so the progress granularity): ~10–50 ms each.
# A python piece is one whole stream, so no piece replays another's numbers to skip them.
PIECE_DARTS = {Mode.PSEUDO: BLOCK_DARTS, Mode.QUASI: 1 << 20, Mode.PYTHON: PYTHON_BLOCK_DARTS}

COORD_BITS = 30
FINE_BITS = COORD_BITS - 8
_INSIDE_LIMIT = 1 << (2 * COORD_BITS + 2)  # (2X+1)² + (2Y+1)² < 2^62  ⇔  x² + y² < 1
_LANES = np.dtype("<u2")  # four little-endian 16-bit darts per 64-bit output, on any host

# Darts whose coarse cell may straddle the arc: U² + V² ≥ 2^16 − 1024 (see _count_lanes).
_CANDIDATE = (1 << 16) - 1024

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


class CancelFlag(Protocol):
    """Anything with is_set(), e.g. a threading.Event: work stops soon after it turns true."""

    def is_set(self) -> bool: ...


class _EitherSet:
    """Set when any of its flags is set."""

    def __init__(self, *flags: CancelFlag | None) -> None:
        self.flags = [flag for flag in flags if flag is not None]

    def is_set(self) -> bool:
        return any(flag.is_set() for flag in self.flags)


# ---------------------------------------------------------------------------------------------
# Statistics


@dataclass(frozen=True)
class Tally:
    """Exact counts of darts thrown and darts inside the quarter circle."""

    darts: int
    inside: int

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.darts + other.darts, self.inside + other.inside)

    @property
    def estimate(self) -> float:
        """4·inside/darts (NaN before the first dart)."""
        return 4 * self.inside / self.darts if self.darts else math.nan

    @property
    def error(self) -> float:
        """|estimate − π|."""
        return abs(self.estimate - math.pi)

    @property
    def standard_error(self) -> float:
        """4·√(p(1−p)/n) with p = inside/darts: the estimate's standard deviation."""
        if not self.darts:
            return math.nan
        p = self.inside / self.darts
        return 4 * math.sqrt(p * (1 - p) / self.darts)

    @property
    def interval95(self) -> tuple[float, float]:
        """The 95 % Wilson score interval for π (sound at small n, unlike estimate ± 1.96·SE)."""
        if not self.darts:
            return (math.nan, math.nan)
        z = 1.959963984540054
        n, p = self.darts, self.inside / self.darts
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return (4 * max(0.0, centre - half), 4 * min(1.0, centre + half))


@dataclass(frozen=True)
class Progress:
    """One step of a streaming estimate: `tally` covers darts start … start+tally.darts−1."""

    tally: Tally
    total: int  # darts requested
    seconds: float  # wall-clock time since the estimate started

    @property
    def complete(self) -> bool:
        return self.tally.darts == self.total

    @property
    def darts_per_second(self) -> float:
        return self.tally.darts / self.seconds if self.seconds > 0 else math.nan


@dataclass(frozen=True)
class Darts:
    """A batch of darts: coordinates in [0, 1) and whether each is inside, shapes (count,)."""

    x: np.ndarray  # float64
    y: np.ndarray  # float64
    inside: np.ndarray  # bool


# ---------------------------------------------------------------------------------------------
# The pseudo-random dart stream


def _block_stream(seed: int, block: int) -> tuple[np.random.PCG64, np.uint64]:
    """Block `block`'s PCG64 generator and its 64-bit key for the fine coordinate bits."""
    sequence = np.random.SeedSequence(seed, spawn_key=(block,))
    # PCG64 seeds itself from the first four 32-bit words; the key takes the next two.
    key = sequence.generate_state(3, np.uint64)[2]
    return np.random.PCG64(sequence), key


def _fine_bits(key: np.uint64, dart_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The low 22 bits of X and Y for darts `dart_index` (within a block): SplitMix64."""
    z = key + (dart_index.astype(np.uint64) + np.uint64(1)) * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z ^= z >> np.uint64(31)
    mask = np.uint64((1 << FINE_BITS) - 1)
    return z >> np.uint64(64 - FINE_BITS), (z >> np.uint64(20)) & mask


def _full_coordinates(
    lanes: np.ndarray, key: np.uint64, dart_index: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The 30-bit integer coordinates (X, Y) of darts given their 16-bit coarse lanes."""
    coarse = lanes.astype(np.uint64)
    fine_x, fine_y = _fine_bits(key, dart_index)
    shift = np.uint64(FINE_BITS)
    x = ((coarse >> np.uint64(8)) << shift) | fine_x
    y = ((coarse & np.uint64(0xFF)) << shift) | fine_y
    return x, y


def _inside_exact(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(2X+1)² + (2Y+1)² < 2^62 for 30-bit X, Y: exact in uint64."""
    one = np.uint64(1)
    a = (x << one) | one
    b = (y << one) | one
    return a * a + b * b < np.uint64(_INSIDE_LIMIT)


def _lane_chunks(
    generator: np.random.PCG64, lo: int, hi: int, chunk_words: int
) -> Iterator[tuple[np.ndarray, int]]:
    """(16-bit lanes of darts lo … hi−1 of a fresh block generator, index of the first), chunked.

    Dart i of a block is lane i % 4 of the block's output i // 4.
    """
    generator.advance(lo // 4)
    position = lo
    while position < hi:
        first_word = position // 4
        end_word = min(-(-hi // 4), first_word + chunk_words)
        words = generator.random_raw(end_word - first_word)
        lanes = words.astype("<u8", copy=False).view(_LANES)
        stop = min(hi, 4 * end_word)
        yield lanes[position - 4 * first_word : stop - 4 * first_word], position
        position = stop


def _split_blocks(start: int, count: int, block_size: int) -> Iterator[tuple[int, int, int]]:
    """(block, lo, hi): the darts start … start+count−1 cut at block boundaries."""
    position, end = start, start + count
    while position < end:
        block, lo = divmod(position, block_size)
        hi = min(block_size, lo + end - position)
        yield block, lo, hi
        position += hi - lo


def _pseudo_count(
    seed: int, start: int, count: int, stop: CancelFlag, chunk_words: int = CHUNK_WORDS
) -> int | None:
    u2 = np.empty(4 * chunk_words, dtype=np.uint16)
    s = np.empty(4 * chunk_words, dtype=np.uint16)
    inside = 0
    for block, lo, hi in _split_blocks(start, count, BLOCK_DARTS):
        generator, key = _block_stream(seed, block)
        candidate_lanes, candidate_index, pending = [], [], 0
        for lanes, first in _lane_chunks(generator, lo, hi, chunk_words):
            if stop.is_set():
                return None
            size = lanes.size
            outside, candidates = _classify_lanes(lanes, u2[:size], s[:size])
            inside += size - outside
            candidate_lanes.append(lanes[candidates])
            candidate_index.append(candidates + first)
            pending += candidates.size
            # The exact test runs on batches of candidates: few numpy calls per batch, and a
            # bounded batch keeps memory constant.
            if pending >= chunk_words // 8 or first + size == hi:
                inside -= _candidates_outside(
                    np.concatenate(candidate_lanes), np.concatenate(candidate_index), key
                )
                candidate_lanes, candidate_index, pending = [], [], 0
    return inside


def _classify_lanes(lanes: np.ndarray, u2: np.ndarray, s: np.ndarray) -> tuple[int, np.ndarray]:
    """(darts surely outside, positions of the darts that may be either) among 16-bit darts.

    With U, V the coarse coordinates (8 bits each), a cell's lattice points are all outside
    when U² + V² ≥ 2^16 and all inside when (U+1)² + (V+1)² ≤ 2^16 (exact consequences of the
    30-bit test). In uint16, U² + V² wraps past 2^16 exactly when the sum ends below U²; cells
    that straddle the arc have 2^16 > U² + V² ≥ 2^16 − 2·255 − 2 ≥ _CANDIDATE. The candidates
    (1.2 % of darts) may include a few wrapped outside darts: _candidates_outside knows them.
    `u2` and `s` are uint16 scratch arrays of lanes' size.
    """
    np.right_shift(lanes, 8, out=u2)
    np.bitwise_and(lanes, 0xFF, out=s)
    np.multiply(u2, u2, out=u2)
    np.multiply(s, s, out=s)
    np.add(s, u2, out=s)  # U² + V² mod 2^16
    outside = int(np.count_nonzero(s < u2))
    return outside, np.flatnonzero(s >= _CANDIDATE)


def _candidates_outside(lanes: np.ndarray, dart_index: np.ndarray, key: np.uint64) -> int:
    """How many candidate darts the exact 30-bit test puts outside, skipping those already
    counted outside by their coarse cell (U² + V² ≥ 2^16)."""
    coarse = lanes.astype(np.int64)
    u, v = coarse >> 8, coarse & 0xFF
    straddling = u * u + v * v < (1 << 16)
    x, y = _full_coordinates(lanes[straddling], key, dart_index[straddling])
    return int(np.count_nonzero(straddling)) - int(np.count_nonzero(_inside_exact(x, y)))


def _pseudo_darts(seed: int, start: int, count: int) -> Darts:
    xs, ys = [], []
    for block, lo, hi in _split_blocks(start, count, BLOCK_DARTS):
        generator, key = _block_stream(seed, block)
        for lanes, first in _lane_chunks(generator, lo, hi, CHUNK_WORDS):
            index = np.arange(first, first + lanes.size, dtype=np.uint64)
            x, y = _full_coordinates(lanes, key, index)
            xs.append(x)
            ys.append(y)
    x = np.concatenate(xs) if xs else np.zeros(0, np.uint64)
    y = np.concatenate(ys) if ys else np.zeros(0, np.uint64)
    inside = _inside_exact(x, y)
    scale = 1.0 / (1 << COORD_BITS)
    return Darts((x + 0.5) * scale, (y + 0.5) * scale, inside)


# ---------------------------------------------------------------------------------------------
# The quasi-random and plain-Python modes


def _quasi_count(start: int, count: int, stop: CancelFlag) -> int | None:
    inside = 0
    for first in range(start, start + count, QUASI_CHUNK):
        if stop.is_set():
            return None
        x, y = halton_points(first, min(QUASI_CHUNK, start + count - first))
        inside += int(np.count_nonzero(x * x + y * y <= 1.0))
    return inside


def _quasi_darts(start: int, count: int) -> Darts:
    x, y = halton_points(start, count)
    return Darts(x, y, x * x + y * y <= 1.0)


def _python_uniform(seed: int, block: int, lo: int) -> Callable[[], float]:
    """The block's random.Random stream, advanced past its first `lo` darts."""
    words = np.random.SeedSequence(seed, spawn_key=(block,)).generate_state(2, np.uint64)
    uniform = random.Random(int(words[0]) << 64 | int(words[1])).random
    for _ in range(2 * lo):
        uniform()
    return uniform


def _python_count(seed: int, start: int, count: int, stop: CancelFlag) -> int | None:
    inside = 0
    for block, lo, hi in _split_blocks(start, count, PYTHON_BLOCK_DARTS):
        if stop.is_set():
            return None
        uniform = _python_uniform(seed, block, lo)
        for _ in range(hi - lo):
            x = uniform()
            y = uniform()
            if x**2 + y**2 <= 1:
                inside += 1
    return inside


def _python_darts(seed: int, start: int, count: int) -> Darts:
    coordinates: list[float] = []
    for block, lo, hi in _split_blocks(start, count, PYTHON_BLOCK_DARTS):
        uniform = _python_uniform(seed, block, lo)
        coordinates.extend(uniform() for _ in range(2 * (hi - lo)))
    xy = np.array(coordinates, dtype=np.float64).reshape(-1, 2)
    x, y = xy[:, 0].copy(), xy[:, 1].copy()
    return Darts(x, y, x**2 + y**2 <= 1)


# ---------------------------------------------------------------------------------------------
# Public API


def validate(darts: int, seed: int, start: int = 0) -> None:
    """Raise ValueError unless 1 ≤ darts, start + darts ≤ MAX_DARTS and 0 ≤ seed ≤ MAX_SEED."""
    if isinstance(darts, bool) or not isinstance(darts, int) or darts < 1:
        raise ValueError(f"the number of darts must be a positive integer, not {darts!r}")
    if not isinstance(start, int) or start < 0:
        raise ValueError(f"the first dart must be a non-negative integer, not {start!r}")
    if start + darts > MAX_DARTS:
        raise ValueError(f"at most {MAX_DARTS:.0e} darts are supported")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"the seed must be an integer from 0 to 2^64−1, not {seed!r}")


def count_inside(
    darts: int,
    *,
    seed: int = 0,
    mode: Mode | str = Mode.PSEUDO,
    start: int = 0,
    cancel: CancelFlag | None = None,
) -> int | None:
    """How many of darts start … start+darts−1 land inside, on the calling thread.

    Returns an exact int, or None when `cancel` was set before the count finished.
    """
    validate(darts, seed, start)
    return _count(Mode(mode), seed, start, darts, cancel or _EitherSet(), CHUNK_WORDS)


def _count(
    mode: Mode, seed: int, start: int, count: int, stop: CancelFlag, chunk_words: int
) -> int | None:
    if mode is Mode.PSEUDO:
        return _pseudo_count(seed, start, count, stop, chunk_words)
    if mode is Mode.QUASI:
        return _quasi_count(start, count, stop)
    return _python_count(seed, start, count, stop)


def throw_darts(
    darts: int, *, seed: int = 0, mode: Mode | str = Mode.PSEUDO, start: int = 0
) -> Darts:
    """The coordinates of darts start … start+darts−1 (for drawing: keep `darts` modest).

    The same darts `count_inside` counts: sum(result.inside) == count_inside(...).
    """
    validate(darts, seed, start)
    mode = Mode(mode)
    if mode is Mode.PSEUDO:
        return _pseudo_darts(seed, start, darts)
    if mode is Mode.QUASI:
        return _quasi_darts(start, darts)
    return _python_darts(seed, start, darts)


def default_workers() -> int:
    """The cores this process's work may use (engine/cores.py: fewer when served)."""
    return usable_cores()


def estimate_pi(
    darts: int,
    *,
    seed: int = 0,
    mode: Mode | str = Mode.PSEUDO,
    workers: int | None = None,
    start: int = 0,
    cancel: CancelFlag | None = None,
    executor: Executor | None = None,
) -> Iterator[Progress]:
    """Stream an estimate over darts start … start+darts−1 on `workers` threads.

    Yields a Progress after each finished piece (~10–50 ms of work), in dart order, so every
    tally covers a prefix of the request; the last one has `complete` set. Setting `cancel` (or
    closing the generator) stops the workers within one chunk and ends the stream early. The
    `python` mode always uses one worker: its loop holds the GIL.

    `executor` (e.g. a process pool, where a `python` loop keeps the caller's GIL free) runs
    the pieces instead of `workers` new threads, `workers` of them at a time; it is not shut
    down, and a cancel stops the stream at once, leaving the pieces already running to finish.
    """
    validate(darts, seed, start)
    mode = Mode(mode)
    workers = default_workers() if workers is None else workers
    if not 1 <= workers <= 256:
        raise ValueError(f"workers must be between 1 and 256, not {workers}")
    if mode is Mode.PYTHON:
        workers = 1
    stop = threading.Event()
    began = time.perf_counter()
    piece = PIECE_DARTS[mode]
    pieces = iter(range(start, start + darts, piece))
    end = start + darts

    stop_pieces = _EitherSet(stop, cancel)
    # Many workers take smaller chunks, so that memory stays bounded whatever the core count.
    chunk_words = min(CHUNK_WORDS, max(1 << 10, MEMORY_WORDS // workers))

    def count_piece(first: int) -> int | None:
        return _count(mode, seed, first, min(piece, end - first), stop_pieces, chunk_words)

    def submit(first: int) -> Future[int | None]:
        if executor is None:
            return pool.submit(count_piece, first)
        # Another process cannot see the cancel flag: its pieces run to their end.
        return executor.submit(_count, mode, seed, first, min(piece, end - first), _EitherSet(),
                               chunk_words)

    tally = Tally(0, 0)
    pool = executor or ThreadPoolExecutor(max_workers=workers, thread_name_prefix="montecarlo")
    window: deque[tuple[int, Future[int | None]]] = deque()
    try:
        while True:
            while len(window) < 2 * workers and (first := next(pieces, None)) is not None:
                window.append((first, submit(first)))
            if not window:
                return
            first, future = window.popleft()
            inside = future.result()
            if inside is None or (cancel is not None and cancel.is_set()):
                return
            tally += Tally(min(piece, end - first), inside)
            yield Progress(tally, darts, time.perf_counter() - began)
    finally:
        stop.set()
        if executor is None:
            pool.shutdown(wait=True, cancel_futures=True)
        else:
            for _, future in window:
                future.cancel()


def run_estimate(darts: int, **options) -> Progress:
    """The last Progress of `estimate_pi(darts, **options)` (complete unless cancelled).

    Raises IndexError when cancelled before the first piece finished.
    """
    return deque(estimate_pi(darts, **options), maxlen=1).pop()


def any_set(*flags: CancelFlag | None) -> CancelFlag:
    """One cancel flag that is set as soon as any of `flags` is (None entries are ignored): for
    work that two parties may stop, e.g. a user who keeps what was counted and a closing screen
    that drops it."""
    return _EitherSet(*flags)
