"""Matrices drawn as grids of tiles, side by side, with a legend of the tile states.

The replay says what state each tile is in (kernels.replay.TileGrid); the widget only draws.
Each state has its own glyph (█ ▓ ▒ ░ · …) as well as its theme colour, so the states read
without colour. A grid that does not fit is shrunk by merging tiles (the more important state
wins), so any size renders without error.
"""

from __future__ import annotations

from rich.style import Style

from ...kernels.replay import RANK, TileGrid, TileState
from .cell_canvas import CellCanvas, Row, text_cells

GLYPHS = {
    TileState.IDLE: "·",
    TileState.SKIPPED: "×",
    TileState.DONE: "░",
    TileState.STORED: "▒",
    TileState.OTHER: "▓",
    TileState.DRAM: "▞",
    TileState.L2: "▄",
    TileState.SRAM: "█",
    TileState.REGISTER: "■",
}
MAX_FACTOR = 16  # merging beyond this many tiles per character says nothing any more


def merged(grid: TileGrid, factor: int) -> TileGrid:
    """`grid` with factor × factor tiles drawn as one, showing the most important state."""
    if factor <= 1:
        return grid
    cells: dict[tuple[int, int], TileState] = {}
    for (r, c), state in grid.cells.items():
        key = (r // factor, c // factor)
        if RANK[state] > RANK[cells.get(key, TileState.IDLE)]:
            cells[key] = state
    return TileGrid(grid.title, -(-grid.rows // factor), -(-grid.cols // factor), cells,
                    grid.cell_width)


def best_scale(grids: list[TileGrid], width: int, height: int) -> tuple[int, int] | None:
    """The biggest tile size (columns, lines) at which every grid fits side by side in
    width × height (title line included); None when even 1×1 does not fit. Terminal cells are
    about twice as tall as wide, so columns = 2·lines looks square."""
    rows = max(g.rows for g in grids)
    for lines in range(8, 0, -1):
        if rows * lines + 1 > height:
            continue
        for columns in range(2 * lines, 0, -1):
            total = sum(g.cols * g.cell_width * columns for g in grids) + len(grids) - 1
            if total <= width:
                return columns, lines
    return None


def legend_lines(items: list[tuple[TileState, str]], width: int) -> list[list[int]]:
    """The legend's items (by index) line by line, never splitting an item."""
    lines: list[list[int]] = [[]]
    used = 0
    for index, (_, words) in enumerate(items):
        size = len(words) + 2  # glyph, space, words
        gap = 2 if lines[-1] else 0
        if lines[-1] and used + gap + size > width:
            lines.append([])
            used, gap = 0, 0
        lines[-1].append(index)
        used += gap + size
    return lines


class TileGrids(CellCanvas):
    """Several grids side by side (A, B, C or Q, K, V, O, …) above the legend.

    A replay step repaints only the tiles whose state changed."""

    SLICES = 0
    COMPONENT_CLASSES = {f"tile-grid--{state.value}" for state in TileState} | {
        "tile-grid--title", "tile-grid--legend"}
    DEFAULT_CSS = """
    TileGrids { height: 1fr; min-height: 3; }
    TileGrids > .tile-grid--idle { color: $text-disabled; }
    TileGrids > .tile-grid--skip { color: $text-disabled; }
    TileGrids > .tile-grid--done { color: $success-darken-2; }
    TileGrids > .tile-grid--stored { color: $success; }
    TileGrids > .tile-grid--other { color: $primary; }
    TileGrids > .tile-grid--dram { color: $error; }
    TileGrids > .tile-grid--l2 { color: $secondary; }
    TileGrids > .tile-grid--sram { color: $warning; }
    TileGrids > .tile-grid--register { color: $accent; }
    TileGrids > .tile-grid--title { text-style: bold; }
    TileGrids > .tile-grid--legend { color: $text-muted; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.grids: list[TileGrid] = []
        self.legend: list[tuple[TileState, str]] = []
        self._palette: dict[str, Style] | None = None

    def show(self, grids: list[TileGrid], legend: list[tuple[TileState, str]]) -> None:
        self.grids = grids
        self.legend = legend
        self.redraw()  # the size is fixed by CSS, so only the content changes

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._palette = None  # a new theme: the component colours change
        if self.is_mounted:
            self.call_after_refresh(self.redraw)

    def _style(self, part: str) -> Style:
        if self._palette is None:
            self._palette = {name.removeprefix("tile-grid--"): self.get_component_rich_style(name)
                             for name in self.COMPONENT_CLASSES}
        return self._palette[part]

    def tile_rows(self, grid: TileGrid, columns: int, lines: int) -> list[Row]:
        """Title line plus each tile as a `columns`×`lines` patch of its glyph (per unit of
        cell_width); from 3 columns / 2 lines up a gap separates neighbouring tiles."""
        out = [text_cells(grid.title, self._style("title"))]
        cell = grid.cell_width * columns
        body = cell - 1 if cell >= 3 else cell
        gap = [(" ", None)] * (cell - body)
        patches = {state: [(GLYPHS[state], self._style(state.value))] * body + gap
                   for state in TileState}
        blank = [(" ", None)] * cell
        for row in range(grid.rows):
            line: Row = []
            for col in range(grid.cols):
                line += patches[grid.cells.get((row, col), TileState.IDLE)]
            if lines == 1:
                out.append(line)
            else:  # the last line of a tall tile is the gap to the tile below
                out += [line] * (lines - 1) + [blank * grid.cols]
        return out

    def legend_rows(self, width: int) -> list[Row]:
        out = []
        words_style = self._style("legend")
        for indices in legend_lines(self.legend, width):
            line: Row = []
            for index in indices:
                state, words = self.legend[index]
                if line:
                    line += text_cells("  ", None)
                line.append((GLYPHS[state], self._style(state.value)))
                line += text_cells(f" {words}", words_style)
            out.append(line)
        return out

    def build_rows(self, width: int, height: int) -> list[Row]:
        if width <= 0 or height <= 0 or not self.grids:
            return []
        legend = self.legend_rows(width)
        room = max(height - len(legend), 2)
        scale = best_scale(self.grids, width, room)
        if scale is not None:
            blocks = [self.tile_rows(g, *scale) for g in self.grids]
        else:  # one character per tile, merging tiles until the grids fit
            for factor in range(2, MAX_FACTOR + 1):
                grids = [merged(g, factor) for g in self.grids]
                scale = best_scale(grids, width, room)
                if scale is not None:
                    break
            blocks = [self.tile_rows(g, 1, 1) for g in grids]
        shown = []
        used = 0
        for block in blocks:
            block_width = max(len(line) for line in block)
            if used + block_width > width:
                break
            shown.append((block, block_width))
            used += block_width + 1
        rows: list[Row] = []
        for row in range(min(max((len(block) for block, _ in shown), default=0), room)):
            line: Row = []
            for block, block_width in shown:
                piece = block[row] if row < len(block) else []
                line += piece + [(" ", None)] * (block_width - len(piece) + 1)
            rows.append(line)
        return rows + legend[: max(height - len(rows), 0)]
