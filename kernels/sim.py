"""The CPU twin of the kernels: the same tiled algorithms, run with numpy block by block.

Each kernel's executor walks its grid in launch order and, for every block, its tile steps in
the order the CUDA loop runs them, doing that step's arithmetic in fp32. A small scheduler
places blocks on simulated SMs (at most `occupancy` resident per SM, the next block taking the
slot that frees first) and advances a simulated clock by a simple cost model, so the trace has
the same records a real launch writes. The clock is a model for the replay, not a prediction
of any GPU's speed.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from .catalog import (
    KernelTiles,
    Launch,
    Problem,
    ProblemError,
    check_problem,
    defines_for,
    find_kernel,
    flash_tiles_for_block,
    matmul_tile_shape,
    output_shape,
    plan,
    step_flops,
)
from .trace import KernelTrace, TileRecord, dram_bytes, make_trace

SIM_MAX_N = {"matmul": 512, "attention": 1024}
SIM_MAX_HEADS = 16


@dataclass(frozen=True)
class SimDevice:
    """A small GPU: two SMs with the per-SM limits of a Turing (sm_75) SM.

    Few SMs and tight limits on purpose: at the screen's default sizes the blocks do not all fit
    at once, so the replay shows several waves of blocks queueing for SM slots (a 128×128 tiled
    matmul at TILE 32: 16 blocks of 256 threads, 4 per SM by the thread limit, so 2 waves).
    """

    sm_count: int = 2
    max_threads_per_sm: int = 1024
    max_blocks_per_sm: int = 16
    shared_bytes_per_sm: int = 64 * 1024
    registers_per_sm: int = 65536
    bytes_per_ns: float = 32.0  # one SM's share of HBM bandwidth
    flops_per_ns: float = 128.0  # one SM's fp32 rate
    step_overhead_ns: int = 200  # barrier + issue latency of one tile step

    @property
    def label(self) -> str:
        return f"simulated GPU ({self.sm_count} SMs)"


def occupancy(device: SimDevice, launch: Launch, registers_per_thread: int | None = None) -> int:
    """Blocks one SM can hold at once: the tightest of blocks, threads, shared memory, registers."""
    limits = [device.max_blocks_per_sm, device.max_threads_per_sm // launch.threads]
    if launch.shared_bytes:
        limits.append(device.shared_bytes_per_sm // launch.shared_bytes)
    if registers_per_thread:
        limits.append(device.registers_per_sm // (registers_per_thread * launch.threads))
    return max(1, min(limits))


@dataclass(frozen=True)
class FlashRowState:
    """A flash block's per-row softmax state right after one K/V tile (arrays of its rows,
    which start at query row `first_row`)."""

    first_row: int
    m: np.ndarray  # running max of the scores seen so far
    l: np.ndarray  # noqa: E741 (the paper's name) running sum of exp(score − m)
    alpha: np.ndarray  # exp(m_old − m_new): the factor l and O were rescaled by at this tile
    o_norm: np.ndarray  # ‖O row‖ before the final division by l, after this tile


@dataclass
class SimResult:
    output: np.ndarray
    trace: KernelTrace
    traffic: dict[str, int]  # operand → bytes moved to or from HBM
    flash_states: dict[tuple[tuple[int, int, int], int], FlashRowState] = field(
        default_factory=dict
    )  # (block, step) → state, flash attention only

    @property
    def hbm_bytes(self) -> int:
        return sum(self.traffic.values())


def to_bf16(x: np.ndarray) -> np.ndarray:
    """fp32 → bf16 bit patterns (uint16), rounded to nearest even as the hardware converts."""
    bits = np.ascontiguousarray(x, np.float32).view(np.uint32)
    rounded = bits + (np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))
    return (rounded >> np.uint32(16)).astype(np.uint16)


def from_bf16(bits: np.ndarray) -> np.ndarray:
    """bf16 bit patterns (uint16) → the fp32 values they hold, exactly."""
    return (np.asarray(bits, np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


def as_float(array: np.ndarray) -> np.ndarray:
    """An input as fp32 values: bf16 inputs (uint16 bit patterns) decoded, fp32 as it is."""
    return from_bf16(array) if array.dtype == np.uint16 else array


def make_inputs(problem: Problem, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded inputs: A, B (n×n) for matmul; Q, K, V (heads, n, d) for attention. fp32, or
    for a bf16 kernel the same values rounded to bf16, as uint16 bit patterns."""
    rng = np.random.default_rng(seed)
    if problem.family == "matmul":
        shape: tuple[int, ...] = (problem.n, problem.n)
        arrays = {name: rng.uniform(-1, 1, shape).astype(np.float32) for name in ("A", "B")}
    else:
        shape = (problem.heads, problem.n, problem.d)
        arrays = {name: rng.standard_normal(shape).astype(np.float32) for name in ("Q", "K", "V")}
    if problem.spec.dtype == "bf16":
        return {name: to_bf16(array) for name, array in arrays.items()}
    return arrays


def reference(problem: Problem, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The plain numpy answer in float64: A·B, or softmax(QKᵀ/√d [+ causal mask])·V."""
    if problem.family == "matmul":
        return as_float(inputs["A"]).astype(np.float64) @ as_float(inputs["B"]).astype(np.float64)
    q, k, v = (as_float(inputs[name]).astype(np.float64) for name in ("Q", "K", "V"))
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(problem.d)
    if problem.causal:
        scores = np.where(np.tri(problem.n, dtype=bool), scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ v


def max_error(output: np.ndarray, expected: np.ndarray) -> float:
    """Largest absolute difference (inf when shapes differ or values are not finite)."""
    if output.shape != expected.shape or not np.all(np.isfinite(output)):
        return float("inf")
    return float(np.max(np.abs(output.astype(np.float64) - expected), initial=0.0))


def check_sim_problem(problem: Problem) -> None:
    """Raise ProblemError for sizes the simulator does not take; cheap, so call it first."""
    limit = SIM_MAX_N[find_kernel(problem.kernel).family]
    if problem.n > limit:
        raise ProblemError(
            f"the simulator takes n up to {limit} (got {problem.n:,}); larger sizes need a GPU"
        )
    check_problem(problem, limit)
    if problem.heads > SIM_MAX_HEADS:
        raise ProblemError(f"the simulator takes at most {SIM_MAX_HEADS} heads")


# An executor does the arithmetic of each tile step and yields (launch index, block, step) after
# it, walking blocks in linear order (x fastest) as the hardware hands them out.
Step = tuple[int, tuple[int, int, int], int]


def _grid_blocks(launch: Launch) -> Iterator[tuple[int, int, int]]:
    gx, gy, gz = launch.grid
    for z in range(gz):
        for y in range(gy):
            for x in range(gx):
                yield (x, y, z)


def _span(index: int, size: int, limit: int) -> slice:
    return slice(index * size, min((index + 1) * size, limit))


def _matmul_steps(problem, defines, inputs, out) -> Iterator[Step]:
    # fp32 accumulation per k tile, as the kernels do; bf16 inputs (matmul_tc) are decoded to
    # the fp32 values they hold exactly, and their products are exact in fp32 as on the
    # tensor cores, so only the accumulation order differs from the GPU's.
    a, b, n = as_float(inputs["A"]), as_float(inputs["B"]), problem.n
    tm, tn, tk = matmul_tile_shape(problem.kernel, defines, n)
    (launch,) = plan(problem, defines)
    for block in _grid_blocks(launch):
        rows, cols = _span(block[1], tm, n), _span(block[0], tn, n)
        acc = np.zeros((rows.stop - rows.start, cols.stop - cols.start), np.float32)
        for step in range(launch.steps):
            ks = _span(step, tk, n)
            acc += a[rows, ks] @ b[ks, cols]
            yield 0, block, step
        out[rows, cols] = acc


def _attention_naive_steps(problem, defines, inputs, out) -> Iterator[Step]:
    q, k, v, n = inputs["Q"], inputs["K"], inputs["V"], problem.n
    scale = np.float32(1.0 / np.sqrt(problem.d))
    scores = np.empty((problem.heads, n, n), np.float32)  # the N×N matrix that lives in HBM
    scores_launch, softmax_launch, pv_launch = plan(problem, defines)
    for block in _grid_blocks(scores_launch):
        x, y, head = block
        rows, cols = _span(y, 16, n), _span(x, 16, n)
        tile = (q[head, rows] @ k[head, cols].T) * scale
        if problem.causal:
            visible = np.arange(rows.start, rows.stop)[:, None] >= np.arange(cols.start, cols.stop)
            tile = np.where(visible, tile, np.float32(-np.inf))
        scores[head, rows, cols] = tile
        yield 0, block, 0
    for block in _grid_blocks(softmax_launch):
        row, head = block[0], block[1]
        values = scores[head, row]
        exps = np.exp(values - values.max())
        scores[head, row] = exps / exps.sum()
        yield 1, block, 0
    for block in _grid_blocks(pv_launch):
        x, y, head = block
        rows, cols = _span(y, 16, n), _span(x, 16, problem.d)
        out[head, rows, cols] = scores[head, rows] @ v[head, :, cols]
        yield 2, block, 0


def flash_block_steps(
    problem: Problem, defines: dict[str, int], inputs: dict[str, np.ndarray],
    block: tuple[int, int, int],
) -> Iterator[tuple[int, FlashRowState, np.ndarray]]:
    """One flash block, K/V tile by K/V tile: yields (step, row state, O rows so far / l).

    Mirrors flash_attention_fwd.cu: scores of the tile, new running max, rescale of l and O by
    exp(m_old − m_new), then this tile's exp(s − m)·V added; masked keys score −∞. For
    flash_attention_tc (bf16 inputs) the same in fp32 on the bf16 values, except that P is
    rounded to bf16 (nearest even) before P·V, where the kernel rounds it for the tensor cores;
    l sums P before rounding, as the kernel does.
    """
    q_tile, head = block[0], block[1]
    n, br, bc = problem.n, defines["BR"], defines["BC"]
    rounds_p = problem.spec.dtype == "bf16"
    keys_all, values_all = as_float(inputs["K"][head]), as_float(inputs["V"][head])
    rows = _span(q_tile, br, n)
    q = as_float(inputs["Q"][head, rows])
    scale = np.float32(1.0 / np.sqrt(problem.d))
    row_index = np.arange(rows.start, rows.stop)[:, None]
    m = np.full(q.shape[0], -np.inf, np.float32)
    l = np.zeros(q.shape[0], np.float32)  # noqa: E741
    o = np.zeros_like(q)
    for step in range(flash_tiles_for_block(q_tile, n, defines, problem.causal)):
        keys = _span(step, bc, n)
        s = (q @ keys_all[keys].T) * scale
        if problem.causal:
            s = np.where(row_index >= np.arange(keys.start, keys.stop), s, np.float32(-np.inf))
        m_new = np.maximum(m, s.max(axis=1))
        seen = m_new != -np.inf  # rows with no visible key yet keep their state
        safe_m = np.where(seen, m_new, np.float32(0))
        with np.errstate(invalid="ignore", over="ignore"):
            alpha = np.where(seen, np.exp(m - safe_m), np.float32(1)).astype(np.float32)
            p = np.where(seen[:, None], np.exp(s - safe_m[:, None]), np.float32(0))
        l = l * alpha + p.sum(axis=1, dtype=np.float32)  # noqa: E741
        p = p.astype(np.float32)
        p_used = from_bf16(to_bf16(p)) if rounds_p else p
        o = o * alpha[:, None] + p_used @ values_all[keys]
        m = np.where(seen, m_new, m)
        state = FlashRowState(rows.start, m.copy(), l.copy(), alpha, np.linalg.norm(o, axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            yield step, state, o / l[:, None]


def _flash_steps(problem, defines, inputs, out, states) -> Iterator[Step]:
    (launch,) = plan(problem, defines)
    br = defines["BR"]
    for block in _grid_blocks(launch):
        rows = _span(block[0], br, problem.n)
        for step, state, normalised in flash_block_steps(problem, defines, inputs, block):
            states[(block, step)] = state
            out[block[1], rows] = normalised  # the last step's value is the block's output
            yield 0, block, step


def simulate(
    problem: Problem,
    inputs: dict[str, np.ndarray] | None = None,
    *,
    device: SimDevice | None = None,
    defines: dict[str, int] | None = None,
    registers_per_thread: int | None = None,
    seed: int = 0,
) -> SimResult:
    """Run `problem` on the CPU twin: output (fp32), trace, bytes moved, flash row states.

    `registers_per_thread` (from ptxas, when known) tightens the occupancy limit like on a GPU.
    """
    check_sim_problem(problem)
    device = device or SimDevice()
    defines = defines or defines_for(problem)
    inputs = inputs if inputs is not None else make_inputs(problem, seed)
    launches = plan(problem, defines)
    states: dict = {}
    output = np.zeros(output_shape(problem), np.float32)
    if problem.family == "matmul":
        steps = _matmul_steps(problem, defines, inputs, output)
    elif problem.kernel == "attention_naive":
        steps = _attention_naive_steps(problem, defines, inputs, output)
    else:
        steps = _flash_steps(problem, defines, inputs, output, states)

    records: list[TileRecord] = []
    traffic: dict[str, int] = {}
    tile_map = KernelTiles(problem, defines)
    clock = _Scheduler(device)
    limits = [occupancy(device, launch, registers_per_thread) for launch in launches]
    current: tuple[int, tuple[int, int, int]] | None = None
    for launch_index, block, step in steps:
        if current is None or current[0] != launch_index:
            clock.start_launch(limits[launch_index])
        if current != (launch_index, block):
            clock.start_block()
            current = (launch_index, block)
        refs = tile_map.tiles(launch_index, block, step)
        moved = 0
        for ref in refs:
            nbytes = dram_bytes(ref, tile_map.levels)
            traffic[ref.operand] = traffic.get(ref.operand, 0) + nbytes
            moved += nbytes
        flops = step_flops(problem, defines, launch_index, refs)
        duration = device.step_overhead_ns + int(
            moved / device.bytes_per_ns + flops / device.flops_per_ns
        )
        sm, start = clock.run_step(duration)
        records.append(TileRecord(launch_index, block, step, sm, start, start + duration))

    trace = make_trace(
        problem, defines, launches, records, simulated=True, device=device.label,
        sm_count=device.sm_count, blocks_per_sm=max(limits),
        notes=[f"{la.entry}: at most {limit} blocks per SM"
               for la, limit in zip(launches, limits, strict=True)],
    )
    return SimResult(output, trace, traffic, states)


class _Scheduler:
    """Hands blocks to SM slots: the next block takes the slot that frees first."""

    def __init__(self, device: SimDevice) -> None:
        self.device = device
        self.free: list[tuple[int, int, int]] = []  # (free at ns, slot, sm)
        self.launch_end = 0
        self.sm = 0
        self.now = 0
        self.slot: tuple[int, int] | None = None

    def start_launch(self, blocks_per_sm: int) -> None:
        # Kernels on one stream run in order: the next starts when the last block finished.
        begin = self.launch_end
        self.free = [(begin, slot, sm) for slot in range(blocks_per_sm)
                     for sm in range(self.device.sm_count)]
        heapq.heapify(self.free)
        self.slot = None

    def start_block(self) -> None:
        if self.slot is not None:
            heapq.heappush(self.free, (self.now, *self.slot))
        self.now, slot, self.sm = heapq.heappop(self.free)
        self.slot = (slot, self.sm)

    def run_step(self, duration_ns: int) -> tuple[int, int]:
        start = self.now
        self.now += duration_ns
        self.launch_end = max(self.launch_end, self.now)
        return self.sm, start
