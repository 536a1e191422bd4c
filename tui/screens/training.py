"""Q5 part 2: train MicroGPT live — loss chart, samples, attention, weight norms and Adam.

The screen only composes, binds keys and renders. Training runs in `engine.microgpt.session`,
in a child process for both engines (a training thread would share the GIL the UI needs: the
steps would slow down and so would the keys). A job waits on the session's queue and hands
every snapshot over (`keep="all"`: no loss point is lost), so keys answer at once however fast
training goes, and nothing polls on a timer.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

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
)
from ..kit.jobs import JobContext
from ..kit.screen import QuestionScreen
from ..kit.tabs import tabs_line
from ..widgets.adam_inspector import AdamInspector
from ..widgets.attention_map import AttentionMap
from ..widgets.dataclass_form import DataclassForm, FormError
from ..widgets.loss_chart import LossChart
from ..widgets.param_table import ParamTable
from .training_readouts import ReadoutPanels
from .training_view import (
    RunView,
    TrainingForm,
    checkpoint_name_problem,
    config_values,
    load_spec,
    next_pace,
    next_temperature,
    pace_text,
)

PANELS = {"samples": "Samples", "attention": "Attention", "params": "Params", "adam": "Adam",
          "tokens": "Tokens", "why": "Why", "health": "Health", "embed": "Embed",
          "check": "Check"}


def pump_snapshots(session: ProcessSession, job: JobContext) -> None:
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
        Binding("full_stop", "pace(1)", "Faster pace", key_display=".", show=False),
        Binding("comma", "pace(-1)", "Slower pace", key_display=",", show=False),
        Binding("plus", "temperature(1)", "Temperature up (re-sample)", show=False),
        Binding("minus", "temperature(-1)", "Temperature down (re-sample)", show=False),
        Binding("1", "panel('samples')", "Samples panel", show=False),
        Binding("2", "panel('attention')", "Attention panel", show=False),
        Binding("3", "panel('params')", "Params panel", show=False),
        Binding("4", "panel('adam')", "Adam panel", show=False),
        Binding("5", "panel('tokens')", "Tokens panel (per-token loss)", show=False),
        Binding("6", "panel('why')", "Why panel (why this character?)", show=False),
        Binding("7", "panel('health')", "Health panel (gradient heatmap)", show=False),
        Binding("8", "panel('embed')", "Embed panel (embedding map)", show=False),
        Binding("9", "panel('check')", "Check panel (gradient check)", show=False),
        Binding("z", "zoom", "Zoom panel", show=False),
        Binding("left", "position(-1)", "Previous position", show=False),
        Binding("right", "position(1)", "Next position", show=False),
        Binding("down", "why_stage(1)", "Next stage (one further back)", show=False),
        Binding("up", "why_stage(-1)", "Previous stage", show=False),
        Binding("t", "health_kind", "Grad norm / update ratio", show=False),
        Binding("c", "gradcheck", "Gradient check", show=False),
        Binding("n", "next_name", "Next name (sampled, then held-out)", show=False),
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
        "file asks first: Ctrl+S again overwrites it, Esc keeps it. , and . set the pace "
        "(1 step/s up to full speed) to narrate a run. Panels 1-9: the samples, attention, "
        "weight norms, a weight's Adam update; 5 each position's loss and top next "
        "characters (← → pick a position, n the next name: sampled, then held-out); 6 why "
        "the model gave that character its probability, back through the logits, lm_head, "
        "the residual stream and attention (↓ ↑ step through); 7 each tensor's gradient norm "
        "or update/weight ratio per step (t switches); 8 the embedding table on its two "
        "principal components; 9 the inspected weight's gradient from scalar autograd, the "
        "NumPy backward and a finite difference (c). z gives the panel the whole column."
    )

    def __init__(self, screen_id: str | None = None) -> None:
        super().__init__(screen_id)
        self.session: ProcessSession | None = None
        self.run = RunView()
        self.element = 0  # the inspected weight, row-major in the selected matrix
        self.message = ""
        self.overwrite: Path | None = None  # an existing checkpoint a second Ctrl+S overwrites
        self.started_at = time.monotonic()  # when the last run began: its time in the record
        self.readouts = ReadoutPanels(self, self._send, self._say)

    def bench_probe(self) -> dict:
        """What `bench training-speed` reads of this screen through the probe app."""
        return {"step": self.run.step, "train_state": self.run.state}

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
                yield from self.readouts.compose()

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
        panel = self.query_one(ContentSwitcher).current
        if action == "position":
            return panel in ("tokens", "why") and self.readouts.strip.selected is not None
        if action == "why_stage":
            return panel == "why" and self.readouts.why.chain is not None
        if action == "health_kind":
            return panel == "health" and self.readouts.health_grids is not None
        if action == "pace":
            return next_pace(self.run.pace, int(parameters[0])) != self.run.pace  # type: ignore
        if action == "gradcheck":
            return self.session is not None and self.run.state not in (STARTING, FAILED)
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

    def action_pace(self, direction: int) -> None:
        pace = next_pace(self.run.pace, direction)
        if pace == self.run.pace:
            return  # at the end of the ladder: nothing to tell the session
        self.run.pace = pace
        self.refresh_bindings()  # at either end one of , and . stops working
        if self.session is not None:
            self.session.send(("pace", self.run.pace))
        self._render_status()
        self._say(f"Pace: {pace_text(self.run.pace)} (, slower · . faster)")

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
            self.refresh_bindings()  # the panel's own keys come and go with it
            if panel == "health":
                self.call_after_refresh(self.readouts.show_health)

    def action_next_name(self) -> None:
        run = self.run
        names = run.focus_names
        if names and self.session is not None:
            run.attend_index = (run.attend_index + 1) % len(names)
            self.session.send(("attend", run.attend_index))
            self._render_samples()
        if self.query_one(ContentSwitcher).current not in ("tokens", "why"):
            self.action_panel("attention")

    def action_position(self, delta: int) -> None:
        self.readouts.move_position(delta)

    def action_why_stage(self, delta: int) -> None:
        self.readouts.why.step(delta)

    def action_health_kind(self) -> None:
        self.readouts.toggle_health_kind()

    def action_gradcheck(self) -> None:
        if self.session is None:
            return
        self.session.send(("gradcheck",))
        self.action_panel("check")
        row = self.query_one(ParamTable).selected_row
        what = f"{row.name}[{self.element // row.shape[1]},{self.element % row.shape[1]}]" \
            if row is not None else "wte[0,0]"
        self._say(f"Checking the gradient of {what} three ways…")

    def action_zoom(self) -> None:
        self.toggle_class("panel-zoomed")
        zoomed = self.has_class("panel-zoomed")
        self._say("The panel has the whole column: z gives the chart back." if zoomed
                  else "The chart is back above the panel.")

    def action_attention(self, move: str) -> None:
        attention = self.query_one(AttentionMap)
        (attention.next_head if move == "head" else attention.next_layer)()
        self.action_panel("attention")

    def action_select_matrix(self, delta: int) -> None:
        self.query_one(ParamTable).move(delta)
        self.element = 0
        self._send_inspect()
        if self.query_one(ContentSwitcher).current not in ("params", "adam", "check"):
            self.action_panel("params")

    def action_select_element(self, delta: int) -> None:
        row = self.query_one(ParamTable).selected_row
        if row is None:
            return
        self.element = (self.element + delta) % (row.shape[0] * row.shape[1])
        self._send_inspect()
        if self.query_one(ContentSwitcher).current != "check":
            self.action_panel("adam")
        else:
            self._say(f"c checks {row.name}[{self.element // row.shape[1]},"
                      f"{self.element % row.shape[1]}]")

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
        self.readouts.clear()
        self.session = session = ProcessSession(replace(spec, pace=self.run.pace))
        self.jobs.start("snapshots", lambda job: pump_snapshots(session, job), keep="all",
                        on_progress=self._apply, on_done=self._session_ended)
        self._set_state(STARTING)
        self._render_samples()

    def _close_session(self, wait: bool = False) -> None:
        self.jobs.cancel("snapshots")
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
        self.readouts.apply(snap)
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

    def _send(self, command: tuple) -> None:
        if self.session is not None:
            self.session.send(command)

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
        self.query_one("#train-status", Static).update(run.status_content())
        self.query_one(ProgressBar).update(total=max(1, run.num_steps), progress=run.step)
        self.query_one("#train-rates", Static).update(
            Content.styled("\n".join(run.rate_lines()), "$foreground-muted"))

    def _render_tabs(self) -> None:
        current = list(PANELS).index(self.query_one(ContentSwitcher).current or "samples")
        tabs = self.query_one("#train-tabs", Static)
        tabs.update(tabs_line(list(PANELS.values()), current, "z zoom",
                              width=tabs.size.width or None))

    def on_resize(self) -> None:
        self.call_after_refresh(self._render_tabs)
        self.call_after_refresh(self.readouts.show_health)

    def _render_samples(self, temperature: float | None = None) -> None:
        shown = temperature if temperature is not None else self.form.text("temperature")
        heldout = self.query_one(LossChart).heldout
        self.query_one("#samples", Static).update(
            self.run.samples_text(shown, heldout[-1] if heldout else None))
