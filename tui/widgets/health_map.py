"""Gradient health over time: a readouts.HealthGrid as a heatmap.

One row per parameter tensor, one column per step range (the newest on the right; the oldest
columns drop off the left when the widget is narrow). Each cell is a shade glyph by the log10
value, ░ (the lowest shown) to █ (the highest), · where there is no data; the first line names
the kind and gives the log10 range the four shades span, so the map reads without colour.
"""

from __future__ import annotations

import math

import numpy as np
from rich.text import Text
from textual.widget import Widget

from ...engine.microgpt import readouts

EMPTY_HINT = "Gradient health appears after the first training steps."
SHADES = "░▒▓█"
NO_DATA = "·"


def shade_index(value: float, low: float, high: float) -> int:
    """Which of the four shades a log10 value gets within [low, high]."""
    if high <= low:
        return len(SHADES) - 2
    level = int((value - low) / (high - low) * len(SHADES))
    return min(len(SHADES) - 1, max(0, level))


class HealthGrid(Widget):
    """Shows a readouts.HealthGrid: tensor names down the left, steps across, shades by value."""

    COMPONENT_CLASSES = {"health-grid--cell", "health-grid--label", "health-grid--empty"}
    DEFAULT_CSS = """
    HealthGrid {
        text-wrap: nowrap;
        text-overflow: clip;
    }
    HealthGrid > .health-grid--cell {
        color: $warning;
    }
    HealthGrid > .health-grid--label {
        color: $text-muted;
    }
    HealthGrid > .health-grid--empty {
        color: $text-disabled;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.grid: readouts.HealthGrid | None = None

    def show(self, grid: readouts.HealthGrid | None) -> None:
        self.grid = grid
        self.refresh()

    @staticmethod
    def name_width(names: tuple[str, ...], width: int) -> int:
        return min(max(len(n) for n in names), max(4, width // 2 - 1))

    def room(self, names: tuple[str, ...]) -> int:
        """Columns of cells this widget has beside the tensor names: the engine's grid is
        asked for no more, so the whole run fits."""
        width = self.size.width or 80
        return max(1, width - self.name_width(names, width) - 1)

    def render(self) -> Text:
        grid = self.grid
        if grid is None or not grid.names or not grid.steps:
            return Text(EMPTY_HINT, style="dim", no_wrap=True, overflow="crop")
        width, height = self.size
        width = width or 80
        height = height or 9
        style = self.get_component_rich_style
        cell_style, label_style = style("health-grid--cell"), style("health-grid--label")
        empty_style = style("health-grid--empty")
        values = np.asarray(grid.values, dtype=float)

        name_width = self.name_width(grid.names, width)
        room = max(1, width - name_width - 1)
        cell = 2 if 2 * len(grid.steps) <= room else 1
        columns = min(len(grid.steps), max(1, room // cell))
        first = len(grid.steps) - columns
        shown = values[:, first:]
        finite = shown[np.isfinite(shown)]
        low = float(finite.min()) if finite.size else math.nan
        high = float(finite.max()) if finite.size else math.nan

        out = Text(no_wrap=True, overflow="crop")
        head = Text(f"{grid.kind} ", style="bold")
        if finite.size:
            head.append(f"log10 {low:.1f} ")
            head.append(SHADES, cell_style)
            head.append(f" {high:.1f}")
        else:
            head.append("no data yet", "dim")
        for extra in (f"  steps {grid.steps[first]}–{grid.steps[-1]}", f"  {NO_DATA} none"):
            if head.cell_len + len(extra) <= width:
                head.append(extra, "dim")
        out.append_text(head)
        out.append("\n")

        rows = height - 1
        axis = rows >= len(grid.names) + 1
        if axis:
            rows -= 1
        names = list(range(len(grid.names)))
        if len(names) > rows:
            names = names[: max(0, rows - 1)]
        for row in names:
            name = grid.names[row]
            label = name if len(name) <= name_width else name[: name_width - 1] + "…"
            out.append(f"{label:<{name_width}} ", label_style)
            for value in shown[row]:
                if math.isfinite(value):
                    out.append(SHADES[shade_index(float(value), low, high)] * cell, cell_style)
                else:
                    out.append(NO_DATA.ljust(cell), empty_style)
            out.append("\n")
        if len(names) < len(grid.names):
            out.append(f"… {len(grid.names) - len(names)} more tensors (zoom to see all)\n",
                       "dim")
        if axis:
            span = columns * cell
            left, right = f"step {grid.steps[first]}", str(grid.steps[-1])
            if len(left) + 1 + len(right) <= span:
                line = left + " " * (span - len(left) - len(right)) + right
            else:
                line = f"→ {right}".rjust(span)
            out.append(" " * (name_width + 1) + line, "dim")
        return out
