"""The CUDA screen's side panel: what one block holds at the current tile step, level by level
(shared memory, registers, or straight reads from HBM), what it writes back, and, for flash
attention, each row's running max m, running sum l and the factor α = exp(m_old − m_new) that
rescaled its output at this K/V tile."""

from __future__ import annotations

from rich.cells import cell_len
from textual.content import Content
from textual.widgets import Static

from ...kernels.trace import MemoryLevel

PANEL_WIDTH = 22  # cuda.tcss: width 24, less the left border and padding


def _span(pair: tuple[int, int]) -> str:
    return f"{pair[0]}–{pair[1] - 1}" if pair[1] - pair[0] > 1 else f"{pair[0]}"


def _size(nbytes: int) -> str:
    return f"{nbytes / 1024:.1f}KiB" if nbytes >= 1024 else f"{nbytes}B"


def tile_word(replay) -> str:
    """What one block's steps walk over: k tiles (matmul), K/V tiles (flash attention)."""
    problem = getattr(replay.tiles, "problem", None)
    family = getattr(problem, "family", "")
    if family == "matmul":
        return "k-tile"
    return "K/V tile" if family == "attention" else "tile"


def sram_text(replay, index: int, max_rows: int = 6, pinned: str = "") -> Content:
    """The panel for step `index` of a kernels.replay.Replay; `pinned` says where a pinned
    block is at the replay's time ("running", "finished", …), empty when not pinned."""
    record = replay.records[index]
    launch = replay.trace.launches[record.launch]
    names = replay.tiles.level_names
    parts: list[tuple[str, str] | str] = []
    if len(replay.trace.launches) > 1:
        parts.append((f"{launch.entry}\n", "bold"))
    block = ",".join(map(str, record.block))
    parts.append((f"block ({block}) · SM {record.sm}\n", "bold $warning" if pinned else ""))
    if pinned:
        parts.append((f"pinned · {pinned}\n", "$warning"))
    # Not a second step counter (the status line's step is the one): which tile of its loop
    # this block is on, when it has several.
    steps = replay.spans[(record.launch, record.block)].steps
    took = f"{(record.end_ns - record.start_ns) / 1e3:.2f} µs"
    where = f"{tile_word(replay)} {record.step + 1} of {steps}" if steps > 1 else ""
    line = f"{where}, {took}" if where else took
    if len(line) > PANEL_WIDTH:
        line = f"{where}\n{took}"
    parts.append((line + "\n", "dim"))
    by_level: dict[MemoryLevel, list] = {}  # in the order the step uses them
    for ref in replay.held(index):
        by_level.setdefault(ref.level, []).append(ref)
    for level, refs in by_level.items():
        heading = f"{names[level]} reads" if level is MemoryLevel.DRAM else names[level]
        parts += [(f"{heading}: ", "bold"), f"{_size(sum(r.bytes for r in refs))}\n"]
        merged: dict[tuple, list] = {}  # K and V tiles of one step cover the same rows: one line
        for ref in refs:
            merged.setdefault((ref.rows, ref.cols), []).append(ref)
        for (rows, cols), same in merged.items():
            parts.append((" " + ",".join(ref.operand for ref in same), "bold $warning"))
            parts.append(f"[{_span(rows)},{_span(cols)}] {_size(sum(r.bytes for r in same))}\n")
    for ref in (r for r in replay.refs[index] if r.store):
        parts.append((f" → {names[MemoryLevel.DRAM]} ", "$success"))
        parts.append(f"{ref.operand}[{_span(ref.rows)},{_span(ref.cols)}]\n")
    state = replay.flash_state(index)
    if state is not None:
        parts.append(("row     m      l     α\n", "bold"))
        for row in range(min(max_rows, len(state.m))):
            alpha = state.alpha[row]
            parts.append(f"{state.first_row + row:<4}{state.m[row]:>6.2f}{state.l[row]:>7.2f}")
            parts.append((f"{alpha:>5.2f}\n", "$warning" if 0 < alpha < 1 else ""))
        rescaled = int(((state.alpha > 0) & (state.alpha < 1)).sum())
        parts.append((f"O·α: {rescaled}/{len(state.m)} rows rescaled", "dim"))
    return Content.assemble(*parts)


class SramPanel(Static):
    """Shows `sram_text` for the step the replay is at (its size is fixed by the screen's
    CSS: a new step repaints it without a layout pass)."""

    def show(self, replay, index: int, pinned: str = "") -> None:
        self.update(sram_text(replay, index, self._rows_that_fit(replay, index, pinned), pinned),
                    layout=False)

    def _rows_that_fit(self, replay, index: int, pinned: str) -> int:
        if not self.size.height:
            return 6
        # Whatever is above the m/l/α table, plus its header and its summary line.
        # A line wider than the panel wraps and takes two lines (K,V tiles of d = 128).
        width = max(self.content_size.width, 1)
        above = sum(-(-max(cell_len(line), 1) // width)
                    for line in sram_text(replay, index, 0, pinned).plain.splitlines())
        return max(1, self.size.height - above)
