"""Question 3: estimate pi by throwing darts, and watch the error shrink like 1/√n (or 1/n).

Frames and bursts are computed in thread workers by the engine (`engine/montecarlo.py`); this
screen only keeps the running tally and shows it. A frame throws `darts per frame` darts and
draws at most DRAW_LIMIT of them (the newest); a burst counts up to 10^k darts on every core and
reports progress about ten times a second.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, ProgressBar, Static
from textual.worker import get_current_worker

from ...engine.files import atomic_write_bytes
from ...engine.montecarlo import (
    MAX_SEED,
    Darts,
    Mode,
    Progress,
    Tally,
    count_inside,
    estimate_pi,
    throw_darts,
)
from ..widgets.convergence_chart import ConvergenceChart
from ..widgets.dart_canvas import DartCanvas
from ..widgets.text_panel import TextPanel
from .base import QuestionScreen, post_result

# Set by `microgpt-tui bench pi`: the screen writes how many frames it has shown to this file.
FRAME_COUNTER_ENV = "MICROGPT_TUI_PI_FRAMES"

FRAME_SECONDS = 1 / 12  # the animation's pace: ~12 updates a second
DRAW_LIMIT = 4000  # darts drawn per frame (all are counted)
SPEEDS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000,
          100_000, 200_000, 500_000, 1_000_000]
DEFAULT_SPEED = 10
PROGRESS_SECONDS = 0.1  # at most ~10 progress updates a second from a burst
POINTS_PER_DECADE = 64  # the convergence chart keeps about this many points per decade of n
MODE_ORDER = [Mode.PSEUDO, Mode.QUASI, Mode.PYTHON]
MODE_NAMES = {
    Mode.PSEUDO: "pseudo-random (numpy, every core)",
    Mode.QUASI: "quasi-random (Halton 2, 3)",
    Mode.PYTHON: "plain Python loop (one dart at a time)",
}


@dataclass(frozen=True)
class Frame:
    """Darts start … start+count−1: how many landed inside, and the newest few to draw."""

    generation: int
    start: int
    count: int
    inside: int
    drawn: Darts


class _StopFlag:
    """Set when the user cancels the burst or Textual cancels its worker (screen closed)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.worker = None

    def is_set(self) -> bool:
        return self.event.is_set() or (self.worker is not None and self.worker.is_cancelled)


def parse_seed(text: str) -> int:
    """A seed from the dialog: a whole number from 0 to 2^64−1, else ValueError with a message."""
    cleaned = text.strip().replace("_", "")
    if not cleaned:
        raise ValueError("type a whole number, e.g. 42")
    try:
        seed = int(cleaned)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a whole number") from None
    if not 0 <= seed <= MAX_SEED:
        raise ValueError("the seed must be between 0 and 2^64−1")
    return seed


def dart_seed(app_seed: int) -> int:
    """The app's seed (any int from --seed, negative or huge) as a dart seed, 0 … 2^64−1.

    Seeds already in range are kept; others wrap modulo 2^64 (so −1 is 2^64−1).
    """
    return int(app_seed) % (MAX_SEED + 1)


class SeedDialog(ModalScreen[int | None]):
    """Asks for a seed; Enter applies it, Esc keeps the old one. Bad input keeps its text."""

    BINDINGS = [Binding("escape", "cancel", "Keep the seed")]
    DEFAULT_CSS = """
    SeedDialog {
        align: center middle;
    }
    #seed-body {
        width: 50;
        height: auto;
        padding: 1 2;
        border: round $primary;
        background: $surface;
    }
    #seed-message {
        margin-top: 1;
    }
    """

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.seed = seed

    def compose(self) -> ComposeResult:
        with Vertical(id="seed-body"):
            yield Static(Text("Seed for the random darts", style="bold"))
            seed_input = Input(str(self.seed), id="seed-input")
            seed_input.cursor_blink = not self.app.is_headless
            yield seed_input
            yield Static("Enter applies (and restarts the run) · Esc keeps the seed",
                         id="seed-message")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            seed = parse_seed(event.value)
        except ValueError as error:
            self.query_one("#seed-message", Static).update(Text(str(error), style="bold red"))
            return
        self.dismiss(seed)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PiScreen(QuestionScreen):
    SCREEN_ID = "pi"
    CSS_PATH = "pi.tcss"

    BINDINGS = [
        Binding("space", "toggle_run", "Run"),
        Binding("plus", "speed(1)", "Speed", key_display="+/-"),
        Binding("equals_sign", "speed(1)", "Faster", show=False),
        Binding("minus", "speed(-1)", "Slower", show=False),
        Binding("full_stop", "step", "Throw one frame", show=False),
        Binding("1", "burst(1)", "Burst", key_display="1…9"),
        *[Binding(str(k), f"burst({k})", "", show=False) for k in range(2, 10)],
        Binding("c", "cancel_burst", "Cancel burst"),
        Binding("m", "cycle_mode", "Mode"),
        Binding("r", "reset", "Reset", show=False),
        Binding("s", "seed", "Set the seed", show=False),
    ]
    HELP_NOTES = (
        "Darts land on the unit square; the fraction inside the quarter circle tends to π/4. "
        "Space animates a frame at a time (+/- sets darts per frame, 1 … 10^6; . throws one "
        "frame while paused). 1…9 counts up to 10^k darts in the background on every core, "
        "with a progress bar; c cancels it and keeps the darts counted so far. m switches "
        "pseudo-random / quasi-random (Halton) / plain Python; r resets; s sets the seed. "
        "The chart plots |estimate − π| against n on log-log axes: random darts follow the "
        "1/√n guide, quasi-random points fall roughly like 1/n."
    )

    def __init__(self) -> None:
        super().__init__()
        self.mode = Mode.PSEUDO
        self.seed = 0
        self.tally = Tally(0, 0)
        self.speed_index = SPEEDS.index(DEFAULT_SPEED)
        self.running = False
        self.generation = 0  # bumped whenever the tally restarts or a burst takes over
        self.points: list[tuple[int, float]] = []
        self.burst_target: int | None = None
        self._burst_stop: _StopFlag | None = None
        self._burst_base = Tally(0, 0)
        self.frames_shown = 0
        self._frame_counter = os.environ.get(FRAME_COUNTER_ENV)

    # -- layout ------------------------------------------------------------------------------

    def compose_main(self) -> ComposeResult:
        with Horizontal(id="pi-main"):
            yield DartCanvas(id="pi-canvas")
            with Vertical(id="pi-side"):
                yield TextPanel(id="pi-stats")
                yield ConvergenceChart(id="pi-chart")
                yield Static(id="pi-status")
                yield ProgressBar(id="pi-progress", show_eta=False)

    def on_mount(self) -> None:
        self.seed = dart_seed(getattr(self.app, "seed", 0))
        self.query_one("#pi-canvas").border_title = "unit square"
        self.query_one("#pi-chart").border_title = "|estimate − π| vs n"
        self.query_one("#pi-progress").display = False
        self._show_stats()
        self._show_status()
        self._show_chart()

    def on_screen_suspend(self) -> None:
        # Leaving the screen pauses the animation (bursts go on and are there on return).
        self._pause()

    def on_unmount(self) -> None:
        self._pause()
        if self._burst_stop is not None:
            self._burst_stop.event.set()

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The Footer has room for cancel only while a burst runs (it is the key that matters
        # then); at other times it is hidden and does nothing.
        if action == "cancel_burst":
            return self._burst_stop is not None
        return True

    def action_toggle_run(self) -> None:
        if self._burst_stop is not None:
            self.notify("A burst is running: c cancels it.", timeout=3)
            return
        if self.running:
            self._pause()
        else:
            self.running = True
            self._run_frames(self.generation, frames=None)
        self._show_status()

    def action_step(self) -> None:
        if self.running or self._burst_stop is not None:
            return
        self._run_frames(self.generation, frames=1)

    def action_speed(self, delta: int) -> None:
        self.speed_index = min(max(self.speed_index + delta, 0), len(SPEEDS) - 1)
        self._show_stats()

    def action_burst(self, power: int) -> None:
        target = 10**power
        if self._burst_stop is not None:
            self.notify("A burst is already running: c cancels it.", timeout=3)
            return
        if self.tally.darts >= target:
            self.notify(f"Already past 10^{power} darts: r resets.", timeout=3)
            return
        self._pause()
        self.generation += 1
        self.burst_target = target
        self._burst_base = self.tally
        self._burst_stop = _StopFlag()
        progress = self.query_one("#pi-progress", ProgressBar)
        progress.update(total=target - self.tally.darts, progress=0)
        progress.display = True
        self.refresh_bindings()
        self._show_status()
        self._run_burst(self.generation, self.tally.darts, target, self._burst_stop)

    def action_cancel_burst(self) -> None:
        if self._burst_stop is not None:
            self._burst_stop.event.set()

    def action_cycle_mode(self) -> None:
        self.mode = MODE_ORDER[(MODE_ORDER.index(self.mode) + 1) % len(MODE_ORDER)]
        self._restart()

    def action_reset(self) -> None:
        self._restart()

    def action_seed(self) -> None:
        def apply(seed: int | None) -> None:
            if seed is not None:
                self.seed = seed
                self._restart()

        self.app.push_screen(SeedDialog(self.seed), apply)

    # -- state changes -----------------------------------------------------------------------

    def _pause(self) -> None:
        self.running = False
        self.workers.cancel_group(self, "pi-animate")

    def _restart(self) -> None:
        """Back to zero darts with the current mode and seed (cancelling any work)."""
        self._pause()
        if self._burst_stop is not None:
            self._burst_stop.event.set()
        self._end_burst()
        self.generation += 1
        self.tally = Tally(0, 0)
        self.points = []
        self.query_one("#pi-canvas", DartCanvas).reset()
        self._show_stats()
        self._show_status()
        self._show_chart()

    def _end_burst(self) -> None:
        self._burst_stop = None
        self.burst_target = None
        self.query_one("#pi-progress", ProgressBar).display = False
        self.refresh_bindings()

    def _record_point(self) -> None:
        """Add (n, |error|) to the chart's series, one point per 1/64 decade of n."""
        n = self.tally.darts
        point = (n, self.tally.error)
        if self.points and math.log10(n) - math.log10(self.points[-1][0]) < 1 / POINTS_PER_DECADE:
            self.points[-1] = point
        else:
            self.points.append(point)

    # -- workers (engine work off the UI thread) ---------------------------------------------

    @work(thread=True, exclusive=True, group="pi-animate")
    def _run_frames(self, generation: int, frames: int | None) -> None:
        worker = get_current_worker()
        shown = 0
        while not worker.is_cancelled and (frames is None or shown < frames):
            began = time.monotonic()
            frame = self._throw_frame(generation, self.tally.darts, SPEEDS[self.speed_index])
            if not post_result(self.app, self._apply_frame, frame):
                return
            shown += 1
            if frames is None or shown < frames:
                time.sleep(max(0.0, FRAME_SECONDS - (time.monotonic() - began)))

    def _throw_frame(self, generation: int, start: int, count: int) -> Frame:
        options = {"seed": self.seed, "mode": self.mode}
        if count <= DRAW_LIMIT:
            drawn = throw_darts(count, start=start, **options)
            inside = int(drawn.inside.sum())
        else:
            inside = count_inside(count, start=start, **options)
            drawn = throw_darts(DRAW_LIMIT, start=start + count - DRAW_LIMIT, **options)
        return Frame(generation, start, count, inside, drawn)

    @work(thread=True, exclusive=True, group="pi-burst")
    def _run_burst(self, generation: int, start: int, target: int, stop: _StopFlag) -> None:
        stop.worker = get_current_worker()
        options = {"seed": self.seed, "mode": self.mode}
        last_post = -math.inf
        last: Progress | None = None
        for last in estimate_pi(target - start, start=start, cancel=stop, **options):
            now = time.monotonic()
            if now - last_post >= PROGRESS_SECONDS and not last.complete:
                last_post = now
                self.app.call_from_thread(self._apply_burst_progress, generation, last)
        drawn = None
        if last is not None:
            count = min(DRAW_LIMIT, last.tally.darts)
            drawn = throw_darts(count, start=start + last.tally.darts - count, **options)
        post_result(self.app, self._finish_burst, generation, last, drawn)

    # -- applying results (UI thread) --------------------------------------------------------

    def _apply_frame(self, frame: Frame) -> None:
        if frame.generation != self.generation or frame.start != self.tally.darts:
            return  # thrown for a run that has since been reset or taken over by a burst
        self.tally += Tally(frame.count, frame.inside)
        self._record_point()
        self.query_one("#pi-canvas", DartCanvas).add_darts(frame.drawn.x, frame.drawn.y)
        self._show_stats()
        self._show_chart()
        self._count_frame()

    def _apply_burst_progress(self, generation: int, progress: Progress) -> None:
        if generation != self.generation:
            return
        self.tally = self._burst_base + progress.tally
        self._record_point()
        self.query_one("#pi-progress", ProgressBar).update(progress=progress.tally.darts)
        rate = progress.darts_per_second
        self.query_one("#pi-status", Static).update(
            Text.assemble(
                (f"burst to {self.burst_target:.0e} darts ", "bold"),
                f"{rate:.3g} darts/s · c cancels",
            )
        )
        self._show_stats()
        self._show_chart()

    def _finish_burst(self, generation: int, last: Progress | None, drawn: Darts | None) -> None:
        if generation != self.generation:
            return
        complete = last is not None and last.complete
        if last is not None:
            self.tally = self._burst_base + last.tally
            self._record_point()
            if drawn is not None and drawn.x.size:
                self.query_one("#pi-canvas", DartCanvas).add_darts(drawn.x, drawn.y)
            rate = f"{last.darts_per_second:.3g} darts/s"
            verb = "done" if complete else "cancelled"
            self.notify(f"Burst {verb}: {last.tally.darts:,} darts at {rate}.", timeout=4)
        else:
            self.notify("Burst cancelled before any darts were counted.", timeout=4)
        self._end_burst()
        self._show_stats()
        self._show_status()
        self._show_chart()

    def _count_frame(self) -> None:
        self.frames_shown += 1
        if self._frame_counter:
            # Atomic, so the bench polling this file never reads it half-written.
            atomic_write_bytes(Path(self._frame_counter), str(self.frames_shown).encode())

    # -- rendering ---------------------------------------------------------------------------

    def _show_stats(self) -> None:
        tally = self.tally
        seed = "no seed" if self.mode is Mode.QUASI else f"seed {self.seed} (s)"
        lines = [
            Text(MODE_NAMES[self.mode], style="bold"),
            Text(f"{seed} · {SPEEDS[self.speed_index]:,} darts/frame (+/-)", style="dim"),
        ]

        def stat(label: str, value: str, style: str = "") -> None:
            lines.append(Text.assemble((f"{label:<11}", "dim"), (value, style)))

        counted = tally.darts > 0
        stat("darts", f"{tally.darts:,}")
        stat("inside", f"{tally.inside:,}")
        stat("estimate", f"{tally.estimate:.9f}" if counted else "—", "bold")
        stat("|est − π|", f"{tally.error:.3e}" if counted else "—")
        if self.mode is Mode.QUASI:
            stat("std error", "none: points not random")
            stat("95% CI", "none")
        else:
            low, high = tally.interval95
            stat("std error", f"{tally.standard_error:.3e}" if counted else "—")
            stat("95% CI", f"{low:.6f} … {high:.6f}" if counted else "—")
        self.query_one("#pi-stats", TextPanel).set_lines(lines)

    def _show_status(self) -> None:
        if self._burst_stop is not None:
            status = Text.assemble((f"burst to {self.burst_target:.0e} darts", "bold"),
                                   " · c cancels")
        elif self.running:
            status = Text.assemble(("▶ running", "bold green"), " · Space pauses")
        else:
            status = Text.assemble(("⏸ paused", "bold"), " · Space runs · r resets")
        self.query_one("#pi-status", Static).update(status)

    def _show_chart(self) -> None:
        self.query_one("#pi-chart", ConvergenceChart).set_points(
            self.points, show_linear_guide=self.mode is Mode.QUASI
        )

