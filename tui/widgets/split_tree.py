"""An array drawn as bars over the tree of ranges that sorts it, columns aligned: a node of the
tree covering items lo … hi−1 spans exactly the columns of those items' bars.

The screen says what state every node and bar is in (an ArrayTree); the widget only draws.
Each node state has its own glyphs as well as its theme colour, so the picture reads without
colour: `[━━]` the node at work now, `╞══╡` sorted, `├──┤` split, `╶┄┄╴` not reached yet. The
row under the bars marks single items (L and R: the heads being compared, ▲: the item just
taken). The values are printed under their bars when the columns leave room for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style

from .cell_canvas import CellCanvas, Row, text_cells

NODE_GLYPHS = {  # left edge, fill, right edge
    "current": ("[", "━", "]"),
    "sorted": ("╞", "═", "╡"),
    "split": ("├", "─", "┤"),
    "waiting": ("╶", "┄", "╴"),
}
BAR_STATES = ("idle", "range", "merged", "hot")
EIGHTHS = " ▁▂▃▄▅▆▇█"  # a bar's top cell, by eighths of a cell
LEGEND = (("[━]", "current", "now"), ("╞═╡", "sorted", "sorted"), ("├─┤", "split", "split"),
          ("╶┄╴", "waiting", "to do"), ("L R", "mark", "heads compared"),
          ("▲", "mark", "taken"))
MIN_BAR_ROWS = 2
MAX_BAR_ROWS = 16  # taller bars show no more: the room left stays empty below the legend


@dataclass(frozen=True)
class TreeNode:
    lo: int
    hi: int
    state: str  # a key of NODE_GLYPHS


@dataclass(frozen=True)
class ArrayTree:
    """values: the array now; bar_states: one of BAR_STATES per item; marks: one character
    (or "") per item, drawn under its bar; levels: the tree's nodes, root level first."""

    values: tuple[int, ...]
    bar_states: tuple[str, ...]
    marks: tuple[str, ...]
    levels: tuple[tuple[TreeNode, ...], ...]


class SplitTree(CellCanvas):
    """Bars, values, marks, the tree's levels and a legend, top to bottom; the bars take the
    height left over (the legend, then the values, give way when there is little)."""

    SLICES = 0
    COMPONENT_CLASSES = {f"split-tree--{name}" for name in
                         (*NODE_GLYPHS, *[f"bar-{s}" for s in BAR_STATES], "mark", "legend")}
    DEFAULT_CSS = """
    SplitTree { height: 1fr; min-height: 4; }
    SplitTree > .split-tree--current { color: $warning; text-style: bold; }
    SplitTree > .split-tree--sorted { color: $success; }
    SplitTree > .split-tree--split { color: $foreground; }
    SplitTree > .split-tree--waiting { color: $text-disabled; }
    SplitTree > .split-tree--bar-idle { color: $text-muted; }
    SplitTree > .split-tree--bar-range { color: $primary; }
    SplitTree > .split-tree--bar-merged { color: $success; }
    SplitTree > .split-tree--bar-hot { color: $warning; text-style: bold; }
    SplitTree > .split-tree--mark { color: $warning; text-style: bold; }
    SplitTree > .split-tree--legend { color: $text-muted; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model: ArrayTree | None = None
        self._palette: dict[str, Style] | None = None

    def show(self, model: ArrayTree | None) -> None:
        self.model = model
        self.redraw()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._palette = None  # a new theme: new colours
        if self.is_mounted:
            self.call_after_refresh(self.redraw)

    def _style(self, part: str) -> Style:
        if self._palette is None:
            self._palette = {name.removeprefix("split-tree--"): self.get_component_rich_style(name)
                             for name in self.COMPONENT_CLASSES}
        return self._palette[part]

    def build_rows(self, width: int, height: int) -> list[Row]:
        model = self.model
        if model is None or not model.values or width <= 0 or height <= 0:
            return []
        n = len(model.values)
        cell = max(1, width // n)
        pad = max(0, (width - cell * n) // 2)
        numbers = cell >= len(str(max(model.values))) + 1
        legend = True
        fixed = len(model.levels) + 1  # the levels and the marks row
        if height - fixed - numbers - legend < MIN_BAR_ROWS:
            legend = False
        if height - fixed - numbers - legend < MIN_BAR_ROWS:
            numbers = False
        bar_rows = min(MAX_BAR_ROWS, max(1, height - fixed - numbers - legend))
        rows = self._bars(model, cell, pad, bar_rows)
        if numbers:
            rows.append(self._numbers(model, cell, pad))
        rows.append(self._marks(model, cell, pad))
        rows += [self._level(level, cell, pad) for level in model.levels]
        if legend:
            rows.append(self._legend(width))
        return rows[:height]

    def _bars(self, model: ArrayTree, cell: int, pad: int, bar_rows: int) -> list[Row]:
        top = max(max(model.values), 1)
        bar_width = cell - 1 if cell >= 2 else 1  # a gap between bars when there is room
        eighths = [max(1, round(value / top * bar_rows * 8)) for value in model.values]
        rows: list[Row] = []
        for row in range(bar_rows):
            floor = (bar_rows - 1 - row) * 8  # eighths below this row
            line: Row = [(" ", None)] * pad
            for height, state in zip(eighths, model.bar_states, strict=True):
                glyph = EIGHTHS[min(8, max(0, height - floor))]
                line += [(glyph, self._style(f"bar-{state}"))] * bar_width
                line += [(" ", None)] * (cell - bar_width)
            rows.append(line)
        return rows

    def _numbers(self, model: ArrayTree, cell: int, pad: int) -> Row:
        line: Row = [(" ", None)] * pad
        for value, state in zip(model.values, model.bar_states, strict=True):
            line += text_cells(str(value).center(cell - 1)[:cell - 1] + " ",
                               self._style("bar-hot" if state == "hot" else "legend"))
        return line

    def _marks(self, model: ArrayTree, cell: int, pad: int) -> Row:
        line: Row = [(" ", None)] * pad
        for mark in model.marks:
            line += text_cells((mark or " ").center(max(cell - 1, 1)).ljust(cell)[:cell],
                               self._style("mark"))
        return line

    def _level(self, level: tuple[TreeNode, ...], cell: int, pad: int) -> Row:
        line: Row = [(" ", None)] * pad
        end = 0  # the item after the last node drawn: levels may skip ranges (leaves)
        for node in level:
            line += [(" ", None)] * ((node.lo - end) * cell)
            line += self._node(node, (node.hi - node.lo) * cell)
            end = node.hi
        return line

    def _node(self, node: TreeNode, width: int) -> Row:
        left, fill, right = NODE_GLYPHS[node.state]
        style = self._style(node.state)
        if width == 1:
            return [(fill, style)]
        inner = width - 2
        label = f"{node.lo}–{node.hi - 1}"
        if inner >= len(label) + 2:
            before = (inner - len(label) - 2) // 2
            middle = fill * before + f" {label} " + fill * (inner - len(label) - 2 - before)
        else:
            middle = fill * inner
        return text_cells(left + middle + right, style)

    def _legend(self, width: int) -> Row:
        line: Row = []
        for glyphs, state, words in LEGEND:
            piece = len(glyphs) + 1 + len(words) + (2 if line else 0)
            if len(line) + piece > width:
                break
            if line:
                line += text_cells("  ", None)
            line += text_cells(glyphs, self._style(state))
            line += text_cells(f" {words}", self._style("legend"))
        return line
