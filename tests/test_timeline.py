"""The timeline widget on its own: spans on a time axis, the "now" cursor, the selected span set
off without colour, the selected row kept in view, and colours that follow the theme — for the
CUDA screen's SM lanes and for a request waterfall alike."""

from __future__ import annotations

from rich.color import Color
from textual.app import App, ComposeResult

from microgpt_tui.tui.widgets.timeline import (
    Span,
    Timeline,
    TimelineModel,
    TimelineRow,
    caption_line,
    row_cells,
    span_text,
)

WATERFALL = TimelineModel(
    [
        TimelineRow("DNS", [Span(0, 20, "dns", "dns")]),
        TimelineRow("TCP", [Span(20, 45, "tcp", "tcp")]),
        TimelineRow("TLS", [Span(45, 90, "tls", "tls")]),
        TimelineRow("HTTP", [Span(90, 100, "http", "http")]),
    ],
    end=100,
    now=50,
    selected="tls",
    caption="0–100 ms",
)


class TimelineApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Timeline()


async def _render(model: TimelineModel, size=(52, 8), theme: str | None = None):
    app = TimelineApp()
    async with app.run_test(size=size) as pilot:
        if theme:
            app.theme = theme
        timeline = app.query_one(Timeline)
        timeline.show(model)
        await pilot.pause()
        text = timeline.render()
        styles = {name: timeline.get_component_rich_style(f"timeline--{name}")
                  for name in ("span", "selected")}
        colors = app.current_theme
    return text, styles, colors


def test_spans_map_to_columns_and_a_short_span_keeps_one():
    model = TimelineModel([TimelineRow("a", [Span(0, 50), Span(50, 51), Span(99, 100)])], 100)
    assert model.span_columns(Span(0, 50), 40) == range(0, 20)
    assert model.span_columns(Span(50, 51), 40) == range(20, 21)
    assert model.span_columns(Span(99, 100), 40) == range(39, 40)
    assert model.column(500, 40) == 39 and model.column(-5, 40) == 0
    cells = row_cells(model, model.rows[0], 40)
    assert cells[:21] == [0] * 20 + [1] and cells[39] == 2 and cells[25] is None


def test_the_selected_span_is_bracketed_so_it_reads_without_colour():
    assert span_text("12", 6, selected=False) == "  12  "
    assert span_text("12", 6, selected=True) == "[ 12 ]"
    assert span_text("1234", 3, selected=True) == "[ ]"  # no room for the label
    assert span_text("7", 1, selected=True) == "▮"


async def test_a_waterfall_draws_each_phase_on_its_row_with_the_cursor():
    text, _, _ = await _render(WATERFALL)
    lines = text.plain.splitlines()
    assert [line.split()[0] for line in lines[:4]] == ["DNS", "TCP", "TLS", "HTTP"]
    assert "[" in lines[2] and "tls" in lines[2] and "]" in lines[2]
    assert "[" not in lines[0]
    cursor_column = 5 + WATERFALL.column(50, 52 - 5)
    assert all(line[cursor_column] in "│[]" or line[cursor_column].isalpha()
               for line in lines[:4])
    assert lines[0][cursor_column] == "│"  # a gap in DNS's row shows the cursor as a bar
    assert lines[-1] == "0–100 ms"
    reversed_columns = {span.start for span in text.spans if span.style
                        and getattr(span.style, "reverse", False)}
    assert reversed_columns  # the cursor is a reversed column too


async def test_the_selected_row_stays_in_view_when_rows_do_not_fit():
    rows = [TimelineRow(f"SM{i}", [Span(i, i + 1, str(i), i)]) for i in range(10)]
    model = TimelineModel(rows, 10, selected=9, hidden_rows_note="lanes", caption="time")
    text, _, _ = await _render(model, size=(40, 24))
    lines = text.plain.splitlines()
    assert len(lines) == 6 + 1  # six rows on a 24-line screen, then the caption
    assert lines[5].startswith("SM9")
    assert lines[-1] == "+4 lanes · time"


def _near(color: Color, hex_color: str) -> bool:
    """Equal up to Textual's rounding when it blends a colour (±2 per channel)."""
    expected = Color.parse(hex_color).get_truecolor()
    return all(abs(a - b) <= 2 for a, b in zip(color.get_truecolor(), expected, strict=True))


async def test_colours_come_from_the_theme():
    _, dark, dark_theme = await _render(WATERFALL, theme="textual-dark")
    _, light, light_theme = await _render(WATERFALL, theme="textual-light")
    assert _near(dark["selected"].bgcolor, dark_theme.warning)
    assert _near(light["selected"].bgcolor, light_theme.warning)
    assert dark["span"].bgcolor != light["span"].bgcolor


def test_a_long_caption_drops_the_note_first_and_is_never_cut_mid_word():
    assert caption_line("+2 rows · ", "time 0–9 ms", 40) == "+2 rows · time 0–9 ms"
    assert caption_line("+2 rows · ", "time 0–9 ms", 15) == "time 0–9 ms"
    assert caption_line("", "time 0–1,234.5 µs · [255]", 12) == "time 0–1,23…"


async def test_the_rows_shown_are_a_run_ending_at_the_selected_one():
    rows = [TimelineRow(f"step{i}", [Span(i, i + 1, str(i), i)]) for i in range(10)]
    for selected, first in ((3, 0), (7, 2), (9, 4)):
        model = TimelineModel(rows, 10, selected=selected, caption="t")
        text, _, _ = await _render(model, size=(40, 24))
        labels = [line.split()[0] for line in text.plain.splitlines()[:-1]]
        assert labels == [f"step{i}" for i in range(first, first + 6)], selected
