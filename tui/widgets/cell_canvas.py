"""A grid of styled characters that repaints only the cells that changed (for SSH).

Subclasses draw by building rows of (character, style) cells in `build_rows(width, height)` and
calling `redraw()` (or `redraw_soon()` for a stream of updates); the canvas compares the new
rows with those on screen and asks Textual to repaint only the changed spans. Textual resends
a repainted line from the left edge of the widget that owns it, so the canvas is made of narrow
vertical slices (`SLICES` of them): a changed cell costs at most one slice's width of
characters on the wire. With `SLICES = 0` the canvas draws its lines itself: it is then no
container, so its height may be `auto` (from `get_content_height`).

`braille_cells` turns a high-resolution dot grid into braille characters (2×4 dots per cell);
the charts built on it live in `braille_chart`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

Cell = tuple[str, Style | None]
Row = list[Cell]

# Braille dot bits by (row, column) inside a cell: dots 1-2-3-7 down the left, 4-5-6-8 right.
_BRAILLE_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], np.int32)


def braille_cells(lit: np.ndarray) -> np.ndarray:
    """Braille code points for a dot grid.

    lit: bool array of shape (4·rows, 2·columns), row 0 at the top.
    Returns an int array (rows, columns) of code points: U+2801 … U+28FF, or a space.
    """
    rows, columns = lit.shape[0] // 4, lit.shape[1] // 2
    cells = lit[: rows * 4, : columns * 2].reshape(rows, 4, columns, 2)
    codes = 0x2800 + np.einsum("rick,ik->rc", cells.astype(np.int32), _BRAILLE_BITS)
    # An empty cell is a space: one byte on the wire instead of three.
    codes[codes == 0x2800] = ord(" ")
    return codes


def text_cells(text: str, style: Style | None) -> Row:
    return [(ch, style) for ch in text]


def changed_spans(old: Row, new: Row, join_gap: int = 4) -> list[tuple[int, int]]:
    """[first, end) column ranges covering every cell that differs between two rows.

    Ranges closer than `join_gap` unchanged cells are joined: resending a few cells costs less
    than another cursor move and style.
    """
    width = max(len(old), len(new))
    spans: list[tuple[int, int]] = []
    for x in range(width):
        if x < len(old) and x < len(new) and old[x] == new[x]:
            continue
        if spans and x - spans[-1][1] < join_gap:
            spans[-1] = (spans[-1][0], x + 1)
        else:
            spans.append((x, x + 1))
    return spans


def row_strip(cells: Row, width: int, base: Style) -> Strip:
    """One line: runs of equally styled cells as segments, padded to `width`."""
    segments: list[Segment] = []
    run_text: list[str] = []
    run_style: Style | None = None
    for text, style in cells[:width]:
        if run_text and style != run_style:
            segments.append(Segment("".join(run_text), base + run_style if run_style else base))
            run_text = []
        run_style = style
        run_text.append(text)
    if run_text:
        segments.append(Segment("".join(run_text), base + run_style if run_style else base))
    return Strip(segments).extend_cell_length(width, base)


class CanvasSlice(Widget):
    """One vertical slice of a CellCanvas: draws the canvas's columns under it."""

    DEFAULT_CSS = """
    CanvasSlice {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, canvas: CellCanvas) -> None:
        super().__init__()
        self.canvas = canvas

    @property
    def column(self) -> int:
        """The canvas column of this slice's first column."""
        return self.region.x - self.canvas.content_region.x

    def render_line(self, y: int) -> Strip:
        return self.canvas.row_line(y, self.column, self.size.width)


class CellCanvas(Widget):
    """Rows of styled cells, repainted span by span, slice by slice."""

    SLICES: ClassVar[int] = 1  # 0: no slices, the canvas draws its lines itself

    DEFAULT_CSS = """
    CellCanvas {
        layout: horizontal;
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.rows: list[Row] = []
        self._drawn_size = Size(0, 0)
        self._redraw_pending = False
        # rich_style walks every ancestor: taken once a redraw, not once a line.
        self._base_style: Style | None = None

    def compose(self) -> ComposeResult:
        for _ in range(self.SLICES):
            yield CanvasSlice(self)

    def build_rows(self, width: int, height: int) -> list[Row]:
        """The content for a canvas of `width` × `height` cells (either may be 0)."""
        raise NotImplementedError

    def row_line(self, y: int, column: int, width: int) -> Strip:
        """Line `y` of the canvas from `column` on, `width` cells wide."""
        base = self._base_style or self.rich_style
        if y >= len(self.rows):
            return Strip.blank(width, base)
        return row_strip(self.rows[y][column:], width, base)

    def render(self) -> RenderResult:
        """A sliceless canvas's rows as Rich Text, all at once (Textual draws them line by
        line with render_line); blank under slices, which draw the rows themselves."""
        if self.SLICES:
            return super().render()
        text = Text()
        for index, row in enumerate(self.rows):
            if index:
                text.append("\n")
            for char, style in row:
                text.append(char, style)
        return text

    def render_line(self, y: int) -> Strip:
        if self.SLICES:
            return super().render_line(y)  # the background: the slices cover it
        return self.row_line(y, 0, self.size.width)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base_style = None

    def redraw(self) -> None:
        """Rebuild the rows and repaint what differs from the screen."""
        size = self.size
        rows = self.build_rows(size.width, size.height)
        self._base_style = self.rich_style
        pieces: list[Widget] = list(self.query_children(CanvasSlice)) if self.SLICES else [self]
        if size != self._drawn_size or len(rows) != len(self.rows):
            self.rows = rows
            self._drawn_size = size
            for piece in pieces:
                piece.refresh()
            return
        bounds = []
        for piece in pieces:
            left = piece.column if isinstance(piece, CanvasSlice) else 0
            bounds.append((piece, left, left + piece.size.width, []))
        for y, (old, new) in enumerate(zip(self.rows, rows, strict=True)):
            if old == new:
                continue
            for first, end in changed_spans(old, new):
                for _, left, right, regions in bounds:
                    if first < right and end > left:
                        start = max(first, left)
                        regions.append(Region(start - left, y, min(end, right) - start, 1))
        for piece, _, _, regions in bounds:
            if regions:
                piece.refresh(*regions)  # once per piece: each call has its own overhead
        self.rows = rows

    def redraw_soon(self) -> None:
        """Redraw once, after the next screen refresh, however many changes come before it
        (a stream of updates costs one repaint per frame, not one per update)."""
        if self._redraw_pending or not self.is_mounted:
            return  # an unmounted canvas draws when it first gets a size
        self._redraw_pending = True
        self.call_after_refresh(self._pending_redraw)

    def _pending_redraw(self) -> None:
        self._redraw_pending = False
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()
