"""What the Backprop screen shows, worked out apart from the screen: the graph being shown and
its copies, the module grouping, the highlight, the status lines and the side panel's text.

Nothing here is a widget; the work functions (`load_graph`, `lay_out`, `finished`) run in the
screen's jobs, the text functions on the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from rich.text import Text

from ...engine.autograd import Value
from ...engine.backprop_presets import USER_KEY, BuiltGraph, Preset
from ...engine.backprop_stepper import GraphStepper, finished_copy
from ...engine.expression import parse_program
from ...engine.graph_layout import (
    GraphLayout,
    LayoutStyle,
    Progress,
    fit_label,
    group_graph,
    layout_graph,
)
from ...engine.step_explain import explain_backward, explain_forward, fmt, formula
from ..widgets.dag_view import DagModel, Highlight
from ..widgets.graph_models import GroupModel, StepperModel, reference

# Seeking further than this many edge updates not computed yet runs in a job: the first run to
# the end of a 20k-node graph (75k updates) takes ≈ 0.1 s; a seek within what was already
# computed only reassigns grads and stays on the UI thread.
SYNC_SEEK_EDGES = 5_000


@dataclass(frozen=True)
class Grouping:
    """The graph collapsed to one box per model module (preset 7's `m`)."""

    names: list[str]
    members: list[list[int]]  # node indices of each module
    children: list[tuple[int, ...]]  # module graph, children first
    group_of: dict[int, int]  # node index -> its module


@dataclass(frozen=True)
class Loaded:
    """A graph ready to show: built, stepped and laid out off the UI thread."""

    title: str
    built: BuiltGraph
    stepper: GraphStepper
    layout: GraphLayout  # the layout on show (by module when grouped)
    source: str | None
    grouping: Grouping | None = None

    def refer(self, value: Value) -> str:
        return reference(self.stepper, value, self.built.groups)

    def model(self) -> DagModel:
        """What the boxes read: one per module when grouped, else one per node."""
        if self.grouping is not None:
            return GroupModel(self.stepper, self.grouping.names, self.grouping.members)
        return StepperModel(self.stepper, self.built.groups)


Report = Callable[[str], None]


def _layout_progress(report: Report | None) -> Progress | None:
    """The layout's progress as one line for the status bar: `laying out: routing edges 40%`."""
    if report is None:
        return None

    def progress(stage: str, done: int, total: int) -> None:
        report(f"laying out: {stage} {100 * done // max(total, 1)}%…")

    return progress


def load_graph(
    title: str, build: Callable[[], BuiltGraph], source: str | None, style: LayoutStyle,
    report: Report | None = None,
) -> Loaded:
    """Build, number and lay out a graph (a job: the MicroGPT token takes a moment); report
    hears what it is doing, as one line."""
    if report is not None:
        report(f"building {title}…")
    built = build()
    if report is not None:
        report("numbering the nodes…")
    stepper = GraphStepper(built.root)
    layout = layout_graph(stepper.children, style, _layout_progress(report))
    return Loaded(title, built, stepper, layout, source)


def lay_out(loaded: Loaded, style: LayoutStyle, grouped: bool,
            report: Report | None = None) -> Loaded:
    """`loaded` laid out again at another zoom, by module or node by node (a job)."""
    if not grouped:
        layout = layout_graph(loaded.stepper.children, style, _layout_progress(report))
        return replace(loaded, layout=layout, grouping=None)
    stepper = loaded.stepper
    group_names = [loaded.built.groups.get(v, "other") for v in stepper.order]
    names, members, children = group_graph(stepper.children, group_names,
                                           loaded.built.group_order)
    group_of = {node: g for g, nodes in enumerate(members) for node in nodes}
    grouping = Grouping(names, members, children, group_of)
    return replace(loaded, layout=layout_graph(children, style), grouping=grouping)


def finished(loaded: Loaded) -> Loaded:
    """`loaded` on a copy of its graph with both passes run to the end (a job: the graph on
    show is never touched off the UI thread). Layout and grouping still fit: same numbering."""
    stepper, built = finished_copy(loaded.stepper, loaded.built)
    return replace(loaded, stepper=stepper, built=built)


def build_program(source: str) -> tuple[str, BuiltGraph]:
    """Parse the editor's text (in the editor's job); ProgramError carries line:column."""
    program = parse_program(source)
    assert program.result is not None
    return source, BuiltGraph(program.result, program.named_values)


def highlight(
    loaded: Loaded, selected: int | None, inspecting: bool
) -> tuple[Highlight, int | None]:
    """What the DAG view emphasises, and the box to keep in view: the latest step's node,
    its inputs and the edge it updated, plus the Tab cursor (alone while it is inspected)."""
    stepper = loaded.stepper
    current = None if inspecting else stepper.current
    if loaded.grouping is not None:
        group = loaded.grouping.group_of.get(current) if current is not None else None
        return Highlight(current=group), group
    edge = stepper.current_edge if current is not None else None
    related = frozenset(stepper.children[current]) if current is not None else frozenset()
    return Highlight(current, related, edge, selected), current


def status_text(loaded: Loaded | None, playback: Text, zoom: str, working: str,
                failed_title: str) -> Text:
    """Two lines that fit 78 cells: the graph (title, size, then the work in progress or the
    zoom and grouping), then the playback segment with the progress of each pass."""
    if loaded is None:
        failed = f"{failed_title} · cannot be evaluated" if failed_title else ""
        return Text(working or failed, style="bold")
    stepper = loaded.stepper
    grouped = " · by module" if loaded.grouping is not None else ""
    text = Text.assemble(
        (loaded.title, "bold"),
        f" · {len(stepper.order):,} nodes · {stepper.edge_total:,} edges · ",
        (working, "italic") if working else f"{zoom}{grouped} · ",
        "" if working else (numbers_shown(loaded, zoom), "bold"),
        "\n",
        playback,
        f" · forward {stepper.forward_done:,}/{stepper.forward_total:,}"
        f" · backward {stepper.backward_done:,}/{stepper.edge_total:,}",
    )
    return text


def numbers_shown(loaded: Loaded, view: str) -> str:
    """What the numbers in the boxes are at this zoom and pass: data (forward values), grads,
    both, or none (an overview)."""
    if view == "fit":
        return "node density"
    if loaded.grouping is not None:
        return "max |grad|" if view == "detail" else "module names"
    if view == "detail":
        return "d data, g grad"
    if view == "compact":
        return "data" if loaded.stepper.phase == "forward" else "grads"
    return "no numbers"


def editor_title(preset: Preset) -> str:
    """The editor's one-line title (≤ 68 cells at 80 columns): what is edited, and where the
    result goes (a preset is never changed; what runs is kept as preset 8)."""
    if preset.key == USER_KEY:
        return f"Editing {preset.label} (Ctrl+R runs it)"
    return f"Editing a copy of {preset.label} (Ctrl+R keeps it as {USER_KEY})"


def cannot_edit_text(preset: Preset) -> str:
    return (f"{preset.label} is built from Values in Python (a whole model layer), not written "
            "in the program language, so it cannot be edited. e edits a copy of presets 1-6, "
            f"or your program ({USER_KEY}).")


def failure_text(title: str, source: str | None, error: BaseException) -> Text:
    return Text.assemble(
        (f"{title} cannot be evaluated:\n", "bold"), (str(error), "bold red"),
        _quote_line(source, error),
        "\n\nPress e to edit the program, 1-7 for a preset (3: the stable softmax).",
    )


def _quote_line(source: str | None, error: BaseException) -> str:
    """The program line an error points at, with a caret under its column."""
    line, column = getattr(error, "line", None), getattr(error, "column", None)
    if source is None or not isinstance(line, int) or not isinstance(column, int):
        return ""
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    return f"\n\n{line} | {lines[line - 1]}\n{' ' * (len(str(line)) + 2 + column)}^"


INTRO = (
    "n/→ steps: the forward pass node by node, then backward() edge by edge; b/← steps back. "
    "Space plays (+/- speed), t shows the topological order, e edits a copy, 1-7 pick a "
    f"preset ({USER_KEY}: your program, once you run one)."
)


def panel_text(loaded: Loaded, inspected: int | None) -> Text:
    """The side panel: the node under the Tab cursor, else the latest step explained in
    numbers, else what the keys do."""
    stepper = loaded.stepper
    refer = loaded.refer
    text = Text()
    if inspected is not None:
        node = stepper.order[inspected]
        text.append(f"node {inspected + 1} of {len(stepper.order)}\n", style="bold")
        text.append(formula(node, refer) + "\n")
        text.append(f"data = {fmt(node.data)}\ngrad = {fmt(node.grad)}\n")
        uses = len(stepper.parents[inspected])
        if uses:
            plural = "s" if uses > 1 else ""
            text.append(f"used by {uses} edge{plural}: its grad sums {uses} "
                        f"contribution{plural}\n")
        return text
    step = stepper.last_backward
    if step is not None:
        text.append(f"backward {stepper.backward_done}/{stepper.edge_total}\n", style="bold")
        child = stepper.index_of[step.child]
        uses, received = len(stepper.parents[child]), stepper.received[child]
        text.append("\n".join(explain_backward(step, uses, received, refer)))
        if stepper.phase == "done":
            text.append("\n\nbackward done: every grad is d(root)/d(node).", style="green")
        return text
    forward = stepper.last_forward
    if forward is not None:
        text.append(f"forward {stepper.forward_done}/{stepper.forward_total}\n", style="bold")
        text.append("\n".join(explain_forward(forward.node, refer)))
        if stepper.phase != "forward":
            text.append("\n\nforward done. Next, backward() seeds root.grad = 1, then applies "
                        "one edge update per step.", style="italic")
        return text
    text.append(loaded.title + "\n", style="bold")
    text.append(f"{len(stepper.order)} nodes, {stepper.edge_total} edges.\n\n{INTRO}")
    return text


def order_text(stepper: GraphStepper, rows: int, width: int,
               groups: dict[Value, str] | None = None) -> Text:
    """The topological order around the latest step's node, `rows` entries of `width` cells."""
    current = stepper.current
    count = len(stepper.order)
    center = current if current is not None else 0
    rows = max(rows, 1)
    start = max(0, min(center - rows // 2, count - rows))
    text = Text("topological order\n", style="bold")
    if stepper.phase != "forward":
        text.append("(backward walks it in reverse)\n")
    label_width = max(width - 7, 4)
    for i in range(start, min(count, start + rows)):
        marker = "▶" if i == current else " "
        style = "bold reverse" if i == current else ""
        label = fit_label(reference(stepper, stepper.order[i], groups), label_width)
        text.append(f"{marker}{i + 1:>5} {label}\n", style=style)
    return text
