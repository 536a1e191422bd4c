"""Which SM ran which block when: one lane per resident-block slot of an SM, time left to right.

Each block is a coloured segment of its lane (neighbours alternate two shades and carry the
block's number when it fits); the selected block is yellow and a reversed column marks "now".
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

SHADES = ("#2f6f9f", "#4f8fc0")  # neighbouring blocks alternate
SELECTED = "#ffd54f"
MAX_ROWS = 6  # lanes shown at once on a 24-line terminal; the selected block's lane always is


@dataclass
class LaneRow:
    label: str  # "SM0·1": SM 0, slot 1
    blocks: list[tuple[int, int, str]]  # (start ns, end ns, block number) in start order
    selected: int | None = None  # index into blocks of the selected block


@dataclass
class Lanes:
    rows: list[LaneRow]
    duration_ns: int
    now_ns: int = 0
    caption: str = ""


def _cells(row: LaneRow, columns: int, duration: int) -> list[int | None]:
    """For each column, the index of the block drawn there (the selected one wins)."""
    cells: list[int | None] = [None] * columns
    order = [i for i in range(len(row.blocks)) if i != row.selected]
    if row.selected is not None:
        order.append(row.selected)
    for i in order:
        start, end, _ = row.blocks[i]
        first = min(columns - 1, start * columns // duration)
        last = min(columns - 1, max(first, (end - 1) * columns // duration))
        for column in range(first, last + 1):
            cells[column] = i
    return cells


def render_lane(row: LaneRow, columns: int, duration: int, cursor: int) -> Text:
    cells = _cells(row, columns, duration)
    out = Text()
    column = 0
    while column < columns:
        block = cells[column]
        end = column
        while end + 1 < columns and cells[end + 1] == block:
            end += 1
        width = end - column + 1
        if block is None:
            piece, style = "·" * width, Style(color="#555555")
        else:
            label = row.blocks[block][2]
            piece = label.center(width) if len(label) < width else " " * width
            selected = block == row.selected
            style = Style(color="black" if selected else "white", bold=selected,
                          bgcolor=SELECTED if selected else SHADES[block % 2])
        for offset, char in enumerate(piece):
            here = column + offset
            out.append("│" if here == cursor and char in " ·" else char,
                       style + Style(reverse=True) if here == cursor else style)
        column = end + 1
    return out


class SmLanes(Widget):
    DEFAULT_CSS = "SmLanes { height: auto; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lanes: Lanes | None = None

    def show(self, lanes: Lanes) -> None:
        resize = self.lanes is None or len(self.lanes.rows) != len(lanes.rows)
        self.lanes = lanes
        self.refresh(layout=resize)

    def _max_rows(self, screen_height: int) -> int:
        return 12 if screen_height >= 40 else 8 if screen_height >= 30 else MAX_ROWS

    def get_content_height(self, container, viewport, width: int) -> int:
        if not self.lanes:
            return 1
        return min(len(self.lanes.rows), self._max_rows(viewport.height)) + 1

    def render(self) -> Text:
        width, height = self.size
        lanes = self.lanes
        if lanes is None or width < 12 or height <= 0:
            return Text("")
        label = max((len(row.label) for row in lanes.rows), default=4) + 1
        columns = width - label
        duration = max(lanes.duration_ns, 1)
        cursor = min(columns - 1, lanes.now_ns * columns // duration)
        room = max(height - 1, 1)
        shown = list(range(len(lanes.rows)))[:room]
        chosen = next((i for i, row in enumerate(lanes.rows) if row.selected is not None), None)
        if chosen is not None and chosen not in shown:
            shown[-1] = chosen  # the selected block's lane stays in view
        out = Text()
        for i in shown:
            row = lanes.rows[i]
            out.append(f"{row.label:<{label}}", style="bold" if row.selected is not None
                       else "dim")
            out.append_text(render_lane(row, columns, duration, cursor))
            out.append("\n")
        hidden = len(lanes.rows) - len(shown)
        note = f"+{hidden} lanes · " if hidden else ""
        out.append(f"{note}{lanes.caption}", style="dim")
        return out
