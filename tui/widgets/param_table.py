"""The parameter table: each weight matrix's shape, weight norm and last-gradient norm.

One row is selected (j/k on the Training screen); the table shows a window of rows around it,
so any number of layers fits any height.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class ParamTable(Widget):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.param_rows: list = []  # ParamRow-like: name, shape, weight_norm, grad_norm
        self.selected_index = 0

    def update_rows(self, rows: list) -> None:
        self.param_rows = rows
        self.selected_index = min(self.selected_index, max(0, len(rows) - 1))
        self.refresh()

    def move(self, delta: int) -> None:
        if self.param_rows:
            self.selected_index = (self.selected_index + delta) % len(self.param_rows)
            self.refresh()

    @property
    def selected_row(self):
        return self.param_rows[self.selected_index] if self.param_rows else None

    def render(self) -> Text:
        if not self.param_rows:
            return Text("Weight and gradient norms appear once training starts.", style="dim")
        out = Text(no_wrap=True, overflow="crop")
        out.append(f"  {'matrix':<20}{'shape':>8}{'‖w‖':>9}{'‖∇w‖':>10}\n", "bold")
        room = max(1, self.size.height - 1)
        start = min(max(0, self.selected_index - room // 2), max(0, len(self.param_rows) - room))
        for index in range(start, min(len(self.param_rows), start + room)):
            row = self.param_rows[index]
            mark = "▸ " if index == self.selected_index else "  "
            shape = f"{row.shape[0]}×{row.shape[1]}"
            line = f"{mark}{row.name:<20.20}{shape:>8}{row.weight_norm:>9.3f}{row.grad_norm:>10.2e}"
            out.append(line + "\n", "reverse" if index == self.selected_index else "")
        return out
