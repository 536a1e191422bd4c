"""|estimate − π| against the number of darts, log-log, with the slopes theory predicts.

Random darts follow the standard error 1.64/√n (slope −½); quasi-random points fall roughly
like 1/n (slope −1): the guide 4/n is one dart's worth of change in the estimate. The axes are
fixed (n from 1 to 10^10, error from 10^-7 to 1) so a new point repaints a cell or two, never the
whole chart.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from rich.style import Style

from .braille_chart import BrailleChart, ChartFrame, DotLayer, LegendEntry, draw_segment, scale

N_DECADES = (0, 10)
ERROR_DECADES = (-7, 0)
STANDARD_ERROR_SCALE = 4 * math.sqrt(math.pi / 4 * (1 - math.pi / 4))  # 1.642…
LABEL_WIDTH = 5

POINT = Style(color="bright_cyan", bold=True)
SQRT_GUIDE = Style(color="magenta")
LINEAR_GUIDE = Style(color="blue")
LABEL = Style(dim=True)


class ConvergenceChart(BrailleChart):
    """Points (n, |error|) on fixed log-log axes, with the 1/√n guide and optionally 4/n."""

    SLICES = 6  # narrow slices: a changed cell resends at most a slice's width
    LABEL_WIDTH = LABEL_WIDTH
    AXIS_TICK = "│"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._points: list[tuple[int, float]] = []
        self.show_linear_guide = False
        # The series but its last segment, kept between frames: new points mostly replace or
        # extend the end of the series, so only that segment is drawn again.
        self._settled: tuple[tuple[int, int, int], np.ndarray] | None = None

    def set_points(self, points: list[tuple[int, float]], show_linear_guide: bool) -> None:
        """Plot these (darts, |error|) pairs; points off the axes are clipped to the edges.

        While only the last point changes, the drawing of the rest is reused.
        """
        self._points = list(points)
        self.show_linear_guide = show_linear_guide
        self.redraw()

    def label_style(self) -> Style:
        return LABEL

    def legend(self) -> list[LegendEntry]:
        """What each line is: the run's |error|, the standard-error guide, and 4/n if shown."""
        entries = [LegendEntry("━", POINT, "|error|"),
                   LegendEntry("╌", SQRT_GUIDE, f"{STANDARD_ERROR_SCALE:.2f}/√n")]
        if self.show_linear_guide:
            entries.append(LegendEntry("╌", LINEAR_GUIDE, "4/n"))
        return entries

    def frame(self, plot_width: int, plot_height: int) -> ChartFrame:
        dots_x, dots_y = 2 * plot_width, 4 * plot_height
        layers = [
            DotLayer(POINT, self._point_dots(dots_x, dots_y)),
            DotLayer(SQRT_GUIDE, _guide(dots_x, dots_y, linear=False)),
        ]
        if self.show_linear_guide:
            layers.append(DotLayer(LINEAR_GUIDE, _guide(dots_x, dots_y, linear=True)))
        return ChartFrame(layers, _error_labels(plot_height),
                          _n_axis_line(LABEL_WIDTH + plot_width))

    def _point_dots(self, dots_x: int, dots_y: int) -> np.ndarray:
        """The series as a line through its points (consecutive points joined)."""
        cells = [_point_cell(point, dots_x, dots_y) for point in self._points[-2:]]
        key = (dots_x, dots_y, len(self._points) - 1)
        if self._settled is None or self._settled[0] != key:
            settled = np.zeros((dots_y, dots_x), dtype=bool)
            previous: tuple[int, int] | None = None
            for point in self._points[:-1]:
                cell = _point_cell(point, dots_x, dots_y)
                draw_segment(settled, previous or cell, cell)
                previous = cell
            self._settled = (key, settled)
        lit = self._settled[1].copy()
        if cells:
            draw_segment(lit, cells[0], cells[-1])
        return lit


def _point_cell(point: tuple[int, float], dots_x: int, dots_y: int) -> tuple[int, int]:
    """The (row, column) dot of a (darts, |error|) point."""
    darts, error = point
    column = scale(math.log10(max(darts, 1)), *N_DECADES, dots_x)
    row = dots_y - 1 - scale(math.log10(max(error, 1e-300)), *ERROR_DECADES, dots_y)
    return row, column


@lru_cache(maxsize=8)
def _guide(dots_x: int, dots_y: int, linear: bool) -> np.ndarray:
    """The dots of 4/n (linear) or of the standard error 1.64/√n, clipped to the plot."""
    log_n = np.linspace(*N_DECADES, dots_x)  # log10 n at each dot column
    if linear:
        log_error = np.log10(4) - log_n
    else:
        log_error = np.log10(STANDARD_ERROR_SCALE) - log_n / 2
    low, high = ERROR_DECADES
    rows = dots_y - 1 - np.round((log_error - low) / (high - low) * (dots_y - 1)).astype(int)
    lit = np.zeros((dots_y, dots_x), dtype=bool)
    visible = (rows >= 0) & (rows < dots_y)
    lit[rows[visible], np.arange(dots_x)[visible]] = True
    lit.setflags(write=False)
    return lit


def _error_labels(plot_height: int) -> dict[int, str]:
    """Row → label for every other decade of |error|."""
    low, high = ERROR_DECADES
    labels = {}
    for decade in range(high, low - 1, -2):
        row = (plot_height - 1) - scale(decade, *ERROR_DECADES, plot_height)
        labels[row] = "1" if decade == 0 else f"1e{decade}"
    return labels


def _n_axis_line(width: int) -> str:
    """The bottom line: n at every other decade under its column."""
    line = [" "] * width
    plot_width = width - LABEL_WIDTH
    for decade in range(N_DECADES[0], N_DECADES[1] + 1, 2):
        text = "n=1" if decade == 0 else f"1e{decade}"
        column = LABEL_WIDTH + scale(decade, *N_DECADES, plot_width)
        start = min(max(column - len(text) // 2, 0), width - len(text))
        if all(ch == " " for ch in line[max(start - 1, 0) : start + len(text)]):
            line[start : start + len(text)] = text
    return "".join(line)
