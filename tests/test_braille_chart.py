"""The braille chart kit: dot layers → cells, legends that wrap, the loss chart on it (same cells
for the same data, theme colours, span repaint), and the convergence chart on the same kit."""

from __future__ import annotations

import math

import numpy as np
from rich.style import Style
from textual.app import App, ComposeResult

from microgpt_tui.tui.widgets.braille_chart import (
    BrailleChart,
    DotLayer,
    LegendEntry,
    legend_rows,
    plot_cells,
)
from microgpt_tui.tui.widgets.cell_canvas import CanvasSlice
from microgpt_tui.tui.widgets.convergence_chart import ConvergenceChart
from microgpt_tui.tui.widgets.loss_chart import LossChart

RED, BLUE = Style(color="red"), Style(color="blue")
GLYPHS = {"━", "┃", "┄"}


def text(rows) -> list[str]:
    return ["".join(ch for ch, _ in row) for row in rows]


def test_layers_become_braille_cells_and_the_front_layer_wins_a_shared_cell():
    front = np.zeros((4, 4), dtype=bool)
    back = np.zeros((4, 4), dtype=bool)
    front[0, 0] = True  # top-left dot of cell 0
    back[3, 1] = back[3, 3] = True  # bottom-right dot of cells 0 and 1
    [row] = plot_cells([DotLayer(RED, front), DotLayer(BLUE, back)], rows=1, columns=2)
    assert row[0] == (chr(0x2800 + 0x01 + 0x80), RED)  # both dots, the front layer's style
    assert row[1] == (chr(0x2800 + 0x80), BLUE)
    [empty] = plot_cells([DotLayer(RED, np.zeros((4, 4), dtype=bool))], rows=1, columns=2)
    assert empty == [(" ", None), (" ", None)]  # an unlit cell is a plain space


def test_a_legend_wraps_whole_entries_and_never_ends_in_a_bare_glyph():
    entries = [LegendEntry("━", RED, "smoothed 2.484"), LegendEntry("┃", BLUE, "step loss"),
               LegendEntry("┄", RED, "ln(27) uniform 3.30")]
    assert text(legend_rows(entries, 80, None)) == [
        "━ smoothed 2.484  ┃ step loss  ┄ ln(27) uniform 3.30"]
    narrow = text(legend_rows(entries, 34, None))
    assert narrow == ["━ smoothed 2.484  ┃ step loss", "┄ ln(27) uniform 3.30"]
    assert text(legend_rows(entries[-1:], 12, None)) == ["┄ ln(27) un…"]
    for width in range(3, 60):
        for line in text(legend_rows(entries, width, None)):
            assert len(line) <= width and line.rstrip()[-1] not in GLYPHS


class ChartApp(App):
    def __init__(self, chart: BrailleChart) -> None:
        super().__init__()
        self.chart = chart

    def compose(self) -> ComposeResult:
        yield self.chart


def losses(count: int) -> list[tuple[int, float]]:
    return [(i, 3.3 - i * 0.01 + (i % 3) * 0.05) for i in range(1, count + 1)]


def filled_chart(count: int = 100) -> LossChart:
    chart = LossChart()
    chart.reset(200, math.log(27), "ln(27) uniform")
    chart.add_points(losses(count))
    chart.add_heldout(50, 2.9)
    return chart


async def test_the_loss_chart_draws_the_same_cells_for_the_same_data_at_any_size():
    app = ChartApp(filled_chart())
    async with app.run_test(size=(60, 16)) as pilot:
        await pilot.pause()
        chart = app.chart
        other = filled_chart()
        await app.mount(other)
        for width, height in [(0, 0), (1, 1), (5, 2), (8, 4), (40, 10), (52, 12), (200, 60)]:
            rows = chart.build_rows(width, height)
            assert rows == chart.build_rows(width, height) == other.build_rows(width, height)
            assert all(len(row) <= max(width, 1) for row in rows)
        big = "\n".join(text(chart.build_rows(60, 12)))
        assert "held-out 2.900" in big and "ln(27) uniform 3.30" in big and "200" in big
        assert any(0x2800 < ord(c) <= 0x28FF for c in big)
        assert text(chart.build_rows(30, 3)) == ["loss chart (needs more room)"]
        # At 80×24 the chart is 52 columns wide: the legend wraps, nothing ends in a bare glyph.
        legend = text(chart.build_rows(52, 10))[-2:]
        assert legend[-1].startswith("┄ ln(27) uniform 3.30")
        assert all(line.rstrip()[-1] not in GLYPHS for line in legend)


async def test_the_loss_chart_takes_its_colours_from_the_theme():
    app = ChartApp(filled_chart())
    async with app.run_test(size=(60, 16)) as pilot:
        await pilot.pause()

        def smoothed_style() -> Style:
            legend = app.chart.rows[-2]
            return next(style for ch, style in legend if ch == "━")

        dark = smoothed_style()
        app.theme = "ansi-dark"
        await pilot.pause()
        await pilot.pause()
        assert smoothed_style() != dark and smoothed_style().color.number == 3  # ansi yellow


async def test_a_new_point_repaints_a_few_cells_not_the_chart(monkeypatch):
    """Span repaint: the canvas refreshes only the regions whose cells changed."""
    app = ChartApp(filled_chart(60))
    async with app.run_test(size=(60, 16)) as pilot:
        await pilot.pause()
        chart = app.chart
        before = [list(row) for row in chart.rows]
        refreshed = []
        real_refresh = CanvasSlice.refresh

        def spy(self, *regions, **kwargs):
            refreshed.extend(regions)
            return real_refresh(self, *regions, **kwargs)

        monkeypatch.setattr(CanvasSlice, "refresh", spy)
        chart.add_points([(61, 2.75)])  # inside the y range: only the end of the series moves
        await pilot.pause()
        assert refreshed and all(region.height == 1 for region in refreshed)
        changed = sum(region.width for region in refreshed)
        assert changed < 60, f"{changed} cells repainted for one point"
        assert chart.rows != before


def test_both_charts_are_drawn_by_the_kit():
    assert issubclass(LossChart, BrailleChart) and issubclass(ConvergenceChart, BrailleChart)
