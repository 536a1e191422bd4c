"""The chart kit: dot layers with styles → braille cells → CellCanvas rows, with a labelled y
axis, a line under the plot and a legend.

A chart says what to draw at a given plot size (`frame()`: its dot layers, y-axis labels and
the x-axis line) and what its legend holds (`legend()`); `BrailleChart` lays them out and
`CellCanvas` repaints only the spans that changed, so a new point costs a few cells over SSH.
Each terminal cell holds 2×4 dots: a 50×10 plot resolves 100×40 points.

The dot helpers (`scale`, `draw_segment`, `draw_span`) work on bool arrays of shape
(4·rows, 2·columns), row 0 at the top, as `braille_cells` reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from rich.style import Style

from .cell_canvas import CellCanvas, Row, braille_cells, text_cells

ELLIPSIS = "…"


@dataclass(frozen=True)
class DotLayer:
    """One series: the dots it lights, and the style of the cells it wins."""

    style: Style | None
    dots: np.ndarray  # bool (4·rows, 2·columns), row 0 at the top


@dataclass(frozen=True)
class ChartFrame:
    """What a chart draws at one size."""

    layers: Sequence[DotLayer]  # front first: a cell lit by several takes the first one's style
    y_labels: dict[int, str]  # plot row (0 = top) → its label
    x_axis: str  # the line under the plot, the label column included


@dataclass(frozen=True)
class LegendEntry:
    glyph: str
    style: Style | None
    text: str


def scale(value: float, low: float, high: float, dots: int) -> int:
    """The dot index (0 … dots-1) of `value` on an axis from `low` to `high`, clipped."""
    position = round((value - low) / (high - low) * (dots - 1))
    return min(max(position, 0), dots - 1)


def draw_segment(dots: np.ndarray, start: tuple[int, int], end: tuple[int, int]) -> None:
    """Light the dots on the straight segment from start to end, (row, column) each."""
    steps = max(abs(end[0] - start[0]), abs(end[1] - start[1]), 1)
    rows = np.round(np.linspace(start[0], end[0], steps + 1)).astype(int)
    columns = np.round(np.linspace(start[1], end[1], steps + 1)).astype(int)
    dots[rows, columns] = True


def draw_span(dots: np.ndarray, column: int, row_a: int, row_b: int) -> None:
    """Light one column's dots between two rows, both included."""
    dots[min(row_a, row_b) : max(row_a, row_b) + 1, column] = True


def plot_cells(layers: Sequence[DotLayer], rows: int, columns: int) -> list[Row]:
    """Braille cells for the layers drawn over each other (unlit cells are unstyled spaces)."""
    lit = np.zeros((4 * rows, 2 * columns), dtype=bool)
    style_of_cell = np.full((rows, columns), -1, dtype=np.int16)
    for index in reversed(range(len(layers))):  # earlier layers win a shared cell
        dots = layers[index].dots
        lit |= dots
        style_of_cell[dots.reshape(rows, 4, columns, 2).any(axis=(1, 3))] = index
    codes = braille_cells(lit)
    styles = [layer.style for layer in layers]
    return [
        [
            (chr(codes[r, c]), styles[style_of_cell[r, c]] if style_of_cell[r, c] >= 0 else None)
            for c in range(columns)
        ]
        for r in range(rows)
    ]


def axis_gutter(label: str | None, width: int, style: Style | None, tick: str) -> Row:
    """The y-axis column of one plot row: a right-aligned label and its tick, or the rule."""
    if label is None:
        return text_cells(" " * (width - 1) + "│", style)
    return text_cells(label.rjust(width - 1)[: width - 1] + tick, style)


def legend_rows(entries: Sequence[LegendEntry], width: int, style: Style | None,
                gap: int = 2) -> list[Row]:
    """The entries left to right, wrapping to a new line where the next one does not fit, so
    no line ends in a glyph without its words; an entry wider than a line ends in "…"."""
    rows: list[Row] = []
    row: Row = []
    if width <= 2:
        return rows
    for entry in entries:
        cells = [(entry.glyph, entry.style), (" ", style), *text_cells(entry.text, style)]
        if len(cells) > width:
            cells = cells[: width - 1] + [(ELLIPSIS, style)]
        if row and len(row) + gap + len(cells) > width:
            rows.append(row)
            row = []
        if row:
            row.extend(text_cells(" " * gap, style))
        row.extend(cells)
    if row:
        rows.append(row)
    return rows


class BrailleChart(CellCanvas):
    """A braille plot with its y axis on the left, the x-axis line under it and a legend below.

    Subclasses implement `frame()`, and may override `legend()` and `placeholder()`.
    """

    LABEL_WIDTH: ClassVar[int] = 6  # the y-axis column: labels and the axis line
    AXIS_TICK: ClassVar[str] = "┤"  # drawn after a label ("│" elsewhere)

    def frame(self, plot_width: int, plot_height: int) -> ChartFrame | None:
        """The layers (2·plot_width × 4·plot_height dots), labels and x axis; None when there
        is nothing to plot (the placeholder shows instead)."""
        raise NotImplementedError

    def legend(self) -> list[LegendEntry]:
        return []

    def label_style(self) -> Style | None:
        return None

    def placeholder(self, width: int, height: int) -> list[Row]:
        """The rows shown when the chart has no room or nothing to plot."""
        return []

    def build_rows(self, width: int, height: int) -> list[Row]:
        label_style = self.label_style()
        legend = legend_rows(self.legend(), width, label_style) if width > 0 else []
        plot_width, plot_height = width - self.LABEL_WIDTH, height - 1 - len(legend)
        room = plot_width >= 2 and plot_height >= 2
        frame = self.frame(plot_width, plot_height) if room else None
        if frame is None:
            return self.placeholder(width, height)
        plot = plot_cells(frame.layers, plot_height, plot_width)
        rows = [
            axis_gutter(frame.y_labels.get(r), self.LABEL_WIDTH, label_style, self.AXIS_TICK)
            + plot[r]
            for r in range(plot_height)
        ]
        rows.append(text_cells(frame.x_axis, label_style))
        return rows + legend
