"""Which SM ran which block when: one lane per SM, time left to right, a cursor at "now".

Each character is a slice of time; its shade says how many blocks were resident on that SM in
that slice, relative to the occupancy limit; the selected block's span is highlighted.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

SHADES = " ░▒▓█"


@dataclass
class Lanes:
    spans: dict[int, list[tuple[int, int]]]  # SM → (start ns, end ns) of each block it ran
    duration_ns: int
    limit: int  # blocks per SM the shading is relative to
    now_ns: int = 0
    selected: tuple[int, int, int] | None = None  # (sm, start, end) of the selected block


class SmLanes(Widget):
    DEFAULT_CSS = "SmLanes { height: auto; max-height: 9; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lanes: Lanes | None = None

    def show(self, lanes: Lanes) -> None:
        self.lanes = lanes
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        return min(len(self.lanes.spans), 8) + 1 if self.lanes else 1

    def render(self) -> Text:
        width, height = self.size
        lanes = self.lanes
        if lanes is None or width < 12 or height <= 0:
            return Text("")
        label = 6
        columns = width - label
        duration = max(lanes.duration_ns, 1)
        cursor = min(columns - 1, lanes.now_ns * columns // duration)
        sms = sorted(lanes.spans)
        shown = sms[: max(height - 1, 1)] if len(sms) > height - 1 else sms
        out = Text()
        for sm in shown:
            counts = [0] * columns
            for start, end in lanes.spans[sm]:
                first = start * columns // duration
                last = max(first, (end - 1) * columns // duration)
                for column in range(first, min(last, columns - 1) + 1):
                    counts[column] += 1
            out.append(f"SM{sm:<3} ", style="dim")
            selected = lanes.selected if lanes.selected and lanes.selected[0] == sm else None
            for column, count in enumerate(counts):
                shade = SHADES[min(4, -(-4 * count // max(lanes.limit, 1)))]
                style = "cyan"
                if selected:
                    lo = selected[1] * columns // duration
                    hi = (selected[2] - 1) * columns // duration
                    if lo <= column <= hi:
                        style = "bold yellow"
                if column == cursor:
                    style += " reverse"
                out.append(shade if shade != " " or column != cursor else "│", style=style)
            out.append("\n")
        hidden = len(sms) - len(shown)
        note = f"+{hidden} more SMs · " if hidden else ""
        out.append(f"{note}time → {lanes.duration_ns / 1e3:,.1f} µs; shade = blocks per SM "
                   f"(max {lanes.limit})", style="dim")
        return out
