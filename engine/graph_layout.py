"""Lay a DAG out left to right in topological generations, as plain data a widget can draw.

The graph arrives as index lists (node i's children, every child before its parent), so the
same layout serves a Value graph and a graph of grouped modules. Nodes sit on a grid of
character cells: generation g is a column, each node a box in a slot of that column; every box
is aligned to the same row grid, so the rows between slots form corridors free of boxes that
long edges (skipping generations) travel along.

Edges are rasterised once into a sparse map cell -> direction mask (left/right/up/down), from
which a renderer picks box-drawing glyphs; `route()` gives one edge's cells for highlighting.
Everything is found by bisection, so drawing a viewport costs the viewport, not the graph.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

LEFT, RIGHT, UP, DOWN = 1, 2, 4, 8

# Every combination of directions a cell connects to, and its box-drawing glyph: light lines,
# and heavy ones for the edge being updated (it stands out without colour).
_SHAPES = (
    0, LEFT, RIGHT, UP, DOWN, LEFT | RIGHT, UP | DOWN,
    RIGHT | DOWN, LEFT | DOWN, RIGHT | UP, LEFT | UP,
    LEFT | RIGHT | DOWN, LEFT | RIGHT | UP, UP | DOWN | RIGHT, UP | DOWN | LEFT,
    LEFT | RIGHT | UP | DOWN,
)
GLYPHS = dict(zip(_SHAPES, " ╴╶╵╷─│┌┐└┘┬┴├┤┼", strict=True))
HEAVY_GLYPHS = dict(zip(_SHAPES, " ╸╺╹╻━┃┏┓┗┛┳┻┣┫╋", strict=True))


@dataclass(frozen=True)
class LayoutStyle:
    """Box size and spacing in character cells; port_row: the box row edges leave and enter."""

    name: str
    box_width: int
    box_height: int
    gap_x: int
    gap_y: int
    port_row: int

    @property
    def pitch_x(self) -> int:
        return self.box_width + self.gap_x

    @property
    def pitch_y(self) -> int:
        return self.box_height + self.gap_y


# Zoom levels, nearest first: boxes with label/data/grad (a 13-cell name), one-line boxes
# (marker, a 10-cell name, the number), one cell per node.
STYLES: tuple[LayoutStyle, ...] = (
    LayoutStyle("detail", box_width=17, box_height=4, gap_x=6, gap_y=1, port_row=1),
    LayoutStyle("compact", box_width=20, box_height=1, gap_x=5, gap_y=1, port_row=0),
    LayoutStyle("overview", box_width=3, box_height=1, gap_x=4, gap_y=1, port_row=0),
)


@dataclass
class GraphLayout:
    """Where every node's box is, and the edge cells between them (all in character cells)."""

    style: LayoutStyle
    children: list[tuple[int, ...]]
    column_of: list[int]
    slot_of: list[int]
    columns: list[list[int]]  # node indices per column, by slot
    column_slots: list[list[int]]  # the slots of those nodes, ascending
    edge_cells: dict[tuple[int, int], int] = field(default_factory=dict)
    width: int = 0
    height: int = 0

    def box(self, node: int) -> tuple[int, int]:
        """Top-left cell (x, y) of a node's box."""
        return self.column_of[node] * self.style.pitch_x, self.slot_of[node] * self.style.pitch_y

    def nodes_in(self, x0: int, y0: int, x1: int, y1: int) -> list[int]:
        """Nodes whose boxes overlap the cells x0 <= x < x1, y0 <= y < y1."""
        style = self.style
        first = max(0, (x0 - style.box_width) // style.pitch_x)
        last = min(len(self.columns) - 1, x1 // style.pitch_x)
        found: list[int] = []
        low = (y0 - style.box_height) // style.pitch_y
        high = y1 // style.pitch_y
        for column in range(first, last + 1):
            slots = self.column_slots[column]
            start, stop = bisect_right(slots, low), bisect_left(slots, high + 1)
            found.extend(self.columns[column][start:stop])
        return found

    def route(self, child: int, parent: int) -> list[tuple[int, int, int]]:
        """The cells (x, y, direction mask) of the edge child -> parent, in drawing order."""
        return _route(self, child, parent)


def generations(children: Sequence[Sequence[int]]) -> list[int]:
    """Each node's column: 1 + the deepest child; a leaf sits just before its first consumer.

    The columns of inner nodes are networkx's `topological_generations` (Kahn layering): one
    pass over nodes that come children first gives them 20–30× faster than building a DiGraph
    and asking networkx (20k-node MicroGPT layer: 2–3 ms against 53–85 ms; 100k-node chain:
    21–22 ms against 465–770 ms).
    Pulling leaves (inputs, weights, constants) next to where they are used keeps their edges
    short instead of running from column 0 across the whole graph.

    Raises ValueError unless every child comes before its node (which also proves the graph
    acyclic: an edge only ever points back).
    """
    count = len(children)
    column = [0] * count
    for node in range(count):
        kids = children[node]
        if kids:
            if max(kids) >= node:
                raise ValueError(f"node {node} has a child at or after it: not children-first")
            column[node] = 1 + max(column[c] for c in kids)
    nearest_parent = [count + 1] * count
    for node in range(count):
        for child in children[node]:
            if column[node] < nearest_parent[child]:
                nearest_parent[child] = column[node]
    for node in range(count):
        if not children[node] and nearest_parent[node] <= count:
            column[node] = nearest_parent[node] - 1
    return column


# What a layout's progress callback receives: (stage, done, total) with stage "placing" or
# "routing edges"; it may raise (e.g. a cancelled job's JobCancelled) to stop the layout.
Progress = Callable[[str, int, int], None]


def layout_graph(
    children: Sequence[Sequence[int]], style: LayoutStyle = STYLES[0],
    progress: Progress | None = None,
) -> GraphLayout:
    """Place n nodes (children before parents) in columns and slots, then rasterise the edges.

    Slots follow the barycentre of a node's children (and a leaf's parents) so edges run
    mostly straight; cost is O(nodes + edges + edge cells). progress, if given, hears about
    every column placed and every 1/50 of the edges routed (the routing is most of the time).
    """
    count = len(children)
    kids = [tuple(c) for c in children]
    column_of = generations(kids)
    parents: list[list[int]] = [[] for _ in range(count)]
    for node in range(count):
        for child in kids[node]:
            parents[child].append(node)
    width_columns = max(column_of, default=-1) + 1
    by_column: list[list[int]] = [[] for _ in range(width_columns)]
    for node in range(count):
        by_column[column_of[node]].append(node)

    slot_of = [0] * count
    # Pass 1, left to right: inner nodes follow their placed children.
    for placed, members in enumerate(by_column):
        if progress is not None:
            progress("placing", placed, width_columns)
        inner = [n for n in members if kids[n]]
        wanted = {n: _mean([slot_of[c] for c in kids[n]], float(n) / max(count, 1)) for n in inner}
        _pack(sorted(inner, key=lambda n: (wanted[n], n)), wanted, slot_of)
    # Pass 2: leaves join their column next to their parents, inner nodes keep their wish.
    columns: list[list[int]] = []
    for members in by_column:
        wanted = {}
        for n in members:
            if kids[n]:
                wanted[n] = float(slot_of[n])
            else:
                wanted[n] = _mean([slot_of[p] - 0.5 for p in parents[n]], 0.0)
        ordered = sorted(members, key=lambda n: (wanted[n], n))
        _pack(ordered, wanted, slot_of)
        columns.append(ordered)

    layout = GraphLayout(
        style=style,
        children=list(kids),
        column_of=column_of,
        slot_of=slot_of,
        columns=columns,
        column_slots=[[slot_of[n] for n in members] for members in columns],
    )
    layout.width = width_columns * style.pitch_x
    layout.height = (max(slot_of, default=0) + 1) * style.pitch_y
    _rasterise(layout, parents, progress)
    return layout


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _pack(ordered: list[int], wanted: dict[int, float], slot_of: list[int]) -> None:
    """Give each node the slot nearest its wish, never above the previous node's."""
    previous = -1
    for node in ordered:
        slot = max(previous + 1, round(wanted[node]))
        slot_of[node] = slot
        previous = slot


def _channel(layout: GraphLayout, parent: int) -> int:
    """The x of the vertical run into parent, inside the gap left of its column."""
    style = layout.style
    lanes = max(style.gap_x - 2, 1)
    gap_start = layout.column_of[parent] * style.pitch_x - style.gap_x
    return gap_start + 1 + layout.slot_of[parent] % lanes


def _route_points(layout: GraphLayout, child: int, parent: int) -> list[tuple[int, int]]:
    """Corners of the edge child -> parent: out of the child's right side, down the parent's
    lane, into its left side; an edge skipping columns runs along the corridor below the
    child's slot first."""
    style = layout.style
    cx, cy = layout.box(child)
    px, py = layout.box(parent)
    start_y = cy + style.port_row
    channel = _channel(layout, parent)
    points = [(cx + style.box_width, start_y)]
    if layout.column_of[parent] - layout.column_of[child] > 1:
        first_lane = cx + style.box_width + 1
        corridor = cy + style.box_height
        points += [(first_lane, start_y), (first_lane, corridor), (channel, corridor)]
    end_y = py + style.port_row
    points += [(channel, points[-1][1]), (channel, end_y), (px - 1, end_y)]
    return points


def _route(layout: GraphLayout, child: int, parent: int) -> list[tuple[int, int, int]]:
    return _polyline(_route_points(layout, child, parent))


def _polyline(
    points: list[tuple[int, int]], closed_end: bool = True
) -> list[tuple[int, int, int]]:
    """Cells along axis-aligned segments, each with the directions it connects to.

    The first cell connects left (to the box the edge leaves); with closed_end the last
    connects right (into the box it enters)."""
    masks: dict[tuple[int, int], int] = {}
    order: list[tuple[int, int]] = []

    def mark(x: int, y: int, mask: int) -> None:
        if (x, y) not in masks:
            masks[(x, y)] = 0
            order.append((x, y))
        masks[(x, y)] |= mask

    mark(*points[0], LEFT)
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if (x0, y0) == (x1, y1):
            continue
        if y0 == y1:
            step = 1 if x1 > x0 else -1
            ahead, behind = (RIGHT, LEFT) if step == 1 else (LEFT, RIGHT)
            for x in range(x0, x1, step):
                mark(x, y0, ahead)
                mark(x + step, y0, behind)
        else:
            step = 1 if y1 > y0 else -1
            ahead, behind = (DOWN, UP) if step == 1 else (UP, DOWN)
            for y in range(y0, y1, step):
                mark(x0, y, ahead)
                mark(x0, y + step, behind)
    if closed_end:
        mark(*points[-1], RIGHT)
    return [(x, y, masks[(x, y)]) for x, y in order]


def _rasterise(layout: GraphLayout, parents: list[list[int]],
               progress: Progress | None = None) -> None:
    """All edges into one cell map. Edges into one parent share its lane, so that lane is
    drawn once from its highest to its lowest edge instead of once per edge: the cost is the
    cells drawn, not edges × lane length."""
    cells = layout.edge_cells
    style = layout.style
    total = len(layout.children)
    every = max(total // 50, 1)
    for parent, kids in enumerate(layout.children):
        if progress is not None and parent % every == 0:
            progress("routing edges", parent, total)
        if not kids:
            continue
        px, py = layout.box(parent)
        channel = _channel(layout, parent)
        end_y = py + style.port_row
        lane_top = lane_bottom = end_y
        for child in set(kids):
            points = _route_points(layout, child, parent)
            arrival = next(i for i, (x, _) in enumerate(points) if x == channel)
            for x, y, mask in _polyline(points[: arrival + 1], closed_end=False):
                cells[(x, y)] = cells.get((x, y), 0) | mask
            arrival_y = points[arrival][1]
            lane_top, lane_bottom = min(lane_top, arrival_y), max(lane_bottom, arrival_y)
        for y in range(lane_top, lane_bottom + 1):
            mask = (UP if y > lane_top else 0) | (DOWN if y < lane_bottom else 0)
            cells[(channel, y)] = cells.get((channel, y), 0) | mask
        cells[(channel, end_y)] |= RIGHT
        for x in range(channel + 1, px):
            cells[(x, end_y)] = cells.get((x, end_y), 0) | LEFT | RIGHT


def group_graph(
    children: Sequence[Sequence[int]], group_of: Sequence[str], group_order: Sequence[str]
) -> tuple[list[str], list[list[int]], list[tuple[int, ...]]]:
    """Collapse nodes into one node per group (e.g. per model module).

    group_order lists the groups in the order they were built; a group missing from it goes
    last. Returns (names, member node indices per group, children per group), keeping only
    edges from an earlier group to a later one so the result is a DAG in group order.
    """
    present = set(group_of)
    names = [g for g in group_order if g in present]
    names += sorted(present - set(names))
    index = {name: i for i, name in enumerate(names)}
    members: list[list[int]] = [[] for _ in names]
    edges: list[set[int]] = [set() for _ in names]
    for node, kids in enumerate(children):
        group = index[group_of[node]]
        members[group].append(node)
        for child in kids:
            child_group = index[group_of[child]]
            if child_group < group:
                edges[group].add(child_group)
    return names, members, [tuple(sorted(e)) for e in edges]


# Readable short forms, tried in order when a name is too long for its box.
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("softmax", "smax"), ("rmsnorm", "norm"), ("lm_head", "lmh"), ("embeddings", "emb"),
    ("attn head ", "head"), ("attn output", "attn out"), ("attn q/k/v", "qkv"),
    ("score", "sc"), ("resid", "res"),
)


def fit_label(text: str, width: int) -> str:
    """`text` in at most `width` cells, shortened readably: first the usual abbreviations
    (softmax → smax, lm_head → lmh), then whole words dropped from the end with "…" for them;
    a word is cut only when the first alone does not fit."""
    if len(text) <= width:
        return text
    for long, short in ABBREVIATIONS:
        text = text.replace(long, short)
        if len(text) <= width:
            return text
    words = text.split(" ")
    while len(words) > 1:
        words.pop()
        shortened = " ".join(words) + "…"
        if len(shortened) <= width:
            return shortened
    return text[: max(width - 1, 0)] + "…" if width > 0 else ""


def overview(layout: GraphLayout, width: int, height: int) -> list[list[int]]:
    """The whole drawing shrunk to width × height cells: how many nodes' boxes fall in each
    (the fit-to-screen view of a graph too big to read box by box)."""
    counts = [[0] * max(width, 0) for _ in range(max(height, 0))]
    if width <= 0 or height <= 0:
        return counts
    for node in range(len(layout.column_of)):
        column, row = overview_cell(layout, node, width, height)
        counts[row][column] += 1
    return counts


def overview_cell(layout: GraphLayout, node: int, width: int, height: int) -> tuple[int, int]:
    """The cell (column, row) of `overview(layout, width, height)` that holds node."""
    x, y = layout.box(node)
    return (min(x * width // max(layout.width, 1), width - 1),
            min(y * height // max(layout.height, 1), height - 1))
