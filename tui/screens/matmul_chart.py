"""The complexity chart: time against n on log-log axes, one line per algorithm, with the
slopes of n³ and n^2.807 drawn through the first series' first point.

Axes span whole decades around the points. Each series ends in its mark (a digit, also in the
legend), so the lines read without colour; estimated points (an n³ fit, not a run) are drawn
dotted. Colours come from the theme (the component classes below).
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import numpy as np
from rich.style import Style

from ..widgets.braille_chart import (
    BrailleChart,
    ChartFrame,
    DotLayer,
    LegendEntry,
    draw_segment,
    scale,
)
from ..widgets.cell_canvas import Row, text_cells

SERIES_STYLES = 6
GUIDE_SLOPES = (3.0, math.log2(7))  # the schoolbook's n³, Strassen's n^2.807


@dataclass(frozen=True)
class Series:
    mark: str  # one character, drawn at the line's last point and in the legend
    label: str
    points: tuple[tuple[float, float, bool], ...]  # (n, seconds, estimated), n ascending


def seconds_label(decade: int) -> str:
    """10^decade seconds in at most six characters: 1e3 s, 100 s, 1 s, 10 ms, 1 µs."""
    if decade >= 3:
        return f"1e{decade} s"
    for unit, power in (("s", 0), ("ms", -3), ("µs", -6), ("ns", -9)):
        if decade >= power:
            return f"{10 ** (decade - power):g} {unit}"
    return f"1e{decade}s"



class ComplexityChart(BrailleChart):
    COMPONENT_CLASSES = {f"complexity-chart--s{i}" for i in range(SERIES_STYLES)} | {
        "complexity-chart--guide", "complexity-chart--label"}
    DEFAULT_CSS = """
    ComplexityChart { height: 1fr; min-height: 4; }
    ComplexityChart > .complexity-chart--s0 { color: $error; }
    ComplexityChart > .complexity-chart--s1 { color: $warning; }
    ComplexityChart > .complexity-chart--s2 { color: $success; }
    ComplexityChart > .complexity-chart--s3 { color: $secondary; }
    ComplexityChart > .complexity-chart--s4 { color: $foreground; }
    ComplexityChart > .complexity-chart--s5 { color: $primary; text-style: bold; }
    ComplexityChart > .complexity-chart--guide { color: $text-muted; }
    ComplexityChart > .complexity-chart--label { color: $text-muted; }
    """
    LABEL_WIDTH = 7  # "100 µs" and its tick
    AXIS_TICK = "┤"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.series: list[Series] = []
        self.empty_note = "nothing measured yet"
        self._marks: list[tuple[int, int, str, Style]] = []  # (plot row, column, mark, style)

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.redraw())

    def show(self, series: list[Series], empty_note: str) -> None:
        self.series = [s for s in series if s.points]
        self.empty_note = empty_note
        self.redraw()

    def _style(self, name: str) -> Style:
        full = self.get_component_rich_style(f"complexity-chart--{name}")
        return Style(color=full.color, bold=full.bold)

    def label_style(self) -> Style:
        return self._style("label")

    def legend(self) -> list[LegendEntry]:
        if not self.series:
            return []
        entries = [LegendEntry(s.mark, self._style(f"s{i % SERIES_STYLES}"), s.label)
                   for i, s in enumerate(self.series)]
        guide = self._style("guide")
        entries += [LegendEntry("━", guide, "n³"), LegendEntry("┄", guide, "n^2.807"),
                    LegendEntry("┄", None, "estimated (dotted)")]
        return entries

    def placeholder(self, width: int, height: int) -> list[Row]:
        lines = textwrap.wrap(self.empty_note, max(width, 1))
        return [text_cells(line, self.label_style()) for line in lines][:height]

    def _sizes(self) -> list[float]:
        return sorted({n for s in self.series for n, _, _ in s.points})

    def _ranges(self) -> tuple[tuple[float, float], tuple[int, int]]:
        """log10 n from the smallest n measured to the largest (±½ decade for a single n);
        log10 seconds over whole decades, the guides' anchor included."""
        sizes = self._sizes()
        x_low, x_high = math.log10(sizes[0]), math.log10(sizes[-1])
        if x_high - x_low < 0.1:
            x_low, x_high = x_low - 0.5, x_high + 0.5
        ys = [math.log10(max(t, 1e-12)) for s in self.series for _, t, _ in s.points]
        y_low, y_high = math.floor(self._anchor()[1]), math.ceil(max(ys))
        return (x_low, x_high), (y_low, max(y_high, y_low + 1))

    def _anchor(self) -> tuple[float, float]:
        """(log10 n, log10 s) the guides start from: a decade below the fastest time at the
        smallest n, so they run beside the lines as slopes to compare, not over them."""
        first = self._sizes()[0]
        fastest = min(t for s in self.series for n, t, _ in s.points if n == first)
        return math.log10(first), math.log10(max(fastest, 1e-12)) - 1

    def frame(self, plot_width: int, plot_height: int) -> ChartFrame | None:
        if not self.series:
            return None
        (x_low, x_high), (y_low, y_high) = self._ranges()
        dots_x, dots_y = 2 * plot_width, 4 * plot_height

        def dot(n: float, seconds: float) -> tuple[int, int]:
            row = dots_y - 1 - scale(math.log10(max(seconds, 1e-12)), y_low, y_high, dots_y)
            return row, scale(math.log10(n), x_low, x_high, dots_x)

        layers = []
        for index, series in enumerate(self.series):
            style = self._style(f"s{index % SERIES_STYLES}")
            solid = np.zeros((dots_y, dots_x), dtype=bool)
            dotted = np.zeros_like(solid)
            cells = [dot(n, t) for n, t, _ in series.points]
            # Segment i joins point i to point i+1 (a single point: itself); a segment that
            # ends at an estimated point is dotted.
            for at in range(max(len(cells) - 1, 1)):
                end = min(at + 1, len(cells) - 1)
                draw_segment(dotted if series.points[end][2] else solid, cells[at], cells[end])
            dotted[:, 1::2] = False  # every other dot column: a dotted line
            layers.append(DotLayer(style, solid | dotted))
            row, column = cells[-1]
            self._marks.append((row // 4, column // 2, series.mark, style))
        layers += self._guides(dots_x, dots_y, (x_low, x_high), (y_low, y_high))
        labels = {}
        step = 1 if plot_height >= 2 * (y_high - y_low) else 2
        for decade in range(y_high, y_low - 1, -step):
            labels[plot_height - 1 - scale(decade, y_low, y_high, plot_height)] = (
                seconds_label(decade))
        return ChartFrame(layers, labels, self._x_axis(plot_width, x_low, x_high))

    def _guides(self, dots_x: int, dots_y: int, x_range: tuple[float, float],
                y_range: tuple[int, int]) -> list[DotLayer]:
        """n³ (solid) and n^2.807 (dashed) from the anchor."""
        anchor_n, anchor_t = self._anchor()
        log_n = np.linspace(*x_range, dots_x)
        layers = []
        for slope in GUIDE_SLOPES:
            log_t = anchor_t + slope * (log_n - anchor_n)
            rows = dots_y - 1 - np.round((log_t - y_range[0]) / (y_range[1] - y_range[0])
                                         * (dots_y - 1)).astype(int)
            lit = np.zeros((dots_y, dots_x), dtype=bool)
            visible = (rows >= 0) & (rows < dots_y)
            if slope != GUIDE_SLOPES[0]:
                visible &= np.arange(dots_x) % 4 < 2  # dashed
            lit[rows[visible], np.arange(dots_x)[visible]] = True
            layers.append(DotLayer(self._style("guide"), lit))
        return layers

    def _x_axis(self, plot_width: int, x_low: float, x_high: float) -> str:
        """"n" and each size measured, under its column where it does not crowd another."""
        line = [" "] * (self.LABEL_WIDTH + plot_width)
        line[self.LABEL_WIDTH - 2: self.LABEL_WIDTH] = "n└"
        for n in self._sizes():
            text = f"{n:g}"
            column = self.LABEL_WIDTH + scale(math.log10(n), x_low, x_high, plot_width)
            start = min(max(column - len(text) // 2, self.LABEL_WIDTH), len(line) - len(text))
            if line[start - 1] in " └" and all(
                    ch == " " for ch in line[start: start + len(text) + 1]):
                line[start: start + len(text)] = text
        return "".join(line)

    def build_rows(self, width: int, height: int) -> list[Row]:
        self._marks = []  # frame() sets them when there is room to plot
        rows = super().build_rows(width, height)
        for row, column, mark, style in self._marks:  # each line's mark at its last point
            cells = rows[row] if row < len(rows) else None
            if cells is not None and self.LABEL_WIDTH + column < len(cells):
                cells[self.LABEL_WIDTH + column] = (mark, style)
        return rows
