"""Question 2: matrix multiplication, from the triple loop to Strassen and BLAS, measured here.

Four views, switched with 1-4 (v: the next one): the race (every algorithm timed at one n, as
time, GFLOP/s, % of this machine's peak and error), the tiling view (the cache model's trace of
the blocked loop, stepped with the kit's playback, naive and blocked miss counts side by side),
Strassen's seven products and 7^k vs 8^k, and the complexity chart (log-log time against n).
The screen composes, binds keys and draws; the words and numbers come from matmul_view (race),
matmul_tiles (tiling) and matmul_strassen; all timing and tracing runs in jobs.
"""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.widgets import ContentSwitcher, ProgressBar, Static

from ...engine.matmul.race import Result
from ...engine.seeds import SEED_BITS, seed_in_range
from ..kit.jobs import unexpected_note
from ..kit.playback import PLAYBACK_BINDINGS, Playback, PlaybackMixin
from ..kit.screen import QuestionScreen
from ..widgets.explanation import ExplanationPanel
from ..widgets.tile_grid import TileGrids
from . import matmul_strassen as strassen_view
from . import matmul_tiles as tiles
from . import matmul_view as view
from .matmul_chart import ComplexityChart

PLAYBACK_WORDS = {  # the kit's playback keys in this screen's words; only Space on the key bar
    "playback_toggle": ("Play", True),
    "playback_step(1)": ("Next tile step", False),
    "playback_step(-1)": ("Previous tile step", False),
    "playback_speed(1)": ("More tile steps a frame", False),
    "playback_speed(-1)": ("Fewer tile steps a frame", False),
    "playback_jump(0)": ("First tile step", False),
    "playback_jump(1)": ("Last tile step", False),
}
RACE_KEYS = {"size", "dtype", "threads", "run", "sweep"}  # race and complexity views, idle
VIEW_KEYS = {"metric": "race", "tile": "tiling", "model_size": "tiling", "depth": "strassen",
             "scheme": "strassen"}


class MatmulScreen(PlaybackMixin, QuestionScreen):
    SCREEN_ID = "matmul"
    CSS_PATH = "matmul.tcss"

    # A key may do one thing in one view and another in the next (+/-, t): check_action lets
    # through only the binding of the view on screen, so `?` and the key bar show only those.
    BINDINGS = [
        Binding("v", "next_view", "Next view"),
        Binding("1", "view('race')", "Race view", show=False),
        Binding("2", "view('tiling')", "Tiling view (cache model)", show=False),
        Binding("3", "view('strassen')", "Strassen view", show=False),
        Binding("4", "view('complexity')", "Complexity chart", show=False),
        Binding("r,enter", "run", "Run race", key_display="r"),
        Binding("c", "cancel", "Stop race"),
        Binding("s", "sweep", "Sweep n for the chart", show=False),
        Binding("plus,equals_sign", "size(1)", "Larger n", key_display="+", show=False),
        Binding("minus", "size(-1)", "Smaller n", key_display="-", show=False),
        Binding("f", "dtype", "float64 / float32", show=False),
        Binding("t", "threads", "BLAS: all threads / 1 thread", show=False),
        Binding("m", "metric", "Bars: time / GFLOP/s / % of peak / error", show=False),
        *[replace(binding, description=PLAYBACK_WORDS[binding.action][0],
                  show=PLAYBACK_WORDS[binding.action][1]) for binding in PLAYBACK_BINDINGS],
        Binding("t", "tile", "Tile size (8/16/32)", show=False),
        Binding("x", "model_size", "Model n (64/96/128)", show=False),
        Binding("plus,equals_sign", "depth(1)", "Deeper recursion", key_display="+",
                show=False),
        Binding("minus", "depth(-1)", "Shallower recursion", key_display="-", show=False),
        Binding("w", "scheme", "Classic Strassen / Winograd", show=False),
    ]
    HELP_NOTES = (
        "1 race · 2 tiling · 3 Strassen · 4 complexity; v cycles them. Race: r (or Enter) "
        "times every algorithm at n on seeded inputs, c stops it; +/- n, f float64/float32, t "
        "BLAS on all threads or one, m what the bars show; s sweeps n for the chart. Plain "
        "Python beyond n = 256 is estimated from an n³ fit (▒, ~). Tiling: the cache model "
        "replays the blocked loop tile step by tile step: Space plays, n/→ and b/← step, +/- "
        "speed, g/G first/last; t tile size, x matrix size. Tiles: █ in use and found in L1, ▄ "
        "from L2, ▞ from memory, ▓ in L1, ▒ in L2, ░ C tile done. Strassen: +/- depth, w "
        "classic or Winograd. Complexity: every time measured so far, with n³ and n^2.807."
    )

    def __init__(self, screen_id: str | None = None) -> None:
        super().__init__(screen_id)
        self.view = "race"
        self.settings = view.RaceSettings()
        self.metric = view.METRICS[0]
        self.book = view.RaceBook()
        self.blas: view.BlasInfo | None = None
        self.running: view.Running | None = None
        self.race_settings = self.settings  # what the race in progress runs
        self.race_note = ""
        self.tiling = tiles.TilingSettings()
        self.levels: tuple[tiles.CacheLevel, ...] = ()
        self.seed = 0  # on mount: the app's
        self.stepper: tiles.TraceStepper | None = None
        self.trace_for: tiles.TilingSettings | None = None
        self.depth = strassen_view.DEFAULT_DEPTH
        self.winograd = False
        self.playback = Playback(self, self._show_tiling)

    # -- layout -----------------------------------------------------------------------------

    def compose_main(self) -> ComposeResult:
        with Horizontal(id="matmul-work"):
            with Vertical(id="matmul-left"):
                yield Static(id="matmul-tabs")
                with ContentSwitcher(id="matmul-views", initial="view-race"):
                    with Vertical(id="view-race"):
                        yield Static(id="race-settings")
                        yield Static(id="race-machine")
                        yield Static(id="race-table")
                        yield Static(id="race-note")
                        yield ProgressBar(id="race-progress", show_eta=False)
                    with Horizontal(id="view-tiling"):
                        yield TileGrids(id="tiling-grids")
                        yield Static(id="tiling-counts")
                    with Vertical(id="view-strassen"):
                        yield Static(id="strassen-head")
                        with Horizontal(id="strassen-top"):
                            yield Static(id="strassen-products")
                            yield Static(id="strassen-box")
                        yield Static(id="strassen-shared")
                        yield Static(id="strassen-depth")
                    with Vertical(id="view-complexity"):
                        yield Static(id="complexity-caption")
                        yield ComplexityChart(id="complexity-chart")
                yield Static(id="matmul-status")
            yield ExplanationPanel(id="matmul-explain")

    def on_mount(self) -> None:
        self.seed = seed_in_range(getattr(self.app, "seed", 0), SEED_BITS)
        self.levels = tiles.model_levels()
        self.query_one("#race-progress").display = False
        self.query_one("#matmul-explain").border_title = "how it works"
        self.jobs.start("machine", lambda _: view.machine_blas(), on_done=self._machine_read)
        self._show_all()

    def on_resize(self, event: Resize) -> None:
        self.call_after_refresh(self._show_all)  # bars and boxes follow the new width

    def on_screen_suspend(self) -> None:
        self.playback.pause()

    # -- keys -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        racing = self.jobs.running("race")
        if action == "cancel":
            return racing
        if action in RACE_KEYS:
            return self.view in ("race", "complexity") and not racing
        if action in VIEW_KEYS:
            return self.view == VIEW_KEYS[action]
        if action.startswith("playback_"):
            return self.view == "tiling" and self.stepper is not None
        return allowed

    def action_view(self, name: str) -> None:
        if name != "tiling":
            self.playback.pause()
        self.view = name
        self.query_one("#matmul-views", ContentSwitcher).current = f"view-{name}"
        if name == "tiling":
            self._ensure_trace()
        self.refresh_bindings()
        self._show_all()

    def action_next_view(self) -> None:
        self.action_view(view.VIEWS[(view.VIEWS.index(self.view) + 1) % len(view.VIEWS)])

    def action_size(self, delta: int) -> None:
        self._change(self.settings.resized(delta))

    def action_dtype(self) -> None:
        self._change(replace(self.settings, dtype="f32" if self.settings.dtype == "f64"
                             else "f64"))

    def action_threads(self) -> None:
        self._change(replace(self.settings, all_threads=not self.settings.all_threads))

    def _change(self, settings: view.RaceSettings) -> None:
        self.settings, self.race_note = settings, ""
        self._show_all()

    def action_metric(self) -> None:
        self.metric = view.METRICS[(view.METRICS.index(self.metric) + 1) % len(view.METRICS)]
        self._show_race()

    def action_tile(self) -> None:
        self.tiling = self.tiling.next_tile()
        self._ensure_trace()

    def action_model_size(self) -> None:
        self.tiling = self.tiling.next_size()
        self._ensure_trace()

    def action_depth(self, delta: int) -> None:
        self.depth = min(max(self.depth + delta, 0), strassen_view.MAX_DEPTH)
        self._show_strassen()

    def action_scheme(self) -> None:
        self.winograd = not self.winograd
        self._show_strassen()

    # -- the race (a job) -------------------------------------------------------------------

    def action_run(self) -> None:
        self._start_race((self.settings.n,))

    def action_sweep(self) -> None:
        self._start_race(self.settings.sweep_sizes())

    def _start_race(self, sizes: tuple[int, ...]) -> None:
        self.race_settings, self.race_note = self.settings, ""
        self.running = view.Running(None, sizes[0], 0.0)
        progress = self.query_one("#race-progress", ProgressBar)
        progress.update(total=1.0, progress=0.0)
        progress.display = True
        self.jobs.start("race", view.race_work(self.settings, sizes, self.seed),
                        on_progress=self._race_progress, on_done=self._race_done,
                        on_failed=self._race_failed, expected=(Exception,), keep="all")
        self.refresh_bindings()
        self._show_all()

    def action_cancel(self) -> None:
        self.jobs.cancel("race")
        self._end_race("stopped: the results so far are kept")

    def _race_progress(self, event: view.Running | view.Peak | Result) -> None:
        if isinstance(event, view.Peak):
            self.book.peaks[event.key] = event.gflops
        elif isinstance(event, view.Running):
            self.running = event
            self.query_one("#race-progress", ProgressBar).update(progress=event.fraction)
        else:
            self.book.add(self.race_settings.key, event)
        self.draw_after_refresh(self._show_all)

    def _race_done(self, count: int) -> None:
        settings = self.race_settings
        blas = self.book.at(settings, "blas")
        if blas is not None:
            self.app.record_run("matmul", f"matmul: {count} timings up to n = {settings.n}, "
                                f"BLAS {blas.gflops:.3g} GFLOP/s", n=settings.n,
                                dtype=settings.dtype, blas_gflops=blas.gflops)
        self._end_race(f"done: {count} timings")

    def _race_failed(self, error: BaseException) -> None:
        self.notify(unexpected_note("race", error), severity="error", timeout=8)
        self._end_race("the race failed (see the note)")

    def _end_race(self, note: str) -> None:
        self.running, self.race_note = None, note
        self.query_one("#race-progress").display = False
        self.refresh_bindings()
        self._show_all()

    def _machine_read(self, info: view.BlasInfo) -> None:
        self.blas = info
        self._show_race()

    # -- the tiling trace (a job in a worker process: pure Python) -------------------------

    def _ensure_trace(self) -> None:
        if self.trace_for == self.tiling:
            return
        self.trace_for, self.stepper = self.tiling, None
        self.playback.attach(None)
        settings, levels = self.tiling, self.levels
        self.jobs.start("trace", lambda job: job.in_process(tiles.compute_trace, settings.n,
                                                             settings.tile, levels),
                        on_done=self._trace_ready)
        self.refresh_bindings()
        self._show_tiling()

    def _trace_ready(self, trace: tiles.TilingTrace) -> None:
        self.stepper = tiles.TraceStepper(trace)
        self.playback.attach(self.stepper)
        self.refresh_bindings()

    # -- rendering --------------------------------------------------------------------------

    def _show_all(self) -> None:
        self.query_one("#matmul-tabs", Static).update(view.tabs_line(self.view))
        self._show_race()
        self._show_tiling()
        self._show_strassen()
        self._show_chart()

    def _show_race(self) -> None:
        table = self.query_one("#race-table", Static)
        self.query_one("#race-settings", Static).update(
            view.settings_line(self.settings, self.metric))
        self.query_one("#race-machine", Static).update(
            view.machine_line(self.blas, self.book, self.settings))
        table.update(view.race_table(self.book, self.settings, self.metric,
                                     table.size.width or 78, self.running))
        self.query_one("#race-note", Static).update(view.footnote(self.book, self.settings))
        self._show_status()

    def _show_tiling(self) -> None:
        stepper = self.stepper
        grids = self.query_one("#tiling-grids", TileGrids)
        counts = self.query_one("#tiling-counts", Static)
        if stepper is None:
            grids.show([], tiles.LEGEND)
            counts.update(tiles.waiting_text(self.tiling))
        else:
            trace, position = stepper.trace, stepper.position
            grids.show(tiles.tile_grids(trace, position), tiles.LEGEND)
            counts.update(tiles.counters(trace, position))
        self._show_status()

    def _show_strassen(self) -> None:
        width = self.query_one("#strassen-depth", Static).size.width or 78
        shown = strassen_view.panels(self.winograd, self.depth, self.settings.n, width)
        for selector, content in shown.items():
            self.query_one(selector, Static).update(content)
        self._show_status()

    def _show_chart(self) -> None:
        self.query_one("#complexity-chart", ComplexityChart).show(
            view.chart_series(self.book, self.settings), view.chart_note(self.settings))
        self.query_one("#complexity-caption", Static).update(view.chart_caption(self.settings))
        self._show_status()

    def _show_status(self) -> None:
        """The status line and the explanation of the view on show."""
        if self.view == "tiling":
            status = tiles.status_text(self.stepper, self.playback.status("step"))
            words = tiles.explanation(self.stepper, self.tiling, self.levels)
        elif self.view == "strassen":
            status = strassen_view.status_text(self.winograd, self.depth, self.settings.n)
            words = strassen_view.explanation(self.winograd)
        else:
            status = view.status_text(self.running, self.race_note, self.seed)
            words = (view.explain_race if self.view == "race" else view.explain_complexity)(
                self.book, self.settings)
        self.query_one("#matmul-status", Static).update(status)
        self.query_one("#matmul-explain", ExplanationPanel).show(words)
