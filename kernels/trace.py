"""The one trace schema: which block ran which tile step, on which SM, from when to when, and
which tiles each step touched at which level of the memory hierarchy.

A real launch (kernels built with -DMICROGPT_TRACE, see trace.cuh) and the CPU simulator both
produce a `KernelTrace`; the screen replays it, the CLI writes it as Chrome-trace JSON for
Perfetto (pid = SM, tid = block), and the tests check its invariants.

The schema is not CUDA's alone. A "block" is any unit of work that runs its steps in order on
one worker (an SM slot, a CPU core), and a `TileRef` names a rectangle of an operand together
with the memory level it was used at, whether it was already there (a hit) and whether it was
read or written. A CPU cache-blocked matmul (L1 / L2 / DRAM) replays through the same code as
a shared-memory CUDA kernel (SRAM / HBM).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from .catalog import Launch, Problem

FLOAT_BYTES = 4


class MemoryLevel(StrEnum):
    """Where a tile sits while a step uses it, fastest first."""

    REGISTER = "register"
    SRAM = "sram"  # a GPU's shared memory; a CPU's L1 cache
    L2 = "l2"
    DRAM = "dram"  # a GPU's HBM; a CPU's main memory


class Access(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class TileRef:
    """One step's use of a rectangle of an operand: rows [r0, r1) × cols [c0, c1) of `head`.

    `level` is where the step uses the tile. A read with `hit=False` (a miss) brought the tile
    there in this step from the next slower level of the tile map's `levels`; `hit=True` means
    it was already there (a cache hit, a tile a block keeps in shared memory across its steps,
    or any read at DRAM, which holds everything). A write at DRAM is a store back to main
    memory (HBM); a write at a faster level stays there (an accumulator in registers).
    """

    operand: str  # "A", "B", "C" or "Q", "K", "V", "O", "S", "P"
    rows: tuple[int, int]
    cols: tuple[int, int]
    level: MemoryLevel = MemoryLevel.SRAM
    access: Access = Access.READ
    hit: bool = False
    head: int = 0
    element_bytes: int = FLOAT_BYTES  # the CUDA kernels use float32; the CPU cache model float64

    @property
    def store(self) -> bool:
        """Written back to DRAM (HBM): the step's result leaving the chip."""
        return self.access is Access.WRITE and self.level is MemoryLevel.DRAM

    @property
    def elements(self) -> int:
        return (self.rows[1] - self.rows[0]) * (self.cols[1] - self.cols[0])

    @property
    def bytes(self) -> int:
        return self.elements * self.element_bytes


@dataclass(frozen=True)
class OperandGrid:
    """How one matrix is drawn as tiles: its size, the tile size, and the operands stored in it
    (naive attention writes P over S)."""

    title: str
    operands: tuple[str, ...]
    rows: int
    cols: int
    tile_rows: int
    tile_cols: int
    cell_width: int = 1  # characters per tile column (narrow matrices are drawn wider)


@dataclass(frozen=True)
class WorkGrid:
    """The iteration space as a grid: one row per block (of launch `launch`), one column per
    step; `skipped` cells are steps that never run (the causal mask's upper triangle)."""

    title: str
    rows: int
    cols: int
    skipped: frozenset[tuple[int, int]] = frozenset()
    launch: int = 0


class TileMap(Protocol):
    """What a replay asks a problem: which tiles a step touched, and how to draw the operands.

    The CUDA kernels have one (catalog.KernelTiles); a CPU cache-blocking model has its own.
    """

    levels: tuple[MemoryLevel, ...]  # the hierarchy the tiles use, fastest first, DRAM last
    level_names: dict[MemoryLevel, str]  # what this machine calls them: "SRAM", "L1", "HBM"…

    def tiles(self, launch: int, block: tuple[int, int, int], step: int) -> list[TileRef]: ...

    def grids(self) -> list[OperandGrid]: ...

    def work_grid(self) -> WorkGrid | None: ...


def dram_bytes(ref: TileRef, levels: Sequence[MemoryLevel]) -> int:
    """Bytes `ref` moved to or from DRAM, for a hierarchy `levels` (fastest first, DRAM last):
    every access at DRAM itself, and a read miss at the level just above DRAM."""
    if ref.level is MemoryLevel.DRAM:
        return ref.bytes
    above_dram = levels[-2] if len(levels) > 1 else None
    if ref.access is Access.READ and not ref.hit and ref.level is above_dram:
        return ref.bytes
    return 0


# The device-side TraceSlot of trace.cuh, byte for byte (48 bytes, no padding surprises): each
# step's start and end in clock64() cycles of its SM, and on a block's step 0 one %globaltimer
# (ns) read with the end cycles, which places the block's steps in time.
SLOT_DTYPE = np.dtype(
    [
        ("start", "<u8"),
        ("end", "<u8"),
        ("timer", "<u8"),
        ("sm", "<u4"),
        ("block_x", "<u4"),
        ("block_y", "<u4"),
        ("block_z", "<u4"),
        ("step", "<u4"),
        ("pad", "<u4"),
    ]
)
SLOT_BYTES = 48  # sizeof(TraceSlot)


@dataclass(frozen=True)
class TileRecord:
    """One tile step of one block. Times are ns from the start of the first launch."""

    launch: int  # index into KernelTrace.launches (naive attention runs three kernels)
    block: tuple[int, int, int]  # blockIdx (x, y, z)
    step: int  # tile index in the block's loop (the k tile of matmul, the K/V tile of flash)
    sm: int
    start_ns: int
    end_ns: int


@dataclass(frozen=True)
class LaunchInfo:
    entry: str
    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    steps: int  # trace slots per block

    def linear_block(self, block: tuple[int, int, int]) -> int:
        x, y, z = block
        return (z * self.grid[1] + y) * self.grid[0] + x


@dataclass
class KernelTrace:
    """Every tile step of a run, in the order the steps started."""

    kernel: str
    problem: dict
    launches: list[LaunchInfo]
    records: list[TileRecord]
    simulated: bool
    device: str  # "simulated GPU (2 SMs)" or the CUDA device name
    sm_count: int
    blocks_per_sm: int | None = None  # the simulator's occupancy limit; None for a real GPU
    notes: list[str] = field(default_factory=list)

    @property
    def duration_ns(self) -> int:
        return max((r.end_ns for r in self.records), default=0)

    def sorted_records(self) -> list[TileRecord]:
        return sorted(self.records, key=lambda r: (r.start_ns, r.launch, r.sm, r.block, r.step))

    def to_chrome(self) -> dict:
        """Chrome-trace JSON (the format Perfetto opens): one complete event per tile step."""
        events: list[dict] = []
        named_sms: set[int] = set()
        named_blocks: set[tuple[int, int]] = set()
        for record in self.sorted_records():
            launch = self.launches[record.launch]
            tid = record.launch * 1_000_000 + launch.linear_block(record.block)
            if record.sm not in named_sms:
                named_sms.add(record.sm)
                events.append({"ph": "M", "name": "process_name", "pid": record.sm, "tid": 0,
                               "args": {"name": f"SM {record.sm}"}})
            if (record.sm, tid) not in named_blocks:
                named_blocks.add((record.sm, tid))
                events.append({"ph": "M", "name": "thread_name", "pid": record.sm, "tid": tid,
                               "args": {"name": f"{launch.entry} block {record.block}"}})
            events.append(
                {
                    "ph": "X",
                    "name": f"{launch.entry} step {record.step}",
                    "cat": "simulated" if self.simulated else "gpu",
                    "pid": record.sm,
                    "tid": tid,
                    "ts": record.start_ns / 1000.0,  # Chrome traces count microseconds
                    "dur": max(record.end_ns - record.start_ns, 1) / 1000.0,
                    "args": {"block": list(record.block), "step": record.step},
                }
            )
        return {
            "traceEvents": events,
            "displayTimeUnit": "ns",
            "otherData": {
                "kernel": self.kernel,
                "problem": self.problem,
                "device": self.device,
                "simulated": self.simulated,
                "sm_count": self.sm_count,
                "blocks_per_sm": self.blocks_per_sm,
                "launches": [asdict(launch) for launch in self.launches],
            },
        }

    def write_chrome(self, path: str | Path) -> None:
        """Write the Chrome-trace JSON atomically (temp file + rename)."""
        from ..engine.files import atomic_write_bytes

        data = json.dumps(self.to_chrome(), separators=(",", ":")).encode("utf-8")
        atomic_write_bytes(Path(path), data)


def make_trace(
    problem: Problem,
    defines: dict[str, int],
    launches: Sequence[Launch],
    records: list[TileRecord],
    *,
    simulated: bool,
    device: str,
    sm_count: int,
    blocks_per_sm: int | None = None,
    notes: Sequence[str] = (),
) -> KernelTrace:
    """The trace of one run of `problem` compiled with `defines`, as `launches` in order.

    The GPU and the simulator build their traces here; only where the records came from (the
    device name, its SM count, the simulator's occupancy limit and notes) differs.
    """
    return KernelTrace(
        kernel=problem.kernel,
        problem={**asdict(problem), "defines": dict(defines)},
        launches=[LaunchInfo(la.entry, la.grid, la.block, la.steps) for la in launches],
        records=records,
        simulated=simulated,
        device=device,
        sm_count=sm_count,
        blocks_per_sm=blocks_per_sm,
        notes=list(notes),
    )


def slot_times_ns(slots: np.ndarray, clock_khz: int) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) in absolute %globaltimer ns of written device slots (SLOT_DTYPE).

    Cycles count on one SM only, so each block's steps are placed from its own anchor (the
    %globaltimer its step 0 read with its end cycles), converting cycles to ns with the clock
    rate (kHz). A block without an anchor starts at the launch's earliest anchor.
    """
    if len(slots) == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty
    ns_per_cycle = 1e6 / clock_khz if clock_khz > 0 else 1.0
    keys = np.stack([slots["block_z"], slots["block_y"], slots["block_x"]], axis=1)
    _, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    blocks = int(inverse.max()) + 1
    start = slots["start"].astype(np.int64)
    end = slots["end"].astype(np.int64)
    anchored = slots["timer"] != 0
    has_anchor = np.zeros(blocks, bool)
    anchor_ns = np.zeros(blocks, np.int64)
    anchor_cycles = np.zeros(blocks, np.int64)
    has_anchor[inverse[anchored]] = True
    anchor_ns[inverse[anchored]] = slots["timer"][anchored].astype(np.int64)
    anchor_cycles[inverse[anchored]] = end[anchored]
    if not has_anchor.all():
        first = np.full(blocks, np.iinfo(np.int64).max, np.int64)
        np.minimum.at(first, inverse, start)
        missing = ~has_anchor
        anchor_ns[missing] = anchor_ns[has_anchor].min() if has_anchor.any() else 0
        anchor_cycles[missing] = first[missing]

    def to_ns(cycles: np.ndarray) -> np.ndarray:
        offset = np.rint((cycles - anchor_cycles[inverse]) * ns_per_cycle).astype(np.int64)
        return anchor_ns[inverse] + offset

    return to_ns(start), to_ns(end)


def records_from_slots(slots: np.ndarray, launch_index: int, t0_ns: int,
                       clock_khz: int) -> list[TileRecord]:
    """Decode a device trace buffer (SLOT_DTYPE); slots never written (end == 0) are skipped.
    Times are ns since `t0_ns` (a %globaltimer value); `clock_khz` converts cycles."""
    used = slots[slots["end"] != 0]
    starts, ends = slot_times_ns(used, clock_khz)
    return [
        TileRecord(
            launch=launch_index,
            block=(int(s["block_x"]), int(s["block_y"]), int(s["block_z"])),
            step=int(s["step"]),
            sm=int(s["sm"]),
            start_ns=int(start) - t0_ns,
            end_ns=int(end) - t0_ns,
        )
        for s, start, end in zip(used, starts, ends, strict=True)
    ]


def decode_trace_buffers(buffers: list[np.ndarray], clock_khz: int) -> list[TileRecord]:
    """Decode the trace buffers of consecutive launches (one SLOT_DTYPE array per launch), with
    the device's clock rate in kHz (CU_DEVICE_ATTRIBUTE_CLOCK_RATE).

    Times become ns since the earliest recorded start over all launches, so the launches of
    one run share one clock (%globaltimer).
    """
    starts = [int(slot_times_ns(b[b["end"] != 0], clock_khz)[0].min())
              for b in buffers if (b["end"] != 0).any()]
    t0 = min(starts, default=0)
    records: list[TileRecord] = []
    for index, slots in enumerate(buffers):
        records += records_from_slots(slots, index, t0, clock_khz)
    return records
