"""Q5 part 2: train MicroGPT live — loss chart, samples, attention, weight norms and Adam.

The screen only renders: training runs in `engine.microgpt.session`, on a Textual thread
worker for the NumPy engine or in a child process for the scalar engine (its pure-Python steps
would otherwise hold the GIL the UI needs). A 10 Hz timer drains the session's snapshots into
the widgets, so keys answer at once however fast training goes.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, Input, ProgressBar, Static
from textual.worker import get_current_worker

from ...engine.data import cache_dir
from ...engine.microgpt.config import Config, ConfigError
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
from ..widgets.adam_inspector import AdamInspector
from ..widgets.attention_map import AttentionMap
from ..widgets.loss_chart import LossChart
from ..widgets.param_table import ParamTable
from .base import QuestionScreen

DEFAULTS = Config()

# Form field id -> (label, Config field or None, input type, default text).
FIELDS: dict[str, tuple[str, str | None, str, str]] = {
    "steps": ("steps", "num_steps", "integer", "1000"),  # Config's 20 is too short to watch
    "batch": ("batch", "batch_size", "integer", str(DEFAULTS.batch_size)),
    "embed": ("n_embed", "n_embed", "integer", str(DEFAULTS.n_embed)),
    "heads": ("n_head", "n_head", "integer", str(DEFAULTS.n_head)),
    "layers": ("n_layer", "n_layer", "integer", str(DEFAULTS.n_layer)),
    "block": ("block", "block_size", "integer", str(DEFAULTS.block_size)),
    "lr": ("lr", "learning_rate", "number", str(DEFAULTS.learning_rate)),
    "seed": ("seed", "seed", "integer", str(DEFAULTS.seed)),
    "temp": ("temp", "temperature", "number", str(DEFAULTS.temperature)),
    "every": ("sample K", None, "integer", "25"),
    "path": ("ckpt", None, "text", "microgpt.npz"),
}
PANELS = ("samples", "attention", "params", "adam")
PANEL_TITLES = {"samples": "Samples", "attention": "Attention", "params": "Params",
                "adam": "Adam"}
STATE_STYLES = {STARTING: "yellow", RUNNING: "green", PAUSED: "yellow", FINISHED: "cyan",
                STOPPED: "magenta", FAILED: "red", "idle": "dim"}
TEMPERATURE_STEP = 0.1


def checkpoint_dir() -> Path:
    """Where the screen saves and loads checkpoints: beside the app's names cache."""
    return cache_dir() / "checkpoints"


CHECKPOINT_NAME = r"[A-Za-z0-9._-]*"  # a file name in checkpoint_dir(), never a path


def resolve_checkpoint(name: str) -> Path | None:
    """The checkpoint file called `name`, or None when it is not a plain file name."""
    name = name.strip()
    if not name or name.startswith(".") or not re.fullmatch(CHECKPOINT_NAME, name):
        return None
    return checkpoint_dir() / name


def format_eta(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "—"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TrainingScreen(QuestionScreen):
    SCREEN_ID = "training"
    CSS_PATH = "training.tcss"

    BINDINGS: ClassVar = [
        Binding("s", "start", "Start"),
        Binding("p,space", "pause", "Pause/resume"),
        Binding("x", "stop", "Stop"),
        Binding("e", "engine", "Engine"),
        Binding("plus", "temperature(1)", "Temp+"),
        Binding("minus", "temperature(-1)", "Temp-"),
        Binding("1", "panel('samples')", "Samples", show=False),
        Binding("2", "panel('attention')", "Attention", show=False),
        Binding("3", "panel('params')", "Params", show=False),
        Binding("4", "panel('adam')", "Adam", show=False),
        Binding("n", "next_name", "Next name (attention)", show=False),
        Binding("h", "next_head", "Next head", show=False),
        Binding("l", "next_layer", "Next layer", show=False),
        Binding("j", "select_matrix(1)", "Next matrix", show=False),
        Binding("k", "select_matrix(-1)", "Previous matrix", show=False),
        Binding("greater_than_sign", "select_element(1)", "Next weight", show=False),
        Binding("less_than_sign", "select_element(-1)", "Previous weight", show=False),
        Binding("ctrl+s", "save", "Save", show=False),
        Binding("ctrl+o", "load", "Load", show=False),
    ]
    HELP_NOTES = (
        "Type a configuration in the form (Tab moves between fields, Enter returns to the "
        "chart), then s starts. p or Space pauses and resumes, x stops. e switches between the "
        "NumPy engine (~1000 steps/s) and the scalar autograd engine (a few steps/s, in its "
        "own process) — the same model, the same losses. 1-4 show samples, attention, weight "
        "norms and one weight's Adam update. Samples refresh every K steps; +/- change the "
        "temperature and re-sample. Ctrl+S saves a checkpoint under the ckpt name, Ctrl+O "
        "loads it; the files live in the app's checkpoint folder (the message after a save "
        "shows it), where `microgpt-tui sample --checkpoint` can read them."
    )

    def __init__(self, screen_id: str | None = None) -> None:
        super().__init__(screen_id)
        self.session: ThreadSession | ProcessSession | None = None
        self.engine = "numpy"
        self.state = "idle"
        self.step = 0
        self.num_steps = 0
        self.steps_per_second: float | None = None
        self.measured_rates: dict[str, float] = {}
        self.last_loss: float | None = None
        self.samples: list[str] = []
        self.attend_index = 0
        self.element = 0
        self.message = ""

    # Layout.

    def compose_main(self) -> ComposeResult:
        with Vertical(id="train-left"):
            yield Static(id="train-status")
            yield ProgressBar(id="train-progress", show_eta=False, show_percentage=True)
            yield Static(id="train-engine")
            for field_id, (label, _, kind, default) in FIELDS.items():
                with Horizontal(classes="train-field"):
                    yield Static(label, classes="train-label")
                    yield Input(default, type=kind, id=f"field-{field_id}",
                                classes="train-input", select_on_focus=False,
                                restrict=CHECKPOINT_NAME if field_id == "path" else None)
            yield Static(id="train-message")
        with Vertical(id="train-right"):
            yield LossChart(id="train-chart")
            yield Static(id="train-tabs")
            with ContentSwitcher(initial="samples", id="train-panels"):
                yield Static(id="samples")
                yield AttentionMap(id="attention")
                yield ParamTable(id="params")
                yield AdamInspector(id="adam")

    def on_mount(self) -> None:
        if self.app.is_headless:
            for field in self.query(Input):
                field.cursor_blink = False
        self.query_one(LossChart).focus()
        self.set_interval(0.1, self._poll)
        self._render_status()
        self._render_tabs()
        self._render_samples()

    def on_unmount(self) -> None:
        self._close_session(wait=True)

    # Reading the form.

    def _field(self, field_id: str) -> Input:
        return self.query_one(f"#field-{field_id}", Input)

    def _read_config(self) -> tuple[Config, int] | None:
        """The form as a validated Config and K, or None after saying what is wrong."""
        for field in self.query(Input):
            field.remove_class("-bad")
        values: dict = {}
        for field_id, (label, config_field, kind, _) in FIELDS.items():
            if kind == "text":
                continue
            text = self._field(field_id).value.strip()
            try:
                value = int(text) if kind == "integer" else float(text)
            except ValueError:
                return self._reject(field_id, f"{label}: {text!r} is not a "
                                    f"{'whole number' if kind == 'integer' else 'number'}")
            values[config_field or field_id] = value
        every = values.pop("every")
        if not 1 <= every <= 1_000_000:
            return self._reject("every", f"sample K must be between 1 and 1,000,000, got {every}")
        try:
            config = Config(**values).validated()
        except ConfigError as error:
            field_id = next((f for f, spec in FIELDS.items()
                             if spec[1] is not None and spec[1] == error.field), None)
            return self._reject(field_id, str(error))
        return config, every

    def _reject(self, field_id: str | None, message: str) -> None:
        if field_id is not None:
            self._field(field_id).add_class("-bad")
        self._say(message, error=True)
        return None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(LossChart).focus()

    # Actions.

    def action_start(self) -> None:
        if self.state in (RUNNING, PAUSED, STARTING):
            self._say("Training is under way: x stops it, then s starts afresh.")
            return
        parsed = self._read_config()
        if parsed is None:
            return
        config, every = parsed
        self._begin(SessionSpec(config, self.engine, self._data_path(), sample_every=every))
        self._say(f"Training {config.num_steps:,} steps on the {self.engine} engine…")

    def action_pause(self) -> None:
        if self.session is None:
            return
        if self.state == RUNNING:
            self.session.send(("pause",))
        elif self.state == PAUSED:
            self.session.send(("resume",))

    def action_stop(self) -> None:
        if self.session is not None and self.state in (RUNNING, PAUSED):
            self.session.send(("stop",))
        elif self.state == STARTING:
            self._close_session()
            self._set_state(STOPPED)

    def action_engine(self) -> None:
        if self.state in (RUNNING, PAUSED, STARTING):
            self._say("Stop training (x) before switching engines.")
            return
        self.engine = "scalar" if self.engine == "numpy" else "numpy"
        self._render_engine()

    def action_temperature(self, direction: int) -> None:
        field = self._field("temp")
        try:
            current = float(field.value)
        except ValueError:
            current = DEFAULTS.temperature
        value = min(5.0, max(0.1, round(current + direction * TEMPERATURE_STEP, 2)))
        field.value = f"{value:g}"
        if self.session is not None and self.state != STARTING:
            self.session.send(("temperature", value))
        self._say(f"Temperature {value:g}" + (" — re-sampling…" if self.session else ""))

    def action_panel(self, panel: str) -> None:
        if panel in PANELS:
            self.query_one(ContentSwitcher).current = panel
            self._render_tabs()

    def action_next_name(self) -> None:
        if self.samples and self.session is not None:
            self.attend_index = (self.attend_index + 1) % len(self.samples)
            self.session.send(("attend", self.attend_index))
            self._render_samples()
        self.action_panel("attention")

    def action_next_head(self) -> None:
        self.query_one(AttentionMap).next_head()
        self.action_panel("attention")

    def action_next_layer(self) -> None:
        self.query_one(AttentionMap).next_layer()
        self.action_panel("attention")

    def action_select_matrix(self, delta: int) -> None:
        table = self.query_one(ParamTable)
        table.move(delta)
        self.element = 0
        self._send_inspect()
        if self.query_one(ContentSwitcher).current not in ("params", "adam"):
            self.action_panel("params")

    def action_select_element(self, delta: int) -> None:
        row = self.query_one(ParamTable).selected_row
        if row is None:
            return
        size = row.shape[0] * row.shape[1]
        self.element = (self.element + delta) % size
        self._send_inspect()
        self.action_panel("adam")

    def _send_inspect(self) -> None:
        row = self.query_one(ParamTable).selected_row
        if row is None or self.session is None:
            return
        r, c = divmod(self.element, row.shape[1])
        self.session.send(("inspect", row.name, r, c))

    def action_save(self) -> None:
        if self.session is None or self.state in (STARTING, FAILED):
            self._say("Nothing to save yet: start training (s) or load a checkpoint.")
            return
        path = self._checkpoint_path()
        if path is not None:
            self.session.send(("save", str(path)))
            self._say(f"Saving to {path}…")

    def action_load(self) -> None:
        path = self._checkpoint_path()
        if path is None:
            return
        if not path.is_file():
            self._say(f"no checkpoint {path.name} in {path.parent}", error=True)
            return
        config = Config()  # replaced by the checkpoint's own configuration
        self._begin(SessionSpec(config, self.engine, self._data_path(),
                                checkpoint_path=str(path)))
        self._say(f"Loading {path}…")

    def _checkpoint_path(self) -> Path | None:
        path = resolve_checkpoint(self._field("path").value)
        if path is None:
            self._reject("path", "ckpt: type a file name such as run1.npz (letters, digits, . _ -)")
        return path

    def _data_path(self) -> str | None:
        data_path = getattr(self.app, "data_path", None)
        return None if data_path is None else str(data_path)

    # The session.

    def _begin(self, spec: SessionSpec) -> None:
        self._close_session()
        self.query_one(LossChart).reset()
        self.samples, self.attend_index, self.element = [], 0, 0
        self.step, self.num_steps, self.last_loss = 0, spec.config.num_steps, None
        self.steps_per_second = None
        if spec.engine == "scalar":
            self.session = ProcessSession(spec)
        else:
            session = ThreadSession(spec)
            self.session = session
            self.run_worker(lambda: self._run_thread(session), thread=True, exclusive=True,
                            group="training", exit_on_error=False)
        self._set_state(STARTING)
        self._render_samples()

    @staticmethod
    def _run_thread(session: ThreadSession) -> None:
        worker = get_current_worker()
        session.run(lambda: worker.is_cancelled)

    def _close_session(self, wait: bool = False) -> None:
        if self.session is not None:
            self.session.close(wait=wait)
            self.session = None

    def _poll(self) -> None:
        if self.session is None:
            return
        snapshots = self.session.poll()
        for snapshot in snapshots:
            self._apply(snapshot)
        if snapshots:
            self._render_status()
        elif not self.session.alive and self.state in (STARTING, RUNNING, PAUSED):
            self._session_died()

    def _session_died(self) -> None:
        self._close_session()
        self._set_state(FAILED)
        self._say("The training process ended unexpectedly.", error=True)

    def _apply(self, snap: Snapshot) -> None:
        chart = self.query_one(LossChart)
        if snap.config is not None:
            self._adopt_config(snap.config, snap.engine, snap.vocab_size, snap.step)
        if snap.losses:
            chart.add_points(snap.losses)
            self.last_loss = snap.losses[-1][1]
        if snap.heldout is not None:
            chart.add_heldout(*snap.heldout)
        self.step, self.num_steps = snap.step, snap.num_steps or self.num_steps
        if snap.steps_per_second is not None:
            self.steps_per_second = snap.steps_per_second
            self.measured_rates[self.engine] = snap.steps_per_second
        if snap.samples is not None:
            self.samples = snap.samples
            self.attend_index %= max(1, len(self.samples))
            self._render_samples(snap.temperature)
        if snap.attention is not None:
            view = snap.attention
            self.query_one(AttentionMap).show(view.name, view.labels, view.maps)
        if snap.params is not None:
            self.query_one(ParamTable).update_rows(snap.params)
        if snap.adam is not None:
            name, row, col, view = snap.adam
            self.query_one(AdamInspector).show(name, row, col, view, snap.step)
        if snap.message:
            self._say(snap.message, error=snap.state == FAILED)
        if snap.state != self.state:
            self._set_state(snap.state)
            if snap.state == FINISHED and not snap.message:
                self._say(f"Finished {self.step:,} steps: s trains afresh, Ctrl+S saves.")
        if snap.state == FAILED:
            self._close_session()

    def _adopt_config(self, config: Config, engine: str | None, vocab_size: int | None,
                      step: int) -> None:
        """Show the configuration actually training (a loaded checkpoint brings its own)."""
        for field_id, (_, config_field, _, _) in FIELDS.items():
            if config_field is not None:
                self._field(field_id).value = str(getattr(config, config_field))
        if engine:
            self.engine = engine
        baseline = math.log(vocab_size) if vocab_size else None
        self.query_one(LossChart).reset(config.num_steps, baseline, f"ln({vocab_size}) uniform")
        self.num_steps = config.num_steps
        self.step = step

    # Rendering.

    def _set_state(self, state: str) -> None:
        self.state = state
        self._render_status()

    def _say(self, message: str, error: bool = False) -> None:
        self.message = message
        self.query_one("#train-message", Static).update(
            Text(message, style="red" if error else "dim"))

    def _render_status(self) -> None:
        status = Text(no_wrap=True, overflow="ellipsis")
        status.append("● ", STATE_STYLES.get(self.state, ""))
        status.append(self.state, "bold")
        status.append(f" · {self.engine}\n")
        status.append(f"step {self.step:,}/{self.num_steps:,}" if self.num_steps else "step —")
        rate = self.steps_per_second
        if rate and self.state == RUNNING:
            status.append(f" · {rate:,.0f}/s" if rate >= 10 else f" · {rate:.1f}/s")
            status.append(f"\nETA {format_eta((self.num_steps - self.step) / rate)}")
        else:
            status.append("\nETA —")
        if self.last_loss is not None:
            status.append(f" · loss {self.last_loss:.3f}")
        self.query_one("#train-status", Static).update(status)
        progress = self.query_one(ProgressBar)
        progress.update(total=max(1, self.num_steps), progress=self.step)
        self._render_engine()

    def _render_engine(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("engine ", "dim").append(self.engine, "bold").append("  (e)", "dim")
        for engine in ("numpy", "scalar"):
            if engine in self.measured_rates:
                text.append(f"\n  {engine}: {self.measured_rates[engine]:,.1f} steps/s", "dim")
        self.query_one("#train-engine", Static).update(text)

    def _render_tabs(self) -> None:
        current = self.query_one(ContentSwitcher).current
        tabs = Text(no_wrap=True, overflow="crop")
        for index, panel in enumerate(PANELS, start=1):
            style = "reverse bold" if panel == current else "dim"
            tabs.append(f" {index} {PANEL_TITLES[panel]} ", style)
            tabs.append(" ")
        self.query_one("#train-tabs", Static).update(tabs)

    def _render_samples(self, temperature: float | None = None) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        shown_temperature = temperature if temperature is not None else self._field("temp").value
        chart = self.query_one(LossChart)
        text.append(f"temperature {shown_temperature}", "bold").append("  (+/- re-sample)", "dim")
        if chart.heldout:
            step, loss = chart.heldout[-1]
            text.append(f"\nheld-out loss {loss:.4f} nats/token at step {step:,}")
        if not self.samples:
            text.append("\n\nNames sampled from the model appear here every K steps.", "dim")
        for index, name in enumerate(self.samples):
            text.append("\n▸ " if index == self.attend_index else "\n  ",
                        "bold" if index == self.attend_index else "")
            text.append(name or "(empty)")
        self.query_one("#samples", Static).update(text)
