"""Question 5, first half: backward() is a reverse topological sort, shown one edge at a time.

The screen builds a preset (or the user's program) in a job, lays it out, and replays the
engine's own stepping API as one timeline: the forward pass node by node, then
`backward_steps()` edge by edge, with the side panel spelling out each chain-rule update in
numbers. Every step can be undone (b/←), and the kit's playback plays it at any speed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from ...engine.autograd import NumericError
from ...engine.backprop_presets import (
    PRESETS,
    USER_KEY,
    BuiltGraph,
    Preset,
    find_preset,
    user_preset,
)
from ...engine.expression import ProgramError
from ...engine.graph_layout import STYLES
from ..kit.jobs import JobContext
from ..kit.playback import PLAYBACK_BINDINGS, Playback, PlaybackMixin
from ..kit.screen import QuestionScreen
from ..modals.program_editor import ProgramEditor
from ..widgets.dag_view import DagView
from ..widgets.explanation import ExplanationPanel
from .backprop_view import (
    SYNC_SEEK_EDGES,
    Loaded,
    build_program,
    cannot_edit_text,
    editor_title,
    failure_text,
    finished,
    highlight,
    lay_out,
    load_graph,
    order_text,
    panel_text,
    status_text,
)

PAN_STEP = (8, 3)
# Actions that need a graph on show; the moves among them also wait for a running job.
NEEDS_GRAPH = {"playback_toggle", "playback_step", "playback_jump", "modules", "zoom", "pan",
               "cycle", "order", "fit"}
# Actions that draw boxes at 1:1, so they do nothing while the whole graph is fitted.
ONE_TO_ONE = {"zoom", "pan"}
WAITS_FOR_JOB = {"playback_toggle", "playback_step", "playback_jump", "modules", "zoom", "cycle"}


def reporter(job: JobContext) -> Callable[[str], None]:
    """A job's progress line, which also stops the work once the job is superseded."""

    def report(text: str) -> None:
        job.check()
        job.report(text)

    return report


def footer_fits(bindings: list[Binding]) -> list[Binding]:
    """The kit's playback keys with a key bar that fits 80 columns (it cuts what overflows):
    step forward and back share one "n b Step" item; speed is in ? and the palette."""
    step = Binding.Group("Step")
    return [
        replace(binding, group=step) if binding.action.startswith("playback_step")
        else replace(binding, show=False) if binding.action.startswith("playback_speed")
        else binding
        for binding in bindings
    ]


class BackpropScreen(PlaybackMixin, QuestionScreen):
    SCREEN_ID = "backprop"
    CSS_PATH = "backprop.tcss"

    BINDINGS = [
        *footer_fits(PLAYBACK_BINDINGS),
        Binding("t", "order", "Topo order", show=False),
        Binding("e", "edit", "Edit program", show=False),
        Binding("m", "modules", "Group by module", show=False),
        Binding("tab", "cycle(1)", "Next node", show=False),
        Binding("shift+tab", "cycle(-1)", "Previous node", show=False),
        Binding("h,shift+left", "pan(-1,0)", "Pan left", show=False),
        Binding("l,shift+right", "pan(1,0)", "Pan right", show=False),
        Binding("k,up,shift+up", "pan(0,-1)", "Pan up", show=False),
        Binding("j,down,shift+down", "pan(0,1)", "Pan down", show=False),
        Binding("z", "zoom(-1)", "Zoom in", show=False),
        Binding("Z", "zoom(1)", "Zoom out", show=False),
        Binding("f", "fit", "Fit whole graph / 1:1", show=False),
        *(Binding(p.key, f"preset('{p.key}')", f"Preset: {p.title}", show=False)
          for p in PRESETS),
        Binding(USER_KEY, f"preset('{USER_KEY}')", "Preset: your program", show=False),
    ]

    HELP_NOTES = (
        "Presets 1-7: neuron, micrograd's compound expression, softmax + cross-entropy with and "
        "without the max subtraction, RMSNorm, one attention weight, one MicroGPT token "
        "(m groups it by module), and 8: your program, once you have run one from the editor. "
        "n/→ takes the next step: first the forward pass evaluates "
        "one node per step, then backward() applies one edge update per step, "
        "child.grad += local × node.grad (a node used twice receives two contributions). "
        "b/← undoes the last step, g/G jump to the start/end, Space plays, +/- set the steps "
        "per tick. z/Z zoom in/out, f fits the whole graph into the view (again: 1:1), "
        "h j k l pan, Tab inspects nodes. e edits a copy of the "
        "preset on show (presets 1-6 stay as they are; 7 is built in Python and cannot be "
        "edited); Ctrl+R in the editor runs it and keeps it as preset 8."
    )

    def __init__(self, screen_id: str | None = None) -> None:
        super().__init__(screen_id)
        self.playback = Playback(self, self._refresh_all)
        self.loaded: Loaded | None = None
        self.zoom = 0
        self.fit = False  # the whole graph fitted into the view (f), else boxes at 1:1
        self.show_order = False
        self.selected: int | None = None  # the Tab cursor
        self.inspected_at: int | None = None  # the position at which Tab was pressed
        self.working = ""  # what the running job does, for the status line
        self.failure: Text | None = None  # why the last graph could not be evaluated
        self.failed_title = ""
        self.preset: Preset = PRESETS[0]  # the preset on show (or being built, or failed)
        self.user: Preset | None = None  # the last program run from the editor (key 8)
        self.recorded: object | None = None  # the stepper whose finished pass is in the record

    def compose_main(self) -> ComposeResult:
        with Vertical(id="bp-main"):
            yield Static("", id="bp-status")
            with Horizontal(id="bp-body"):
                yield DagView(id="bp-dag")
                yield ExplanationPanel(id="bp-side")

    def on_mount(self) -> None:
        self.load_preset(PRESETS[0])

    @property
    def busy(self) -> bool:
        return self.jobs.running("graph")

    @property
    def shown(self) -> Loaded:
        """The graph on show; check_action disables every action that needs one without it."""
        assert self.loaded is not None
        return self.loaded

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in NEEDS_GRAPH and self.loaded is None:
            return None
        if action in WAITS_FOR_JOB and self.busy:
            return None
        if action == "modules" and not self.shown.built.groups:
            return None  # only the MicroGPT token (preset 7) has modules
        if action == "cycle" and self.shown.grouping is not None:
            return None
        if action in ONE_TO_ONE and self.fit:
            return None
        if action == "fit" and not self.fit and self.query_one(DagView).fits_at_one_to_one:
            return None  # the whole graph is in view already
        if action == "preset" and parameters == (USER_KEY,) and self.user is None:
            return False  # no program of the user's yet
        return super().check_action(action, parameters)

    # Jobs: one at a time over the graph, so a new build supersedes a layout or a run to the end.

    def _start(self, working: str, work: Callable[[JobContext], Any],
               on_done: Callable[[Any], None], **failure: Any) -> None:
        self.playback.pause()
        self.working = working
        self.jobs.start("graph", work, on_done=on_done, on_progress=self._progress, **failure)
        self._refresh_all()

    def _progress(self, working: str) -> None:
        """The running job's line (`laying out: routing edges 40%…`): the status bar only."""
        self.working = working
        self._refresh_status()
        if self.loaded is None:
            self._refresh_panel()

    def load_preset(self, preset: Preset) -> None:
        self.preset = preset
        self._load(preset.label, preset.build, preset.program)

    def _load(self, title: str, build: Callable[[], BuiltGraph], source: str | None) -> None:
        style = STYLES[self.zoom]
        self._start(f"building {title}…",
                    lambda job: load_graph(title, build, source, style, reporter(job)),
                    self._installed, on_failed=lambda error: self._failed(title, source, error),
                    expected=(ProgramError, NumericError))

    def _installed(self, loaded: Loaded) -> None:
        self.selected = self.inspected_at = None
        self._show(loaded)

    def _show(self, loaded: Loaded) -> None:
        """Put a graph on show: a new build, a new layout, or the same graph run to the end."""
        self.loaded, self.working, self.failed_title, self.failure = loaded, "", "", None
        self.query_one(DagView).show(loaded.layout, loaded.model())
        self.playback.attach(loaded.stepper)

    def _failed(self, title: str, source: str | None, error: BaseException) -> None:
        self.loaded, self.working, self.failed_title = None, "", title
        self.failure = failure_text(title, source, error)
        self.query_one(DagView).show(None, None)
        self.playback.attach(None)

    def _relayout(self, zoom: int, grouped: bool) -> None:
        loaded, style = self.shown, STYLES[zoom]
        self.zoom = zoom
        self._start("laying out…", lambda job: lay_out(loaded, style, grouped, reporter(job)),
                    self._show)

    def action_playback_jump(self, to_end: int) -> None:
        loaded = self.shown
        stepper = loaded.stepper
        if to_end and stepper.unrecorded(stepper.length) > SYNC_SEEK_EDGES:
            self._start("running to the end…", lambda _: finished(loaded), self._show)
            return
        super().action_playback_jump(to_end)

    # Views.

    def action_order(self) -> None:
        self.show_order = not self.show_order
        self._refresh_panel()

    def action_modules(self) -> None:
        self._relayout(self.zoom, grouped=self.shown.grouping is None)

    def action_zoom(self, delta: int) -> None:
        zoom = max(0, min(len(STYLES) - 1, self.zoom + delta))
        if zoom != self.zoom:
            self._relayout(zoom, grouped=self.shown.grouping is not None)

    def action_fit(self) -> None:
        self.fit = not self.fit
        self.query_one(DagView).set_fit(self.fit)
        self._refresh_all()

    def action_pan(self, dx: int, dy: int) -> None:
        self.query_one(DagView).pan(dx * PAN_STEP[0], dy * PAN_STEP[1])

    def action_cycle(self, delta: int) -> None:
        stepper = self.shown.stepper
        if self.selected is None:
            current = stepper.current
            self.selected = (current if current is not None else -1 if delta > 0 else 0) + delta
        else:
            self.selected += delta
        self.selected %= len(stepper.order)
        self.inspected_at = stepper.position
        self.query_one(DagView).center_on(self.selected)
        self._refresh_all()

    def action_preset(self, key: str) -> None:
        if key == USER_KEY:
            if self.user is not None:
                self.load_preset(self.user)
            return
        self.load_preset(find_preset(key))

    def action_edit(self) -> None:
        preset = self.preset
        if preset.program is None:
            self.notify(cannot_edit_text(preset), title="Cannot be edited", severity="warning",
                        timeout=8, markup=False)
            return
        editor = ProgramEditor(preset.program, build_program, editor_title(preset))
        self.app.push_screen(editor, self._edited)

    def _edited(self, result: object | None) -> None:
        if not isinstance(result, tuple):
            return
        source, built = result
        self.user = user_preset(source)
        self.preset = self.user
        self._load(self.user.label, lambda: built, source)

    # Drawing.

    @property
    def inspecting(self) -> bool:
        """Tab's node is on show until the next step moves the timeline."""
        loaded = self.loaded
        return loaded is not None and self.inspected_at == loaded.stepper.position

    def _refresh_status(self) -> None:
        working = self.working if self.busy else ""  # a job that crashed left it behind
        status = status_text(self.loaded, self.playback.status("step"), self.view_name,
                             working, self.failed_title)
        self.query_one("#bp-status", Static).update(status)

    @property
    def view_name(self) -> str:
        """The zoom on show, for the status line: a style's name or "fit"."""
        return "fit" if self.fit else STYLES[self.zoom].name

    def _refresh_all(self) -> None:
        self.refresh_bindings()
        self._refresh_status()
        self._refresh_panel()
        if self.loaded is not None:
            shown, follow = highlight(self.loaded, self.selected, self.inspecting)
            self.query_one(DagView).set_highlight(shown, follow=follow)
            stepper = self.loaded.stepper
            finished = stepper.length and stepper.position == stepper.length
            if finished and stepper is not self.recorded:
                self.recorded, nodes, edges = stepper, len(stepper.order), stepper.edge_total
                self.app.record_run("backprop", f"backprop: {self.loaded.title}, backward pass "
                                    f"done, {nodes:,} nodes, {edges:,} edges", nodes=nodes,
                                    edges=edges)

    def _refresh_panel(self) -> None:
        loaded = self.loaded
        if loaded is None:
            text = self.failure or self.working
        elif self.show_order:
            side = self.query_one("#bp-side").content_size
            text = order_text(loaded.stepper, side.height - 2, side.width, loaded.built.groups)
        else:
            text = panel_text(loaded, self.selected if self.inspecting else None)
        self.query_one("#bp-side", ExplanationPanel).show(text)
