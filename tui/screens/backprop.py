"""Question 5, first half: backward() is a reverse topological sort, shown one edge at a time.

The screen builds a preset (or the user's program) in a worker, lays it out, and replays the
engine's own stepping API: the forward pass node by node, then `backward_steps()` edge by edge,
with the side panel spelling out each chain-rule update in numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Static

from ...engine.autograd import NumericError, Value
from ...engine.backprop_presets import PRESETS, BuiltGraph, Preset, find_preset
from ...engine.backprop_stepper import ForwardStep, GraphStepper, copy_graph
from ...engine.expression import ProgramError, parse_program
from ...engine.graph_layout import STYLES, GraphLayout, group_graph, layout_graph
from ...engine.step_explain import explain_backward, explain_forward, fmt, formula
from ..widgets.dag_view import DagModel, DagView, Highlight
from ..widgets.graph_models import GroupModel, StepperModel, reference
from ..widgets.program_editor import ProgramEditor
from .base import QuestionScreen, post_result

PLAY_INTERVAL = 1 / 12  # seconds between steps while playing (≈ 12 updates/s, SSH-friendly)
PAN_STEP = (8, 3)


@dataclass
class Loaded:
    """A graph ready to show: built, stepped and laid out off the UI thread."""

    title: str
    built: BuiltGraph
    stepper: GraphStepper
    layout: GraphLayout
    source: str | None


class BackpropScreen(QuestionScreen):
    SCREEN_ID = "backprop"
    CSS_PATH = "backprop.tcss"

    BINDINGS = [
        Binding("n,right", "forward", "Forward step"),
        Binding("b,left", "backward", "Backward step"),
        Binding("space", "play", "Play/pause"),
        Binding("r", "reset", "Reset"),
        Binding("t", "order", "Topo order"),
        Binding("e", "edit", "Edit program"),
        Binding("m", "modules", "Group by module", show=False),
        Binding("tab", "cycle(1)", "Next node", show=False),
        Binding("shift+tab", "cycle(-1)", "Previous node", show=False),
        Binding("h,shift+left", "pan(-1,0)", "Pan left", show=False),
        Binding("l,shift+right", "pan(1,0)", "Pan right", show=False),
        Binding("k,up,shift+up", "pan(0,-1)", "Pan up", show=False),
        Binding("j,down,shift+down", "pan(0,1)", "Pan down", show=False),
        Binding("plus,equals_sign", "zoom(-1)", "Zoom in", show=False),
        Binding("minus", "zoom(1)", "Zoom out", show=False),
        Binding("g", "start", "Start", show=False),
        Binding("G", "end", "End", show=False),
    ] + [
        Binding(p.key, f"preset('{p.key}')", f"Preset: {p.title}", show=False) for p in PRESETS
    ]

    HELP_NOTES = (
        "Presets 1-7: neuron, micrograd's compound expression, softmax + cross-entropy with and "
        "without the max subtraction, RMSNorm, one attention weight, one MicroGPT token "
        "(m groups it by module). n/→ evaluates the next node; b/← applies the next backward "
        "edge update: child.grad += local × node.grad. A node used twice receives two "
        "contributions. e edits the program; Ctrl+R in the editor runs it."
    )

    def __init__(self, screen_id: str | None = None) -> None:
        super().__init__(screen_id)
        self.loaded: Loaded | None = None
        self.zoom = 0
        self.grouped = False
        self.show_order = False
        self.selected: int | None = None
        self.last_action = ""  # "forward" | "backward" | "select" | ""
        self.message: Text | None = None
        self.user_source: str | None = None
        self.busy = ""
        self.ending: Loaded | None = None  # the graph the end-of-graph worker is finishing
        self.player: Timer | None = None
        self.playing = False
        self.pending_source: str | None = None  # the program that failed, for the editor
        self.failed_title = ""
        self.group_data: tuple[list[str], list[list[int]], list[tuple[int, ...]]] | None = None
        self.group_of: dict[int, int] = {}  # node -> its module's box, while grouped

    def compose_main(self) -> ComposeResult:
        with Vertical(id="bp-main"):
            yield Static("", id="bp-status")
            with Horizontal(id="bp-body"):
                yield DagView(id="bp-dag")
                with VerticalScroll(id="bp-side"):
                    yield Static("", id="bp-panel")

    def on_mount(self) -> None:
        self.player = self.set_interval(PLAY_INTERVAL, self._tick, pause=True)
        self.load_preset(PRESETS[0])

    # Loading graphs (in a worker: a big program or the MicroGPT token takes a moment).

    def load_preset(self, preset: Preset) -> None:
        self._load(f"{preset.key} {preset.title}", preset.build, preset.program)

    def _load(self, title: str, build: Callable[[], BuiltGraph], source: str | None) -> None:
        self._pause()
        self.ending = None
        self.busy = f"building {title}…"
        self._refresh_status()
        self._build_worker(title, build, source, self.zoom)

    @work(thread=True, exclusive=True, group="graph")
    def _build_worker(
        self, title: str, build: Callable[[], BuiltGraph], source: str | None, zoom: int
    ) -> None:
        try:
            built = build()
            stepper = GraphStepper(built.root)
            layout = layout_graph(stepper.children, STYLES[zoom])
        except (ProgramError, NumericError) as error:
            post_result(self.app, self._failed, title, source, error)
            return
        post_result(self.app, self._installed, Loaded(title, built, stepper, layout, source))

    def _installed(self, loaded: Loaded) -> None:
        self.loaded = loaded
        self.busy = ""
        self.failed_title = ""
        self.grouped = False
        self.group_data = None
        self.group_of = {}
        self.selected = None
        self.last_action = ""
        self.message = None
        self.zoom = STYLES.index(loaded.layout.style)
        self.query_one(DagView).show(loaded.layout, StepperModel(loaded.stepper))
        self._refresh_all()

    def _failed(self, title: str, source: str | None, error: Exception) -> None:
        self.busy = ""
        self.loaded = None
        self.failed_title = title
        self.message = Text.assemble(
            (f"{title} cannot be evaluated:\n", "bold"), (str(error), "bold red"),
            _quote_line(source, error),
            "\n\nPress e to edit the program, 1-7 for a preset (3: the stable softmax).",
        )
        self.pending_source = source
        self.query_one(DagView).show(None, None)
        self._refresh_all()

    def _relayout(self) -> None:
        """Lay the current graph out again for the zoom level and grouping."""
        if self.loaded is None:
            return
        self.busy = "laying out…"
        self._refresh_status()
        self._layout_worker(self.loaded, self.zoom, self.grouped)

    @work(thread=True, exclusive=True, group="layout")
    def _layout_worker(self, loaded: Loaded, zoom: int, grouped: bool) -> None:
        stepper = loaded.stepper
        groups = None
        if grouped:
            group_of = [loaded.built.groups.get(v, "other") for v in stepper.order]
            groups = group_graph(stepper.children, group_of, loaded.built.group_order)
            layout = layout_graph(groups[2], STYLES[zoom])
        else:
            layout = layout_graph(stepper.children, STYLES[zoom])
        post_result(self.app, self._laid_out, loaded, layout, groups)

    def _laid_out(self, loaded: Loaded, layout: GraphLayout, groups) -> None:
        if loaded is not self.loaded:
            return
        self.busy = ""
        self.group_data = groups
        if groups is None:
            loaded.layout = layout
            self.group_of = {}
        else:
            self.group_of = {i: g for g, nodes in enumerate(groups[1]) for i in nodes}
        self.query_one(DagView).show(layout, self._model(loaded.stepper))
        self._refresh_all()

    def _model(self, stepper: GraphStepper) -> DagModel:
        """What the boxes read: one per module when grouped, else one per node."""
        if self.grouped and self.group_data is not None:
            return GroupModel(stepper, self.group_data[0], self.group_data[1])
        return StepperModel(stepper)

    # Stepping.

    def _can_step(self) -> bool:
        return self.loaded is not None and not self.busy

    def action_forward(self) -> None:
        if self._can_step() and self.loaded.stepper.step_forward() is not None:
            self.last_action = "forward"
            self._refresh_all()

    def action_backward(self) -> None:
        if self._can_step() and self.loaded.stepper.step_backward() is not None:
            self.last_action = "backward"
            self._refresh_all()

    def action_play(self) -> None:
        if self.player is None or not self._can_step():
            return
        if self.playing:
            self._pause()
        else:
            if self.loaded.stepper.phase == "done":
                self.loaded.stepper.reset()
            self.playing = True
            self.player.resume()
        self._refresh_status()

    def _pause(self) -> None:
        self.playing = False
        if self.player is not None:
            self.player.pause()

    def _tick(self) -> None:
        if not self._can_step():
            self._pause()
            return
        step = self.loaded.stepper.step()
        if step is None:
            self._pause()
        else:
            self.last_action = "forward" if isinstance(step, ForwardStep) else "backward"
        self._refresh_all()

    def action_reset(self) -> None:
        self._pause()
        if self.loaded is not None and not self.busy:
            self.loaded.stepper.reset()
            self.last_action = ""
            self.selected = None
            self.query_one(DagView).scroll_to_cell(0, 0)
            self._refresh_all()

    def action_start(self) -> None:
        self.action_reset()

    def action_end(self) -> None:
        if not self._can_step():
            return
        self._pause()
        self.busy = "running backward…"
        self.ending = self.loaded
        self._refresh_status()
        self._end_worker(self.loaded)

    @work(thread=True, exclusive=True, group="end")
    def _end_worker(self, loaded: Loaded) -> None:
        # The worker runs a copy, so the graph on show is never mutated off the UI thread.
        post_result(self.app, self._ended, loaded, finished_copy(loaded))

    def _ended(self, loaded: Loaded, finished: Loaded) -> None:
        if loaded is not self.loaded or loaded is not self.ending:
            return  # another graph was loaded (or is loading) meanwhile
        self.ending = None
        self.loaded = finished
        self.busy = ""
        self.last_action = "backward"
        view = self.query_one(DagView)
        view.show(view.layout_data, self._model(finished.stepper))
        self._refresh_all()

    # Views.

    def action_order(self) -> None:
        self.show_order = not self.show_order
        self._refresh_panel()

    def action_modules(self) -> None:
        if self.loaded is None or self.busy:
            return
        if not self.loaded.built.groups:
            self.notify("Grouping by module is for the MicroGPT token (preset 7).", timeout=3)
            return
        self.grouped = not self.grouped
        self._relayout()

    def action_zoom(self, delta: int) -> None:
        zoom = max(0, min(len(STYLES) - 1, self.zoom + delta))
        if zoom != self.zoom and self.loaded is not None and not self.busy:
            self.zoom = zoom
            self._relayout()

    def action_pan(self, dx: int, dy: int) -> None:
        self.query_one(DagView).pan(dx * PAN_STEP[0], dy * PAN_STEP[1])

    def action_cycle(self, delta: int) -> None:
        if self.loaded is None or self.busy or self.grouped:
            return
        count = len(self.loaded.stepper.order)
        if self.selected is None:
            current = self.loaded.stepper.current
            self.selected = (current if current is not None else -1 if delta > 0 else 0) + delta
        else:
            self.selected += delta
        self.selected %= count
        self.last_action = "select"
        self.query_one(DagView).center_on(self.selected)
        self._refresh_all()

    def action_preset(self, key: str) -> None:
        self.load_preset(find_preset(key))

    def action_edit(self) -> None:
        if self.loaded is not None and self.loaded.source is not None:
            source = self.loaded.source
        else:
            source = self.pending_source or self.user_source or PRESETS[0].program
        self.app.push_screen(ProgramEditor(source or "", _build_program), self._edited)

    def _edited(self, result: object | None) -> None:
        if not isinstance(result, tuple):
            return
        source, built = result
        self.user_source = source
        self._load("your program", lambda: built, source)

    # Drawing.

    def _refer(self, value: Value) -> str:
        assert self.loaded is not None
        return reference(self.loaded.stepper, value)

    def _refresh_all(self) -> None:
        self._refresh_status()
        self._refresh_panel()
        self._refresh_highlight()

    def _refresh_highlight(self) -> None:
        view = self.query_one(DagView)
        if self.loaded is None:
            return
        stepper = self.loaded.stepper
        current = stepper.current if self.last_action in ("forward", "backward") else None
        if self.grouped and self.group_data is not None:
            group = self.group_of.get(current) if current is not None else None
            view.set_highlight(Highlight(current=group), follow=group)
            return
        edge = stepper.current_edge if self.last_action == "backward" else None
        related = frozenset(stepper.children[current]) if current is not None else frozenset()
        view.set_highlight(Highlight(current, related, edge, self.selected), follow=current)

    def _refresh_status(self) -> None:
        status = self.query_one("#bp-status", Static)
        if self.loaded is None:
            failed = f"{self.failed_title} · cannot be evaluated" if self.failed_title else ""
            status.update(Text(self.busy or failed, style="bold"))
            return
        stepper = self.loaded.stepper
        playing = self.playing
        parts = [
            (self.loaded.title, "bold"),
            f" · {len(stepper.order)} nodes · forward {stepper.forward_done}/"
            f"{stepper.forward_total} · backward {stepper.backward_done}/{stepper.edge_total}",
            f" · {STYLES[self.zoom].name}",
        ]
        if self.grouped:
            parts.append(" · by module")
        if playing:
            parts.append((" · playing", "bold green"))
        if self.busy:
            parts.append((f" · {self.busy}", "italic"))
        status.update(Text.assemble(*parts))

    def _refresh_panel(self) -> None:
        self.query_one("#bp-panel", Static).update(self._panel_text())

    def _panel_text(self) -> Text:
        if self.message is not None and self.loaded is None:
            return self.message
        if self.loaded is None:
            return Text(self.busy or "")
        stepper = self.loaded.stepper
        if self.show_order:
            return self._order_text()
        text = Text()
        if self.last_action == "select" and self.selected is not None:
            node = stepper.order[self.selected]
            text.append(f"node {self.selected + 1} of {len(stepper.order)}\n", style="bold")
            text.append(formula(node, self._refer) + "\n")
            text.append(f"data = {fmt(node.data)}\ngrad = {fmt(node.grad)}\n")
            uses = len(stepper.parents[self.selected])
            if uses:
                text.append(f"used by {uses} edge{'s' if uses > 1 else ''}: its grad sums "
                            f"{uses} contribution{'s' if uses > 1 else ''}\n")
            return text
        if self.last_action == "forward" and stepper.last_forward is not None:
            text.append(f"forward {stepper.forward_done}/{stepper.forward_total}\n",
                        style="bold")
            text.append("\n".join(explain_forward(stepper.last_forward.node, self._refer)))
            return text
        if self.last_action == "backward" and stepper.last_backward is not None:
            step = stepper.last_backward
            child = stepper.position[step.child]
            text.append(f"backward {stepper.backward_done}/{stepper.edge_total}\n", style="bold")
            uses, received = len(stepper.parents[child]), stepper.received[child]
            lines = explain_backward(step, uses, received, self._refer)
            text.append("\n".join(lines))
            if stepper.phase == "done":
                text.append("\n\nbackward done: every grad is d(root)/d(node).", style="green")
            return text
        preset_note = "n/→ evaluates the next node, b/← applies the next backward edge update."
        text.append(self.loaded.title + "\n", style="bold")
        text.append(f"{len(stepper.order)} nodes, {stepper.edge_total} edges.\n\n{preset_note}\n")
        text.append("Space plays, t shows the topological order, e edits, 1-7 pick a preset.")
        return text

    def _order_text(self) -> Text:
        stepper = self.loaded.stepper
        current = stepper.current
        count = len(stepper.order)
        center = current if current is not None else 0
        start = max(0, min(center - 8, count - 18))
        text = Text("topological order", style="bold")
        text.append(" (backward walks it in reverse)\n" if stepper.phase != "forward" else "\n")
        for i in range(start, min(count, start + 18)):
            marker = "▶" if i == current else " "
            style = "bold reverse" if i == current else ""
            label = self._refer(stepper.order[i])[:20]
            text.append(f"{marker}{i + 1:>5} {label}\n", style=style)
        return text


def finished_copy(loaded: Loaded) -> Loaded:
    """A copy of `loaded` on fresh Values with both passes run to the end (for a worker).

    Node positions, and so the layout and module groups, are the same as the original's.
    """
    copies = copy_graph(loaded.stepper)
    stepper = GraphStepper(copies[loaded.built.root])
    stepper.run_to_end()
    built = loaded.built
    copied = BuiltGraph(
        stepper.root,
        [(name, copies.get(value, value)) for name, value in built.named],  # unused: as is
        {copies[value]: group for value, group in built.groups.items() if value in copies},
        built.group_order,
    )
    return Loaded(loaded.title, copied, stepper, loaded.layout, loaded.source)


def _quote_line(source: str | None, error: Exception) -> str:
    """The program line an error points at, with a caret under its column."""
    line, column = getattr(error, "line", None), getattr(error, "column", None)
    if source is None or not isinstance(line, int) or not isinstance(column, int):
        return ""
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    return f"\n\n{line} | {lines[line - 1]}\n{' ' * (len(str(line)) + 2 + column)}^"


def _build_program(source: str) -> tuple[str, BuiltGraph]:
    """Parse the editor's text (in the editor's worker); ProgramError carries line:column."""
    program = parse_program(source)
    assert program.result is not None
    return source, BuiltGraph(program.result, program.named_values)
