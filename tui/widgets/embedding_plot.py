"""The token embedding table on its top two principal components: a readouts.EmbeddingMap.

Each character is drawn at its (PC1, PC2) point scaled into the widget, PC1 across and PC2 up,
with the axes through the origin (─ │ ┼). Where two characters land in one cell the later one in
the table is drawn and the bottom line counts the hidden ones and names them. ⟨bos⟩ is drawn as
^; vowels take their own colour, so the well-known vowel cluster stands out (the letters
themselves tell them apart without colour).
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.widget import Widget

from ...engine.microgpt import readouts

EMPTY_HINT = "The embedding map appears once a model exists."
VOWELS = set("aeiouy")


def glyph(label: str) -> str:
    return "^" if label == readouts.BOS_LABEL else label[:1]


def place(xy: np.ndarray, columns: int, rows: int) -> tuple[list[tuple[int, int]], int, int]:
    """Cells (column, row from the top) for each point, and the origin's cell; the ranges
    always include 0 so the axes are inside the plot."""
    xs, ys = xy[:, 0].astype(float), xy[:, 1].astype(float)
    x_low, x_high = min(0.0, float(xs.min())), max(0.0, float(xs.max()))
    y_low, y_high = min(0.0, float(ys.min())), max(0.0, float(ys.max()))
    x_span = (x_high - x_low) or 1.0
    y_span = (y_high - y_low) or 1.0

    def column(x: float) -> int:
        return min(columns - 1, max(0, round((x - x_low) / x_span * (columns - 1))))

    def row(y: float) -> int:
        return min(rows - 1, max(0, round((y_high - y) / y_span * (rows - 1))))

    cells = [(column(float(x)), row(float(y))) for x, y in zip(xs, ys, strict=True)]
    return cells, column(0.0), row(0.0)


class EmbeddingMap(Widget):
    """Shows a readouts.EmbeddingMap as a character scatter plot."""

    COMPONENT_CLASSES = {
        "embedding-map--char",
        "embedding-map--vowel",
        "embedding-map--bos",
        "embedding-map--axis",
    }
    DEFAULT_CSS = """
    EmbeddingMap {
        text-wrap: nowrap;
        text-overflow: clip;
    }
    EmbeddingMap > .embedding-map--char {
        color: $primary;
        text-style: bold;
    }
    EmbeddingMap > .embedding-map--vowel {
        color: $warning;
        text-style: bold;
    }
    EmbeddingMap > .embedding-map--bos {
        color: $error;
        text-style: bold;
    }
    EmbeddingMap > .embedding-map--axis {
        color: $text-disabled;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.embedding: readouts.EmbeddingMap | None = None

    def show(self, embedding: readouts.EmbeddingMap | None) -> None:
        self.embedding = embedding
        self.refresh()

    def render(self) -> Text:
        emb = self.embedding
        if emb is None or not emb.labels:
            return Text(EMPTY_HINT, style="dim", no_wrap=True, overflow="crop")
        width, height = self.size
        width = width or 80
        height = height or 9
        style = self.get_component_rich_style
        axis_style = style("embedding-map--axis")
        styles = {"char": style("embedding-map--char"), "vowel": style("embedding-map--vowel"),
                  "bos": style("embedding-map--bos")}
        out = Text(no_wrap=True, overflow="crop")
        out.append(f"wte on PC1 {emb.explained[0]:.0%} × PC2 {emb.explained[1]:.0%}", "bold")
        out.append(f"  step {emb.step}\n", "dim")
        columns, rows = max(3, width), max(3, height - 2)
        cells, origin_column, origin_row = place(np.asarray(emb.xy), columns, rows)

        grid: list[list[tuple[str, str]]] = [[(" ", "")] * columns for _ in range(rows)]
        for r in range(rows):
            grid[r][origin_column] = ("│", "axis")
        grid[origin_row] = [("─", "axis")] * columns
        grid[origin_row][origin_column] = ("┼", "axis")
        drawn: dict[tuple[int, int], int] = {}
        hidden: list[str] = []
        for index, (label, cell) in enumerate(zip(emb.labels, cells, strict=True)):
            if cell in drawn:
                hidden.append(glyph(emb.labels[drawn[cell]]))
            drawn[cell] = index
            kind = ("bos" if label == readouts.BOS_LABEL
                    else "vowel" if label in VOWELS else "char")
            grid[cell[1]][cell[0]] = (glyph(label), kind)
        # The axis names go where no character is; else only the first line names them.
        placed: set[str] = set()
        for tag, row, start in (("PC1", origin_row, columns - 3), ("PC1", origin_row, columns - 4),
                                ("PC1", origin_row, origin_column + 2),
                                ("PC2", 0, origin_column + 1), ("PC2", 0, origin_column - 3)):
            span = range(start, start + len(tag))
            free = (tag not in placed and start >= 0 and span.stop <= columns
                    and origin_column not in span
                    and all(grid[row][c][1] == "axis" or grid[row][c][0] == " " for c in span))
            if free:
                placed.add(tag)
                for c, ch in zip(span, tag, strict=True):
                    grid[row][c] = (ch, "axis")
        for line in grid:
            for ch, kind in line:
                out.append(ch, axis_style if kind == "axis" else styles.get(kind, ""))
            out.append("\n")
        note = "^ = ⟨bos⟩"
        if hidden:
            names = " ".join(hidden)
            note += f" · {len(hidden)} hidden under later ones: {names}"
        if len(note) > width:
            note = note[: max(0, width - 1)] + "…"
        out.append(note, "dim")
        return out
