"""The CUDA screen's view-model: one run of a kernel (compile, execute, replay) and the words
and numbers its panels show. No widgets here; colours are theme variables.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.content import Content

from ...engine.seeds import NUMPY_LEGACY_SEED_BITS, seed_in_range
from ...kernels.catalog import (
    FLOAT_BYTES,
    KernelTiles,
    Problem,
    ProblemError,
    attention_hbm_bytes,
    defines_for,
    extra_memory_bytes,
    plan,
)
from ...kernels.replay import BlockKey, Replay, build_replay
from ..kit.format import format_value
from ..widgets.timeline import Span, TimelineModel, TimelineRow

MAX_PTX_LINES = 3000
MIB = 2**20


@dataclass
class Loaded:
    """What one run hands the screen: compile results, the run, and its replay (any may be
    missing; the notes say why in words written for a user)."""

    problem: Problem
    source: str
    compiled: object | None
    compile_note: str
    execution: object | None
    run_note: str
    replay: Replay | None


def load_problem(problem: Problem, force_sim: bool, app_seed: int) -> Loaded:
    """Compile `problem`'s kernel with NVRTC (source, PTX, ptxas figures) and run it on the GPU
    or the CPU twin. A kernel or problem error becomes a note and the rest still shows;
    anything else is a bug and propagates (the jobs kit shows it)."""
    from ...kernels import execute
    from ...kernels.runtime import KernelError, compile_kernel, device_arch

    compiled, compile_note = None, ""
    try:
        compiled = compile_kernel(problem.kernel, defines_for(problem), arch=device_arch()[0])
    except (ProblemError, KernelError) as error:
        compile_note = str(error)
    registers = None
    if compiled is not None and compiled.resources:
        registers = max(r.registers for r in compiled.resources.values())
    execution, run_note, replay = None, "", None
    try:
        execution = execute.execute(problem, simulate_only=force_sim,
                                    registers_per_thread=registers,
                                    seed=seed_in_range(app_seed, NUMPY_LEGACY_SEED_BITS))
    except (ProblemError, KernelError) as error:
        run_note = str(error)
    if execution is not None and execution.trace is not None and execution.trace.records:
        replay = build_replay(execution.trace, KernelTiles(problem, execution.defines),
                              execution.flash_states)
    return Loaded(problem, problem.spec.source_text(), compiled, compile_note, execution,
                  run_note, replay)


KERNEL_LABELS = {
    "matmul_naive": "matmul naive",
    "matmul_tiled": "matmul tiled",
    "matmul_register_blocked": "matmul reg-blocked",
    "attention_naive": "attention naive",
    "flash_attention_fwd": "flash attention",
    "matmul_tc": "matmul tensor core",
    "flash_attention_tc": "flash tensor core",
}


def problem_text(problem: Problem) -> str:
    """The problem being replayed, short enough for the title bar at 80 columns: the kernel,
    N, and for attention the head dimension d and whether the causal mask is on."""
    label = KERNEL_LABELS.get(problem.kernel, problem.kernel)
    if problem.family == "matmul":
        return f"{label} · N={problem.n} ({problem.n}×{problem.n})"
    heads = f" heads={problem.heads}" if problem.heads != 1 else ""
    return (f"{label} · N={problem.n} d={problem.d} "
            f"{'causal' if problem.causal else 'not causal'}{heads}")


def rerun_text(loaded: Loaded) -> str:
    """What `r` did, for a notice: compiled again or taken from NVRTC's cache, run again on
    the GPU or the simulator, its check, and the replay starting over."""
    compiled = loaded.compiled
    if compiled is None:
        compile_part = "not compiled" + (f" ({loaded.compile_note.splitlines()[0]})"
                                         if loaded.compile_note else "")
    elif getattr(compiled, "from_cache", False):
        compile_part = "NVRTC build reused from its cache"
    else:
        compile_part = f"recompiled by NVRTC in {format_value(compiled.compile_seconds, 's')}"
    run = loaded.execution
    if run is None:
        run_part = "the run failed: " + (loaded.run_note or "no result")
    else:
        where = "on the simulator" if run.simulated else "on the GPU"
        check = "✓" if run.ok else "✗"
        run_part = f"re-ran {where}, {check} max err {run.max_error:.1e}"
    replay_part = "; replay back at step 1" if loaded.replay is not None else ""
    return (f"r: {problem_text(loaded.problem)} — {compile_part}; {run_part}"
            f"{replay_part}")


def device_text(loaded: Loaded, status_label: str) -> Content:
    run = loaded.execution
    if run is not None and run.simulated:
        return Content.styled(run.label, "bold reverse $warning")
    return Content.styled(status_label, "bold $success")


SIDE_WIDTH = 22  # cuda.tcss: #cuda-side is 25 wide, less its padding and right border
TILE_MACROS = ("TILE", "BM", "BN", "BK", "BR", "BC")  # the macros that set a tile's shape
ANY_GPU_SHARED = "48\u00a0KiB"  # what every CUDA GPU gives a block without opting in


def tile_lines(loaded: Loaded) -> tuple[str, str] | None:
    """Why the tile sizes are what they are: (the tiles, the reason), or None for kernels
    without tiles. On a GPU, the flash kernels' reason is kernels/budget.py's one line (via
    catalog.tile_reason, imported lazily so the screen works without it), for the device
    limits that give the run's own BR/BC; elsewhere the defaults and why, short enough for
    the side panel at 80×24."""
    problem, run = loaded.problem, loaded.execution
    defines = run.defines if run is not None else defines_for(problem)
    tiles = " ".join(f"{key}={defines[key]}" for key in TILE_MACROS if key in defines)
    if not tiles:
        return None
    if run is not None and not run.simulated:
        reason = _budget_reason(problem, defines)
        if reason:
            return "", reason
    if {"BR", "BC"} <= defines.keys():
        why = f"no GPU: defaults that fit any GPU's {ANY_GPU_SHARED}"
        if run is not None and not run.simulated:
            why = f"defaults that fit any GPU's {ANY_GPU_SHARED}"
    else:
        why = f"fixed at compile time; fit any GPU's {ANY_GPU_SHARED}"
    return f"tiles {tiles}", why


def _budget_reason(problem: Problem, defines: dict[str, int]) -> str:
    """budget's line for the limits the run's BR/BC were chosen for ("" when none match)."""
    try:
        from ...kernels import budget, catalog, runtime
    except ImportError:
        return ""
    reason_for = getattr(catalog, "tile_reason", None)
    choose_for = getattr(budget, "choose_for", None)
    if reason_for is None or choose_for is None:
        return ""
    candidates: list[object] = []
    info = runtime.device_status().info
    limits_for = getattr(runtime, "shared_limits", None)
    if info is not None and callable(limits_for):
        candidates.append(limits_for(info))
    candidates.append(None)  # no device known: the defaults every GPU fits
    for limits in candidates:
        try:
            chosen = choose_for(problem, limits)[0]
            if all(defines.get(key) == value for key, value in chosen.items()):
                return str(reason_for(problem, limits))
        except (KeyError, ValueError, TypeError):
            continue
    return ""


def launch_text(loaded: Loaded) -> Content:
    """NVRTC's target, then per launch its grid, block, shared memory (static + dynamic) and
    registers, then why the tiles are that size. Entry names are shown only when a kernel has
    several launches (the list names the kernel), so a long name such as
    matmul_register_blocked is never cut in the side panel."""
    parts: list[tuple[str, str] | str] = []
    compiled = loaded.compiled
    if compiled is not None:
        parts.append((f"NVRTC → {compiled.arch_name}\n", "dim"))
    elif loaded.compile_note:
        parts.append((loaded.compile_note + "\n", "$error"))
    defines = loaded.execution.defines if loaded.execution else None
    launches = plan(loaded.problem, defines)
    for launch in launches:
        res = compiled.resources.get(launch.entry) if compiled else None
        dynamic = getattr(launch, "dynamic_shared_bytes", 0)
        # ptxas counts static shared memory only; the launch adds the dynamic part
        smem = res.shared_bytes + dynamic if res is not None else launch.shared_bytes
        regs = f"{res.registers} regs, " if res is not None else ""
        if len(launches) > 1:  # one line each, so the results below stay on an 80×24 screen
            parts += [(f"{launch.entry}\n", "bold"), f" {regs}smem {smem:,} B\n"]
            continue
        grid, block = ("×".join(map(str, shape)) for shape in (launch.grid, launch.block))
        parts.append(f" grid {grid}\n block {block}\n smem {smem:,} B\n")
        if res is not None:
            parts.append(f" {regs}spills {res.spills} B\n")
    if (lines := tile_lines(loaded)) is not None:
        tiles, why = lines
        if tiles:
            parts.append((tiles + "\n", "bold"))
        parts.append((why, "dim"))
    return Content.assemble(*parts).rstrip()


def results_text(loaded: Loaded) -> Content:
    run = loaded.execution
    if run is None:
        return Content.styled(loaded.run_note or "no result", "$error")
    parts: list[tuple[str, str] | str] = [
        ("✓ ", "bold $success") if run.ok else ("✗ ", "bold $error"),
        f"max err {run.max_error:.1e}\n",
    ]
    if run.seconds is not None:
        parts.append(f"{format_value(run.seconds, 's')}  {run.gflops:,.1f} GFLOP/s\n")
        if run.percent_of_peer is not None:
            parts.append(f"{run.percent_of_peer:.0f}% of {run.peer_name}\n")
        parts += [(note + "\n", "dim") for note in run.notes]
    else:
        parts.append(("simulated: no GPU time\n", "dim"))
        if run.trace is not None:
            parts.append((f"model clock {run.trace.duration_ns / 1e3:,.1f} µs\n",
                          "dim"))
    return Content.assemble(*parts).rstrip()


def ptx_text(loaded: Loaded) -> str:
    if loaded.compiled is None:
        return loaded.compile_note or "not compiled"
    lines = loaded.compiled.ptx.splitlines()
    ptx = "\n".join(lines[:MAX_PTX_LINES])
    if len(lines) > MAX_PTX_LINES:
        ptx += f"\n… {len(lines) - MAX_PTX_LINES:,} more lines (kernels compile --ptx)"
    return ptx


def memory_text(loaded: Loaded) -> Content:
    """Attention: naive against flash, HBM bytes and scratch. Matmul: the replay's HBM traffic
    against the minimum (each operand moved once)."""
    problem = loaded.problem
    if problem.family == "attention":
        n, d = problem.n, problem.d
        parts: list[tuple[str, str] | str] = [
            (f"Attention, N = {n}, d = {d}{' causal' if problem.causal else ''}\n\n", "bold"),
            (f"{'':<22}{'HBM↔SRAM':>12}{'extra HBM':>12}\n", "bold"),
        ]
        moved = {}
        for kernel in ("attention_naive", "flash_attention_fwd"):
            other = Problem(kernel, n, d, problem.causal)
            moved[kernel] = attention_hbm_bytes(other)
            parts.append(f"{kernel:<22}{moved[kernel] / MIB:>10.2f} MiB"
                         f"{extra_memory_bytes(other) / MIB:>10.2f} MiB\n")
        ratio = moved["attention_naive"] / moved["flash_attention_fwd"]
        parts.append(f"\nFlash moves {ratio:.1f}× fewer bytes and never stores the N×N scores "
                     f"({n}² × 4 B = {n * n * FLOAT_BYTES / MIB:.2f} MiB per head): each K/V "
                     "tile is used for a whole Q tile while it sits in SRAM, and the softmax is "
                     "folded in with the running max m and sum l.\n")
        return Content.assemble(*parts)
    moved = loaded.replay.dram_bytes() if loaded.replay else 0
    minimum = 3 * problem.n * problem.n * FLOAT_BYTES
    parts = [(f"Matmul, n = {problem.n}\n\n", "bold"),
             f"HBM↔SRAM traffic by tiles: {moved / MIB:.2f} MiB\n",
             f"minimum (A, B read once, C written once): {minimum / MIB:.2f} MiB\n"]
    if moved:
        parts.append(f"reuse factor missing: {moved / minimum:.1f}×\n\n")
    parts.append(("Bigger tiles mean each value read from HBM is reused more times from SRAM "
                  "(or registers), so traffic falls as 1/tile.\n", "dim"))
    return Content.assemble(*parts)


def lanes_model(replay: Replay, index: int, selected: BlockKey) -> TimelineModel:
    """The SM lanes as a timeline: one row per resident-block slot, one span per block
    (its linear number on it), the clock at step `index`, `selected` set off."""
    rows = [
        TimelineRow(f"SM{lane.sm}·{lane.slot}", [
            Span(replay.spans[key].start_ns, replay.spans[key].end_ns,
                 str(replay.block_number(key)), key)
            for key in lane.blocks
        ])
        for lane in replay.lanes
    ]
    caption = (f"SM·slot × time 0–{replay.duration_ns / 1e3:,.1f} µs · "
               f"[{replay.block_number(selected)}] {replay.block_label(selected)}")
    return TimelineModel(rows, replay.duration_ns, now=replay.time_at(index), selected=selected,
                         caption=caption, hidden_rows_note="lanes")


def status_text(playback_status: Text, replay: Replay, index: int, pinned: BlockKey | None,
                width: int) -> Content:
    """The replay's status line: the playback segment, the clock, the pinned block, and the
    SIMULATED tag when it fits in `width` (the device panel says it too)."""
    parts: list = [Content.from_rich_text(playback_status),
                   f"  t = {replay.time_at(index) / 1e3:,.2f} µs"]
    if pinned is not None:
        parts.append((f"  📌 {replay.block_label(pinned)}", "bold $warning"))
    line = Content.assemble(*parts)
    if replay.trace.simulated and line.cell_length + 11 <= width:
        line = Content.assemble(line, ("  SIMULATED", "$warning"))
    return line
