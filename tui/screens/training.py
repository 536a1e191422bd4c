"""Q5 part 2: train MicroGPT live — loss chart, samples, attention, weight norms and Adam.

The screen only composes, binds keys and renders. Training runs in `engine.microgpt.session`:
the NumPy engine in a kit job (a thread), the scalar engine in a child process (its pure-Python
steps would otherwise hold the GIL the UI needs). A second job waits on the session's queue
and hands every snapshot over (`keep="all"`: no loss point is lost), so keys answer at once
however fast training goes, and nothing polls on a timer.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import ContentSwitcher, Input, ProgressBar, Static

from ...engine.microgpt.checkpoint import resolve_checkpoint
from ...engine.microgpt.session import (
    FAILED,
    FINISHED,
    PAUSED,
    RUNNING,
    STARTING,
    STOPPED,
    ProcessSession,
    SessionSpec,
    Snapshot,
    ThreadSession,
)
from ..kit.jobs import JobContext
from ..kit.screen import QuestionScreen
from ..widgets.adam_inspector import AdamInspector
from ..widgets.attention_map import AttentionMap
from ..widgets.dataclass_form import DataclassForm, FormError
from ..widgets.loss_chart import LossChart
from ..widgets.param_table import ParamTable
from .training_view import (
    STATE_MARKS,
    RunView,
    TrainingForm,
    checkpoint_name_problem,
    config_values,
    load_spec,
    next_temperature,
)

PANELS = {"samples": "Samples", "attention": "Attention", "params": "Params", "adam": "Adam"}


def pump_snapshots(session: ThreadSession | ProcessSession, job: JobContext) -> None:
    """The snapshots job: report each snapshot until the session ends or the job is cancelled."""
    for snapshot in session.snapshots(lambda: job.cancelled):
        job.report(snapshot)


class TrainingScreen(QuestionScreen):
    SCREEN_ID = "training"
    CSS_PATH = "training.tcss"

    BINDINGS: ClassVar = [
        Binding("s", "start", "Start"),
        Binding("p,space", "pause", "Pause/resume"),
        Binding("x", "stop", "Stop"),
        Binding("e", "engine", "Switch engine"),
        Binding("plus", "temperature(1)", "Temperature up (re-sample)", show=False),
        Binding("minus", "temperature(-1)", "Temperature down (re-sample)", show=False),
        Binding("1", "panel('samples')", "Samples panel", show=False),
        Binding("2", "panel('attention')", "Attention panel", show=False),
        Binding("3", "panel('params')", "Params panel", show=False),
        Binding("4", "panel('adam')", "Adam panel", show=False),
        Binding("n", "next_name", "Next name (attention)", show=False),
        Binding("h", "attention('head')", "Next head", show=False),
        Binding("l", "attention('layer')", "Next layer", show=False),
        Binding("j", "select_matrix(1)", "Next matrix", show=False),
        Binding("k", "select_matrix(-1)", "Previous matrix", show=False),
        Binding("greater_than_sign", "select_element(1)", "Next weight", show=False),
        Binding("less_than_sign", "select_element(-1)", "Previous weight", show=False),
        Binding("ctrl+s", "save", "Save checkpoint", show=False),
        Binding("ctrl+o", "load", "Load checkpoint", show=False),
        # Esc answers "overwrite?" while it is asked, else goes back (the kit's binding, which
        # a screen's own binding for the key would otherwise replace).
        Binding("escape", "keep_checkpoint", "Keep existing checkpoint"),
        Binding("escape", "back", "Back", show=False),
    ]
    HELP_NOTES = (
        "Type a configuration in the form (Tab moves between fields, Enter returns to the "
        "chart), then s starts; p or Space pauses and resumes, x stops. e switches between the "
        "NumPy engine (~1000 steps/s) and the scalar autograd engine (a few steps/s, in its own "
        "process): the same model, the same losses. Samples refresh every K steps. Ctrl+S / "
        "Ctrl+O save / load the checkpoint named ckpt in the app's checkpoint folder (a save "
        "says where), which `microgpt-tui sample --checkpoint` reads. Saving over an existing "
        "file asks first: Ctrl+S again overwrites it, Esc keeps it."
    )

    def __init__(self, screen_id: str | None = None) -> None:
        super().__init__(screen_id)
        self.session: ThreadSession | ProcessSession | None = None
        self.run = RunView()
        self.element = 0  # the inspected weight, row-major in the selected matrix
        self.message = ""
        self.overwrite: Path | None = None  # an existing checkpoint a second Ctrl+S overwrites
        self.started_at = time.monotonic()  # when the last run began: its time in the record

    # Layout.

    def compose_main(self) -> ComposeResult:
        with Vertical(id="train-left"):
            yield Static(id="train-status")
            yield ProgressBar(id="train-progress", show_eta=False, show_percentage=True)
            yield Static(id="train-rates")
            yield DataclassForm(TrainingForm, id="train-form")
            yield Static(id="train-message")
        with Vertical(id="train-right"):
            yield LossChart(id="train-chart")
            yield Static(id="train-tabs")
            with ContentSwitcher(initial="samples", id="train-panels"):
                yield Static(id="samples")
                yield AttentionMap(id="attention")
                yield ParamTable(id="params")
                yield AdamInspector(id="adam")

    @property
    def form(self) -> DataclassForm[TrainingForm]:
        return self.query_one("#train-form", DataclassForm)

    def on_mount(self) -> None:
        self.query_one(LossChart).focus()
        self._render_status()
        self._render_tabs()
        self._render_samples()

    def on_unmount(self) -> None:
        self._close_session(wait=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(LossChart).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.overwrite is not None and event.input is self.form.input("checkpoint"):
            self._ask_overwrite(None)  # another name: the question no longer stands

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Only the keys that work now show in the key bar, `?` and the palette.
        if action in ("start", "engine"):
            return not self.run.busy
        if action == "pause":
            return self.run.state in (RUNNING, PAUSED)
        if action == "stop":
            return self.run.busy
        if action == "keep_checkpoint":
            return self.overwrite is not None
        return super().check_action(action, parameters)

    # Actions.

    def action_start(self) -> None:
        try:
            form = self.form.value()
        except FormError as error:
            self._say(str(error), error=True)
            return
        self._begin(form.session_spec(self.run.engine, self._data_path()))
        self._say(f"Training {form.num_steps:,} steps on the {self.run.engine} engine…")

    def action_pause(self) -> None:
        if self.session is not None and self.run.state in (RUNNING, PAUSED):
            self.session.send(("pause",) if self.run.state == RUNNING else ("resume",))

    def action_stop(self) -> None:
        if self.run.state == STARTING:
            self._close_session()
            self._set_state(STOPPED)
        elif self.session is not None and self.run.busy:
            self.session.send(("stop",))

    def action_engine(self) -> None:
        self.run.engine = "scalar" if self.run.engine == "numpy" else "numpy"
        self._render_status()

    def action_temperature(self, direction: int) -> None:
        value = next_temperature(self.form.text("temperature"), direction)
        self.form.set_text("temperature", f"{value:g}")
        if self.session is not None and self.run.state != STARTING:
            self.session.send(("temperature", value))
        self._say(f"Temperature {value:g}" + (" — re-sampling…" if self.session else ""))

    def action_panel(self, panel: str) -> None:
        if panel in PANELS:
            self.query_one(ContentSwitcher).current = panel
            self._render_tabs()

    def action_next_name(self) -> None:
        run = self.run
        if run.samples and self.session is not None:
            run.attend_index = (run.attend_index + 1) % len(run.samples)
            self.session.send(("attend", run.attend_index))
            self._render_samples()
        self.action_panel("attention")

    def action_attention(self, move: str) -> None:
        attention = self.query_one(AttentionMap)
        (attention.next_head if move == "head" else attention.next_layer)()
        self.action_panel("attention")

    def action_select_matrix(self, delta: int) -> None:
        self.query_one(ParamTable).move(delta)
        self.element = 0
        self._send_inspect()
        if self.query_one(ContentSwitcher).current not in ("params", "adam"):
            self.action_panel("params")

    def action_select_element(self, delta: int) -> None:
        row = self.query_one(ParamTable).selected_row
        if row is None:
            return
        self.element = (self.element + delta) % (row.shape[0] * row.shape[1])
        self._send_inspect()
        self.action_panel("adam")

    def _send_inspect(self) -> None:
        row = self.query_one(ParamTable).selected_row
        if row is not None and self.session is not None:
            self.session.send(("inspect", row.name, *divmod(self.element, row.shape[1])))

    def action_save(self) -> None:
        if self.session is None or self.run.state in (STARTING, FAILED):
            self._say("Nothing to save yet: start training (s) or load a checkpoint.")
            return
        path = self._checkpoint_path()
        if path is None:
            return
        if path.exists() and self.overwrite != path:
            self._ask_overwrite(path)
            self._say(f"{path.name} exists: Ctrl+S again overwrites it, Esc keeps it.",
                      error=True)
            return
        self._ask_overwrite(None)
        self.session.send(("save", str(path)))
        self._say(f"Saving {path.name} in {path.parent}…")

    def action_keep_checkpoint(self) -> None:
        if self.overwrite is not None:
            self._say(f"Kept {self.overwrite.name}: nothing saved.")
            self._ask_overwrite(None)

    def _ask_overwrite(self, path: Path | None) -> None:
        if path != self.overwrite:
            self.overwrite = path
            self.refresh_bindings()

    def action_load(self) -> None:
        path = self._checkpoint_path()
        if path is None:
            return
        if not path.is_file():
            self._say(f"no checkpoint {path.name} in {path.parent}", error=True)
            return
        self._begin(load_spec(path, self.run.engine, self._data_path()))
        self._say(f"Loading {path.name} from {path.parent}…")

    def _checkpoint_path(self) -> Path | None:
        """The checkpoint the ckpt field names; None after saying why the text is refused (the
        text stays as typed, its field marked)."""
        text = self.form.text("checkpoint")
        problem = checkpoint_name_problem(text)
        path = None if problem else resolve_checkpoint(text)
        self.form.mark("checkpoint", bad=path is None)
        if path is None:
            self._ask_overwrite(None)
            self._say(problem or "ckpt: type a file name such as run1.npz", error=True)
        return path

    def _data_path(self) -> str | None:
        data_path = getattr(self.app, "data_path", None)
        return str(data_path) if data_path else None

    # The session and its jobs.

    def _begin(self, spec: SessionSpec) -> None:
        self._close_session()
        self._ask_overwrite(None)
        self.query_one(LossChart).reset()
        self.run.restart(spec.config.num_steps)
        self.element = 0
        self.started_at = time.monotonic()
        if spec.engine == "scalar":
            session: ThreadSession | ProcessSession = ProcessSession(spec)
        else:
            session = thread_session = ThreadSession(spec)
            self.jobs.start("engine", lambda job: thread_session.run(lambda: job.cancelled))
        self.session = session
        self.jobs.start("snapshots", lambda job: pump_snapshots(session, job), keep="all",
                        on_progress=self._apply, on_done=self._session_ended)
        self._set_state(STARTING)
        self._render_samples()

    def _close_session(self, wait: bool = False) -> None:
        self.jobs.cancel("snapshots")
        self.jobs.cancel("engine")
        if self.session is not None:
            self.session.close(wait=wait)
            self.session = None

    def _session_ended(self, _result: None) -> None:
        if self.run.busy:
            self._close_session()
            self._set_state(FAILED)
            self._say("The training process ended unexpectedly.", error=True)

    def _apply(self, snap: Snapshot) -> None:
        chart = self.query_one(LossChart)
        self.run.apply(snap)
        if snap.config is not None:  # the first snapshot: the configuration actually training
            self.form.fill(config_values(snap.config))
            baseline = math.log(snap.vocab_size) if snap.vocab_size else None
            chart.reset(snap.config.num_steps, baseline, f"ln({snap.vocab_size}) uniform")
        chart.add_points(snap.losses)
        if snap.heldout is not None:
            chart.add_heldout(*snap.heldout)
        if snap.samples is not None:
            self._render_samples(snap.temperature)
        if snap.attention is not None:
            view = snap.attention
            self.query_one(AttentionMap).show(view.name, view.labels, view.maps)
        if snap.params is not None:
            self.query_one(ParamTable).update_rows(snap.params)
        if snap.adam is not None:
            name, row, col, adam_view = snap.adam
            self.query_one(AdamInspector).show(name, row, col, adam_view, snap.step)
        if snap.message:
            self._say(snap.message, error=snap.state == FAILED)
        elif snap.state == FINISHED != self.run.state:
            self._say(f"Finished {snap.step:,} steps: s trains afresh, Ctrl+S saves.")
        ended = snap.state in (FINISHED, STOPPED) and snap.state != self.run.state
        if ended and self.run.last_loss is not None:
            seconds, loss = time.monotonic() - self.started_at, self.run.last_loss
            self.app.record_run("training", f"training ({self.run.engine}): {snap.step:,} steps, "
                                f"loss {loss:.4f}, {seconds:.1f} s", steps=snap.step,
                                loss=loss, seconds=seconds, engine=self.run.engine)
        self._set_state(snap.state)
        if snap.state == FAILED:
            self._close_session()

    # Rendering.

    def _set_state(self, state: str) -> None:
        if state != self.run.state:
            self.run.state = state
            self.refresh_bindings()
        self._render_status()

    def _say(self, message: str, error: bool = False) -> None:
        self.message = message
        self.query_one("#train-message", Static).update(
            Content.styled(message, "$error" if error else "$foreground-muted"))

    def _render_status(self) -> None:
        run = self.run
        glyph, colour = STATE_MARKS.get(run.state, ("?", ""))
        state = Content.assemble((f"{glyph} ", colour), (run.state, "bold"), f" · {run.engine}")
        self.query_one("#train-status", Static).update(
            Content("\n").join([state, *map(Content, run.status_lines())]))
        self.query_one(ProgressBar).update(total=max(1, run.num_steps), progress=run.step)
        self.query_one("#train-rates", Static).update(
            Content.styled("\n".join(run.rate_lines()), "$foreground-muted"))

    def _render_tabs(self) -> None:
        current = self.query_one(ContentSwitcher).current
        tabs = Text(no_wrap=True, overflow="crop")
        for index, (panel, title) in enumerate(PANELS.items(), start=1):
            tabs.append(f" {index} {title} ", "reverse bold" if panel == current else "dim")
            tabs.append(" ")
        self.query_one("#train-tabs", Static).update(tabs)

    def _render_samples(self, temperature: float | None = None) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        shown = temperature if temperature is not None else self.form.text("temperature")
        chart = self.query_one(LossChart)
        text.append(f"temperature {shown}", "bold").append("  (+/- re-sample)", "dim")
        if chart.heldout:
            step, loss = chart.heldout[-1]
            text.append(f"\nheld-out loss {loss:.4f} nats/token at step {step:,}")
        if not self.run.samples:
            text.append("\n\nSampled names appear here every K steps.", "dim")
        for index, name in enumerate(self.run.samples):
            chosen = index == self.run.attend_index
            text.append("\n▸ " if chosen else "\n  ", "bold" if chosen else "")
            text.append(name or "(empty)")
        self.query_one("#samples", Static).update(text)
