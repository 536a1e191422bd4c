"""A trace prepared for replay: steps in time order, and what is in SRAM / HBM at any step.

Built once off the UI thread; the screen then asks cheap questions per frame (which blocks are
resident at step i, which tiles the selected block holds, which output tiles are written).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from .catalog import Problem, TileRef, step_tiles
from .sim import FlashRowState
from .trace import KernelTrace, TileRecord

BlockKey = tuple[int, tuple[int, int, int]]  # (launch index, blockIdx)


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
    problem: Problem
    defines: dict[str, int]
    trace: KernelTrace
    records: list[TileRecord]  # sorted by start time
    refs: list[list[TileRef]]  # what each record moved between HBM and SRAM
    spans: dict[BlockKey, BlockSpan]
    flash_states: dict[tuple[tuple[int, int, int], int], FlashRowState] = field(
        default_factory=dict
    )

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
        """Every tile written back to HBM by the steps up to and including `index`."""
        return [ref for refs in self.refs[: index + 1] for ref in refs if ref.store]

    def sram(self, index: int) -> list[TileRef]:
        """The tiles resident in the shared memory of step `index`'s block during that step.

        Flash keeps its Q tile from step 0 on, so Q is listed at every step.
        """
        record = self.records[index]
        loads = [ref for ref in self.refs[index] if not ref.store]
        if self.problem.kernel == "flash_attention_fwd" and record.step > 0:
            first = self._step_index.get((record.launch, record.block, 0))
            if first is not None:
                loads = [r for r in self.refs[first] if r.operand == "Q"] + loads
        return loads

    def flash_state(self, index: int) -> FlashRowState | None:
        record = self.records[index]
        return self.flash_states.get((record.block, record.step))

    def block_step_at(self, key: BlockKey, index: int) -> int:
        """The step of block `key` to show at step `index`'s time: its latest step started by
        then, or its first step when it has not started yet."""
        t = self.time_at(index)
        steps = self._block_steps[key]
        started = [i for i in steps if self.records[i].start_ns <= t]
        return started[-1] if started else steps[0]

    def __post_init__(self) -> None:
        # The screen reads this every frame: computed once, not per call.
        self.duration_ns = max((s.end_ns for s in self.spans.values()), default=0)
        self._starts = [r.start_ns for r in self.records]
        self._step_index = {(r.launch, r.block, r.step): i for i, r in enumerate(self.records)}
        self._block_steps: dict[BlockKey, list[int]] = {}
        for i, r in enumerate(self.records):
            self._block_steps.setdefault((r.launch, r.block), []).append(i)
        self.blocks: list[BlockKey] = sorted(
            self._block_steps, key=lambda k: (k[0], self.trace.launches[k[0]].linear_block(k[1]))
        )  # launch order, then linear block id: the order Tab cycles through
        self.lanes = assign_lanes(self.spans)


def build_replay(
    problem: Problem,
    defines: dict[str, int],
    trace: KernelTrace,
    flash_states: dict | None = None,
) -> Replay:
    """Sort the trace's steps and attach the tiles each one moved."""
    records = trace.sorted_records()
    refs = [step_tiles(problem, defines, r.launch, r.block, r.step) for r in records]
    spans: dict[BlockKey, BlockSpan] = {}
    for record in records:
        key = (record.launch, record.block)
        span = spans.get(key)
        if span is None:
            spans[key] = BlockSpan(record.sm, record.start_ns, record.end_ns, 1)
        else:
            spans[key] = BlockSpan(span.sm, min(span.start_ns, record.start_ns),
                                   max(span.end_ns, record.end_ns), span.steps + 1)
    return Replay(problem, defines, trace, records, refs, spans, flash_states or {})
