"""Question 6: CUDA kernels and flash attention, replayed tile by tile through SRAM.

A worker compiles the chosen kernel with NVRTC (for its source, PTX and ptxas figures) and runs
it on the GPU, or on the CPU twin when there is none (a label says SIMULATED, never an error).
The screen then replays the trace: which tiles each block holds in shared memory, which SM ran
it when, and for flash attention each row's running max m, sum l and rescale factor α.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from ..widgets.sm_lanes import LaneRow, Lanes, SmLanes
from ..widgets.sram_panel import SramPanel
from ..widgets.tile_grid import STATES, Grid, TileGrids
from .base import QuestionScreen

KERNEL_LABELS = {
    "matmul_naive": "matmul naive",
    "matmul_tiled": "matmul tiled",
    "matmul_register_blocked": "matmul reg-blocked",
    "attention_naive": "attention naive",
    "flash_attention_fwd": "flash attention",
}
KERNEL_NAMES = tuple(KERNEL_LABELS)
SIZES = (64, 100, 128, 256)  # 100: partial last tiles
HEAD_DIMS = (16, 32, 64, 128)
SPEEDS = (1, 2, 5, 10, 25, 100)  # tile steps per tick
TICK = 1 / 12  # seconds between replay frames (≈ 12 updates/s, fine over SSH)
MAX_PTX_LINES = 3000
TAB_FOCUS = {  # the widget that takes the keys when a tab is shown
    "tab-replay": "#cuda-kernels",
    "tab-source": "#source-scroll",
    "tab-ptx": "#ptx-scroll",
    "tab-memory": "#memory-scroll",
}


@dataclass
class Loaded:
    """What a worker hands back: compile results, the run, and its replay (any may be missing)."""

    generation: int
    problem: object
    source: str
    compiled: object | None
    compile_note: str
    execution: object | None
    run_note: str
    replay: object | None


class CudaScreen(QuestionScreen):
    SCREEN_ID = "cuda"
    CSS_PATH = "cuda.tcss"

    BINDINGS = [
        Binding("space", "play", "Play/pause"),
        Binding("n,right", "step(1)", "Next tile"),
        Binding("b,left", "step(-1)", "Previous tile"),
        Binding("plus,equals_sign", "speed(1)", "Faster"),
        Binding("minus", "speed(-1)", "Slower"),
        Binding("tab", "pin(1)", "Pin block"),
        Binding("shift+tab", "pin(-1)", "Pin previous block", show=False),
        Binding("p", "unpin", "Follow the replay", show=False),
        Binding("x", "size", "Size"),
        Binding("c", "causal", "Causal", show=False),
        Binding("d", "head_dim", "Head dim", show=False),
        Binding("r", "rerun", "Run again", show=False),
        Binding("s", "simulator", "GPU/simulator", show=False),
        Binding("g,home", "jump(0)", "First step", show=False),
        Binding("G,end", "jump(1)", "Last step", show=False),
        Binding("1", "tab('tab-replay')", "Replay", show=False),
        Binding("2", "tab('tab-source')", "Source", show=False),
        Binding("3", "tab('tab-ptx')", "PTX", show=False),
        Binding("4", "tab('tab-memory')", "Memory", show=False),
    ]
    HELP_NOTES = (
        "↑/↓ in the list picks a kernel. Space plays the replay, n/b step one tile, +/- change "
        "the speed, g/G jump to the start or end. Tab / shift+Tab pin the next / previous block "
        "(its SRAM tiles, lane and, for flash attention, its rows' m, l and α follow the replay "
        "clock); p unpins. x cycles the size (100 shows partial tiles), "
        "d the head dimension, c the causal mask; r runs again; s switches between the GPU and "
        "the simulator when a GPU is present. 1-4 show the replay, the CUDA source, the PTX and "
        "the memory comparison; on 2-4 ↑/↓, PgUp/PgDn and Home/End scroll the text, and 1 "
        "gives ↑/↓ back to the kernel list. Without a GPU the same tiled algorithms run on a CPU "
        "twin and everything is labelled SIMULATED; its clock is a model, not a measurement."
    )

    def __init__(self, screen_id: str | None = None) -> None:
        super().__init__(screen_id)
        self.kernel = "matmul_tiled"
        self.sizes = {"matmul": 128, "attention": 256}
        self.d = 64
        self.causal = False
        self.force_sim = False
        self.generation = 0
        self.loaded: Loaded | None = None
        self.position = 0
        self.speed_index = 0
        self.playing = False
        self.player: Timer | None = None
        self.pinned = None  # (launch, blockIdx) the SRAM panel follows; None: the current step's
        self.lane_rows: list[tuple[str, list, list]] = []  # label, blocks, their keys

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
        self.player = self.set_interval(TICK, self._tick, pause=True)
        self._load()

    # -- work -----------------------------------------------------------------------------

    def _problem(self):
        from ...kernels.catalog import KERNELS, Problem

        family = KERNELS[self.kernel].family
        return Problem(self.kernel, self.sizes[family], self.d, self.causal and family ==
                       "attention")

    def _load(self) -> None:
        self.generation += 1
        self._pause()
        problem = self._problem()
        self.query_one("#cuda-status", Static).update(
            Text(f"running {problem.describe()}…", style="italic")
        )
        self._run_worker(self.generation, problem, self.force_sim)

    @work(thread=True, exclusive=True, group="cuda-run", exit_on_error=False)
    def _run_worker(self, generation: int, problem, force_sim: bool) -> None:
        from ...kernels import execute
        from ...kernels.catalog import defines_for
        from ...kernels.replay import build_replay
        from ...kernels.runtime import compile_kernel, device_arch

        # Anything that goes wrong becomes a note on the screen: an error here must never take
        # the app down, and the screen still shows whatever did work.
        compiled, compile_note = None, ""
        try:
            arch = device_arch()[0]
            compiled = compile_kernel(problem.kernel, defines_for(problem), arch=arch)
        except Exception as error:  # noqa: BLE001
            compile_note = _error_note(error)
        registers = None
        if compiled is not None and compiled.resources:
            registers = max(r.registers for r in compiled.resources.values())
        execution, run_note, replay = None, "", None
        try:
            execution = execute.execute(problem, simulate_only=force_sim,
                                        registers_per_thread=registers,
                                        seed=engine_seed(getattr(self.app, "seed", 0)))
            if execution.trace is not None and execution.trace.records:
                replay = build_replay(problem, execution.defines, execution.trace,
                                      execution.flash_states)
        except Exception as error:  # noqa: BLE001
            run_note = _error_note(error)
        loaded = Loaded(generation, problem, problem.spec.source_text(), compiled, compile_note,
                        execution, run_note, replay)
        self.app.call_from_thread(self._show_loaded, loaded)

    def _show_loaded(self, loaded: Loaded) -> None:
        if loaded.generation != self.generation or not self.is_mounted:
            return  # a newer request superseded this one
        self.loaded = loaded
        self.position = 0
        self.pinned = None
        self.lane_rows = _lane_rows(loaded.replay) if loaded.replay is not None else []
        self._show_side()
        self._show_texts()
        self._render_step()

    # -- side panels ----------------------------------------------------------------------

    def _show_side(self) -> None:
        from ...kernels.catalog import plan
        from ...kernels.runtime import device_status

        loaded = self.loaded
        status = device_status()
        device = Text()
        if loaded.execution is not None and loaded.execution.simulated:
            device.append(loaded.execution.label, style="bold black on yellow")
        else:
            device.append(status.label, style="bold green")
        self.query_one("#cuda-device", Static).update(device)

        launch_text = Text()
        compiled = loaded.compiled
        if compiled is not None:
            launch_text.append(f"NVRTC → {compiled.arch_name}\n", style="dim")
        elif loaded.compile_note:
            launch_text.append(loaded.compile_note + "\n", style="red")
        defines = loaded.execution.defines if loaded.execution else None
        for launch in plan(loaded.problem, defines):
            launch_text.append(f"{launch.entry}\n", style="bold")
            grid, block = ("×".join(map(str, shape)) for shape in (launch.grid, launch.block))
            launch_text.append(f" grid {grid}, block {block}\n")
            res = compiled.resources.get(launch.entry) if compiled else None
            if res is not None:
                launch_text.append(f" smem {res.shared_bytes:,} B, {res.registers} regs\n"
                                   f" spills {res.spills} B\n")
            else:
                launch_text.append(f" smem {launch.shared_bytes:,} B\n")
        self.query_one("#cuda-launch", Static).update(launch_text)
        self.query_one("#cuda-results", Static).update(self._results_text())

    def _results_text(self) -> Text:
        from ..bench.runner import format_value

        loaded = self.loaded
        text = Text()
        run = loaded.execution
        if run is None:
            text.append(loaded.run_note or "no result", style="red")
            return text
        mark, style = ("✓", "bold green") if run.ok else ("✗", "bold red")
        text.append(f"{mark} ", style=style)
        text.append(f"vs numpy, max err {run.max_error:.1e}\n")
        if run.seconds is not None:
            text.append(f"{format_value(run.seconds, 's')}  {run.gflops:,.1f} GFLOP/s\n")
            if run.percent_of_peer is not None:
                text.append(f"{run.percent_of_peer:.0f}% of {run.peer_name}\n")
            for note in run.notes:
                text.append(note + "\n", style="dim")
        else:
            text.append("no GPU time (simulated)\n", style="dim")
            if run.trace is not None:
                text.append(f"model clock {run.trace.duration_ns / 1e3:,.1f} µs\n", style="dim")
        return text

    def _show_texts(self) -> None:
        loaded = self.loaded
        self.query_one("#cuda-source", Static).update(
            Syntax(loaded.source, "cpp", line_numbers=True, word_wrap=False,
                   theme="ansi_dark")
        )
        if loaded.compiled is not None:
            lines = loaded.compiled.ptx.splitlines()
            ptx = "\n".join(lines[:MAX_PTX_LINES])
            if len(lines) > MAX_PTX_LINES:
                ptx += f"\n… {len(lines) - MAX_PTX_LINES:,} more lines (kernels compile --ptx)"
        else:
            ptx = loaded.compile_note or "not compiled"
        self.query_one("#cuda-ptx", Static).update(ptx)
        self.query_one("#cuda-memory", Static).update(self._memory_text())

    def _memory_text(self) -> Text:
        from ...kernels.catalog import FLOAT_BYTES, Problem, attention_hbm_bytes, extra_memory_bytes

        problem = self.loaded.problem
        text = Text()
        if problem.family == "attention":
            n, d = problem.n, problem.d
            text.append(f"Attention, N = {n}, d = {d}{' causal' if problem.causal else ''}\n\n",
                        style="bold")
            text.append(f"{'':<22}{'HBM↔SRAM':>12}{'extra HBM':>12}\n", style="bold")
            rows = {}
            for kernel in ("attention_naive", "flash_attention_fwd"):
                other = Problem(kernel, n, d, problem.causal)
                rows[kernel] = attention_hbm_bytes(other)
                text.append(f"{kernel:<22}{rows[kernel] / 2**20:>10.2f} MiB"
                            f"{extra_memory_bytes(other) / 2**20:>10.2f} MiB\n")
            ratio = rows["attention_naive"] / rows["flash_attention_fwd"]
            text.append(f"\nFlash moves {ratio:.1f}× fewer bytes and never stores the N×N "
                        f"scores ({n}² × 4 B = {n * n * FLOAT_BYTES / 2**20:.2f} MiB per head): "
                        "each K/V tile is used for a whole Q tile while it sits in SRAM, and "
                        "the softmax is folded in with the running max m and sum l.\n")
            return text
        replay = self.loaded.replay
        moved = sum(ref.bytes for refs in replay.refs for ref in refs) if replay else 0
        minimum = 3 * problem.n * problem.n * FLOAT_BYTES
        text.append(f"Matmul, n = {problem.n}\n\n", style="bold")
        text.append(f"HBM↔SRAM traffic by tiles: {moved / 2**20:.2f} MiB\n")
        text.append(f"minimum (A, B read once, C written once): {minimum / 2**20:.2f} MiB\n")
        if moved:
            text.append(f"reuse factor missing: {moved / minimum:.1f}×\n\n")
        text.append("Bigger tiles mean each value read from HBM is reused more times from SRAM "
                    "(or registers), so traffic falls as 1/tile.\n", style="dim")
        return text

    # -- replay ---------------------------------------------------------------------------

    def _render_step(self) -> None:
        loaded = self.loaded
        status = self.query_one("#cuda-status", Static)
        if loaded is None:
            return
        replay = loaded.replay
        if replay is None or len(replay) == 0:
            status.update(Text(loaded.run_note or "no trace to replay", style="red"))
            return
        self.position = max(0, min(self.position, len(replay) - 1))
        index = self.position
        record = replay.records[index]
        now = record.start_ns
        key = self.pinned or (record.launch, record.block)
        shown = replay.block_step_at(key, index) if self.pinned else index
        span = replay.spans[key]
        where = ""
        if self.pinned:
            where = ("waits for an SM slot" if now < span.start_ns
                     else "finished" if now >= span.end_ns else "running")
        self.query_one("#cuda-grids", TileGrids).show(self._grids(replay, index, shown))
        self.query_one("#cuda-sram", SramPanel).show(replay, shown, where)
        rows = [LaneRow(label, blocks, keys.index(key) if key in keys else None)
                for label, blocks, keys in self.lane_rows]
        self.query_one("#cuda-lanes", SmLanes).show(Lanes(
            rows, replay.duration_ns, now,
            f"SM·slot × time 0–{replay.duration_ns / 1e3:,.1f} µs · yellow "
            f"{_block_label(replay, key)}",
        ))
        state = "▶" if self.playing else "⏸"
        pin = f"  📌 {_block_label(replay, key)}" if self.pinned else ""
        status.update(Text.assemble(
            (f"{state} step {index + 1}/{len(replay)}", "bold"),
            f"  t = {now / 1e3:,.2f} µs  ×{SPEEDS[self.speed_index]}",
            (pin, "bold yellow"),
            ("  SIMULATED" if replay.trace.simulated else "", "yellow"),
        ))

    def _grids(self, replay, index: int, shown: int) -> list[Grid]:
        """Tile states at step `index`'s time; `shown` is the step of the selected block."""
        problem, defines = replay.problem, replay.defines
        layout = _layouts(problem, defines)
        grids = {name: Grid(title, -(-rows // ch), -(-cols // cw), {}, width)
                 for name, (title, rows, cols, ch, cw, width) in layout.items()}

        def mark(ref, state):
            name = "S" if ref.operand == "P" else ref.operand
            if name not in grids:
                return
            _, _, _, ch, cw, _ = layout[name]
            grid = grids[name]
            for r in range(ref.rows[0] // ch, (ref.rows[1] - 1) // ch + 1):
                for c in range(ref.cols[0] // cw, (ref.cols[1] - 1) // cw + 1):
                    if STATES.index(state) >= STATES.index(grid.cells.get((r, c), "idle")):
                        grid.cells[(r, c)] = state

        for ref in replay.stored_until(index):
            mark(ref, "hbm")
        running = replay.running(index)
        for i in running:
            for ref in replay.refs[i]:
                mark(ref, "other")
        for ref in replay.sram(shown):
            mark(ref, "sram")
        if problem.kernel == "flash_attention_fwd":
            grids["pairs"] = self._pairs_grid(replay, index, running, shown)
        return list(grids.values())

    def _pairs_grid(self, replay, index: int, running: list[int], shown: int) -> Grid:
        from ...kernels.catalog import flash_tiles_for_block

        problem, defines = replay.problem, replay.defines
        rows = -(-problem.n // defines["BR"])
        cols = -(-problem.n // defines["BC"])
        grid = Grid("Q·Kᵀ tiles", rows, cols, {}, 1)
        for q_tile in range(rows):
            for step in range(flash_tiles_for_block(q_tile, problem.n, defines, problem.causal),
                              cols):
                grid.cells[(q_tile, step)] = "skip"
        for record in replay.records[: index + 1]:
            grid.cells[(record.block[0], record.step)] = "done"
        for i in running:
            record = replay.records[i]
            grid.cells[(record.block[0], record.step)] = "other"
        record = replay.records[shown]
        grid.cells[(record.block[0], record.step)] = "sram"
        return grid

    # -- actions --------------------------------------------------------------------------

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        name = event.option.id
        if name and name != self.kernel:
            self.kernel = name
            self._load()

    def action_play(self) -> None:
        replay = self.loaded.replay if self.loaded else None
        if replay is None or self.player is None:
            return
        if self.playing:
            self._pause()
        else:
            if self.position >= len(replay) - 1:
                self.position = 0
            self.playing = True
            self.player.resume()
        self._render_step()

    def _pause(self) -> None:
        self.playing = False
        if self.player is not None:
            self.player.pause()

    def _tick(self) -> None:
        replay = self.loaded.replay if self.loaded else None
        if replay is None:
            self._pause()
            return
        self.position += SPEEDS[self.speed_index]
        if self.position >= len(replay) - 1:
            self.position = len(replay) - 1
            self._pause()
        self._render_step()

    def action_step(self, delta: int) -> None:
        self._pause()
        self.position += delta
        self._render_step()

    def action_jump(self, end: int) -> None:
        self._pause()
        replay = self.loaded.replay if self.loaded else None
        self.position = (len(replay) - 1) if (end and replay) else 0
        self._render_step()

    def action_pin(self, delta: int) -> None:
        replay = self.loaded.replay if self.loaded else None
        if replay is None or not replay.blocks:
            return
        if self.pinned is None:  # Tab pins the block on screen, shift+Tab the one before it
            record = replay.records[self.position]
            current = replay.blocks.index((record.launch, record.block))
            target = current if delta > 0 else current - 1
        else:
            target = replay.blocks.index(self.pinned) + delta
        self.pinned = replay.blocks[target % len(replay.blocks)]
        self._render_step()

    def action_unpin(self) -> None:
        self.pinned = None
        self._render_step()

    def action_speed(self, delta: int) -> None:
        self.speed_index = max(0, min(len(SPEEDS) - 1, self.speed_index + delta))
        self._render_step()
        self.notify(f"{SPEEDS[self.speed_index]} tile steps per frame", timeout=1.5)

    def action_size(self) -> None:
        from ...kernels.catalog import KERNELS

        family = KERNELS[self.kernel].family
        current = self.sizes[family]
        self.sizes[family] = SIZES[(SIZES.index(current) + 1) % len(SIZES)]
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
        self._load()

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


def engine_seed(seed: int) -> int:
    """The app's seed (any int) as a seed numpy accepts (0 ≤ seed < 2**32)."""
    return seed % 2**32


def _error_note(error: Exception) -> str:
    """Known errors (KernelError, ProblemError) are written for users and shown as they are;
    anything else becomes one line with its type."""
    from ...kernels.catalog import ProblemError
    from ...kernels.runtime import KernelError

    if isinstance(error, (ProblemError, KernelError)):
        return str(error)
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def _block_label(replay, key) -> str:
    launch, block = key
    entry = replay.trace.launches[launch].entry
    prefix = f"{entry} " if len(replay.trace.launches) > 1 else ""
    return prefix + "(" + ",".join(map(str, block)) + ")"


def _lane_rows(replay) -> list[tuple[str, list, list]]:
    """Per lane: its label, its blocks as (start, end, number) and their keys (for selection)."""
    rows = []
    for lane in replay.lanes:
        blocks, keys = [], []
        for key in lane.blocks:
            span = replay.spans[key]
            number = replay.trace.launches[key[0]].linear_block(key[1])
            blocks.append((span.start_ns, span.end_ns, str(number)))
            keys.append(key)
        rows.append((f"SM{lane.sm}·{lane.slot}", blocks, keys))
    return rows


def _layouts(problem, defines) -> dict[str, tuple[str, int, int, int, int, int]]:
    """Operand → (title, rows, cols, tile rows, tile cols, characters per tile) for the grids."""
    n, d = problem.n, problem.d
    if problem.kernel == "matmul_naive":
        return {"C": ("C", n, n, 16, 16, 1), "A": ("A", n, n, 16, 16, 1),
                "B": ("B", n, n, 16, 16, 1)}
    if problem.kernel == "matmul_tiled":
        t = defines["TILE"]
        return {"C": ("C", n, n, t, t, 1), "A": ("A", n, n, t, t, 1), "B": ("B", n, n, t, t, 1)}
    if problem.kernel == "matmul_register_blocked":
        bm, bn, bk = defines["BM"], defines["BN"], defines["BK"]
        return {"C": ("C", n, n, bm, bn, 2), "A": ("A", n, n, bm, bk, 1),
                "B": ("B", n, n, bk, bn, 2)}
    if problem.kernel == "attention_naive":
        return {"Q": ("Q", n, d, 16, d, 2), "K": ("K", n, d, 16, d, 2),
                "S": ("S/P in HBM", n, n, 16, 16, 1), "V": ("V", n, d, 16, 16, 1),
                "O": ("O", n, d, 16, 16, 1)}
    br, bc = defines["BR"], defines["BC"]
    return {"Q": ("Q", n, d, br, d, 2), "K": ("K", n, d, bc, d, 2), "V": ("V", n, d, bc, d, 2),
            "O": ("O", n, d, br, d, 2)}
