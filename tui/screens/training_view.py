"""The Training screen's view-model: its form as a dataclass (the Config fields a user sets,
plus how often to sample and the checkpoint's name) and the mapping to a session; the run as
the screen shows it, kept up to date from the session's snapshots; the ETA and rate formats.
No widget code: the form widget is built from `TrainingForm`'s fields."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

from rich.text import Text
from textual.content import Content

from ...engine.microgpt.checkpoint import CHECKPOINT_NAME
from ...engine.microgpt.config import Config, ConfigError
from ...engine.microgpt.session import (
    FAILED,
    FINISHED,
    PAUSED,
    RUNNING,
    STARTING,
    STOPPED,
    SessionSpec,
    Snapshot,
)

DEFAULTS = Config()
MAX_SAMPLE_EVERY = 1_000_000
IDLE = "idle"  # no session yet (the session's own states follow)
BUSY = (STARTING, RUNNING, PAUSED)  # a session is training or about to
# State → (glyph, theme colour): the glyph tells the states apart without colour.
STATE_MARKS = {IDLE: ("○", "$foreground-muted"), STARTING: ("…", "$warning"),
               RUNNING: ("▶", "$success"), PAUSED: ("⏸", "$warning"),
               FINISHED: ("✓", "$accent"), STOPPED: ("■", "$secondary"),
               FAILED: ("✗", "$error")}
PACES = (1, 2, 5, 10, 20, 50, 100, 200, 500, None)  # steps per second; None = full speed
TEMPERATURE_STEP = 0.1
TEMPERATURE_RANGE = (0.1, 5.0)


def checkpoint_name_problem(name: str) -> str | None:
    """Why `name` is not a checkpoint file name (one line for the message area), or None.
    The same rule as `resolve_checkpoint`: letters, digits, `.`, `_`, `-`, not hidden."""
    name = name.strip()
    bad = sorted({ch for ch in name if not re.fullmatch(CHECKPOINT_NAME, ch)})
    if not name:
        reason = "type a file name such as run1.npz"
    elif "/" in name or "\\" in name or name == "..":
        reason = f"{name!r} is a path; type a file name such as run1.npz (no / or ..)"
    elif name.startswith("."):
        reason = f"{name!r} would be hidden; start with a letter or digit"
    elif bad:
        reason = f"{''.join(bad)!r} cannot be in a file name; use letters, digits, . _ -"
    else:
        return None
    return f"ckpt: {reason}"


def _label(label: str, **more: str) -> dict[str, str]:
    return {"label": label, **more}


@dataclass(frozen=True)
class TrainingForm:
    """What the form asks for. Fields named as Config's are Config's; the order is the form's."""

    num_steps: int = field(default=1000, metadata=_label("steps"))  # Config's 20: too short
    batch_size: int = field(default=DEFAULTS.batch_size, metadata=_label("batch"))
    n_embed: int = field(default=DEFAULTS.n_embed, metadata=_label("n_embed"))
    n_head: int = field(default=DEFAULTS.n_head, metadata=_label("n_head"))
    n_layer: int = field(default=DEFAULTS.n_layer, metadata=_label("n_layer"))
    block_size: int = field(default=DEFAULTS.block_size, metadata=_label("block"))
    learning_rate: float = field(default=DEFAULTS.learning_rate, metadata=_label("lr"))
    seed: int = field(default=DEFAULTS.seed, metadata=_label("seed"))
    temperature: float = field(default=DEFAULTS.temperature, metadata=_label("temp"))
    sample_every: int = field(default=25, metadata=_label("sample K"))
    # Any text may be typed: a name that is not a plain file name is refused, with the reason,
    # when saving or loading (checkpoint_name_problem), never silently rewritten.
    checkpoint: str = field(default="microgpt.npz", metadata=_label("ckpt"))

    def config(self) -> Config:
        """The model's Config; ConfigError names the field at fault."""
        return Config(**{name: getattr(self, name) for name in CONFIG_FIELDS}).validated()

    def validated(self) -> TrainingForm:
        """Self, or ConfigError naming the field at fault (the checkpoint name is checked
        only when saving or loading: a bad one must not stop training)."""
        self.config()
        if not 1 <= self.sample_every <= MAX_SAMPLE_EVERY:
            raise ConfigError(f"sample K must be between 1 and {MAX_SAMPLE_EVERY:,}, "
                              f"got {self.sample_every}", "sample_every")
        return self

    def session_spec(self, engine: str, data_path: str | None) -> SessionSpec:
        return SessionSpec(self.config(), engine, data_path, sample_every=self.sample_every)


CONFIG_FIELDS = tuple(f.name for f in fields(TrainingForm)
                      if f.name in {c.name for c in fields(Config)})


def config_values(config: Config) -> dict[str, object]:
    """The form's values that `config` sets (a loaded checkpoint shows its own)."""
    return {name: getattr(config, name) for name in CONFIG_FIELDS}


def load_spec(path: Path, engine: str, data_path: str | None) -> SessionSpec:
    """A session resuming the checkpoint at `path` (its own configuration replaces Config())."""
    return SessionSpec(Config(), engine, data_path, checkpoint_path=str(path))


@dataclass
class RunView:
    """The run as the screen shows it: what the snapshots said, and which sample is picked."""

    engine: str = "numpy"
    state: str = IDLE
    step: int = 0
    num_steps: int = 0
    steps_per_second: float | None = None
    measured_rates: dict[str, float] = field(default_factory=dict)  # engine → last steps/s
    last_loss: float | None = None
    samples: list[str] = field(default_factory=list)
    heldout_names: list[str] = field(default_factory=list)  # offered after the samples
    attend_index: int = 0  # the focused name in focus_names: attention, tokens, why
    pace: float | None = None  # steps per second the user asked for; None = full speed

    @property
    def busy(self) -> bool:
        return self.state in BUSY

    def restart(self, num_steps: int) -> None:
        """A new session is starting: forget the last one's progress and samples."""
        self.step, self.num_steps, self.last_loss, self.steps_per_second = 0, num_steps, None, None
        self.samples, self.heldout_names, self.attend_index = [], [], 0

    def apply(self, snap: Snapshot) -> None:
        """Take in one snapshot (its state is applied by the screen, which re-binds keys)."""
        if snap.config is not None and snap.engine:
            self.engine = snap.engine  # a loaded checkpoint trains on its own engine
        if snap.losses:
            self.last_loss = snap.losses[-1][1]
        self.step, self.num_steps = snap.step, snap.num_steps or self.num_steps
        if snap.steps_per_second is not None:
            self.steps_per_second = snap.steps_per_second
            if self.pace is None:  # a paced rate says nothing of the engine's speed
                self.measured_rates[self.engine] = snap.steps_per_second
        if snap.heldout_names is not None:
            self.heldout_names = snap.heldout_names
        if snap.samples is not None:
            self.samples = snap.samples
            self.attend_index %= max(1, len(self.focus_names))

    @property
    def focus_names(self) -> list[str]:
        """The names `n` steps through: the samples, then the held-out names offered."""
        return self.samples + self.heldout_names

    @property
    def focused_heldout(self) -> str | None:
        """The focused name when it is a held-out one (the samples list marks its own)."""
        index = self.attend_index - len(self.samples)
        return self.heldout_names[index] if 0 <= index < len(self.heldout_names) else None

    def status_lines(self) -> list[str]:
        """Step and rate; ETA and loss (the state line is the screen's: it has a glyph)."""
        rate = self.steps_per_second if self.state == RUNNING else None
        step = f"step {self.step:,}/{self.num_steps:,}" if self.num_steps else "step —"
        eta = format_eta((self.num_steps - self.step) / rate) if rate else "—"
        loss = f" · loss {self.last_loss:.3f}" if self.last_loss is not None else ""
        return [step + (f" · {format_rate(rate)}/s" if rate else ""), f"ETA {eta}{loss}",
                f"pace {pace_text(self.pace)}"]

    def status_content(self) -> Content:
        """The state line (its glyph tells the states apart without colour), then status_lines."""
        glyph, colour = STATE_MARKS.get(self.state, ("?", ""))
        state = Content.assemble((f"{glyph} ", colour), (self.state, "bold"), f" · {self.engine}")
        return Content("\n").join([state, *map(Content, self.status_lines())])

    def samples_text(self, temperature: object, heldout: tuple[int, float] | None) -> Text:
        """The Samples panel: the temperature, the last held-out loss (step, nats), the focused
        held-out name (above the samples: the panel may not show all eight), the samples."""
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"temperature {temperature}", "bold").append("  (+/- re-sample)", "dim")
        if heldout is not None:
            step, loss = heldout
            text.append(f"\nheld-out loss {loss:.4f} nats/token at step {step:,}")
        if self.focused_heldout is not None:
            text.append("\n▸ ", "bold").append(self.focused_heldout)
            text.append("  (held-out; n next)", "dim")
        if not self.samples:
            text.append("\n\nSampled names appear here every K steps.", "dim")
        for index, name in enumerate(self.samples):
            chosen = index == self.attend_index
            text.append("\n▸ " if chosen else "\n  ", "bold" if chosen else "")
            text.append(name or "(empty)")
        return text

    def rate_lines(self) -> list[str]:
        return [f"{engine}: {format_rate(self.measured_rates[engine])} steps/s"
                for engine in ("numpy", "scalar") if engine in self.measured_rates]


def next_pace(pace: float | None, direction: int) -> float | None:
    """The next pace up (+1, towards full speed) or down (-1) the PACES ladder; a pace not on
    the ladder moves to its nearest neighbour in that direction."""
    order = [math.inf if p is None else p for p in PACES]
    current = math.inf if pace is None else pace
    if direction > 0:
        faster = [p for p in order if p > current]
        chosen = faster[0] if faster else order[-1]
    else:
        slower = [p for p in order if p < current]
        chosen = slower[-1] if slower else order[0]
    return None if chosen == math.inf else chosen


def pace_text(pace: float | None) -> str:
    return "full speed" if pace is None else f"{pace:g} steps/s"


def next_temperature(text: str, direction: int) -> float:
    """One step up (+1) or down (-1) from the temperature typed (the default if unreadable)."""
    try:
        current = float(text)
    except ValueError:
        current = DEFAULTS.temperature
    low, high = TEMPERATURE_RANGE
    return min(high, max(low, round(current + direction * TEMPERATURE_STEP, 2)))


def format_eta(seconds: float) -> str:
    """m:ss or h:mm:ss; "—" when unknown."""
    if not math.isfinite(seconds) or seconds < 0:
        return "—"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_rate(steps_per_second: float) -> str:
    return f"{steps_per_second:,.0f}" if steps_per_second >= 10 else f"{steps_per_second:.1f}"
