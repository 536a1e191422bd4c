"""A timeline (Gantt chart): rows of labelled spans on one time axis, a "now" cursor and a
selected span.

The CUDA screen draws its SM lanes with it (one row per resident-block slot, one span per
block); a request waterfall (DNS | TCP | TLS | HTTP) is the same picture with one span per row.
Colours come from the theme through the component classes; the selected span is also set off
by brackets and the cursor by a reversed column, so both read without colour.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from math import ceil, floor

from rich.style import Style

from .cell_canvas import CellCanvas, Row, text_cells


@dataclass(frozen=True)
class Span:
    """One interval of a row, [start, end) on the time axis, with the text drawn on it."""

    start: float
    end: float
    label: str = ""
    key: Hashable | None = None  # what `TimelineModel.selected` refers to


@dataclass(frozen=True)
class TimelineRow:
    label: str
    spans: Sequence[Span]  # in start order; the selected span wins where spans overlap


@dataclass
class TimelineModel:
    """What one frame of the timeline shows; the axis runs from `start` to `end`."""

    rows: list[TimelineRow]
    end: float
    start: float = 0.0
    now: float | None = None
    selected: Hashable | None = None
    caption: str = ""
    hidden_rows_note: str = "rows"  # "+3 rows · …" when the rows do not all fit
    spans_by_key: dict[Hashable, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # The row holding each keyed span, so the selected span's row can stay in view.
        self.spans_by_key = {span.key: i for i, row in enumerate(self.rows)
                             for span in row.spans if span.key is not None}

    @property
    def selected_row(self) -> int | None:
        return self.spans_by_key.get(self.selected)

    def column(self, t: float, columns: int) -> int:
        """The column time `t` falls in (clamped to the axis)."""
        duration = max(self.end - self.start, 1e-12)
        return max(0, min(columns - 1, floor((t - self.start) * columns / duration)))

    def span_columns(self, span: Span, columns: int) -> range:
        """The columns a span covers: at least one, however short."""
        duration = max(self.end - self.start, 1e-12)
        first = self.column(span.start, columns)
        last = min(columns - 1, ceil((span.end - self.start) * columns / duration) - 1)
        return range(first, max(first, last) + 1)


def row_cells(model: TimelineModel, row: TimelineRow, columns: int) -> list[int | None]:
    """For each column, the index of the span drawn there (the selected one wins)."""
    cells: list[int | None] = [None] * columns
    order = sorted(range(len(row.spans)), key=lambda i: row.spans[i].key == model.selected
                   and model.selected is not None)
    for i in order:
        for column in model.span_columns(row.spans[i], columns):
            cells[column] = i
    return cells


def span_text(label: str, width: int, selected: bool) -> str:
    """A span's characters: its label centred when it fits; the selected one in brackets."""
    if selected:
        if width == 1:
            return "▮"
        inner = width - 2
        return "[" + (label.center(inner) if len(label) <= inner else " " * inner) + "]"
    return label.center(width) if len(label) < width else " " * width


def caption_line(note: str, caption: str, width: int) -> str:
    """The last line: the hidden-rows note and the caption; the note goes first when both do
    not fit, and a caption still too long ends in "…" rather than a word cut at the edge."""
    if len(note) + len(caption) <= width:
        return note + caption
    if len(caption) <= width:
        return caption
    return caption[: width - 1] + "…"


class Timeline(CellCanvas):
    """Draws a TimelineModel: a label column, one line per row, then the caption line.

    A new model (a replay's clock moving) repaints only the cells that changed."""

    SLICES = 0  # its height is auto: the canvas draws its lines itself
    COMPONENT_CLASSES = {
        "timeline--span",
        "timeline--span-alt",
        "timeline--selected",
        "timeline--gap",
        "timeline--label",
        "timeline--label-selected",
        "timeline--caption",
    }
    DEFAULT_CSS = """
    Timeline { height: auto; }
    Timeline > .timeline--span { background: $primary-darken-2; color: $text; }
    Timeline > .timeline--span-alt { background: $primary; color: $text; }
    Timeline > .timeline--selected { background: $warning; color: $text; text-style: bold; }
    Timeline > .timeline--gap { color: $text-disabled; }
    Timeline > .timeline--label { color: $text-muted; }
    Timeline > .timeline--label-selected { text-style: bold; }
    Timeline > .timeline--caption { color: $text-muted; }
    """
    ROWS_FOR_HEIGHT = ((40, 12), (30, 8), (0, 6))  # (screen lines ≥, rows shown)
    CURSOR = Style(reverse=True)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model: TimelineModel | None = None
        self._styles: dict[str, Style] | None = None

    def show(self, model: TimelineModel) -> None:
        resize = self.model is None or len(self.model.rows) != len(model.rows)
        self.model = model
        if resize:
            self.refresh(layout=True)  # a new height: the canvas redraws when resized
        self.redraw()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None  # a new theme: the component colours change
        if self.is_mounted:
            self.call_after_refresh(self.redraw)

    def _style(self, name: str) -> Style:
        if self._styles is None:
            self._styles = {part: self.get_component_rich_style(f"timeline--{part}")
                            for part in ("span", "span-alt", "selected", "gap", "label",
                                         "label-selected", "caption")}
        return self._styles[name]

    def _max_rows(self, screen_height: int) -> int:
        return next(rows for lines, rows in self.ROWS_FOR_HEIGHT if screen_height >= lines)

    def get_content_height(self, container, viewport, width: int) -> int:
        if not self.model:
            return 1
        return min(len(self.model.rows), self._max_rows(viewport.height)) + 1

    def shown_rows(self, room: int) -> list[int]:
        """The rows that fit in `room` lines: the first ones, or, when the selected span's row
        lies further down, a run of neighbouring rows ending at it (a waterfall keeps the steps
        just before the selected one in view, never a lone row cut out of its order)."""
        model = self.model
        count, room = len(model.rows), max(room, 1)
        chosen = model.selected_row
        if count <= room or chosen is None or chosen < room:
            return list(range(min(count, room)))
        start = min(chosen - room + 1, count - room)
        return list(range(start, start + room))

    def build_rows(self, width: int, height: int) -> list[Row]:
        model = self.model
        if model is None or width < 12 or height <= 0:
            return []
        label_width = max((len(row.label) for row in model.rows), default=4) + 1
        columns = width - label_width
        cursor = model.column(model.now, columns) if model.now is not None else None
        shown = self.shown_rows(height - 1)
        rows: list[Row] = []
        for i in shown:
            row = model.rows[i]
            style = self._style("label-selected" if i == model.selected_row else "label")
            rows.append(text_cells(f"{row.label:<{label_width}}", style)
                        + self.row_cells(row, columns, cursor))
        hidden = len(model.rows) - len(shown)
        note = f"+{hidden} {model.hidden_rows_note} · " if hidden else ""
        rows.append(text_cells(caption_line(note, model.caption, width), self._style("caption")))
        return rows

    def row_cells(self, row: TimelineRow, columns: int, cursor: int | None) -> Row:
        """One row's `columns` cells: its spans (labelled), gaps as dots, the cursor reversed."""
        model = self.model
        cells = row_cells(model, row, columns)
        out: Row = []
        column = 0
        while column < columns:
            index = cells[column]
            end = column
            while end + 1 < columns and cells[end + 1] == index:
                end += 1
            if index is None:
                piece, style = "·" * (end - column + 1), self._style("gap")
            else:
                span = row.spans[index]
                selected = model.selected is not None and span.key == model.selected
                piece = span_text(span.label, end - column + 1, selected)
                style = self._style("selected" if selected else ("span", "span-alt")[index % 2])
            out.extend(text_cells(piece, style))
            column = end + 1
        if cursor is not None and cursor < len(out):
            char, style = out[cursor]
            out[cursor] = ("│" if char in " ·" else char, style + self.CURSOR)
        return out
