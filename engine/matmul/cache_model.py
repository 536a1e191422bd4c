"""A cache simulator that replays the memory accesses of the matmul loops, to show why blocking
wins in numbers that Python's interpreter cannot hide.

The model: each level is a set-associative cache with LRU replacement (size, line size, ways);
a lookup goes to L1, on a miss to L2, on a miss to memory, and the line is then kept in every
level it missed in. A, B and C are row-major float64 n×n arrays, each starting on its own page.
The accesses are those of the loops as a compiler would run them, one per array element a
multiply-add reads or writes, with the value the inner loop does not change held in a register:

* naive i-j-k: A[i][k] and B[k][j] per term, C[i][j] stored once per (i, j);
* i-k-j: A[i][k] once per (i, k), then B[k][j] and C[i][j] per term (C's load and store hit
  one line back to back, so they count as one access);
* blocked: i-k-j inside each tile step, the steps in loops.tile_steps' order.

For the screen's tiling view, `tiling_trace` replays blocked and naive together and records,
after each tile step, the counts of both after the same number of multiply-adds. Each step's
tiles are `kernels.trace.TileRef`s (the project's one tile-trace schema), and
`TilingTrace.tile_map()` / `kernel_trace()` let `kernels.replay.build_replay` replay it like a
GPU kernel: one "block" per tile of C, one step per k tile, all run by one core.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from ...kernels.trace import (
    KernelTrace,
    LaunchInfo,
    MemoryLevel,
    OperandGrid,
    TileRecord,
    TileRef,
    WorkGrid,
)
from .loops import (
    CancelCheck,
    ProgressReport,
    check_tile,
    checkpoint,
    progress_part,
    tile_steps,
)

ELEMENT_BYTES = 8  # float64
PAGE_BYTES = 4096
MATRICES = ("A", "B", "C")
A, B, C = range(3)
LOOPS = ("naive", "ikj", "blocked")
MAX_N = 128  # 4 M accesses per loop: a few seconds of pure Python
# The size to show: at n = 64 the three matrices (32 KiB each) leave a 48 KiB L1 little to do
# (B alone fits, so the naive loop only misses each line once); at 128 B is 128 KiB and the
# naive loop misses on every B access, while tiles of 16 (2 KiB each) stay in L1.
DEMO_N, DEMO_TILE = 128, 16
MAX_TRACE_STEPS = 4096  # (n / tile)³ tile steps; more would not be stepped through by hand
SYSFS_CACHE = Path("/sys/devices/system/cpu/cpu0/cache")


@dataclass(frozen=True)
class CacheLevel:
    """One cache: `size` and `line` in bytes, `ways` lines per set (size // line: fully
    associative; 1: direct-mapped)."""

    name: str
    size: int
    line: int
    ways: int

    def __post_init__(self) -> None:
        for what in ("size", "line", "ways"):
            value = getattr(self, what)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{self.name} {what} must be a whole number ≥ 1, not {value!r}")
        if self.size % (self.line * self.ways):
            raise ValueError(f"{self.name}: size {self.size} is not a whole number of sets of "
                             f"{self.ways} lines of {self.line} bytes")

    @property
    def sets(self) -> int:
        return self.size // (self.line * self.ways)

    def describe(self) -> str:
        """"L1 48 KiB, 64 B lines, 12-way"."""
        size = f"{self.size // 1024} KiB" if self.size % 1024 == 0 else f"{self.size} B"
        ways = "direct-mapped" if self.ways == 1 else f"{self.ways}-way"
        return f"{self.name} {size}, {self.line} B lines, {ways}"


DEFAULT_L1 = CacheLevel("L1", 32 * 1024, 64, 8)
DEFAULT_L2 = CacheLevel("L2", 1024 * 1024, 64, 16)


def _read_sysfs_level(folder: Path) -> tuple[int, str, CacheLevel] | None:
    """(level, type, cache) from one sysfs index folder, or None if it says too little."""
    try:
        def read(name: str) -> str:
            return (folder / name).read_text(encoding="ascii").strip()

        level, kind = int(read("level")), read("type")
        size_text = read("size")
        multiplier = {"K": 1024, "M": 1024 * 1024}.get(size_text[-1:].upper(), 1)
        size = int(size_text.rstrip("KkMm")) * multiplier
        line, ways = int(read("coherency_line_size")), int(read("ways_of_associativity"))
        ways = ways or size // line  # Linux writes 0 for a fully associative cache
        return level, kind, CacheLevel(f"L{level}", size, line, ways)
    except (OSError, ValueError):
        return None


@cache
def machine_levels(root: Path = SYSFS_CACHE) -> tuple[CacheLevel, CacheLevel]:
    """This machine's L1 data cache and L2, as Linux describes cpu0's caches; a level the OS
    does not tell falls back to DEFAULT_L1 (32 KiB, 64 B, 8-way) / DEFAULT_L2 (1 MiB, 16-way)."""
    found: dict[int, CacheLevel] = {}
    for folder in sorted(root.glob("index*")):
        described = _read_sysfs_level(folder)
        if described is not None and described[1] in ("Data", "Unified"):
            found.setdefault(described[0], described[2])
    return found.get(1, DEFAULT_L1), found.get(2, DEFAULT_L2)


class Cache:
    """One level's contents: per set, the line numbers it holds, least recently used first."""

    def __init__(self, level: CacheLevel) -> None:
        self.level = level
        self.line = level.line
        self._ways = level.ways
        self._sets: list[list[int]] = [[] for _ in range(level.sets)]

    def access(self, line: int) -> bool:
        """Look line number `line` up, making it the most recently used; True on a hit. A miss
        brings it in, evicting the set's least recently used line when the set is full."""
        held = self._sets[line % len(self._sets)]
        if held and held[-1] == line:  # the same line again: the common case, kept cheap
            return True
        if line in held:
            held.remove(line)
            held.append(line)
            return True
        held.append(line)
        if len(held) > self._ways:
            del held[0]
        return False

    def lines(self, set_index: int) -> list[int]:
        """The lines set `set_index` holds, least recently used first."""
        return list(self._sets[set_index])


@dataclass(frozen=True)
class LevelCounts:
    """Hits and misses at one level, by matrix (A, B, C). A level sees only the accesses that
    missed every faster level."""

    level: str
    hits: tuple[int, ...]  # A, B, C
    misses: tuple[int, ...]

    @property
    def total_hits(self) -> int:
        return sum(self.hits)

    @property
    def total_misses(self) -> int:
        return sum(self.misses)

    @property
    def miss_rate(self) -> float:
        accesses = self.total_hits + self.total_misses
        return self.total_misses / accesses if accesses else 0.0

    def to_dict(self) -> dict[str, Any]:
        by_matrix = {name: {"hits": self.hits[index], "misses": self.misses[index]}
                     for index, name in enumerate(MATRICES)}
        return {"level": self.level, "hits": self.total_hits, "misses": self.total_misses,
                **by_matrix}


class Hierarchy:
    """Caches looked up fastest first; counts hits and misses per level and matrix."""

    def __init__(self, levels: Sequence[CacheLevel]) -> None:
        if not levels:
            raise ValueError("a cache hierarchy needs at least one level")
        self.levels = tuple(levels)
        self._caches = [Cache(level) for level in levels]
        self._hits = [[0, 0, 0] for _ in levels]
        self._misses = [[0, 0, 0] for _ in levels]
        self._chain = list(zip(self._caches, self._hits, self._misses, strict=True))

    def access(self, matrix: int, address: int) -> None:
        """One access of `matrix` (0 A, 1 B, 2 C) at byte `address`."""
        _look_up(self._chain, matrix, address)

    def run(self, matrices: list[int], addresses: list[int]) -> None:
        """`access` for each pair in turn, with L1's lookup written out here: the simulator's
        time goes into this loop, and most accesses hit the line L1 used last in its set."""
        l1 = self._caches[0]
        sets, line_bytes, l1_access = l1._sets, l1.line, l1.access
        l1_hits, l1_misses, deeper = self._hits[0], self._misses[0], self._chain[1:]
        set_count = len(sets)
        for matrix, address in zip(matrices, addresses, strict=True):
            line = address // line_bytes
            held = sets[line % set_count]
            if (held and held[-1] == line) or l1_access(line):
                l1_hits[matrix] += 1
            else:
                l1_misses[matrix] += 1
                if deeper:
                    _look_up(deeper, matrix, address)

    def lines_held(self, level: int) -> list[int]:
        """Every line number level `level` (0 = L1) holds now."""
        return [line for held in self._caches[level]._sets for line in held]

    def counts(self) -> tuple[LevelCounts, ...]:
        return tuple(LevelCounts(level.name, tuple(hits), tuple(misses))
                     for level, hits, misses in zip(self.levels, self._hits, self._misses,
                                                    strict=True))


def _look_up(chain: list[tuple[Cache, list[int], list[int]]], matrix: int, address: int
              ) -> None:
    """Try each level in turn, counting a miss at each until one hits."""
    for cache_level, hits, misses in chain:
        if cache_level.access(address // cache_level.line):
            hits[matrix] += 1
            return
        misses[matrix] += 1


# --- the loops, as streams of memory accesses ---------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where A, B and C start: one after another, each on a fresh page."""

    n: int

    @property
    def matrix_bytes(self) -> int:
        return -(-self.n * self.n * ELEMENT_BYTES // PAGE_BYTES) * PAGE_BYTES

    def address(self, matrix: int, row: np.ndarray, col: np.ndarray) -> np.ndarray:
        return matrix * self.matrix_bytes + (row * self.n + col) * ELEMENT_BYTES


@dataclass(frozen=True)
class AccessStream:
    """A loop's accesses in order (`matrices[t]` reads or writes byte `addresses[t]`), and
    `done_after[q]`: how many accesses the first q + 1 multiply-adds make."""

    addresses: np.ndarray
    matrices: np.ndarray
    done_after: np.ndarray


def _term_order(loop: str, n: int, tile: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, k) of every multiply-add, in the order `loop` runs them."""
    i, j, k = (axis.ravel() for axis in np.meshgrid(*[np.arange(n)] * 3, indexing="ij"))
    if loop == "naive":
        return i, j, k  # meshgrid's order is already i, then j, then k
    if loop == "ikj":
        keys: tuple[np.ndarray, ...] = (j, k, i)  # np.lexsort sorts by the last key first
    elif loop == "blocked":
        keys = (j, k, i, k // tile, j // tile, i // tile)  # tile steps, i-k-j inside
    else:
        raise ValueError(f"unknown loop {loop!r}; choose one of: {', '.join(LOOPS)}")
    order = np.lexsort(keys)
    return i[order], j[order], k[order]


def access_stream(loop: str, n: int, tile: int = DEMO_TILE) -> AccessStream:
    """The accesses of `loop` at n×n (see the module docstring for which ones)."""
    i, j, k = _term_order(loop, n, tile)
    layout = Layout(n)
    a, b, c = layout.address(A, i, k), layout.address(B, k, j), layout.address(C, i, j)
    if loop == "naive":
        # Every term reads A and B; the sum leaves its register for C after the last k.
        extra = k == n - 1
        every_term, extra_access = [(A, a, 0), (B, b, 1)], (C, c, 2)
    else:
        # A[i][k] is loaded when a run of j starts and stays in a register; B and C every term.
        extra = j % tile == 0 if loop == "blocked" else j == 0
        shift = extra.astype(np.int64)
        every_term, extra_access = [(B, b, shift), (C, c, shift + 1)], (A, a, 0)
    counts = 2 + extra.astype(np.int64)
    done_after = np.cumsum(counts)
    start = done_after - counts  # where each term's accesses begin
    addresses = np.empty(int(done_after[-1]) if n else 0, dtype=np.int64)
    matrices = np.empty_like(addresses)
    for matrix, values, offset in every_term:
        addresses[start + offset], matrices[start + offset] = values, matrix
    matrix, values, offset = extra_access
    addresses[start[extra] + offset], matrices[start[extra] + offset] = values[extra], matrix
    return AccessStream(addresses, matrices, done_after)


CHUNK = 1 << 16  # accesses turned into Python ints at a time: bounded memory at any n


def _replay(stream: AccessStream, levels: Sequence[CacheLevel], marks: Sequence[int] = (),
            at_mark: Callable[[Hierarchy], None] | None = None,
            cancel: CancelCheck | None = None, progress: ProgressReport | None = None,
            ) -> tuple[tuple[LevelCounts, ...], list[tuple[LevelCounts, ...]]]:
    """Run a stream through a fresh hierarchy: the final counts, and the counts after each
    multiply-add count in `marks` (ascending), where `at_mark` may also look at the caches.
    `cancel` and `progress` are checked after each chunk of accesses."""
    hierarchy = Hierarchy(levels)
    total = len(stream.addresses)
    stops = [int(stream.done_after[mark - 1]) for mark in marks] + [total]
    snapshots: list[tuple[LevelCounts, ...]] = []
    position = 0
    for index, stop in enumerate(stops):
        while position < stop:
            end = min(stop, position + CHUNK)
            hierarchy.run(stream.matrices[position:end].tolist(),
                          stream.addresses[position:end].tolist())
            position = end
            checkpoint(position, total, cancel, progress)
        if index < len(marks):
            snapshots.append(hierarchy.counts())
            if at_mark is not None:
                at_mark(hierarchy)
    return hierarchy.counts(), snapshots


def check_model_size(n: int, tile: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_N:
        raise ValueError(f"the cache model's n must be a whole number from 1 to {MAX_N}, "
                         f"not {n!r}")
    check_tile(tile)


@dataclass(frozen=True)
class LoopReport:
    """One loop's hits and misses per level (fastest first) over the whole product."""

    loop: str
    n: int
    tile: int | None  # blocked only
    levels: tuple[LevelCounts, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"loop": self.loop, "n": self.n, "tile": self.tile,
                "levels": [counts.to_dict() for counts in self.levels]}


def simulate(loop: str, n: int, tile: int = DEMO_TILE, levels: Sequence[CacheLevel] | None = None,
             cancel: CancelCheck | None = None, progress: ProgressReport | None = None
             ) -> LoopReport:
    """Replay `loop` ("naive", "ikj" or "blocked") at n×n through the caches (default: this
    machine's L1 and L2)."""
    check_model_size(n, tile)
    counts, _ = _replay(access_stream(loop, n, tile), levels or machine_levels(),
                        cancel=cancel, progress=progress)
    return LoopReport(loop, n, tile if loop == "blocked" else None, counts)


def compare_loops(n: int, tile: int = DEMO_TILE, levels: Sequence[CacheLevel] | None = None,
                  cancel: CancelCheck | None = None, progress: ProgressReport | None = None
                  ) -> list[LoopReport]:
    """naive, i-k-j and blocked at the same n through the same caches."""
    return [simulate(loop, n, tile, levels, cancel, progress_part(progress, index, len(LOOPS)))
            for index, loop in enumerate(LOOPS)]


# --- the step trace for the tiling view ----------------------------------------------------

Tile = tuple[int, int]  # (tile row, tile column)


@dataclass(frozen=True)
class TileStep:
    """One step of the blocked loop: C's tile (i_tile, j_tile) += A's (i_tile, k_tile) tile times
    B's (k_tile, j_tile) tile.

    `tiles` are C, A and B as TileRefs at the slowest level this step had to go to for them: L1
    ("sram") when every access hit L1, "l2" when L2 served L1's misses, "dram" when some line
    came from memory (`hit` is True: the level named held it). C's tile is read and written;
    its ref says where the read was served (the write lands in L1). `step` holds this step's
    own counts; `blocked` and `naive` the cumulative counts of the blocked loop and of the naive
    loop after the same number of multiply-adds. `cached[level][matrix]` are the tiles whose
    every line that level holds after the step (matrix 0 A, 1 B, 2 C).
    """

    index: int
    i_tile: int
    j_tile: int
    k_tile: int
    multiply_adds: int  # cumulative, both loops
    tiles: tuple[TileRef, TileRef, TileRef]
    step: tuple[LevelCounts, ...]
    blocked: tuple[LevelCounts, ...]
    naive: tuple[LevelCounts, ...]
    cached: tuple[tuple[frozenset[Tile], ...], ...]


@dataclass(frozen=True)
class BlockedTiles:
    """The tiling view's tile map (kernels.trace.TileMap): operand grids and per-step tiles."""

    trace: TilingTrace
    levels: tuple[MemoryLevel, ...] = (MemoryLevel.SRAM, MemoryLevel.L2, MemoryLevel.DRAM)
    level_names: dict[MemoryLevel, str] = field(default_factory=lambda: {
        MemoryLevel.SRAM: "L1", MemoryLevel.L2: "L2", MemoryLevel.DRAM: "DRAM"})

    def tiles(self, launch: int, block: tuple[int, int, int], step: int) -> list[TileRef]:
        j_tile, i_tile, _ = block
        return list(self.trace.step_at(i_tile, j_tile, step).tiles)

    def grids(self) -> list[OperandGrid]:
        n, tile = self.trace.n, self.trace.tile
        return [OperandGrid(name, (name,), n, n, tile, tile) for name in ("C", "A", "B")]

    def work_grid(self) -> WorkGrid | None:
        return WorkGrid("C tiles × k steps", self.trace.tiles_per_side ** 2,
                        self.trace.tiles_per_side)


@dataclass(frozen=True)
class TilingTrace:
    n: int
    tile: int
    levels: tuple[CacheLevel, ...]
    steps: list[TileStep]
    naive: tuple[LevelCounts, ...]  # the whole naive loop (its trailing C stores included)
    blocked: tuple[LevelCounts, ...]

    @property
    def tiles_per_side(self) -> int:
        return -(-self.n // self.tile)

    def step_at(self, i_tile: int, j_tile: int, k_tile: int) -> TileStep:
        per_side = self.tiles_per_side
        return self.steps[(i_tile * per_side + j_tile) * per_side + k_tile]

    def tile_map(self) -> BlockedTiles:
        return BlockedTiles(self)

    def kernel_trace(self) -> KernelTrace:
        """The steps as a KernelTrace for kernels.replay: block (j_tile, i_tile) per C tile,
        step k_tile, all on one worker ("SM 0", the core). Times are step numbers: 1 ns each."""
        per_side = self.tiles_per_side
        records = [TileRecord(0, (s.j_tile, s.i_tile, 0), s.k_tile, 0, s.index, s.index + 1)
                   for s in self.steps]
        caches = "; ".join(level.describe() for level in self.levels)
        return KernelTrace(
            kernel="cpu_blocked_matmul",
            problem={"n": self.n, "tile": self.tile, "element_bytes": ELEMENT_BYTES},
            launches=[LaunchInfo("blocked", (per_side, per_side, 1), (1, 1, 1), per_side)],
            records=records, simulated=True, device=f"cache model ({caches})", sm_count=1,
            notes=["times are step numbers, not measurements"],
        )


class _TileLines:
    """Which cache lines (of one line size) each tile of A, B and C spans."""

    def __init__(self, n: int, tile: int, line_bytes: int) -> None:
        layout = Layout(n)
        rows, cols = (axis.ravel() for axis in np.meshgrid(np.arange(n), np.arange(n),
                                                           indexing="ij"))
        self.tiles_of_line: dict[int, list[tuple[int, Tile]]] = {}
        self.needed: dict[tuple[int, Tile], int] = {}
        for matrix in (A, B, C):
            lines = layout.address(matrix, rows, cols) // line_bytes
            pairs = set(zip(lines.tolist(), (rows // tile).tolist(), (cols // tile).tolist(),
                            strict=True))
            for line, tile_row, tile_col in pairs:
                key = (matrix, (tile_row, tile_col))
                self.tiles_of_line.setdefault(line, []).append(key)
                self.needed[key] = self.needed.get(key, 0) + 1

    def whole_tiles(self, lines: list[int]) -> tuple[frozenset[Tile], ...]:
        """Per matrix, the tiles all of whose lines are among `lines`."""
        found: dict[tuple[int, Tile], int] = {}
        for line in lines:
            for key in self.tiles_of_line.get(line, ()):
                found[key] = found.get(key, 0) + 1
        return tuple(frozenset(tile for (owner, tile), count in found.items()
                               if owner == matrix and count == self.needed[(owner, tile)])
                     for matrix in (A, B, C))


def _served_at(step: tuple[LevelCounts, ...], matrix: int) -> MemoryLevel:
    """Where a step found an operand's lines: L1, L2, or (past the last cache) DRAM."""
    if step[0].misses[matrix] == 0:
        return MemoryLevel.SRAM
    if len(step) > 1 and step[1].misses[matrix] == 0:
        return MemoryLevel.L2
    return MemoryLevel.DRAM


def _difference(later: tuple[LevelCounts, ...], earlier: tuple[LevelCounts, ...] | None
                ) -> tuple[LevelCounts, ...]:
    """The counts between two snapshots."""
    if earlier is None:
        return later

    def minus(now: tuple[int, ...], was: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(x - y for x, y in zip(now, was, strict=True))

    return tuple(LevelCounts(now.level, minus(now.hits, was.hits), minus(now.misses, was.misses))
                 for now, was in zip(later, earlier, strict=True))


def tiling_trace(n: int = DEMO_N, tile: int = DEMO_TILE, levels: Sequence[CacheLevel] | None = None,
                 cancel: CancelCheck | None = None, progress: ProgressReport | None = None
                 ) -> TilingTrace:
    """The blocked loop step by step, with the naive loop's counts alongside (see TileStep)."""
    check_model_size(n, tile)
    per_side = -(-n // tile)
    if per_side**3 > MAX_TRACE_STEPS:
        smallest = next(t for t in range(tile, n + 1) if (-(-n // t)) ** 3 <= MAX_TRACE_STEPS)
        raise ValueError(f"tile {tile} at n {n} makes {per_side**3} steps; the trace holds at "
                         f"most {MAX_TRACE_STEPS}: use a tile of at least {smallest}")
    levels = tuple(levels or machine_levels())
    spans = tile_steps(n, n, n, tile)
    marks, done = [], 0
    for i0, j0, k0 in spans:
        done += (min(i0 + tile, n) - i0) * (min(j0 + tile, n) - j0) * (min(k0 + tile, n) - k0)
        marks.append(done)
    tile_lines = [_TileLines(n, tile, level.line) for level in levels]
    cached: list[tuple[tuple[frozenset[Tile], ...], ...]] = []

    def note_cached(hierarchy: Hierarchy) -> None:
        cached.append(tuple(lines.whole_tiles(hierarchy.lines_held(index))
                            for index, lines in enumerate(tile_lines)))

    blocked_total, blocked_after = _replay(access_stream("blocked", n, tile), levels, marks,
                                           note_cached, cancel, progress_part(progress, 0, 2))
    naive_total, naive_after = _replay(access_stream("naive", n), levels, marks, None, cancel,
                                       progress_part(progress, 1, 2))
    steps, previous = [], None
    for index, ((i0, j0, k0), mark) in enumerate(zip(spans, marks, strict=True)):
        own = _difference(blocked_after[index], previous)
        previous = blocked_after[index]
        rows, cols, ks = ((i0, min(i0 + tile, n)), (j0, min(j0 + tile, n)),
                          (k0, min(k0 + tile, n)))
        refs = (TileRef("C", rows, cols, _served_at(own, C), hit=True,
                        element_bytes=ELEMENT_BYTES),
                TileRef("A", rows, ks, _served_at(own, A), hit=True,
                        element_bytes=ELEMENT_BYTES),
                TileRef("B", ks, cols, _served_at(own, B), hit=True,
                        element_bytes=ELEMENT_BYTES))
        steps.append(TileStep(index, i0 // tile, j0 // tile, k0 // tile, mark, refs, own,
                              blocked_after[index], naive_after[index], cached[index]))
    return TilingTrace(n, tile, levels, steps, naive_total, blocked_total)
