"""A training-loss chart on the braille chart kit: every step's loss, a smoothed line, held-out
points and a horizontal baseline (e.g. ln(vocab), the loss of uniform guessing).

Steps are binned per dot column: the raw losses of a bin show as a vertical span (their min to
max), the smoothed line as one dot per column joined to its neighbours. The bins are updated
with the new points only, and the canvas repaints only the cells that changed, so following a
fast run over SSH costs little. Colours come from the theme (the component classes below).
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
from rich.style import Style

from .braille_chart import (
    BrailleChart,
    ChartFrame,
    DotLayer,
    LegendEntry,
    draw_segment,
    draw_span,
    scale,
    text_cells,
)
from .cell_canvas import Row

EMPTY_NOTE = "no training yet: press s to start"
NO_ROOM_NOTE = "loss chart (needs more room)"


class LossChart(BrailleChart, can_focus=True):
    """Per-step loss, its smoothed line, held-out points and a baseline, against the step."""

    COMPONENT_CLASSES = {
        "loss-chart--smoothed",
        "loss-chart--step",
        "loss-chart--heldout",
        "loss-chart--baseline",
        "loss-chart--label",
    }
    DEFAULT_CSS = """
    LossChart {
        height: 1fr;
        min-height: 4;
    }
    LossChart > .loss-chart--smoothed {
        color: $warning;
        text-style: bold;
    }
    LossChart > .loss-chart--step {
        color: $foreground-muted;
    }
    LossChart > .loss-chart--heldout {
        color: $primary;
    }
    LossChart > .loss-chart--baseline {
        color: $error;
    }
    LossChart > .loss-chart--label {
        color: $text-muted;
    }
    """
    LABEL_WIDTH = 6
    SMOOTHING = 0.95  # exponential moving average, debiased (as TensorBoard draws it)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.reset()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.redraw())

    def reset(self, num_steps: int = 0, baseline: float | None = None,
              baseline_label: str = "") -> None:
        """Forget all points; the x axis spans 0..num_steps."""
        self.num_steps = num_steps
        self.baseline = baseline
        self.baseline_label = baseline_label
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self.heldout: list[tuple[int, float]] = []
        self._low, self._high = math.inf, -math.inf
        self._ema = 0.0
        self._columns: dict[int, tuple[float, float]] = {}
        self._column_smooth: dict[int, float] = {}
        self._aggregated = 0
        self._aggregate_key: tuple[int, int] = (0, 0)
        self.redraw_soon()

    def add_points(self, points: list[tuple[int, float]]) -> None:
        for step, loss in points:
            if not math.isfinite(loss):
                continue
            self.steps.append(step)
            self.losses.append(loss)
            self._low, self._high = min(self._low, loss), max(self._high, loss)
            self._ema = self.SMOOTHING * self._ema + (1 - self.SMOOTHING) * loss
            self.smoothed.append(self._ema / (1 - self.SMOOTHING ** len(self.losses)))
        if points:
            self.redraw_soon()

    def add_heldout(self, step: int, loss: float) -> None:
        if math.isfinite(loss):
            self.heldout.append((step, loss))
            self._low, self._high = min(self._low, loss), max(self._high, loss)
            self.redraw_soon()

    @property
    def point_count(self) -> int:
        return len(self.losses)

    # What the kit draws.

    def _style(self, name: str) -> Style:
        """The component's colour and text style, without its background (the canvas's)."""
        full = self.get_component_rich_style(f"loss-chart--{name}")
        return Style(color=full.color, bold=full.bold, dim=full.dim, italic=full.italic)

    def label_style(self) -> Style:
        return self._style("label")

    def placeholder(self, width: int, height: int) -> list[Row]:
        empty = not self.losses and self.baseline is None
        lines = textwrap.wrap(EMPTY_NOTE if empty else NO_ROOM_NOTE, max(width, 1))
        top = max(0, (height - len(lines)) // 2) if empty else 0
        style = self.label_style()
        return [[] for _ in range(top)] + [text_cells(line, style) for line in lines][:height]

    def legend(self) -> list[LegendEntry]:
        entries = []
        if self.losses:
            entries.append(LegendEntry("━", self._style("smoothed"),
                                       f"smoothed {self.smoothed[-1]:.3f}"))
            entries.append(LegendEntry("┃", self._style("step"), "step loss"))
        if self.heldout:
            entries.append(LegendEntry("━", self._style("heldout"),
                                       f"held-out {self.heldout[-1][1]:.3f}"))
        if self.baseline is not None:
            entries.append(LegendEntry("┄", self._style("baseline"),
                                       f"{self.baseline_label} {self.baseline:.2f}"))
        return entries

    def frame(self, plot_width: int, plot_height: int) -> ChartFrame | None:
        if not self.losses and self.baseline is None:
            return None
        dots_x, dots_y = 2 * plot_width, 4 * plot_height
        low, high = self._y_range()
        x_max = max(self.num_steps, self.steps[-1] if self.steps else 1, 1)

        def row_of(value: float) -> int:
            return dots_y - 1 - scale(value, low, high, dots_y)

        def column_of(step: int) -> int:
            return min(dots_x - 1, (step - 1) * dots_x // x_max) if step > 0 else 0

        self._aggregate((dots_x, x_max), column_of)
        smoothed, step, heldout, baseline = (np.zeros((dots_y, dots_x), dtype=bool)
                                             for _ in range(4))
        for column, (lowest, highest) in self._columns.items():
            draw_span(step, column, row_of(lowest), row_of(highest))
        _polyline(smoothed, [(row_of(value), column)
                             for column, value in sorted(self._column_smooth.items())])
        last_per_column = {column_of(at): row_of(loss) for at, loss in self.heldout}
        _polyline(heldout, [(row, column) for column, row in last_per_column.items()])
        if self.baseline is not None:
            baseline[row_of(self.baseline), ::3] = True
        layers = [DotLayer(self._style("smoothed"), smoothed),
                  DotLayer(self._style("heldout"), heldout),
                  DotLayer(self._style("step"), step),
                  DotLayer(self._style("baseline"), baseline)]
        labels = {0: f"{high:.2f}", plot_height - 1: f"{low:.2f}"}
        if plot_height >= 5:
            labels[(plot_height - 1) // 2] = f"{(high + low) / 2:.2f}"
        right = f"{x_max:,}"
        axis = ("0 step " + right.rjust(max(0, plot_width - 7)))[:plot_width]
        return ChartFrame(layers, labels, " " * (self.LABEL_WIDTH - 1) + "└" + axis)

    def _y_range(self) -> tuple[float, float]:
        low, high = self._low, self._high
        if self.baseline is not None:
            low, high = min(low, self.baseline), max(high, self.baseline)
        if high - low < 1e-6:
            low, high = low - 0.5, high + 0.5
        pad = (high - low) * 0.04
        return low - pad, high + pad

    def _aggregate(self, key: tuple[int, int], column_of) -> None:
        """Per dot column: (min, max) raw loss and the last smoothed value, updated in place
        with only the new points unless the width or the x range (the key) changed."""
        if key != self._aggregate_key or self._aggregated > len(self.steps):
            self._columns, self._column_smooth, self._aggregated = {}, {}, 0
        self._aggregate_key = key
        columns, smooth = self._columns, self._column_smooth
        for i in range(self._aggregated, len(self.steps)):
            column, loss = column_of(self.steps[i]), self.losses[i]
            lowest, highest = columns.get(column, (loss, loss))
            columns[column] = (min(lowest, loss), max(highest, loss))
            smooth[column] = self.smoothed[i]
        self._aggregated = len(self.steps)


def _polyline(dots: np.ndarray, points: list[tuple[int, int]]) -> None:
    """Light each (row, column) point and the segments joining consecutive ones."""
    for index, point in enumerate(points):
        draw_segment(dots, points[index - 1] if index else point, point)
