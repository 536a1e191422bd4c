"""A trace prepared for replay: steps in time order, what each level of memory holds at any
step, and the view-model the screen draws (tile states per cell, lanes, traffic).

Built once off the UI thread; the screen then asks cheap questions per frame (which blocks are
resident at step i, which tiles the selected block holds, which output tiles are written).
Nothing here knows a kernel by name: the tiles come from the problem's tile map
(`trace.TileMap`), so a CPU cache-blocking trace replays through the same code.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from .trace import (
    Access,
    KernelTrace,
    MemoryLevel,
    TileMap,
    TileRecord,
    TileRef,
    dram_bytes,
)

BlockKey = tuple[int, tuple[int, int, int]]  # (launch index, blockIdx)


class TileState(StrEnum):
    """What one tile of a drawn matrix is at the replay's time; later states win when a
    drawing merges tiles or several steps touch one tile."""

    IDLE = "idle"  # not touched yet
    SKIPPED = "skip"  # work that never runs (above the causal diagonal)
    DONE = "done"  # work finished
    STORED = "stored"  # written back to DRAM / HBM
    OTHER = "other"  # held by another block in flight
    DRAM = "dram"  # read by the selected block straight from DRAM / HBM
    L2 = "l2"  # held by the selected block in L2
    SRAM = "sram"  # held by the selected block in SRAM / L1
    REGISTER = "register"  # held by the selected block in registers


RANK = {state: rank for rank, state in enumerate(TileState)}
HELD_AT = {
    MemoryLevel.REGISTER: TileState.REGISTER,
    MemoryLevel.SRAM: TileState.SRAM,
    MemoryLevel.L2: TileState.L2,
    MemoryLevel.DRAM: TileState.DRAM,
}


@dataclass
class TileGrid:
    """One matrix as tiles: (row, col) → state; tiles not listed are idle."""

    title: str
    rows: int
    cols: int
    cells: dict[tuple[int, int], TileState] = field(default_factory=dict)
    cell_width: int = 1

    def mark(self, row: int, col: int, state: TileState) -> None:
        """Set a tile's state unless it already shows a more important one."""
        if RANK[state] >= RANK[self.cells.get((row, col), TileState.IDLE)]:
            self.cells[(row, col)] = state


@dataclass(frozen=True)
class BlockSpan:
    sm: int
    start_ns: int
    end_ns: int
    steps: int


@dataclass(frozen=True)
class Lane:
    """One resident-block slot of one SM: the blocks that ran in it, one after another."""

    sm: int
    slot: int
    blocks: tuple[BlockKey, ...]  # in start order


@dataclass(frozen=True)
class LevelTraffic:
    """Bytes one level served: reads already there (hits), reads it had to fetch from the
    level below (misses), and writes."""

    hits: int = 0
    misses: int = 0
    writes: int = 0


def assign_lanes(spans: dict[BlockKey, BlockSpan]) -> list[Lane]:
    """Place each block in a slot of its SM: the lowest slot free when the block started.

    A real trace says only which SM ran a block, not which slot, so the slots are rebuilt
    from the times; an SM never needs more lanes than it had blocks resident at once.
    """
    by_sm: dict[int, list[BlockKey]] = {}
    for key in sorted(spans, key=lambda k: (spans[k].start_ns, k)):
        by_sm.setdefault(spans[key].sm, []).append(key)
    lanes = []
    for sm in sorted(by_sm):
        free_at: list[int] = []
        slots: list[list[BlockKey]] = []
        for key in by_sm[sm]:
            span = spans[key]
            slot = next((i for i, t in enumerate(free_at) if t <= span.start_ns), len(slots))
            if slot == len(slots):
                free_at.append(0)
                slots.append([])
            free_at[slot] = span.end_ns
            slots[slot].append(key)
        lanes += [Lane(sm, i, tuple(keys)) for i, keys in enumerate(slots)]
    return lanes


@dataclass
class Replay:
    trace: KernelTrace
    tiles: TileMap
    records: list[TileRecord]  # sorted by start time
    refs: list[list[TileRef]]  # the tiles each record touched
    spans: dict[BlockKey, BlockSpan]
    # Per-step notes the run attached, by (block, step): flash attention's row states.
    flash_states: dict[tuple[tuple[int, int, int], int], Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.records)

    def time_at(self, index: int) -> int:
        return self.records[index].start_ns

    def running(self, index: int) -> list[int]:
        """Indices of the steps in flight at step `index`'s start time (itself included)."""
        t = self.time_at(index)
        last = bisect_right(self._starts, t)
        return [i for i in range(last) if self.records[i].end_ns > t or i == index]

    def stored_until(self, index: int) -> list[TileRef]:
        """Every tile written back to DRAM by the steps up to and including `index`."""
        return [ref for refs in self.refs[: index + 1] for ref in refs if ref.store]

    def held(self, index: int) -> list[TileRef]:
        """The tiles step `index`'s block works on during that step (all but its stores)."""
        return [ref for ref in self.refs[index] if not ref.store]

    def flash_state(self, index: int):
        record = self.records[index]
        return self.flash_states.get((record.block, record.step))

    def block_step_at(self, key: BlockKey, index: int) -> int:
        """The step of block `key` to show at step `index`'s time: its latest step started by
        then, or its first step when it has not started yet."""
        t = self.time_at(index)
        steps = self._block_steps[key]
        started = [i for i in steps if self.records[i].start_ns <= t]
        return started[-1] if started else steps[0]

    def block_status(self, key: BlockKey, index: int) -> str:
        """Where block `key` is at step `index`'s time: waiting, running or finished."""
        now, span = self.time_at(index), self.spans[key]
        if now < span.start_ns:
            return "waits for an SM slot"
        return "finished" if now >= span.end_ns else "running"

    def cycle_block(self, index: int, pinned: BlockKey | None, delta: int) -> BlockKey:
        """The block Tab (delta 1) / Shift+Tab (-1) pins: from a pinned block the next or
        previous one; unpinned, the block on screen or the one before it."""
        if pinned is None:
            record = self.records[index]
            current = self.blocks.index((record.launch, record.block))
            target = current if delta > 0 else current - 1
        else:
            target = self.blocks.index(pinned) + delta
        return self.blocks[target % len(self.blocks)]

    def block_number(self, key: BlockKey) -> int:
        return self.trace.launches[key[0]].linear_block(key[1])

    def block_label(self, key: BlockKey) -> str:
        """"(x,y,z)": the block's index in its launch."""
        return "(" + ",".join(map(str, key[1])) + ")"

    # -- what the screen draws ---------------------------------------------------------------

    def tile_grids(self, index: int, shown: int) -> list[TileGrid]:
        """Every operand's tile states at step `index`'s time, with step `shown` (the selected
        block's) drawn at the level it holds its tiles; then the work grid, if any."""
        layouts = self.tiles.grids()
        grids = [TileGrid(g.title, -(-g.rows // g.tile_rows), -(-g.cols // g.tile_cols), {},
                          g.cell_width) for g in layouts]
        by_operand = {operand: (layout, grid) for layout, grid in zip(layouts, grids, strict=True)
                      for operand in layout.operands}

        def mark(ref: TileRef, state: TileState) -> None:
            if ref.operand not in by_operand:
                return
            layout, grid = by_operand[ref.operand]
            for row in _tiles_over(ref.rows, layout.tile_rows):
                for col in _tiles_over(ref.cols, layout.tile_cols):
                    grid.mark(row, col, state)

        for ref in self.stored_until(index):
            mark(ref, TileState.STORED)
        running = self.running(index)
        for i in running:
            for ref in self.refs[i]:
                mark(ref, TileState.OTHER)
        for ref in self.held(shown):
            mark(ref, HELD_AT[ref.level])
        work = self._work_grid(index, running, shown)
        return grids + ([work] if work is not None else [])

    def _work_grid(self, index: int, running: list[int], shown: int) -> TileGrid | None:
        work = self.tiles.work_grid()
        if work is None:
            return None
        grid = TileGrid(work.title, work.rows, work.cols, dict.fromkeys(work.skipped,
                                                                         TileState.SKIPPED))
        launch = self.trace.launches[work.launch]

        def mark(i: int, state: TileState) -> None:
            record = self.records[i]
            if record.launch == work.launch:
                grid.mark(launch.linear_block(record.block), record.step, state)

        for i in range(index + 1):
            mark(i, TileState.DONE)
        for i in running:
            mark(i, TileState.OTHER)
        mark(shown, TileState.SRAM)
        return grid

    @cached_property
    def legend(self) -> list[tuple[TileState, str]]:
        """The states this replay can show, most important first, named as its machine names
        its memory ("SRAM", "HBM" on a GPU; "L1", "DRAM" on a CPU)."""
        names = self.tiles.level_names
        dram = names.get(MemoryLevel.DRAM, "DRAM")
        states = {TileState.IDLE}
        for refs in self.refs:
            for ref in refs:
                states.add(TileState.STORED if ref.store else HELD_AT[ref.level])
        if len(self.blocks) > 1:
            states.add(TileState.OTHER)
        work = self.tiles.work_grid()
        if work is not None:
            states |= {TileState.SRAM, TileState.DONE}
            if work.skipped:
                states.add(TileState.SKIPPED)
        words = {
            TileState.IDLE: "idle",
            TileState.SKIPPED: "skipped",
            TileState.DONE: "done",
            TileState.STORED: f"in {dram}",
            TileState.OTHER: "other block",
            TileState.DRAM: f"read from {dram}",
        }
        for level in (MemoryLevel.L2, MemoryLevel.SRAM, MemoryLevel.REGISTER):
            words[HELD_AT[level]] = f"in {names.get(level, level.value)}"
        return [(state, words[state]) for state in reversed(TileState) if state in states]

    def level_traffic(self) -> dict[MemoryLevel, LevelTraffic]:
        """Bytes each level served over the whole run (fastest level first)."""
        totals: dict[MemoryLevel, list[int]] = {}
        for refs in self.refs:
            for ref in refs:
                counts = totals.setdefault(ref.level, [0, 0, 0])
                kind = 2 if ref.access is Access.WRITE else 0 if ref.hit else 1
                counts[kind] += ref.bytes
        return {level: LevelTraffic(*totals[level]) for level in MemoryLevel if level in totals}

    def dram_bytes(self) -> int:
        """Bytes moved to and from DRAM (HBM) by the whole run."""
        return sum(dram_bytes(ref, self.tiles.levels) for refs in self.refs for ref in refs)

    def __post_init__(self) -> None:
        # The screen reads this every frame: computed once, not per call.
        self.duration_ns = max((s.end_ns for s in self.spans.values()), default=0)
        self._starts = [r.start_ns for r in self.records]
        self._block_steps: dict[BlockKey, list[int]] = {}
        for i, r in enumerate(self.records):
            self._block_steps.setdefault((r.launch, r.block), []).append(i)
        self.blocks: list[BlockKey] = sorted(
            self._block_steps, key=lambda k: (k[0], self.block_number(k))
        )  # launch order, then linear block id: the order Tab cycles through
        self.lanes = assign_lanes(self.spans)


def _tiles_over(span: tuple[int, int], tile: int) -> range:
    """The tile indices that the half-open element range `span` overlaps."""
    return range(span[0] // tile, (span[1] - 1) // tile + 1)


class ReplayCursor:
    """A replay as the kit's stepper: `position` is the number of the step on screen
    (1 … len), so the status reads "step 4/512"; seeking clamps to a real step."""

    def __init__(self, replay: Replay) -> None:
        self.replay = replay
        self._position = 1

    @property
    def position(self) -> int:
        return self._position

    @property
    def length(self) -> int:
        return len(self.replay)

    @property
    def index(self) -> int:
        """The step on screen as an index into replay.records."""
        return self._position - 1

    def seek(self, position: int) -> None:
        self._position = max(1, min(position, self.length))


def build_replay(trace: KernelTrace, tiles: TileMap, flash_states: dict | None = None) -> Replay:
    """Sort the trace's steps and attach the tiles each one touched (from the tile map)."""
    records = trace.sorted_records()
    refs = [tiles.tiles(r.launch, r.block, r.step) for r in records]
    spans: dict[BlockKey, BlockSpan] = {}
    for record in records:
        key = (record.launch, record.block)
        span = spans.get(key)
        if span is None:
            spans[key] = BlockSpan(record.sm, record.start_ns, record.end_ns, 1)
        else:
            spans[key] = BlockSpan(span.sm, min(span.start_ns, record.start_ns),
                                   max(span.end_ns, record.end_ns), span.steps + 1)
    return Replay(trace, tiles, records, refs, spans, flash_states or {})
