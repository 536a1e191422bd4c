"""Question 3: estimate pi by throwing darts, and watch the error shrink like 1/√n (or 1/n).

The screen composes, binds keys and draws. The run's bookkeeping is `pi_view.DartRun`; every
dart is thrown in a job (`self.jobs`). The kit's Playback steps the run a frame at a time:
forward throws `darts per frame` darts (the playback speed, 1 … 10^6, set with +/-), back takes
the last frame away, g goes back to 0 darts. A burst (1…9, or x for the next power of ten up to
10^15) counts up to 10^k darts on every core as one step, with a progress bar and the time left
at the speed measured; c stops it and keeps what it counted. Each mode keeps its own run: m
shows the next mode's darts, tally and chart as they were left.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import ProgressBar, Static

from ...engine.montecarlo import Darts, Mode, Progress, any_set
from ...engine.seeds import DART_SEED_BITS, seed_in_range
from ..kit.background import process_pool
from ..kit.jobs import JobContext, Result, unexpected_note
from ..kit.playback import PLAYBACK_BINDINGS, Playback, PlaybackMixin
from ..kit.screen import QuestionScreen
from ..modals.seed import SeedDialog
from ..widgets.convergence_chart import ConvergenceChart
from ..widgets.text_panel import TextPanel
from .pi_canvas import CanvasHistory, DartCanvas
from .pi_view import (
    DEFAULT_SPEED,
    MAX_BURST_POWER,
    MODE_NAMES,
    MODE_ORDER,
    SPEEDS,
    BurstResult,
    DartRun,
    Frame,
    burst_note,
    duration_words,
    next_burst_power,
    rate_words,
    taken_back,
    thrown_frame,
)

# The kit's playback keys in this screen's words. Only Space stays on the key bar: at 80 columns,
# beside the keys every screen shows, it has room for "space Play" and "1…9 Burst" and no more.
PI_PLAYBACK_WORDS = {
    "playback_toggle": ("Play", True),
    "playback_step(1)": ("Throw one frame", False),
    "playback_step(-1)": ("Take back the last frame", False),
    "playback_speed(1)": ("More darts per frame", False),
    "playback_speed(-1)": ("Fewer darts per frame", False),
    "playback_jump(0)": ("Back to 0 darts", False),
    "playback_jump(1)": ("Last step", False),  # disabled: darts never end
}
BURST_LABEL = "Burst"  # one description for keys 1…9: `?` lists them once, as "1…9"; the
# palette has one entry per key (its help line names the key)


class FrameStepper:
    """Playback's handle on the run: a step is a frame (or a whole burst); no last step."""

    length = None

    def __init__(self, screen: PiScreen) -> None:
        self.screen = screen

    @property
    def position(self) -> int:
        return self.screen.run.steps

    @property
    def busy(self) -> bool:
        """A frame is being thrown or taken back, or a burst runs: ticks wait for it."""
        return self.screen.jobs.running("frame") or self.screen.jobs.running("burst")

    def seek(self, position: int) -> None:
        if position == 0:
            self.screen.restart()
        elif position > self.position:
            self.screen.throw_frame()
        else:
            self.screen.take_back_frame()


class PiScreen(PlaybackMixin, QuestionScreen):
    SCREEN_ID = "pi"
    CSS_PATH = "pi.tcss"

    BINDINGS = [
        *[replace(binding, description=PI_PLAYBACK_WORDS[binding.action][0],
                  show=PI_PLAYBACK_WORDS[binding.action][1]) for binding in PLAYBACK_BINDINGS],
        Binding("1", "burst(1)", BURST_LABEL, key_display="1…9"),
        *[Binding(str(k), f"burst({k})", BURST_LABEL, show=False) for k in range(2, 10)],
        Binding("x", "burst_next", "Burst to the next power of ten (to 10^15)", show=False),
        Binding("c", "cancel_burst", "Cancel burst"),
        Binding("m", "cycle_mode", "Switch pseudo / quasi / plain Python (each keeps its run)",
                show=False),
        Binding("r", "reset", "Reset to 0 darts", show=False),
        Binding("s", "seed", "Set the seed", show=False),
    ]
    HELP_NOTES = (
        "Darts land on the unit square; the fraction inside the quarter circle tends to π/4. "
        "Space plays a frame at a time (+/- sets darts per frame, 1 … 10^6); n/→ throws one "
        "frame, b/← takes the last one back (a burst is one step), g goes back to 0 darts. "
        "1…9 counts up to 10^k darts in the background on every core, with a progress bar; "
        "x bursts to the next power of ten, up to 10^15. A burst says how long it will take at "
        "the speed last measured, and the time left while it runs; c stops it and keeps the "
        "darts counted so far. m switches pseudo-random / quasi-random (Halton) / plain "
        "Python, each mode keeping its own run; r resets this mode's run; s sets the seed "
        "(a new seed starts every mode over). Once the square is crowded each cell is shaded "
        "by its darts: a denser glyph for more darts. The chart plots "
        "|estimate − π| against n on log-log axes: random darts follow the 1/√n guide, "
        "quasi-random points fall roughly like 1/n."
    )

    def __init__(self) -> None:
        super().__init__()
        self.run = DartRun(seed=0, mode=Mode.PSEUDO)  # on mount: the app's seed
        self.playback = Playback(self, self._show_status, speeds=SPEEDS, speed=DEFAULT_SPEED,
                                 per_tick=lambda _: 1)
        self.frames_shown = 0  # frames thrown and drawn (read by the `bench pi` probe)
        self.burst_power: int | None = None  # k while a burst to 10^k runs
        self._burst_stop: threading.Event | None = None
        self._status_shape: list[int] = []  # the status line's word lengths, last shown
        # The other modes' runs and drawings, as they were left (m switches between them).
        self._kept: dict[Mode, tuple[DartRun, CanvasHistory]] = {}
        self._rates: dict[Mode, float] = {}  # darts/s each mode's last burst measured
        self._time_left = ""  # the running burst's, at its measured speed

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
        self.run = DartRun(seed_in_range(getattr(self.app, "seed", 0), DART_SEED_BITS),
                           Mode.PSEUDO)
        canvas = self.query_one("#pi-canvas", DartCanvas)
        canvas.border_title = "unit square"
        canvas.border_subtitle = "[$success]inside[/] ↙ arc ↗ [$error]outside[/]"
        self.query_one("#pi-chart").border_title = "|estimate − π| vs n"
        self.query_one("#pi-progress").display = False
        self.playback.attach(FrameStepper(self))
        self._show_run()

    def on_screen_suspend(self) -> None:
        # Leaving the screen pauses the animation (a burst goes on and is there on return).
        self.playback.pause()
        self._show_status()

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While a burst runs it is the step in progress: only c, +/- and the restarts work.
        bursting = self.jobs.running("burst")
        if action == "cancel_burst":
            return bursting
        if action == "cycle_mode":
            return not bursting  # the burst belongs to this mode's run: c ends it first
        if action == "burst_next":
            return not bursting and next_burst_power(self.run.tally.darts) <= MAX_BURST_POWER
        if action == "playback_jump" and parameters == (1,):
            return False  # darts never end: there is no last step
        if bursting and (action == "burst" or action.startswith("playback_")):
            return action == "playback_speed"
        return super().check_action(action, parameters)

    def action_burst(self, power: int) -> None:
        target = 10**power
        start = self.run.tally.darts
        if start >= target:
            self.notify(f"Already past 10^{power} darts: r resets.", timeout=3)
            return
        self.playback.pause()
        self.jobs.cancel("frame")
        run, stop = self.run, threading.Event()
        run.begin_step()
        self.burst_power, self._burst_stop, self._time_left = power, stop, ""
        rate = self._rates.get(run.mode)
        if rate is None or (target - start) / rate >= 2:
            self.notify(burst_note(power, target - start, rate), timeout=5)
        progress = self.query_one("#pi-progress", ProgressBar)
        progress.update(total=target - start, progress=0)
        progress.display = True
        pool = process_pool() if run.mode is Mode.PYTHON else None  # see _work
        self.jobs.start(
            "burst",
            lambda job: run.burst(start, target - start, any_set(stop, job), job.report, pool),
            on_progress=self._show_burst_progress,
            on_done=self._finish_burst,
            on_failed=self._burst_failed,
            expected=(Exception,),  # any failure: end the burst cleanly, then say why
        )
        self.refresh_bindings()
        self._show_status()

    def action_burst_next(self) -> None:
        self.action_burst(next_burst_power(self.run.tally.darts))

    def action_cancel_burst(self) -> None:
        if self._burst_stop is not None:
            self._burst_stop.set()  # the burst ends at its next piece, keeping what it counted

    def action_cycle_mode(self) -> None:
        self.switch_mode(MODE_ORDER[(MODE_ORDER.index(self.run.mode) + 1) % len(MODE_ORDER)])

    def action_reset(self) -> None:
        self.restart()

    def action_seed(self) -> None:
        def apply(seed: int | None) -> None:
            if seed is not None:
                self.restart(seed=seed)

        self.app.push_screen(SeedDialog(self.run.seed), apply)

    # -- steps (the stepper's moves) ---------------------------------------------------------

    def restart(self, *, seed: int | None = None) -> None:
        """This mode back to 0 darts; a new seed starts every mode over. Any work in flight is
        dropped."""
        self.playback.pause()
        self.jobs.cancel("frame")
        self.jobs.cancel("burst")
        self._end_burst()
        if seed is not None:
            self._kept.clear()
        self.run = DartRun(self.run.seed if seed is None else seed, self.run.mode)
        self.query_one("#pi-canvas", DartCanvas).reset()
        self._show_run()

    def switch_mode(self, mode: Mode) -> None:
        """Show `mode`'s run as it was left (a new one the first time); this one is kept."""
        self.playback.pause()
        self.jobs.cancel("frame")  # a frame in flight belongs to the run being put aside
        kept_run, kept_drawing = self._kept.pop(mode, (DartRun(self.run.seed, mode), None))
        drawing = self.query_one("#pi-canvas", DartCanvas).exchange(kept_drawing)
        self._kept[self.run.mode] = (self.run, drawing)
        self.run = kept_run
        self._show_run()

    def throw_frame(self) -> None:
        run = self.run
        self.jobs.start("frame", self._work(thrown_frame, run.seed, run.mode, run.tally.darts,
                                            self.playback.speed), on_done=self._apply_frame)

    def take_back_frame(self) -> None:
        run = self.run
        if not run.can_undo:
            self.notify("Older frames are not kept: g goes back to 0 darts.", timeout=3)
            return
        self.jobs.start("frame", self._work(taken_back, run.seed, run.mode, run.last_frame,
                                            run.previous_frame), on_done=self._apply_take_back)

    def _work(self, function: Callable[..., Result], *args) -> Callable[[JobContext], Result]:
        """A job's work: `function(*args)` on the job's thread, or in a worker process when
        the darts are thrown by a plain-Python loop (on a thread it would hold the GIL that
        the UI thread needs for every key and frame)."""
        if self.run.mode is Mode.PYTHON:
            return lambda job: job.in_process(function, *args)
        return lambda _: function(*args)

    # -- results (UI thread; the kit has already dropped anything stale) ---------------------

    def _apply_frame(self, thrown: tuple[Frame, Darts]) -> None:
        frame, drawn = thrown
        self.run.add(frame)
        self.query_one("#pi-canvas", DartCanvas).add(drawn)
        self.frames_shown += 1
        self._show_run()

    def _apply_take_back(self, drawn: tuple[Darts, Darts]) -> None:
        removed, newest = drawn
        self.run.undo()
        self.query_one("#pi-canvas", DartCanvas).take_back(removed, newest)
        self._show_run()

    def _show_burst_progress(self, progress: Progress) -> None:
        self.run.step_progress(progress.tally)
        self.query_one("#pi-progress", ProgressBar).update(progress=progress.tally.darts)
        rate = progress.darts_per_second
        if rate > 0:  # NaN before any time has passed
            self._rates[self.run.mode] = rate
            self._time_left = duration_words((progress.total - progress.tally.darts) / rate)
        self._show_stats()
        self._show_chart()
        self._show_status(f"{rate_words(rate)} darts/s" if rate > 0 else "")

    def _finish_burst(self, result: BurstResult) -> None:
        last = result.progress
        if last is not None:
            self.run.step_progress(last.tally)
        if self.run.end_step() is not None:
            self.query_one("#pi-canvas", DartCanvas).add(result.drawn)
        if last is None:
            self.notify("Burst cancelled before any darts were counted.", timeout=4)
        else:
            verb = "done" if last.complete else "cancelled"
            if last.darts_per_second > 0:
                self._rates[self.run.mode] = last.darts_per_second
            self.notify(f"Burst {verb}: {last.tally.darts:,} darts at "
                        f"{last.darts_per_second:.3g} darts/s.", timeout=4)
            tally = self.run.tally
            self.app.record_run("pi", f"pi: {tally.darts:,} darts, estimate {tally.estimate:.6f}, "
                                f"{last.seconds:.3g} s", darts=tally.darts,
                                estimate=tally.estimate, seconds=last.seconds)
        self._end_burst()
        self._show_run()

    def _burst_failed(self, error: BaseException) -> None:
        self.run.end_step()  # keeps the darts it had counted, as one step
        self._end_burst()
        self._show_run()
        self.notify(unexpected_note("burst", error), severity="error", timeout=8)

    def _end_burst(self) -> None:
        self.burst_power, self._burst_stop = None, None
        self.query_one("#pi-progress", ProgressBar).display = False
        self.refresh_bindings()

    # -- rendering ---------------------------------------------------------------------------

    def _show_run(self) -> None:
        self._show_stats()
        self._show_chart()
        self._show_status()

    def _show_stats(self) -> None:
        run, tally = self.run, self.run.tally
        seed = ("no seed: Halton points are fixed" if run.mode is Mode.QUASI
                else f"seed {run.seed} (s)")
        lines = [Text(f"{MODE_NAMES[run.mode]} (m)", style="bold"), Text(seed, style="dim")]

        def stat(label: str, value: str, style: str = "") -> None:
            lines.append(Text.assemble((f"{label:<11}", "dim"), (value, style)))

        counted = tally.darts > 0
        stat("darts", f"{tally.darts:,}")
        stat("inside", f"{tally.inside:,}")
        stat("estimate", f"{tally.estimate:.9f}" if counted else "—", "bold")
        stat("|est − π|", f"{tally.error:.3e}" if counted else "—")
        if run.mode is Mode.QUASI:
            stat("std error", "none (points not random)")
            stat("95% CI", "none")
        else:
            low, high = tally.interval95
            stat("std error", f"{tally.standard_error:.3e}" if counted else "—")
            stat("95% CI", f"{low:.6f} … {high:.6f}" if counted else "—")
        self.query_one("#pi-stats", TextPanel).set_lines(lines)

    def _show_status(self, rate: str = "") -> None:
        if self.burst_power is not None:
            status = Text.assemble((f"burst to 10^{self.burst_power}", "bold"),
                                   f" · {rate}" if rate else "",
                                   f"\nabout {self._time_left} left" if self._time_left else "")
        else:
            status = self.playback.status("frame") + Text(" darts/frame")
        # Its height is auto, but only words of new lengths can wrap differently: a frame
        # that changes digits, not lengths, repaints the line without a layout pass.
        shape = [len(word) for word in status.plain.split(" ")]
        self.query_one("#pi-status", Static).update(status, layout=shape != self._status_shape)
        self._status_shape = shape

    def _show_chart(self) -> None:
        self.query_one("#pi-chart", ConvergenceChart).set_points(
            self.run.points, show_linear_guide=self.run.mode is Mode.QUASI
        )
