"""Matrices drawn as grids of tiles, two tile rows per text line (▀ with fg = top, bg = bottom).

The screen says what state each tile is in; the widget only draws, and shrinks a grid that does
not fit by merging tiles (the most important state wins), so any size renders without error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

# Later entries win when tiles merge.
STATES = ("idle", "skip", "done", "hbm", "other", "sram")
COLORS = {
    "idle": "#3a3a3a",
    "skip": "#121212",
    "done": "#2e6b3a",
    "hbm": "#4caf50",
    "other": "#2f6f9f",
    "sram": "#ffd54f",
}
LEGEND = (("sram", "this block's SRAM"), ("other", "running"), ("hbm", "in HBM"))


@dataclass
class Grid:
    title: str
    rows: int
    cols: int
    cells: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) → state
    cell_width: int = 1


def _merge(grid: Grid, factor: int) -> Grid:
    if factor <= 1:
        return grid
    cells: dict[tuple[int, int], str] = {}
    for (r, c), state in grid.cells.items():
        key = (r // factor, c // factor)
        if STATES.index(state) > STATES.index(cells.get(key, "idle")):
            cells[key] = state
    return Grid(grid.title, -(-grid.rows // factor), -(-grid.cols // factor), cells,
                grid.cell_width)


def render_grid(grid: Grid, max_lines: int, factor: int = 1, scale: int = 1) -> list[Text]:
    """Title line plus the tiles: one line per tile row (`scale` > 1, when there is room) or
    two per line as half blocks, merging tiles until it fits the lines."""
    if scale > 1:
        lines = [Text(grid.title, style="bold")]
        for row in range(grid.rows):
            line = Text()
            for col in range(grid.cols):
                color = COLORS[grid.cells.get((row, col), "idle")]
                line.append("█" * (grid.cell_width * scale - 1) + " ", Style(color=color))
            lines.append(line)
        return lines
    while -(-grid.rows // factor) > 2 * max(max_lines - 1, 1):
        factor += 1
    grid = _merge(grid, factor)
    lines = [Text(grid.title, style="bold")]
    for top in range(0, grid.rows, 2):
        line = Text()
        for col in range(grid.cols):
            upper = COLORS[grid.cells.get((top, col), "idle")]
            if top + 1 < grid.rows:
                lower = COLORS[grid.cells.get((top + 1, col), "idle")]
                line.append("▀" * grid.cell_width, Style(color=upper, bgcolor=lower))
            else:
                line.append("▀" * grid.cell_width, Style(color=upper))
        lines.append(line)
    return lines


class TileGrids(Widget):
    """Several grids side by side (A, B, C or Q, K, V, O, …) with a one-line legend."""

    DEFAULT_CSS = "TileGrids { height: 1fr; min-height: 3; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.grids: list[Grid] = []

    def show(self, grids: list[Grid]) -> None:
        self.grids = grids
        self.refresh(layout=True)


    def render(self) -> Text:
        width, height = self.size
        if width <= 0 or height <= 0 or not self.grids:
            return Text("")
        tall = max(g.rows for g in self.grids) <= height - 2
        # Large tiles when they fit, else half blocks, merging tiles until the grids fit.
        attempts = [(1, 3), (1, 2)] if tall else []
        attempts += [(factor, 1) for factor in range(1, 9)]
        for factor, scale in attempts:
            blocks = [render_grid(g, height - 1, factor, scale) for g in self.grids]
            widths = [max(line.cell_len for line in block) for block in blocks]
            if sum(widths) + (len(widths) - 1) <= width:
                break
        out = Text()
        used = 0
        shown = []
        for block, block_width in zip(blocks, widths, strict=True):
            if used + block_width > width:
                break
            shown.append((block, block_width))
            used += block_width + 1
        rows = max((len(block) for block, _ in shown), default=0)
        for row in range(min(rows, height - 1)):
            for block, block_width in shown:
                piece = block[row] if row < len(block) else Text("")
                out.append_text(piece)
                out.append(" " * (block_width - piece.cell_len + 1))
            out.append("\n")
        for state, words in LEGEND:
            out.append("■ ", style=COLORS[state])
            out.append(words + "  ", style="dim")
        return out
