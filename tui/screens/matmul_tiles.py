"""The tiling view's view-model: the cache model's trace of the blocked loop, stepped by the
kit's playback, drawn as C, A and B tile grids with the naive loop's counts beside the blocked
loop's. No widgets here.

Position p means "after p tile steps" (0: nothing run, nothing cached), so every state is a pure
function of the position: stepping back shows exactly what stepping forward showed.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.content import Content

from ...engine.matmul.cache_model import (  # CacheLevel, TilingTrace: the screen's types too
    CacheLevel,
    LevelCounts,
    TilingTrace,
    machine_levels,
    tiling_trace,
)
from ...kernels.replay import TileGrid, TileState
from ...kernels.trace import MemoryLevel

MODEL_SIZES = (64, 96, 128)  # what x walks through; 128 is the cache model's largest
TILE_SIZES = (8, 16, 32)  # what t walks through (at 128, tile 8 makes 4,096 steps)
DEFAULT_MODEL_N = 128  # three 128 KiB matrices: bigger than an L1, so blocking shows
DEFAULT_TILE = 16
MATRIX_INDEX = {"A": 0, "B": 1, "C": 2}  # the cache model's order
IN_USE = {MemoryLevel.SRAM: TileState.SRAM, MemoryLevel.L2: TileState.L2,
          MemoryLevel.DRAM: TileState.DRAM}
SERVED_WORDS = {MemoryLevel.SRAM: "L1", MemoryLevel.L2: "L2", MemoryLevel.DRAM: "memory"}
LEGEND = [
    (TileState.SRAM, "in use, L1 hit"),
    (TileState.L2, "in use, from L2"),
    (TileState.DRAM, "in use, from memory"),
    (TileState.OTHER, "in L1"),
    (TileState.STORED, "in L2"),
    (TileState.DONE, "C tile done"),
    (TileState.IDLE, "not cached"),
]


def model_levels() -> tuple[CacheLevel, ...]:
    """The caches the model replays: this machine's L1 and L2 (tests stand in for them)."""
    return machine_levels()


def compute_trace(n: int, tile: int, levels: tuple[CacheLevel, ...]) -> TilingTrace:
    """The trace (module level and plain data, so it can run in a worker process)."""
    return tiling_trace(n, tile, levels)


@dataclass(frozen=True)
class TilingSettings:
    n: int = DEFAULT_MODEL_N
    tile: int = DEFAULT_TILE

    def next_tile(self) -> TilingSettings:
        return TilingSettings(self.n, TILE_SIZES[(TILE_SIZES.index(self.tile) + 1)
                                                 % len(TILE_SIZES)])

    def next_size(self) -> TilingSettings:
        return TilingSettings(MODEL_SIZES[(MODEL_SIZES.index(self.n) + 1) % len(MODEL_SIZES)],
                              self.tile)


class TraceStepper:
    """The kit's Stepper over a trace: position p = after p tile steps."""

    def __init__(self, trace: TilingTrace) -> None:
        self.trace = trace
        self.position = 0

    @property
    def length(self) -> int:
        return len(self.trace.steps)

    def seek(self, position: int) -> None:
        self.position = position


def waiting_text(settings: TilingSettings) -> Content:
    return Content.styled(f"tracing the loops at n = {settings.n}, tile {settings.tile}…",
                          "italic $text-muted")


def tile_grids(trace: TilingTrace, position: int) -> list[TileGrid]:
    """C, A and B after `position` steps: the step's tiles (by where they were found), the
    tiles wholly in L1 or L2, and C's finished tiles."""
    per_side = trace.tiles_per_side
    grids = {name: TileGrid(name, per_side, per_side) for name in ("C", "A", "B")}
    if position == 0:
        return list(grids.values())
    last_k = per_side - 1
    for step in trace.steps[:position]:
        if step.k_tile == last_k:
            grids["C"].mark(step.i_tile, step.j_tile, TileState.DONE)
    step = trace.steps[position - 1]
    for level, held in enumerate(step.cached):  # L1's tiles outrank L2's (grid.mark)
        state = TileState.OTHER if level == 0 else TileState.STORED
        for name, grid in grids.items():
            for row, col in held[MATRIX_INDEX[name]]:
                grid.mark(row, col, state)
    for ref in step.tiles:
        grids[ref.operand].mark(ref.rows[0] // trace.tile, ref.cols[0] // trace.tile,
                                IN_USE[ref.level])
    return list(grids.values())


def _counts(levels: tuple[LevelCounts, ...] | None, index: int) -> tuple[int, int]:
    if levels is None or index >= len(levels):
        return 0, 0
    return levels[index].total_hits, levels[index].total_misses


def counters(trace: TilingTrace, position: int) -> Content:
    """Naive and blocked side by side after the same number of multiply-adds."""
    step = trace.steps[position - 1] if position else None
    naive = step.naive if step else None
    blocked = step.blocked if step else None
    done = step.multiply_adds if step else 0
    lines = [Content.assemble(("multiply-adds ", "bold"), f"{done:,}"),
             Content.styled(f"{'':<10}{'naive':>9}{'blocked':>9}", "bold")]
    for index, level in enumerate(trace.levels):
        naive_hits, naive_misses = _counts(naive, index)
        blocked_hits, blocked_misses = _counts(blocked, index)
        lines.append(Content(f"{level.name + ' hits':<10}{naive_hits:>9,}{blocked_hits:>9,}"))
        lines.append(Content.assemble(
            f"{level.name + ' misses':<10}", (f"{naive_misses:>9,}", "$error"),
            (f"{blocked_misses:>9,}", "$success")))
    naive_l1, blocked_l1 = _counts(naive, 0), _counts(blocked, 0)
    lines.append(Content(f"{'L1 miss %':<10}{_rate(naive_l1):>9}{_rate(blocked_l1):>9}"))
    if step is not None:
        served = " · ".join(f"{ref.operand} {SERVED_WORDS[ref.level]}" for ref in step.tiles)
        lines += [Content.styled("this step found", "bold"), Content(f" {served}")]
    return Content("\n").join(lines)


def _rate(counts: tuple[int, int]) -> str:
    hits, misses = counts
    return f"{misses / (hits + misses):.1%}" if hits + misses else "—"


def l1_misses(trace: TilingTrace, position: int) -> tuple[int, int]:
    """(naive, blocked) L1 misses after `position` steps."""
    if position == 0:
        return 0, 0
    step = trace.steps[position - 1]
    return step.naive[0].total_misses, step.blocked[0].total_misses


def step_words(trace: TilingTrace, position: int) -> str:
    """`C(1,2) += A(1,0)·B(0,2)`: the step just taken, by tile coordinates."""
    if position == 0:
        return "before the first tile step"
    step = trace.steps[position - 1]
    i, j, k = step.i_tile, step.j_tile, step.k_tile
    return f"C({i},{j}) += A({i},{k})·B({k},{j})"


def size_words(level: CacheLevel) -> str:
    """"the 48 KiB L1"."""
    size = f"{level.size // 1024} KiB" if level.size % 1024 == 0 else f"{level.size} B"
    return f"the {size} {level.name}"


def status_text(stepper: TraceStepper | None, playback: Text) -> Content:
    """The playback's own segment (▶/⏸, step, speed), then the step in tile coordinates."""
    if stepper is None:
        return Content.styled("computing the cache model in the background…", "italic")
    return Content.assemble(Content.from_rich_text(playback), "  ",
                            step_words(stepper.trace, stepper.position))


def explanation(stepper: TraceStepper | None, settings: TilingSettings,
                levels: tuple[CacheLevel, ...]) -> Text:
    """Cache blocking in the project's words, with the miss counts at the step on show."""
    naive, blocked = l1_misses(stepper.trace, stepper.position) if stepper else (0, 0)
    ratio = f" ({naive / blocked:,.1f}× fewer)" if blocked else ""
    tile, l1 = settings.tile, size_words(levels[0]) if levels else "the L1"
    return Text.assemble(
        ("Cache blocking. ", "bold"),
        "i-j-k walks B down a column: each load is a new 64-byte line, and once B is bigger "
        f"than {l1} nearly every one misses. Blocking works on {tile}×{tile} tiles "
        f"(3 × {tile * tile * 8:,} B) that stay cached while each is reused {tile} times. "
        f"So far: {naive:,} L1 misses naive vs {blocked:,} blocked{ratio}, for the same "
        "multiply-adds.",
    )
