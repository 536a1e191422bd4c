"""Lines of styled text that repaint only the characters that changed (live statistics)."""

from __future__ import annotations

from rich.text import Text

from .cell_canvas import CellCanvas, Row


class TextPanel(CellCanvas):
    """Shows a list of Rich Text lines; a new value repaints only the characters that differ."""

    SLICES = 3  # narrow slices: a changed cell resends at most a slice's width

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: list[Text] = []

    def set_lines(self, lines: list[Text]) -> None:
        self._lines = lines
        self.redraw()

    def build_rows(self, width: int, height: int) -> list[Row]:
        rows: list[Row] = []
        for line in self._lines[:height]:
            row: Row = []
            for segment in line.render(self.app.console):
                row.extend((ch, segment.style) for ch in segment.text)
            rows.append(row[:width])
        return rows
