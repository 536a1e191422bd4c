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
LEGEND = (("sram", "SRAM"), ("other", "running"), ("hbm", "in HBM"))


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


def render_grid(grid: Grid, max_lines: int, factor: int = 1) -> list[Text]:
    """Title line plus the tiles as half blocks (two tile rows per line), merging tiles until
    they fit `max_lines`: the compact form for grids too big to draw one tile per cell."""
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


def render_scaled(grid: Grid, width: int, height: int) -> list[Text]:
    """Title line plus each tile as a `width`×`height` block of characters (per unit of the
    grid's cell_width); from 3 columns / 2 lines up a thin gap separates neighbouring tiles."""
    lines = [Text(grid.title, style="bold")]
    cell = grid.cell_width * width
    for row in range(grid.rows):
        for line_index in range(height):
            line = Text()
            last_line = height > 1 and line_index == height - 1
            for col in range(grid.cols):
                color = COLORS[grid.cells.get((row, col), "idle")]
                body = cell - 1 if cell >= 3 else cell
                line.append(("▀" if last_line else "█") * body, Style(color=color))
                line.append(" " * (cell - body))
            lines.append(line)
    return lines


def best_scale(grids: list[Grid], width: int, height: int) -> tuple[int, int] | None:
    """The biggest tile size (columns, lines) at which every grid fits side by side in
    width × height (title and legend lines included); None when even 1×1 does not fit.
    Terminal cells are about twice as tall as wide, so columns = 2·lines looks square."""
    rows = max(g.rows for g in grids)
    for lines in range(8, 0, -1):
        if rows * lines + 2 > height:
            continue
        for columns in range(2 * lines, 0, -1):
            total = sum(g.cols * g.cell_width * columns for g in grids) + len(grids) - 1
            if total <= width:
                return columns, lines
    return None


class TileGrids(Widget):
    """Several grids side by side (A, B, C or Q, K, V, O, …) with a one-line legend."""

    DEFAULT_CSS = "TileGrids { height: 1fr; min-height: 3; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.grids: list[Grid] = []

    def show(self, grids: list[Grid]) -> None:
        self.grids = grids
        self.refresh()  # the size is fixed by CSS, so only the content changes

    def render(self) -> Text:
        width, height = self.size
        if width <= 0 or height <= 0 or not self.grids:
            return Text("")
        scale = best_scale(self.grids, width, height)
        if scale is not None:
            blocks = [render_scaled(g, *scale) for g in self.grids]
        else:  # half blocks, merging tiles until the grids fit side by side
            for factor in range(1, 9):
                blocks = [render_grid(g, height - 1, factor) for g in self.grids]
                if sum(max(line.cell_len for line in b) for b in blocks) + len(blocks) <= width:
                    break
        widths = [max(line.cell_len for line in block) for block in blocks]
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
            out.append(words + " ", style="dim")
        return out
