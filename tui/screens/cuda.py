"""Question 6: CUDA kernels and flash attention, replayed tile by tile through SRAM.

A job compiles the chosen kernel with NVRTC (for its source, PTX and ptxas figures) and runs it
on the GPU, or on the CPU twin when there is none (a label says SIMULATED, never an error).
The screen then replays the trace through the kit's playback: which tiles each block holds in
shared memory, which SM ran it when, and for flash attention each row's running max m, sum l
and rescale factor α.
"""

from __future__ import annotations

from dataclasses import replace

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from ...kernels.replay import ReplayCursor
from ..kit.jobs import JobFailed
from ..kit.playback import PLAYBACK_BINDINGS, Playback, PlaybackMixin
from ..kit.screen import QuestionScreen
from ..widgets.tile_grid import TileGrids
from ..widgets.timeline import Timeline
from ..widgets.title_bar import TitleBar
from . import cuda_view as view
from .cuda_sram import SramPanel

KERNEL_LABELS = view.KERNEL_LABELS
KERNEL_NAMES = tuple(KERNEL_LABELS)
SIZES = (64, 100, 128, 256)  # 100: partial last tiles
HEAD_DIMS = (16, 32, 64, 128)
TAB_FOCUS = {  # the widget that takes the keys when a tab is shown
    "tab-replay": "#cuda-kernels",
    "tab-source": "#source-scroll",
    "tab-ptx": "#ptx-scroll",
    "tab-memory": "#memory-scroll",
}


class SmLanes(Timeline):
    """The SM lanes: the simulator's 2 SMs × 4 slots are all shown from 24 lines up (the
    generic timeline keeps 6 rows there)."""

    ROWS_FOR_HEIGHT = ((40, 12), (24, 8), (0, 6))


class CudaScreen(PlaybackMixin, QuestionScreen):
    SCREEN_ID = "cuda"
    CSS_PATH = "cuda.tcss"

    BINDINGS = [
        # At 80 columns the key bar has room for Play/pause only; ? lists the other keys.
        *(b if b.action == "playback_toggle" else replace(b, show=False)
          for b in PLAYBACK_BINDINGS),
        Binding("tab", "pin(1)", "Pin block", show=False),
        Binding("shift+tab", "pin(-1)", "Pin previous block", show=False),
        Binding("p", "unpin", "Unpin: follow the replay", show=False),
        Binding("x", "size", "Next size", show=False),
        Binding("c", "causal", "Causal mask on/off", show=False),
        Binding("d", "head_dim", "Next head dimension", show=False),
        Binding("r", "rerun", "Run again", show=False),
        Binding("s", "simulator", "Switch GPU / simulator", show=False),
        Binding("1", "tab('tab-replay')", "Show the replay", show=False),
        Binding("2", "tab('tab-source')", "Show the CUDA source", show=False),
        Binding("3", "tab('tab-ptx')", "Show the PTX", show=False),
        Binding("4", "tab('tab-memory')", "Show the memory comparison", show=False),
    ]
    HELP_NOTES = (
        "↑/↓ in the list picks a kernel. Space plays the replay, n/b step one tile, +/- change "
        "the speed (tile steps per frame), g/G jump to the start or end. Tab / shift+Tab pin "
        "the next / previous block (its SRAM tiles, lane and, for flash attention, its rows' m, "
        "l and α follow the replay clock); p unpins. x cycles the size (100 shows partial "
        "tiles), d the head dimension, c the causal mask; r runs again; s switches between the "
        "GPU and the simulator when a GPU is present; the title bar names the problem replayed "
        "(N, and for attention d and the causal mask). The status line's step counts tile "
        "steps in clock order across all blocks (one step = one block on one tile); the side "
        "panel names the k tile (matmul) or K/V tile (flash) that block is on. 1-4 show the "
        "replay, the CUDA source, the "
        "PTX and the memory comparison; on 2-4 ↑/↓, PgUp/PgDn and Home/End scroll the text, "
        "and 1 gives ↑/↓ back to the kernel list. Tiles: █ in SRAM, ■ in registers, ▞ read "
        "straight from HBM, ▓ held by another block, ▒ written to HBM, · idle. Without a GPU "
        "the same tiled algorithms run on a CPU twin and everything is labelled SIMULATED; its "
        "clock is a model, not a measurement. Under the launch, the tiles line says why the "
        "tile sizes were chosen (on a GPU, flash attention's from the device's shared-memory "
        "budget); ✓ max err compares the output with numpy's float64 answer."
    )

    def __init__(self, screen_id: str | None = None) -> None:
        super().__init__(screen_id)
        self.kernel = "matmul_tiled"
        # 256: with TILE 32, 64 blocks of 256 threads queue in 8 waves for the simulator's SM slots
        self.sizes = {"matmul": 256, "attention": 256}
        self.d = 64
        self.causal = False
        self.force_sim = False
        self.loaded: view.Loaded | None = None
        self.cursor: ReplayCursor | None = None
        self.pinned = None  # (launch, blockIdx) the panels follow; None: the current step's
        self.rerun_pending = False  # `r` asked for this run: say what it did when it lands
        self.playback = Playback(self, self._render_step)

    # -- layout ---------------------------------------------------------------------------

    def compose_main(self) -> ComposeResult:
        with Vertical(id="cuda-side"):
            yield OptionList(
                *[Option(label, id=name) for name, label in KERNEL_LABELS.items()],
                id="cuda-kernels",
            )
            yield Static(id="cuda-device")
            yield Static(id="cuda-launch")
            yield Static(id="cuda-results")
        with TabbedContent(id="cuda-tabs", initial="tab-replay"):
            with TabPane("Replay", id="tab-replay"):
                with Vertical(id="replay"):
                    with Horizontal(id="replay-top"):
                        yield TileGrids(id="cuda-grids")
                        yield SramPanel(id="cuda-sram")
                    yield SmLanes(id="cuda-lanes")
                    yield Static(id="cuda-status")
            with TabPane("Source", id="tab-source"):
                with VerticalScroll(id="source-scroll"):
                    yield Static(id="cuda-source")
            with TabPane("PTX", id="tab-ptx"):
                with VerticalScroll(id="ptx-scroll"):
                    yield Static(id="cuda-ptx", markup=False)
            with TabPane("Memory", id="tab-memory"):
                with VerticalScroll(id="memory-scroll"):
                    yield Static(id="cuda-memory")

    def on_mount(self) -> None:
        picker = self.query_one("#cuda-kernels", OptionList)
        picker.highlighted = KERNEL_NAMES.index(self.kernel)
        picker.focus()
        self.watch(self.app, "theme", self._show_source, init=False)
        self._load()

    # -- work -----------------------------------------------------------------------------

    def _problem(self):
        from ...kernels.catalog import KERNELS, Problem

        family = KERNELS[self.kernel].family
        return Problem(self.kernel, self.sizes[family], self.d,
                       self.causal and family == "attention")

    def _load(self, rerun: bool = False) -> None:
        self.playback.pause()
        self.rerun_pending = rerun  # a newer run (another size, kernel, …) is not `r`'s
        problem = self._problem()
        force_sim, seed = self.force_sim, getattr(self.app, "seed", 0)
        self.query_one("#cuda-status", Static).update(
            Content.styled(f"running {problem.describe()}…", "italic"))
        self.jobs.start("run", lambda context: view.load_problem(problem, force_sim, seed),
                        on_done=self._show_loaded)

    def on_job_failed(self, message: JobFailed) -> None:
        # The kit routes the failure (an unexpected error becomes its note); Textual would
        # call the kit's handler again further down the MRO, so that is prevented. Then the
        # status line stops saying "running…".
        super().on_job_failed(message)
        message.prevent_default()
        if message.name == "run" and not self.jobs.running("run"):
            self.rerun_pending = False
            self.query_one("#cuda-status", Static).update(
                Content.styled("the run failed (see the note); r runs again", "$error"))

    def _show_loaded(self, loaded: view.Loaded) -> None:
        from ...kernels.runtime import device_status

        self.loaded = loaded
        self.pinned = None
        self.sub_title = view.problem_text(loaded.problem)
        self.query_one(TitleBar).refresh()
        if self.rerun_pending:
            self.rerun_pending = False
            self.notify(view.rerun_text(loaded), title="Run again", timeout=4)
        if (run := loaded.execution) is not None:  # GPU time, or the simulator's own
            took = run.seconds if run.seconds is not None else run.wall_seconds
            self.app.record_run("cuda", f"cuda: {loaded.problem.describe()}, {took:.3g} s on "
                                f"{run.label}", kernel=loaded.problem.kernel,
                                size=loaded.problem.n, seconds=took, backend=run.label)
        self.cursor = ReplayCursor(loaded.replay) if loaded.replay is not None else None
        self.query_one("#cuda-device", Static).update(
            view.device_text(loaded, device_status().label))
        self.query_one("#cuda-launch", Static).update(view.launch_text(loaded))
        self.query_one("#cuda-results", Static).update(view.results_text(loaded))
        self._show_source()
        self.query_one("#cuda-ptx", Static).update(view.ptx_text(loaded))
        self.query_one("#cuda-memory", Static).update(view.memory_text(loaded))
        self.playback.attach(self.cursor)

    def _show_source(self) -> None:
        if self.loaded is None:
            return
        dark = self.app.current_theme.dark
        self.query_one("#cuda-source", Static).update(Syntax(
            self.loaded.source, "cpp", line_numbers=True, word_wrap=True,
            theme="ansi_dark" if dark else "ansi_light"))

    # -- replay ---------------------------------------------------------------------------

    def _render_step(self) -> None:
        loaded, cursor = self.loaded, self.cursor
        status = self.query_one("#cuda-status", Static)
        if loaded is None:
            return
        if cursor is None:
            status.update(Content.styled(loaded.run_note or "no trace to replay", "$error"))
            return
        replay, index = cursor.replay, cursor.index
        record = replay.records[index]
        key = self.pinned or (record.launch, record.block)
        shown = replay.block_step_at(key, index) if self.pinned else index
        where = replay.block_status(key, index) if self.pinned else ""
        self.query_one("#cuda-grids", TileGrids).show(replay.tile_grids(index, shown),
                                                      replay.legend)
        self.query_one("#cuda-sram", SramPanel).show(replay, shown, where)
        self.query_one("#cuda-lanes", Timeline).show(view.lanes_model(replay, index, key))
        status.update(view.status_text(self.playback.status("step"), replay, index,
                                       self.pinned, status.size.width), layout=False)

    # -- actions --------------------------------------------------------------------------

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        name = event.option.id
        if name and name != self.kernel:
            self.kernel = name
            self._load()

    def action_pin(self, delta: int) -> None:
        if self.cursor is None:
            return
        self.pinned = self.cursor.replay.cycle_block(self.cursor.index, self.pinned, delta)
        self._render_step()

    def action_unpin(self) -> None:
        self.pinned = None
        self._render_step()

    def action_size(self) -> None:
        family = self._problem().family
        self.sizes[family] = SIZES[(SIZES.index(self.sizes[family]) + 1) % len(SIZES)]
        self._load()

    def action_head_dim(self) -> None:
        self.d = HEAD_DIMS[(HEAD_DIMS.index(self.d) + 1) % len(HEAD_DIMS)]
        if self._problem().family == "attention":
            self._load()

    def action_causal(self) -> None:
        self.causal = not self.causal
        if self._problem().family == "attention" or not self.causal:
            self._load()

    def action_rerun(self) -> None:
        self._load(rerun=True)

    def action_simulator(self) -> None:
        from ...kernels.runtime import device_status

        if not device_status().available:
            self.notify("No GPU here: the simulator is the only choice", timeout=2)
            return
        self.force_sim = not self.force_sim
        self._load()

    def action_tab(self, tab: str) -> None:
        self.query_one("#cuda-tabs", TabbedContent).active = tab
        self.query_one(TAB_FOCUS[tab]).focus()
