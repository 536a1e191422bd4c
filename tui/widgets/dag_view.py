"""A DAG drawn from a GraphLayout: boxes and box-drawing edges, only what the viewport shows.

The widget knows nothing about autograd: a `DagModel` says what each box reads and which node,
neighbours and edge are highlighted. A frame is built for the viewport alone (cost grows with
the terminal, not the graph) and only the lines that differ from the last frame are refreshed.
`render_viewport()` is a plain function so benchmarks and tests can draw without a terminal.

Every state reads without colour: the step's node has a double border (▶ on one-line boxes),
the Tab cursor a heavy one (◆), the step's inputs rounded corners, the updated edge heavy
lines; a node not evaluated yet reads "?". Colours come from the theme (component classes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from ...engine.graph_layout import (
    GLYPHS,
    HEAVY_GLYPHS,
    LEFT,
    RIGHT,
    GraphLayout,
    fit_label,
    overview,
    overview_cell,
)


class DagModel(Protocol):
    """What the view asks about node i."""

    def label(self, node: int) -> str: ...

    def lines(self, node: int) -> tuple[str, str]:
        """The two text rows of a detailed box (e.g. data and grad)."""
        ...

    def summary(self, node: int) -> str:
        """The one-line text of a compact box (its first cell is the box's state marker)."""
        ...

    def is_pending(self, node: int) -> bool:
        """Drawn dim: not evaluated yet."""
        ...


@dataclass
class Highlight:
    """What to emphasise: the step's node, its neighbours, the edge updated, the Tab cursor."""

    current: int | None = None
    related: frozenset[int] = frozenset()
    edge: tuple[int, int] | None = None
    selected: int | None = None
    route: set[tuple[int, int]] = field(default_factory=set)


# Fallback colours for drawing without a widget (benchmarks, tests); DagView uses the theme's.
STYLES: dict[str, Style] = {
    "blank": Style(),
    "edge": Style(color="grey50"),
    "edge_hot": Style(color="bright_yellow", bold=True),
    "box": Style(color="cyan"),
    "box_pending": Style(color="grey42"),
    "box_current": Style(color="black", bgcolor="bright_yellow", bold=True),
    "box_related": Style(color="bright_green", bold=True),
    "box_selected": Style(color="black", bgcolor="bright_cyan", bold=True),
}


@dataclass(frozen=True)
class BoxLook:
    """The glyphs of one box state: border corners and lines, the label's caps, the ports where
    edges enter (left) and leave (right), and the marker of one-line boxes."""

    corners: str  # top-left, top-right, bottom-left, bottom-right
    horizontal: str
    vertical: str
    caps: str  # either side of the label in the top border
    ports: str  # entering, leaving
    marker: str  # first cell of a one-line box
    brackets: str  # around the one-cell label of the overview


LOOKS: dict[str, BoxLook] = {
    "box": BoxLook("┌┐└┘", "─", "│", "╴╶", "┤├", " ", "[]"),
    "box_current": BoxLook("╔╗╚╝", "═", "║", "  ", "╢╟", "▶", "▶◀"),
    "box_related": BoxLook("╭╮╰╯", "─", "│", "╴╶", "┤├", "›", "()"),
    "box_selected": BoxLook("┏┓┗┛", "━", "┃", "╸╺", "┫┣", "◆", "◆◆"),
}
LOOKS["box_pending"] = LOOKS["box"]


def _box_style(node: int, model: DagModel, highlight: Highlight) -> str:
    if node == highlight.current:
        return "box_current"
    if node == highlight.selected:
        return "box_selected"
    if node in highlight.related:
        return "box_related"
    return "box_pending" if model.is_pending(node) else "box"


def _box_rows(node: int, layout: GraphLayout, model: DagModel, look: BoxLook) -> list[str]:
    """The text rows of one box at the layout's zoom level, each exactly box_width long."""
    style = layout.style
    width = style.box_width
    if style.box_height == 1:
        if width <= 3:
            label = model.label(node)[:1] or "·"
            return [f"{look.brackets[0]}{label}{look.brackets[1]}"[:width].ljust(width)]
        return [(look.marker + model.summary(node))[:width].ljust(width)]
    inner = width - 2
    label = fit_label(model.label(node), inner - 2)
    corners, side = look.corners, look.vertical
    title = f"{look.caps[0]}{label}{look.caps[1]}".ljust(inner, look.horizontal)[:inner]
    first, second = model.lines(node)
    rows = [corners[0] + title + corners[1],
            side + first[:inner].ljust(inner) + side,
            side + second[:inner].ljust(inner) + side]
    rows += [side + " " * inner + side] * (style.box_height - 4)
    rows.append(corners[2] + look.horizontal * inner + corners[3])
    return rows


def render_viewport(
    layout: GraphLayout,
    model: DagModel,
    highlight: Highlight,
    x0: int,
    y0: int,
    width: int,
    height: int,
    styles: dict[str, Style] = STYLES,
) -> list[Strip]:
    """The cells x0 <= x < x0+width, y0 <= y < y0+height of the drawing, one Strip per row.

    styles: a Style per kind of cell (the keys of STYLES)."""
    width, height = max(width, 0), max(height, 0)
    chars = [[" "] * width for _ in range(height)]
    kinds = [["blank"] * width for _ in range(height)]
    cells = layout.edge_cells
    hot = highlight.route
    for row in range(height):
        y = y0 + row
        char_row, kind_row = chars[row], kinds[row]
        for column in range(width):
            mask = cells.get((x0 + column, y))
            if mask:
                if (x0 + column, y) in hot:
                    char_row[column], kind_row[column] = HEAVY_GLYPHS[mask], "edge_hot"
                else:
                    char_row[column], kind_row[column] = GLYPHS[mask], "edge"
    style = layout.style
    port = style.port_row
    for node in layout.nodes_in(x0, y0, x0 + width, y0 + height):
        bx, by = layout.box(node)
        kind = _box_style(node, model, highlight)
        look = LOOKS[kind]
        rows = _box_rows(node, layout, model, look)
        if style.box_height > 1:
            # Show where edges join the box: ┤ on the left where one enters, ├ where one leaves.
            row = rows[port]
            if cells.get((bx - 1, by + port), 0) & RIGHT:
                row = look.ports[0] + row[1:]
            if cells.get((bx + style.box_width, by + port), 0) & LEFT:
                row = row[:-1] + look.ports[1]
            rows[port] = row
        for dy, text in enumerate(rows):
            row_index = by + dy - y0
            if not 0 <= row_index < height:
                continue
            char_row, kind_row = chars[row_index], kinds[row_index]
            for dx, char in enumerate(text):
                column = bx + dx - x0
                if 0 <= column < width:
                    char_row[column] = char
                    kind_row[column] = kind
    return [_strip(chars[row], kinds[row], styles) for row in range(height)]


DENSITY = " ·░▒▓█"  # nodes per overview cell, from none to the most in any cell


def render_overview(
    layout: GraphLayout,
    model: DagModel,
    highlight: Highlight,
    width: int,
    height: int,
    styles: dict[str, Style] = STYLES,
) -> list[Strip]:
    """The whole graph shrunk into width × height cells (fit to screen): each cell shades how
    many nodes it holds; the step's node is ▶, the other end of its edge ›, the Tab cursor ◆.
    A cell whose nodes are all still to be evaluated is drawn dim."""
    width, height = max(width, 0), max(height, 0)
    counts = overview(layout, width, height)
    most = max((max(row) for row in counts if row), default=0)
    ready = [[False] * width for _ in range(height)]
    if width and height:
        for node in range(len(layout.column_of)):
            if not model.is_pending(node):
                column, row = overview_cell(layout, node, width, height)
                ready[row][column] = True
    chars = [[" "] * width for _ in range(height)]
    kinds = [["blank"] * width for _ in range(height)]
    for row in range(height):
        for column in range(width):
            count = counts[row][column]
            if count:
                level = max(1, -(-count * (len(DENSITY) - 1) // most))
                chars[row][column] = DENSITY[level]
                kinds[row][column] = "box" if ready[row][column] else "box_pending"
    marks = []
    if highlight.edge is not None:
        marks.append((highlight.edge[0], "›", "box_related"))
    if highlight.selected is not None:
        marks.append((highlight.selected, "◆", "box_selected"))
    if highlight.current is not None:
        marks.append((highlight.current, "▶", "box_current"))
    for node, char, kind in marks:
        if width and height and 0 <= node < len(layout.column_of):
            column, row = overview_cell(layout, node, width, height)
            chars[row][column], kinds[row][column] = char, kind
    return [_strip(chars[row], kinds[row], styles) for row in range(height)]


def _strip(chars: list[str], kinds: list[str], styles: dict[str, Style]) -> Strip:
    segments: list[Segment] = []
    start = 0
    for index in range(1, len(chars) + 1):
        if index == len(chars) or kinds[index] != kinds[start]:
            segments.append(Segment("".join(chars[start:index]), styles[kinds[start]]))
            start = index
    return Strip(segments, len(chars))


class DagView(Widget):
    """Draws a laid-out graph; the screen pans it, zooms it and says what to highlight."""

    COMPONENT_CLASSES = {
        "dag--edge", "dag--edge-hot", "dag--box", "dag--box-pending", "dag--box-current",
        "dag--box-related", "dag--box-selected",
    }
    DEFAULT_CSS = """
    DagView {
        width: 1fr;
        height: 1fr;
    }
    DagView > .dag--edge { color: $text-muted; }
    DagView > .dag--edge-hot { color: $text-warning; text-style: bold; }
    DagView > .dag--box { color: $text-primary; }
    DagView > .dag--box-pending { color: $text-disabled; }
    DagView > .dag--box-current { color: $text; background: $warning-muted; text-style: bold; }
    DagView > .dag--box-related { color: $text-success; text-style: bold; }
    DagView > .dag--box-selected { color: $text; background: $primary-muted; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.layout_data: GraphLayout | None = None
        self.model: DagModel | None = None
        self.highlight = Highlight()
        self.follow: int | None = None  # the node kept in view, also when the view resizes
        self.origin = (0, 0)
        self.fit = False  # the whole graph shrunk into the view instead of boxes at 1:1
        self._frame: list[Strip] = []
        self._frame_size = (0, 0)
        self._styles: dict[str, Style] | None = None  # the theme's, resolved on first draw

    def notify_style_update(self) -> None:
        """The theme (or CSS) changed: resolve the colours again and redraw."""
        super().notify_style_update()
        self._styles = None
        self._frame_size = (0, 0)  # render_line rebuilds the frame
        self.refresh()

    @property
    def styles_by_kind(self) -> dict[str, Style]:
        if self._styles is None:
            self._styles = {"blank": Style()} | {
                kind: self.get_component_rich_style("dag--" + kind.replace("_", "-"))
                for kind in STYLES if kind != "blank"
            }
        return self._styles

    def show(self, layout: GraphLayout | None, model: DagModel | None) -> None:
        """Draw a new graph (or nothing), from its top-left corner."""
        self.layout_data, self.model = layout, model
        self.origin, self.follow = (0, 0), None
        self.redraw(full=True)

    def set_highlight(self, highlight: Highlight, follow: int | None = None) -> None:
        """Emphasise `highlight`; with follow, first pan so that node — and the edge being
        updated with the box at its other end — is in view (see center_on).

        Panning before drawing builds one frame per step instead of two.
        """
        edge_cells: list[tuple[int, int]] = []
        if self.layout_data is not None and highlight.edge is not None:
            child, parent = highlight.edge
            edge_cells = [(x, y) for x, y, _ in self.layout_data.route(child, parent)]
            highlight.route = set(edge_cells)
        self.highlight, self.follow = highlight, follow
        origin = None
        if follow is not None:
            origin = self._origin_showing(follow, highlight.edge if edge_cells else None)
        if origin is None or origin == self.origin:
            self.redraw()
        else:
            self.origin = origin
            self.redraw(full=True)

    def set_fit(self, fit: bool) -> None:
        """Fit the whole graph into the view (an overview of node density), or draw it 1:1."""
        if fit != self.fit:
            self.fit = fit
            if not fit and self.follow is not None:
                self.origin = self._origin_showing(self.follow) or self.origin
            self.redraw(full=True)

    @property
    def fits_at_one_to_one(self) -> bool:
        """Whether the whole drawing is already in view box by box (fit would show no more)."""
        layout = self.layout_data
        return layout is not None and layout.width <= self.size.width and (
            layout.height <= self.size.height)

    def pan(self, dx: int, dy: int) -> None:
        self.scroll_to_cell(self.origin[0] + dx, self.origin[1] + dy)

    def scroll_to_cell(self, x: int, y: int) -> None:
        if self.layout_data is not None:
            self._move_to(self._clamped(x, y))

    def center_on(self, node: int) -> None:
        """Pan so that node's box is in view (centred), when it is not already."""
        origin = self._origin_showing(node)
        if origin is not None:
            self._move_to(origin)

    def _move_to(self, origin: tuple[int, int]) -> None:
        if origin != self.origin:
            self.origin = origin
            self.redraw(full=True)

    def _clamped(self, x: int, y: int) -> tuple[int, int]:
        """The origin nearest (x, y) that keeps the viewport on the drawing (layout required)."""
        layout = self.layout_data
        assert layout is not None
        width, height = self.size
        return (max(0, min(x, max(layout.width - width, 0))),
                max(0, min(y, max(layout.height - height, 0))))

    def _origin_showing(
        self, node: int, edge: tuple[int, int] | None = None
    ) -> tuple[int, int] | None:
        """The origin that brings node's box (and, with edge, both its boxes) into view, or None
        when it is already in view (or no box). What fits is centred; when the edge is longer
        than the view, node's box is."""
        layout = self.layout_data
        if layout is None or not 0 <= node < len(layout.column_of):
            return None
        style = layout.style
        width, height = self.size
        bx, by = layout.box(node)
        region = (bx, by, bx + style.box_width, by + style.box_height)
        if edge is not None and all(0 <= n < len(layout.column_of) for n in edge):
            for other in edge:
                ox, oy = layout.box(other)
                region = (min(region[0], ox), min(region[1], oy),
                          max(region[2], ox + style.box_width),
                          max(region[3], oy + style.box_height))
        x, y = self.origin
        left, top, right, bottom = region
        if x <= left and right <= x + width and y <= top and bottom <= y + height:
            return None
        if right - left > width or bottom - top > height:
            return self._clamped(bx - (width - style.box_width) // 2,
                                 by - (height - style.box_height) // 2)
        return self._clamped(left - (width - (right - left)) // 2,
                             top - (height - (bottom - top)) // 2)

    def build_frame(self) -> list[Strip]:
        width, height = self.size
        if self.layout_data is None or self.model is None:
            return [Strip.blank(width) for _ in range(height)]
        if self.fit:
            return render_overview(self.layout_data, self.model, self.highlight, width, height,
                                   self.styles_by_kind)
        x, y = self.origin
        return render_viewport(self.layout_data, self.model, self.highlight, x, y, width, height,
                               self.styles_by_kind)

    def redraw(self, full: bool = False) -> None:
        """Rebuild the frame; refresh only the rows that changed unless full."""
        old = self._frame
        self._frame = self.build_frame()
        size = (self.size.width, self.size.height)
        if full or size != self._frame_size or len(old) != len(self._frame):
            self._frame_size = size
            self.refresh()
            return
        for row, (before, after) in enumerate(zip(old, self._frame, strict=True)):
            if before.text != after.text or list(before) != list(after):
                self.refresh(Region(0, row, size[0], 1))

    def on_resize(self) -> None:
        if self.layout_data is not None:
            showing = self._origin_showing(self.follow) if self.follow is not None else None
            self.origin = showing or self._clamped(*self.origin)
        self.redraw(full=True)

    def render_line(self, y: int) -> Strip:
        if (self.size.width, self.size.height) != self._frame_size:
            self._frame = self.build_frame()
            self._frame_size = (self.size.width, self.size.height)
        if 0 <= y < len(self._frame):
            return self._frame[y]
        return Strip.blank(self.size.width)
