"""What one block holds in shared memory (SRAM) at the current tile step, and, for flash
attention, each row's running max m, running sum l and the factor α = exp(m_old − m_new) that
rescaled its output at this K/V tile."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


def _span(pair: tuple[int, int]) -> str:
    return f"{pair[0]}–{pair[1] - 1}" if pair[1] - pair[0] > 1 else f"{pair[0]}"


def _size(nbytes: int) -> str:
    return f"{nbytes / 1024:.1f}KiB" if nbytes >= 1024 else f"{nbytes}B"


def sram_text(replay, index: int, max_rows: int = 6, pinned: str = "") -> Text:
    """The panel for step `index` of a kernels.replay.Replay; `pinned` says where a pinned
    block is at the replay's time ("running", "finished", …), empty when not pinned."""
    record = replay.records[index]
    launch = replay.trace.launches[record.launch]
    text = Text()
    if len(replay.trace.launches) > 1:
        text.append(f"{launch.entry}\n", style="bold")
    block = ",".join(map(str, record.block))
    text.append(f"block ({block}) · SM {record.sm}\n", style="bold yellow" if pinned else "")
    if pinned:
        text.append(f"pinned · {pinned}\n", style="yellow")
    text.append(f"step {record.step + 1}/{replay.spans[(record.launch, record.block)].steps}"
                f" · {(record.end_ns - record.start_ns) / 1e3:.2f} µs\n", style="dim")
    sram = replay.sram(index)
    untiled = replay.problem.kernel in ("matmul_naive", "attention_naive")
    text.append("reads, no tiles: " if untiled else "SRAM: ", style="bold")
    text.append(f"{_size(sum(r.bytes for r in sram))}\n")
    merged: dict[tuple, list] = {}  # K and V tiles of one step cover the same rows: one line
    for ref in sram:
        merged.setdefault((ref.rows, ref.cols), []).append(ref)
    for (rows, cols), refs in merged.items():
        text.append(" " + ",".join(ref.operand for ref in refs), style="bold yellow")
        text.append(f"[{_span(rows)},{_span(cols)}] {_size(sum(r.bytes for r in refs))}\n")
    for ref in (r for r in replay.refs[index] if r.store):
        text.append(" → HBM ", style="green")
        text.append(f"{ref.operand}[{_span(ref.rows)},{_span(ref.cols)}]\n")
    state = replay.flash_state(index)
    if state is not None:
        first_row = record.block[0] * replay.defines["BR"]
        text.append("row     m      l     α\n", style="bold")
        for row in range(min(max_rows, len(state.m))):
            alpha = state.alpha[row]
            style = "yellow" if 0 < alpha < 1 else ""
            text.append(f"{first_row + row:<4}{state.m[row]:>6.2f}{state.l[row]:>7.2f}")
            text.append(f"{alpha:>5.2f}\n", style=style)
        rescaled = int(((state.alpha > 0) & (state.alpha < 1)).sum())
        text.append(f"O·α: {rescaled}/{len(state.m)} rows rescaled", style="dim")
    return text


class SramPanel(Static):
    """Shows `sram_text` for the step the replay is at."""

    def show(self, replay, index: int, pinned: str = "") -> None:
        self.update(sram_text(replay, index, self._rows_that_fit(replay, index, pinned), pinned))

    def _rows_that_fit(self, replay, index: int, pinned: str) -> int:
        if not self.size.height:
            return 6
        # Whatever is above the m/l/α table, plus its header and its summary line.
        above = len(sram_text(replay, index, 0, pinned).plain.splitlines())
        return max(1, self.size.height - above)
