"""The CPU twin computes what numpy (and PyTorch's SDPA) computes, and its trace obeys the
rules a real launch obeys: every tile once per block, in order, never more blocks on an SM
than the occupancy limit allows. The trace schema names each tile's memory level, hit or miss
and access, and a trace that is not CUDA's (a CPU cache-blocked matmul over L1 / L2 / DRAM)
replays through the same replay code and tile-grid drawing."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest

from microgpt_tui.kernels.catalog import (
    KERNELS,
    KernelTiles,
    Problem,
    ProblemError,
    attention_hbm_bytes,
    defines_for,
    extra_memory_bytes,
    plan,
    step_tiles,
)
from microgpt_tui.kernels.replay import LevelTraffic, TileState, build_replay
from microgpt_tui.kernels.sim import (
    SimDevice,
    as_float,
    flash_block_steps,
    from_bf16,
    make_inputs,
    occupancy,
    reference,
    simulate,
    to_bf16,
)
from microgpt_tui.kernels.trace import (
    SLOT_DTYPE,
    Access,
    KernelTrace,
    LaunchInfo,
    MemoryLevel,
    OperandGrid,
    TileRecord,
    TileRef,
    make_trace,
    records_from_slots,
)

SIZES = [1, 17, 64, 257]
ATTENTION = ["attention_naive", "flash_attention_fwd"]


def _numpy_attention(q, k, v, causal):
    """An independent float64 softmax(QKᵀ/√d)·V, written out row by row."""
    heads, n, d = q.shape
    out = np.zeros((heads, n, d))
    for h in range(heads):
        for i in range(n):
            keys = i + 1 if causal else n
            scores = k[h, :keys].astype(np.float64) @ q[h, i].astype(np.float64) / np.sqrt(d)
            weights = np.exp(scores - scores.max())
            out[h, i] = weights @ v[h, :keys] / weights.sum()
    return out


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("d", [16, 64])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("kernel", ATTENTION)
def test_attention_matches_numpy(kernel, n, d, causal):
    problem = Problem(kernel, n, d, causal, heads=2)
    inputs = make_inputs(problem, seed=n + d)
    result = simulate(problem, inputs)
    expected = _numpy_attention(inputs["Q"], inputs["K"], inputs["V"], causal)
    assert result.output.dtype == np.float32
    np.testing.assert_allclose(result.output, expected, atol=1e-5, rtol=0)
    np.testing.assert_allclose(reference(problem, inputs), expected, atol=1e-12)


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("n", [17, 257])
def test_flash_matches_torch_sdpa(n, causal):
    torch = pytest.importorskip("torch")
    problem = Problem("flash_attention_fwd", n, 64, causal, heads=3)
    inputs = make_inputs(problem, seed=7)
    q, k, v = (torch.from_numpy(inputs[name].astype(np.float64)) for name in ("Q", "K", "V"))
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)
    np.testing.assert_allclose(simulate(problem, inputs).output, expected.numpy(), atol=1e-5)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("kernel", ["matmul_naive", "matmul_tiled", "matmul_register_blocked"])
def test_matmul_matches_numpy(kernel, n):
    problem = Problem(kernel, n)
    inputs = make_inputs(problem, seed=n)
    result = simulate(problem, inputs)
    expected = inputs["A"].astype(np.float64) @ inputs["B"].astype(np.float64)
    np.testing.assert_allclose(result.output, expected, atol=1e-5 * max(1, np.sqrt(n)), rtol=0)


def _records_by_block(trace):
    blocks = defaultdict(list)
    for record in trace.records:
        blocks[record.launch, record.block].append(record)
    return blocks


@pytest.mark.parametrize("n", [17, 64, 257])
@pytest.mark.parametrize("kernel", ["matmul_tiled", "matmul_register_blocked"])
def test_matmul_loads_every_a_and_b_tile_once_per_block_in_order(kernel, n):
    problem = Problem(kernel, n)
    defines = defines_for(problem)
    (launch,) = plan(problem, defines)
    result = simulate(problem)
    blocks = _records_by_block(result.trace)
    assert len(blocks) == launch.blocks
    assert len(result.trace.records) == launch.blocks * launch.steps
    for (_, block), records in blocks.items():
        assert [r.step for r in records] == list(range(launch.steps))
        loads = [step_tiles(problem, defines, 0, block, r.step) for r in records]
        a_cols = [refs[0].cols for refs in loads]
        b_rows = [refs[1].rows for refs in loads]
        tk = defines.get("TILE", defines.get("BK"))
        expected = [(s * tk, min((s + 1) * tk, n)) for s in range(launch.steps)]
        assert a_cols == expected and b_rows == expected
        stores = [ref for refs in loads for ref in refs if ref.store]
        assert len(stores) == 1 and stores[0].operand == "C"  # C written once, at the end
        assert all(a.end_ns <= b.start_ns for a, b in zip(records, records[1:], strict=False))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n", [1, 17, 64, 257])
def test_flash_streams_each_visible_kv_tile_once_per_block(n, causal):
    problem = Problem("flash_attention_fwd", n, 16, causal, heads=2)
    defines = defines_for(problem)
    br, bc = defines["BR"], defines["BC"]
    result = simulate(problem)
    blocks = _records_by_block(result.trace)
    assert len(blocks) == -(-n // br) * 2
    for (_, block), records in blocks.items():
        last_row = min((block[0] + 1) * br, n) - 1
        visible_tiles = (last_row // bc + 1) if causal else -(-n // bc)
        assert [r.step for r in records] == list(range(visible_tiles))
        kv = [ref.rows for r in records
              for ref in step_tiles(problem, defines, 0, block, r.step) if ref.operand == "K"]
        assert kv == [(s * bc, min((s + 1) * bc, n)) for s in range(visible_tiles)]


def test_sm_lanes_never_exceed_the_occupancy_limit():
    device = SimDevice(sm_count=3)
    problem = Problem("matmul_tiled", 200)
    result = simulate(problem, device=device)
    limit = occupancy(device, plan(problem)[0])
    assert result.trace.blocks_per_sm == limit == 4  # 1024 threads / 256 per block
    spans = defaultdict(list)
    for records in _records_by_block(result.trace).values():
        spans[records[0].sm].append((records[0].start_ns, records[-1].end_ns))
        assert {r.sm for r in records} == {records[0].sm}  # a block never migrates
    assert set(spans) == {0, 1, 2}
    for sm_spans in spans.values():
        for t in sorted({start for start, _ in sm_spans}):
            resident = sum(start <= t < end for start, end in sm_spans)
            assert resident <= limit
    # 13×13 = 169 blocks cannot all be resident on 12 slots: later blocks wait for a free slot.
    assert max(start for s in spans.values() for start, _ in s) > 0


def test_registers_and_shared_memory_tighten_occupancy():
    device = SimDevice()
    launch = plan(Problem("flash_attention_fwd", 64, 128))[0]
    assert occupancy(device, launch) == device.shared_bytes_per_sm // launch.shared_bytes
    tiled = plan(Problem("matmul_tiled", 64))[0]
    assert occupancy(device, tiled, registers_per_thread=128) == 2  # 65536 / (128·256)


def test_naive_attention_launches_run_in_stream_order():
    result = simulate(Problem("attention_naive", 40, 16))
    ends = defaultdict(int)
    starts = defaultdict(lambda: 10**18)
    for record in result.trace.records:
        ends[record.launch] = max(ends[record.launch], record.end_ns)
        starts[record.launch] = min(starts[record.launch], record.start_ns)
    assert ends[0] <= starts[1] and ends[1] <= starts[2]
    assert [len([r for r in result.trace.records if r.launch == i]) for i in range(3)] == [
        3 * 3, 40, 1 * 3
    ]


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n", [1, 17, 257])
@pytest.mark.parametrize("kernel", ATTENTION)
def test_counted_hbm_bytes_match_the_closed_form(kernel, n, causal):
    problem = Problem(kernel, n, 64, causal, heads=2)
    assert simulate(problem).hbm_bytes == attention_hbm_bytes(problem)


def test_flash_moves_far_fewer_bytes_and_needs_no_score_matrix():
    naive = Problem("attention_naive", 1024, 64)
    flash = Problem("flash_attention_fwd", 1024, 64)
    assert attention_hbm_bytes(naive) > 4 * attention_hbm_bytes(flash)
    assert extra_memory_bytes(naive) == 1024 * 1024 * 4
    assert extra_memory_bytes(flash) == 0
    # Flash reads Q once and K, V once per query tile: (2 + 2·⌈N/BR⌉)·N·d·4 bytes (BR = 64).
    assert defines_for(flash)["BR"] == 64
    assert attention_hbm_bytes(flash) == (2 + 2 * 16) * 1024 * 64 * 4


def test_flash_row_state_is_the_online_softmax():
    problem = Problem("flash_attention_fwd", 100, 16)
    inputs = make_inputs(problem, seed=3)
    defines = defines_for(problem, {"BR": 32, "BC": 32})
    steps = list(flash_block_steps(problem, defines, inputs, (1, 0, 0)))
    assert len(steps) == 4
    q = inputs["Q"][0, 32:64].astype(np.float64)
    k = inputs["K"][0].astype(np.float64)
    scores = q @ k.T / 4.0
    for step, state, _ in steps:
        seen = scores[:, : min((step + 1) * 32, 100)]
        np.testing.assert_allclose(state.m, seen.max(axis=1), rtol=1e-6)
        np.testing.assert_allclose(state.l, np.exp(seen - state.m[:, None]).sum(axis=1),
                                   rtol=1e-5)
        if step:
            assert np.all(state.alpha <= 1) and np.all(state.alpha > 0)
    assert np.all(steps[0][1].alpha == 0)  # m starts at −∞: nothing to rescale yet
    np.testing.assert_allclose(steps[-1][2], reference(problem, inputs)[0, 32:64], atol=1e-5)


def test_chrome_trace_has_one_event_per_step_with_sm_as_pid(tmp_path):
    result = simulate(Problem("matmul_tiled", 48), defines={"TILE": 16, "TM": 4})
    path = tmp_path / "trace.json"
    result.trace.write_chrome(path)
    data = json.loads(path.read_text())
    events = [e for e in data["traceEvents"] if e["ph"] == "X"]
    assert len(events) == len(result.trace.records) == 9 * 3
    assert {e["pid"] for e in events} == {r.sm for r in result.trace.records}
    names = {e["args"]["name"] for e in data["traceEvents"] if e["name"] == "process_name"}
    assert names == {f"SM {sm}" for sm in {r.sm for r in result.trace.records}}
    assert data["otherData"]["simulated"] is True
    assert all(e["dur"] > 0 for e in events)


def test_device_slots_decode_to_records_and_skip_unused_slots():
    slots = np.zeros(3, SLOT_DTYPE)
    slots[0] = (1_000, 1_500, 1_500, 7, 2, 1, 0, 0, 0)  # cycles at 1 GHz; step 0's timer
    slots[2] = (1_600, 1_900, 0, 7, 2, 1, 0, 2, 0)
    records = records_from_slots(slots, launch_index=0, t0_ns=1_000, clock_khz=1_000_000)
    assert [(r.sm, r.block, r.step, r.start_ns, r.end_ns) for r in records] == [
        (7, (2, 1, 0), 0, 0, 500), (7, (2, 1, 0), 2, 600, 900)
    ]
    assert SLOT_DTYPE.itemsize == 48  # sizeof(TraceSlot) in trace.cuh


def test_sizes_beyond_the_simulator_are_refused_clearly():
    with pytest.raises(ProblemError, match="simulator takes n up to 512"):
        simulate(Problem("matmul_tiled", 4096))
    with pytest.raises(ProblemError, match="d must be between 1 and 128"):
        simulate(Problem("flash_attention_fwd", 64, 256))


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        (Problem("matmul_naive", 20000), "simulator takes n up to 512"),
        (Problem("matmul_tiled", 10**9), "simulator takes n up to 512"),
        (Problem("matmul_tiled", -5), "n must be between 1 and 512"),
        (Problem("flash_attention_fwd", 64, -3), "d must be between 1 and 128"),
        (Problem("attention_naive", 64, 16, heads=-1), "heads must be between 1 and 65535"),
        (Problem("attention_naive", -64, -16, heads=-1), "n must be between 1 and 1,024"),
    ],
)
def test_a_run_checks_the_size_before_making_any_input(monkeypatch, problem, message):
    """Regression: the inputs were made first (n=20000: 17 s and 6 GB), and a negative n or d
    failed inside numpy with a traceback."""
    from microgpt_tui.kernels import execute

    def never(*args, **kwargs):
        raise AssertionError("inputs made before the size was checked")

    monkeypatch.setattr(execute, "make_inputs", never)
    with pytest.raises(ProblemError, match=message):
        execute.execute(problem, simulate_only=True)


def test_simulator_and_gpu_traces_are_built_by_one_helper():
    problem = Problem("attention_naive", 40, 16)
    defines = defines_for(problem)
    sim = simulate(problem).trace
    launches = plan(problem, defines)
    gpu = make_trace(problem, defines, launches, sim.records, simulated=False,
                     device="Test GPU", sm_count=132)
    assert sim.simulated and not gpu.simulated
    assert (gpu.device, gpu.sm_count, gpu.blocks_per_sm, gpu.notes) == ("Test GPU", 132, None, [])
    assert sim.blocks_per_sm is not None and len(sim.notes) == len(launches) == 3
    for trace in (sim, gpu):
        assert trace.kernel == "attention_naive"
        assert trace.problem["n"] == 40 and trace.problem["defines"] == defines
        assert [(la.entry, la.grid, la.steps) for la in trace.launches] == [
            (la.entry, la.grid, la.steps) for la in launches]
    assert gpu.to_chrome()["otherData"]["launches"] == sim.to_chrome()["otherData"]["launches"]


# -- the trace schema: levels, hits, accesses ------------------------------------------------

REGISTER, L1, L2, DRAM = (MemoryLevel.REGISTER, MemoryLevel.SRAM, MemoryLevel.L2,
                          MemoryLevel.DRAM)


def _refs(kernel, n=64, **kwargs):
    problem = Problem(kernel, n, **kwargs)
    tiles = KernelTiles(problem, defines_for(problem))
    return problem, tiles


def test_kernel_tiles_name_the_level_they_use():
    _, tiled = _refs("matmul_tiled")
    refs = tiled.tiles(0, (1, 1, 0), 1)  # the last k tile (TILE 32) of C tile (1, 1)
    assert [(r.operand, r.level, r.access, r.hit) for r in refs] == [
        ("A", L1, Access.READ, False), ("B", L1, Access.READ, False),
        ("C", DRAM, Access.WRITE, True)]  # staged in shared memory, C stored to HBM
    _, naive = _refs("matmul_naive")
    assert {r.level for r in naive.tiles(0, (0, 0, 0), 0)} == {DRAM}  # no tiles: global reads
    _, blocked = _refs("matmul_register_blocked", n=256)
    first = blocked.tiles(0, (0, 0, 0), 0)
    assert ("C", REGISTER, Access.WRITE) in {(r.operand, r.level, r.access) for r in first}
    assert not any(r.store for r in first)  # C stays in registers until the last k tile
    _, flash = _refs("flash_attention_fwd")
    q_hits = [next(r.hit for r in flash.tiles(0, (0, 0, 0), s) if r.operand == "Q")
              for s in range(2)]
    assert q_hits == [False, True]  # Q loaded once, then kept in SRAM


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_replayed_hbm_traffic_is_the_simulators(kernel):
    problem = Problem(kernel, 48, 16, causal=True)
    defines = defines_for(problem)
    result = simulate(problem, defines=defines)
    replay = build_replay(result.trace, KernelTiles(problem, defines), result.flash_states)
    assert replay.dram_bytes() == result.hbm_bytes
    traffic = replay.level_traffic()
    assert traffic[DRAM].misses == 0  # main memory never misses
    assert traffic[DRAM].writes == sum(r.bytes for refs in replay.refs for r in refs if r.store)


def test_flash_replay_needs_no_kernel_name_to_keep_q_in_sram():
    problem = Problem("flash_attention_fwd", 64, 16)
    defines = defines_for(problem)
    result = simulate(problem, defines=defines)
    replay = build_replay(result.trace, KernelTiles(problem, defines), result.flash_states)
    later = next(i for i, r in enumerate(replay.records) if r.step == 1)
    assert [r.operand for r in replay.held(later)] == ["Q", "K", "V"]
    grids = replay.tile_grids(later, later)
    assert [g.title for g in grids] == ["Q", "K", "V", "O", "Q·Kᵀ tiles"]
    assert grids[0].cells[(replay.records[later].block[0], 0)] is TileState.SRAM


class CpuBlockedMatmul:
    """A tile map that is not CUDA's: C = A·B on one CPU core in 16×16 tiles, blocks being C
    tiles and steps k tiles. The A tile is read in L1, the B panel in L2 (as in GotoBLAS), C
    is accumulated in registers and written to DRAM at the last k tile. Hits and misses come
    from a least-recently-used cache of `l1_tiles` / `l2_tiles` tiles per level."""

    levels = (REGISTER, L1, L2, DRAM)
    level_names = {REGISTER: "registers", L1: "L1", L2: "L2", DRAM: "DRAM"}

    def __init__(self, n: int = 64, tile: int = 16, l1_tiles: int = 4, l2_tiles: int = 24):
        self.n, self.tile, self.count = n, tile, n // tile
        self.steps: dict[tuple, list[TileRef]] = {}
        caches = {L1: ([], l1_tiles), L2: ([], l2_tiles)}

        def touch(level, name) -> bool:
            lru, size = caches[level]
            hit = name in lru
            if hit:
                lru.remove(name)
            lru.append(name)
            del lru[:-size]
            return hit

        def span(index):
            return (index * tile, (index + 1) * tile)

        for block in self.blocks():
            row, col = block[1], block[0]
            for k in range(self.count):
                refs = []
                if not touch(L1, ("A", row, k)):  # an L1 miss looks in L2 next
                    refs.append(TileRef("A", span(row), span(k), L1, hit=False))
                    refs.append(TileRef("A", span(row), span(k), L2,
                                        hit=touch(L2, ("A", row, k))))
                else:
                    refs.append(TileRef("A", span(row), span(k), L1, hit=True))
                refs.append(TileRef("B", span(k), span(col), L2, hit=touch(L2, ("B", k, col))))
                refs.append(TileRef("C", span(row), span(col), REGISTER, Access.WRITE, True))
                if k == self.count - 1:
                    refs.append(TileRef("C", span(row), span(col), DRAM, Access.WRITE, True))
                self.steps[(block, k)] = refs

    def blocks(self):
        return [(col, row, 0) for row in range(self.count) for col in range(self.count)]

    def tiles(self, launch, block, step):
        return self.steps[(block, step)]

    def grids(self):
        n, t = self.n, self.tile
        return [OperandGrid(name, (name,), n, n, t, t) for name in ("C", "A", "B")]

    def work_grid(self):
        return None

    def trace(self) -> KernelTrace:
        records, clock = [], 0
        for block in self.blocks():
            for k in range(self.count):
                records.append(TileRecord(0, block, k, 0, clock, clock + 100))
                clock += 100
        launch = LaunchInfo("cpu_blocked_matmul", (self.count, self.count, 1), (1, 1, 1),
                            self.count)
        return KernelTrace("cpu_blocked_matmul", {"n": self.n}, [launch], records,
                           simulated=True, device="one CPU core", sm_count=1)


def test_a_cpu_cache_blocking_trace_replays_through_the_same_code():
    cpu = CpuBlockedMatmul()
    replay = build_replay(cpu.trace(), cpu)
    assert len(replay) == 4 * 4 * 4 and len(replay.lanes) == 1  # one core, one lane
    tile_bytes = 16 * 16 * 4
    traffic = replay.level_traffic()
    assert traffic[L1].hits and traffic[L1].misses and traffic[L2].hits and traffic[L2].misses
    l2_misses = sum(1 for refs in replay.refs for r in refs if r.level is L2 and not r.hit)
    assert replay.dram_bytes() == (l2_misses + 16) * tile_bytes  # L2 fills + C written once
    assert traffic[DRAM] == LevelTraffic(writes=16 * tile_bytes)

    step = 4 * 5 + 2  # C tile (1, 1), third k tile: A in L1, B in L2, C in registers
    c, a, b = replay.tile_grids(step, step)
    assert c.cells[(1, 1)] is TileState.REGISTER
    assert a.cells[(1, 2)] is TileState.SRAM
    assert b.cells[(2, 1)] is TileState.L2
    assert c.cells[(0, 0)] is TileState.STORED  # written back by an earlier block
    assert replay.legend == [
        (TileState.REGISTER, "in registers"), (TileState.SRAM, "in L1"),
        (TileState.L2, "in L2"), (TileState.OTHER, "other block"),
        (TileState.STORED, "in DRAM"), (TileState.IDLE, "idle")]
    chrome = replay.trace.to_chrome()
    assert len([e for e in chrome["traceEvents"] if e["ph"] == "X"]) == len(replay)


async def test_the_tile_grid_widget_draws_a_cpu_replay_by_glyph():
    from textual.app import App

    from microgpt_tui.tui.widgets.tile_grid import GLYPHS, TileGrids

    cpu = CpuBlockedMatmul()
    replay = build_replay(cpu.trace(), cpu)

    class GridApp(App[None]):
        def compose(self):
            yield TileGrids()

    app = GridApp()
    async with app.run_test(size=(60, 12)) as pilot:
        grids = app.query_one(TileGrids)
        grids.show(replay.tile_grids(22, 22), replay.legend)
        await pilot.pause()
        lines = str(grids.render()).splitlines()
    assert lines[0].split() == ["C", "A", "B"]
    drawn = "".join(lines)
    for state in (TileState.REGISTER, TileState.SRAM, TileState.L2, TileState.STORED):
        assert GLYPHS[state] in drawn
    legend = " ".join(line for line in lines if "idle" in line or "in L1" in line)
    assert "■ in registers" in legend and "█ in L1" in legend and "▄ in L2" in legend


# -- matmul kernels (issue 17): odd sizes, bf16 tensor cores, tile steps against plan() -------

MATMUL = ["matmul_naive", "matmul_tiled", "matmul_register_blocked", "matmul_tc"]
UNIT_ROUNDOFF = 2.0**-24  # fp32


def _matmul_error_bound(a: np.ndarray, b: np.ndarray, terms: int) -> np.ndarray:
    """Higham's bound for a dot product of `terms` rounded operations in fp32, in any order:
    |ĉ − c| ≤ γ(terms)·(|A|·|B|), γ(m) = m·u / (1 − m·u)."""
    gamma = terms * UNIT_ROUNDOFF / (1 - terms * UNIT_ROUNDOFF)
    return gamma * (np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64)))


@pytest.mark.parametrize("n", [1, 17, 130])
@pytest.mark.parametrize("kernel", MATMUL)
def test_matmul_kernels_match_numpy_within_the_rounding_bound_at_odd_sizes(kernel, n):
    """fp32 kernels round each product and each sum: γ(n). The tensor-core kernel's bf16
    products are exact in fp32 (8-bit × 8-bit significands fit in 24 bits), so only its n − 1
    additions round: γ(n − 1), against the float64 product of the same bf16 values."""
    problem = Problem(kernel, n)
    inputs = make_inputs(problem, seed=n)
    result = simulate(problem, inputs)
    a, b = as_float(inputs["A"]), as_float(inputs["B"])
    expected = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_array_equal(reference(problem, inputs), expected)
    assert result.output.dtype == np.float32 and result.output.shape == (n, n)
    terms = n - 1 if KERNELS[kernel].dtype == "bf16" else n
    error = np.abs(result.output.astype(np.float64) - expected)
    assert np.all(error <= _matmul_error_bound(a, b, max(terms, 1)) + 1e-30)


def test_matmul_tc_takes_bf16_inputs_and_gives_fp32():
    problem = Problem("matmul_tc", 130)
    inputs = make_inputs(problem, seed=5)
    assert inputs["A"].dtype == np.uint16 and inputs["B"].dtype == np.uint16
    fp32 = make_inputs(Problem("matmul_tiled", 130), seed=5)  # the same values before rounding
    np.testing.assert_array_equal(as_float(inputs["A"]), from_bf16(to_bf16(fp32["A"])))
    output = simulate(problem, inputs).output
    assert output.dtype == np.float32
    # The bf16 rounding of the inputs (relative 2⁻⁹) is far above fp32 accumulation: the twin
    # computes on the rounded values, not the fp32 ones.
    unrounded = fp32["A"].astype(np.float64) @ fp32["B"].astype(np.float64)
    assert np.max(np.abs(output - unrounded)) > 1e-3
    np.testing.assert_allclose(output, unrounded, atol=0.1)


def test_matmul_tc_accumulates_per_k_step_in_fp32():
    """The twin adds one BK-deep product per tile step into an fp32 accumulator, like the
    kernel's mma accumulators, rather than one float64 product rounded once."""
    problem = Problem("matmul_tc", 130)
    defines = defines_for(problem)
    inputs = make_inputs(problem, seed=2)
    a, b = as_float(inputs["A"]), as_float(inputs["B"])
    bk = defines["BK"]
    acc = np.zeros((130, 130), np.float32)
    for k0 in range(0, 130, bk):
        acc += a[:, k0:k0 + bk] @ b[k0:k0 + bk]
    output = simulate(problem, inputs, defines=defines).output
    np.testing.assert_allclose(output, acc, rtol=0, atol=1e-5)
    once = (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)
    assert not np.array_equal(output, once)  # fp32 accumulation rounding is visible


def test_matmul_launch_geometry_follows_the_defines():
    tiled = plan(Problem("matmul_tiled", 100))[0]
    assert (tiled.grid, tiled.block, tiled.steps) == ((4, 4, 1), (32, 8, 1), 4)
    assert tiled.threads * KERNELS["matmul_tiled"].defines["TM"] == 32 * 32  # 4 outputs each
    assert tiled.shared_bytes == 2 * 32 * 32 * 4 and tiled.dynamic_shared_bytes == 0
    blocked = plan(Problem("matmul_register_blocked", 300))[0]
    assert (blocked.grid, blocked.block, blocked.steps) == ((3, 3, 1), (256, 1, 1), 38)
    assert blocked.shared_bytes == (128 + 4 + 128) * 8 * 4  # As rows padded by 4 floats
    tc = plan(Problem("matmul_tc", 130))[0]
    assert (tc.grid, tc.block, tc.steps) == ((2, 2, 1), (256, 1, 1), 5)  # 8 warps of 64×32
    assert tc.shared_bytes == (128 * (32 + 8) + 32 * (128 + 8)) * 2 == 18_944
    assert tc.dynamic_shared_bytes == 0  # static, below 48 KiB


@pytest.mark.parametrize("n", [1, 17, 130])
@pytest.mark.parametrize("kernel", ["matmul_tiled", "matmul_register_blocked", "matmul_tc"])
def test_matmul_trace_steps_are_the_plans_tiles(kernel, n):
    problem = Problem(kernel, n)
    defines = defines_for(problem)
    (launch,) = plan(problem, defines)
    result = simulate(problem, defines=defines)
    blocks = _records_by_block(result.trace)
    assert sorted(block for _, block in blocks) == sorted(
        (x, y, 0) for x in range(launch.grid[0]) for y in range(launch.grid[1]))
    assert [(la.entry, la.grid, la.block, la.steps) for la in result.trace.launches] == [
        (launch.entry, launch.grid, launch.block, launch.steps)]
    bm, bn = (defines["TILE"],) * 2 if kernel == "matmul_tiled" else (defines["BM"], defines["BN"])
    bk = defines.get("TILE", defines.get("BK"))
    element = 2 if KERNELS[kernel].dtype == "bf16" else 4
    moved = 0
    for (_, block), records in blocks.items():
        assert [r.step for r in records] == list(range(launch.steps)) == list(range(-(-n // bk)))
        for record in records:
            refs = step_tiles(problem, defines, 0, block, record.step)
            a, b = refs[0], refs[1]
            assert a.rows == (block[1] * bm, min((block[1] + 1) * bm, n))
            assert b.cols == (block[0] * bn, min((block[0] + 1) * bn, n))
            assert a.cols == b.rows == (record.step * bk, min((record.step + 1) * bk, n))
            assert a.element_bytes == b.element_bytes == element
            moved += a.bytes + b.bytes + sum(r.bytes for r in refs if r.store)
    assert result.hbm_bytes == moved
    assert result.traffic["C"] == n * n * 4  # fp32 C written once


def _conflict_ways(words: list[int]) -> int:
    """The most distinct 4-byte words one bank serves for a set of word addresses."""
    banks: dict[int, set[int]] = defaultdict(set)
    for word in words:
        banks[word % 32].add(word)
    return max(len(w) for w in banks.values())


def _quarter_warp_float4_ways(starts: list[int]) -> int:
    """128-bit accesses go a quarter warp (8 lanes) per phase: the worst phase's ways."""
    return max(_conflict_ways([s + e for s in starts[p:p + 8] for e in range(4)])
               for p in range(0, 32, 8))


@pytest.mark.parametrize(("pad", "ways"), [(0, 8), (4, 1)])
def test_register_blocked_transposed_a_store_is_conflict_free_when_padded(pad, ways):
    """matmul_register_blocked.cu writes As[c][r], c = i % BK, r = i / BK, i = tid (+256·it):
    unpadded rows of 128 words put 8 lanes in one bank; rows of 128 + APAD words spread them."""
    bm, bk = 128, 8
    assert KERNELS["matmul_register_blocked"].defines["APAD"] == 4
    for warp in range(8):
        lanes = [warp * 32 + lane for lane in range(32)]
        words = [(i % bk) * (bm + pad) + i // bk for i in lanes]
        assert _conflict_ways(words) == ways


def test_register_blocked_b_reads_are_conflict_free_float4s():
    """Old mapping: thread t reads TN = 8 contiguous columns (words 8t…): lanes t and t + 4
    share banks (2-way). New: two float4 groups 64 columns apart (words 4t… and 64 + 4t…)."""
    old = [8 * (lane % 16) for lane in range(32)]
    assert _quarter_warp_float4_ways(old) == 2
    for group in range(2):
        new = [group * 64 + 4 * (lane % 16) for lane in range(32)]
        assert _quarter_warp_float4_ways(new) == 1


@pytest.mark.parametrize(("row_bytes", "ways"), [((32 + 8) * 2, 1), ((128 + 8) * 2, 1),
                                                  (32 * 2, 4), (128 * 2, 8)])
def test_matmul_tc_ldmatrix_rows_fall_in_distinct_banks(row_bytes, ways):
    """One ldmatrix phase reads 8 rows of 16 bytes: padded As (80-byte) and Bs (272-byte) rows
    hit 8 distinct groups of 4 banks; unpadded rows (64, 256 bytes) would conflict."""
    words = [row * row_bytes // 4 + e for row in range(8) for e in range(4)]
    assert _conflict_ways(words) == ways


# -- attention kernels (issue 17): fp32 and tensor-core flash, shared-memory budget -----------

FLASH = ["flash_attention_fwd", "flash_attention_tc"]
BF16_UNIT_ROUNDOFF = 2.0**-9  # bf16 keeps 8 significant bits; nearest even: relative ≤ 2⁻⁹


def flash_tolerance(kernel: str, inputs) -> float:
    """fp32 flash: 1e-5 (fp32 arithmetic on O(1) values, as for the naive kernels).

    Tensor cores: the inputs are bf16 values and the reference decodes the same values, so the
    one extra error is P rounded to bf16 before P·V: each p̃ = p(1 + δ), |δ| ≤ 2⁻⁹, while l sums
    the unrounded p. Then O − Ô = Σ δ·p·v / Σ p, so |O − Ô| ≤ 2⁻⁹ · max|V| per element; plus the
    fp32 slack."""
    from microgpt_tui.kernels.sim import as_float

    if KERNELS[kernel].dtype != "bf16":
        return 1e-5
    return BF16_UNIT_ROUNDOFF * float(np.abs(as_float(inputs["V"])).max()) + 1e-5


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("d", [16, 64, 96])
@pytest.mark.parametrize("n", [1, 17, 130])
@pytest.mark.parametrize("kernel", FLASH)
def test_flash_kernels_match_numpy_at_odd_sizes(kernel, n, d, causal):
    from microgpt_tui.kernels.sim import as_float

    problem = Problem(kernel, n, d, causal, heads=3)
    inputs = make_inputs(problem, seed=n * d + causal)
    result = simulate(problem, inputs)
    q, k, v = (as_float(inputs[name]) for name in ("Q", "K", "V"))
    expected = _numpy_attention(q, k, v, causal)
    assert result.output.dtype == np.float32 and result.output.shape == (3, n, d)
    np.testing.assert_allclose(result.output, expected, atol=flash_tolerance(kernel, inputs),
                               rtol=0)


@pytest.mark.parametrize("kernel", FLASH)
def test_flash_kernels_match_numpy_at_hopper_tiles(kernel):
    """The tiles the budget picks for an H100/H200, and each kernel's largest tile shape,
    compute the same."""
    from microgpt_tui.kernels.budget import HOPPER, TILE_SHAPES
    from microgpt_tui.kernels.sim import as_float

    problem = Problem(kernel, 130, 96, True, heads=2)
    br, bc = TILE_SHAPES[kernel][0]
    inputs = make_inputs(problem, seed=11)
    expected = _numpy_attention(*(as_float(inputs[x]) for x in ("Q", "K", "V")), True)
    for defines in (defines_for(problem, limits=HOPPER),
                    defines_for(problem, {"BR": br, "BC": bc})):
        result = simulate(problem, inputs, defines=defines)
        np.testing.assert_allclose(result.output, expected,
                                   atol=flash_tolerance(kernel, inputs), rtol=0)


def test_flash_tc_rounds_p_to_bf16_and_nothing_else():
    """The twin's only departure from fp32 is P rounded to bf16 (relative 2⁻⁹): its error is
    far above the fp32 kernel's on the same bf16 values, yet inside the derived bound; with
    the rounding switched off (the fp32 path on the decoded values) it drops to fp32 level."""
    from microgpt_tui.kernels.sim import as_float

    problem = Problem("flash_attention_tc", 130, 64, heads=2)
    inputs = make_inputs(problem, seed=4)
    assert all(inputs[x].dtype == np.uint16 for x in ("Q", "K", "V"))
    expected = reference(problem, inputs)
    error = np.abs(simulate(problem, inputs).output - expected).max()
    fp32 = {x: as_float(inputs[x]) for x in ("Q", "K", "V")}
    fp32_error = np.abs(simulate(Problem("flash_attention_fwd", 130, 64, heads=2), fp32).output
                        - expected).max()
    assert fp32_error < 1e-5 < 1e-4 < error <= flash_tolerance("flash_attention_tc", inputs)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n", [1, 17, 130])
def test_flash_tc_streams_each_visible_kv_tile_once_and_keeps_q_in_registers(n, causal):
    problem = Problem("flash_attention_tc", n, 16, causal, heads=2)
    defines = defines_for(problem)
    br, bc = defines["BR"], defines["BC"]
    (launch,) = plan(problem, defines)
    assert launch.block == (2 * br, 1, 1) and launch.grid == (-(-n // br), 2, 1)
    result = simulate(problem)
    blocks = _records_by_block(result.trace)
    assert len(blocks) == -(-n // br) * 2
    for (_, block), records in blocks.items():
        last_row = min((block[0] + 1) * br, n) - 1
        visible = (last_row // bc + 1) if causal else -(-n // bc)
        assert [r.step for r in records] == list(range(visible))
        for r in records:
            refs = {ref.operand: ref for ref in step_tiles(problem, defines, 0, block, r.step)}
            assert refs["Q"].level is (MemoryLevel.SRAM if r.step == 0 else MemoryLevel.REGISTER)
            assert refs["K"].element_bytes == refs["V"].element_bytes == 2  # bf16 in HBM
            assert "O" not in refs or refs["O"].element_bytes == 4  # fp32 out
    assert result.hbm_bytes == attention_hbm_bytes(problem)


def test_fp32_flash_launch_is_four_warps_over_batch_heads():
    problem = Problem("flash_attention_fwd", 4096, 64, heads=16)
    defines = defines_for(problem)
    (launch,) = plan(problem, defines)
    assert launch.block == (128, 1, 1) and launch.grid == (4096 // defines["BR"], 16, 1)
    assert launch.steps == 4096 // defines["BC"]  # K/V tiles per block: the replay's steps
    assert launch.blocks >= 16 * 64  # at 4 warps each: ≥ 4096 warps for 132 SMs


@pytest.mark.parametrize("kernel", FLASH)
@pytest.mark.parametrize("d", range(1, 129))
def test_no_device_tiles_fit_48_kib_on_every_gpu(kernel, d):
    from microgpt_tui.kernels.budget import flash_shared_bytes

    problem = Problem(kernel, 64, d)
    defines = defines_for(problem)
    (launch,) = plan(problem, defines)
    assert launch.shared_bytes == flash_shared_bytes(kernel, defines["BR"], defines["BC"], d)
    assert launch.shared_bytes <= 48 * 1024


def test_hopper_budget_picks_the_largest_tiles_with_two_blocks_per_sm():
    """Two blocks per SM by shared memory AND by registers (the bound ptxas keeps the kernels
    under): the tensor-core kernel's 256-thread BR=128 block would hold an SM alone."""
    from microgpt_tui.kernels.budget import (
        HOPPER,
        TILE_SHAPES,
        blocks_by_registers,
        blocks_per_sm,
        choose_tiles,
    )
    from microgpt_tui.kernels.budget import flash_shared_bytes as cost

    def resident(kernel, shape, d):
        return min(blocks_per_sm(cost(kernel, *shape, d), HOPPER),
                   blocks_by_registers(kernel, shape[0]))

    for kernel in FLASH:
        for d in (16, 64, 96, 128):
            problem = Problem(kernel, 4096, d)
            tiles, reason = choose_tiles(problem, 48 * 1024, 227 * 1024, 228 * 1024, 1024)
            shape = (tiles["BR"], tiles["BC"])
            used = cost(kernel, *shape, d)
            assert used <= 227 * 1024 and resident(kernel, shape, d) >= 2
            larger = TILE_SHAPES[kernel][: TILE_SHAPES[kernel].index(shape)]
            assert all(resident(kernel, s, d) < 2 for s in larger)
            assert reason.startswith(f"BR={shape[0]} BC={shape[1]}: ")
    fp32_128 = choose_tiles(Problem("flash_attention_fwd", 4096, 128), 48 * 1024, 227 * 1024,
                            228 * 1024, 1024)
    assert fp32_128 == ({"BR": 64, "BC": 64}, "BR=64 BC=64: 112.5 KiB of 227 KiB per block "
                        "(opt-in above 48 KiB); 2 blocks per SM (by shared memory)")
    tc_64 = choose_tiles(Problem("flash_attention_tc", 4096, 64), 48 * 1024, 227 * 1024,
                         228 * 1024, 1024)
    assert tc_64 == ({"BR": 64, "BC": 64}, "BR=64 BC=64: 18 KiB of 227 KiB per block; "
                     "2 blocks per SM (by registers)")


def test_budget_without_opt_in_falls_back_to_smaller_tiles():
    from microgpt_tui.kernels.budget import SharedLimits
    from microgpt_tui.kernels.catalog import tile_reason

    turing = SharedLimits(48 * 1024, 64 * 1024, 64 * 1024, 0)
    problem = Problem("flash_attention_fwd", 1024, 128)
    defines = defines_for(problem, limits=turing)
    (launch,) = plan(problem, defines)
    assert launch.shared_bytes <= 64 * 1024
    assert tile_reason(problem, turing).startswith(f"BR={defines['BR']} BC={defines['BC']}: ")
    assert tile_reason(problem).endswith("(no device: the default that fits every GPU)")
    assert tile_reason(Problem("matmul_tiled", 64)) == ""
    assert defines_for(problem, {"BC": 8})["BC"] == 8  # overrides still win


def _ldmatrix(tile: np.ndarray, addresses: list[tuple[int, int]], trans: bool) -> np.ndarray:
    """PTX ldmatrix .m8n8.x4 .b16: lanes 8q..8q+7 give the rows of matrix q (8 elements from
    each address); lane l gets, per matrix, elements (l / 4, 2(l % 4) + 0/1), or with .trans
    (2(l % 4) + 0/1, l / 4). Returns [lane, matrix, pair]."""
    out = np.zeros((32, 4, 2), tile.dtype)
    for q in range(4):
        m = np.stack([tile[r, c:c + 8] for r, c in addresses[8 * q:8 * q + 8]])
        for lane in range(32):
            g, t = lane // 4, lane % 4
            out[lane, q] = m[2 * t:2 * t + 2, g] if trans else m[g, 2 * t:2 * t + 2]
    return out


def test_matmul_tc_fragment_indexing_computes_the_block_product():
    """matmul_tc.cu's ldmatrix addresses, mma fragments and accumulator stores, replayed lane
    by lane with the PTX ISA's m16n8k16 layouts (A: a0 (g, 2t), a1 (g + 8, 2t), a2 (g, 2t + 8),
    a3 (g + 8, 2t + 8); B: b0 (k 2t, n g), b1 (k 2t + 8, n g); C: (g, 2t), (g + 8, 2t)), for
    every warp of a block over one BK step: the result must be the tile product."""
    d = KERNELS["matmul_tc"].defines
    bm, bn, bk, wm, wn = d["BM"], d["BN"], d["BK"], d["WM"], d["WN"]
    rng = np.random.default_rng(0)
    a_tile = rng.integers(-4, 5, (bm, bk)).astype(np.float64)
    b_tile = rng.integers(-4, 5, (bk, bn)).astype(np.float64)
    c = np.zeros((bm, bn))
    for warp in range(plan(Problem("matmul_tc", bm))[0].threads // 32):
        warp_row, warp_col = (warp // (bn // wn)) * wm, (warp % (bn // wn)) * wn
        acc = np.zeros((wm // 16, wn // 8, 32, 4))
        for kk in range(0, bk, 16):
            a = [_ldmatrix(a_tile, [(warp_row + i * 16 + lane % 16, kk + (lane // 16) * 8)
                                    for lane in range(32)], trans=False)
                 for i in range(wm // 16)]
            b = []
            for j in range(0, wn // 8, 2):
                frag = _ldmatrix(b_tile, [(kk + lane % 16, warp_col + j * 8 + (lane // 16) * 8)
                                          for lane in range(32)], trans=True)
                b += [frag[:, 0:2], frag[:, 2:4]]  # {b0, b1} of n tiles j and j + 1
            for i in range(wm // 16):
                for j in range(wn // 8):
                    am, bmat = np.zeros((16, 16)), np.zeros((16, 8))
                    for lane in range(32):
                        g, t = lane // 4, lane % 4
                        for reg, (r, k) in enumerate(((g, 2 * t), (g + 8, 2 * t),
                                                      (g, 2 * t + 8), (g + 8, 2 * t + 8))):
                            am[r, k:k + 2] = a[i][lane, reg]
                        for reg, k in enumerate((2 * t, 2 * t + 8)):
                            bmat[k:k + 2, g] = b[j][lane, reg]
                    product = am @ bmat
                    for lane in range(32):
                        g, t = lane // 4, lane % 4
                        for e in range(4):
                            acc[i, j, lane, e] += product[g + (e // 2) * 8, 2 * t + e % 2]
        for i in range(wm // 16):
            for j in range(wn // 8):
                for lane in range(32):
                    g, t = lane // 4, lane % 4
                    for e in range(4):
                        r = warp_row + i * 16 + g + (e // 2) * 8
                        col = warp_col + j * 8 + 2 * t + e % 2
                        c[r, col] += acc[i, j, lane, e]
    np.testing.assert_array_equal(c, a_tile @ b_tile)


def _mma_m16n8k16(a_regs, b_regs, acc):
    """PTX's mma.m16n8k16 .row.col per its documented fragment layouts, lane by lane:
    a_regs[lane] = 4 registers × (low, high) elements, b_regs[lane] = 2, acc[lane] = 4 floats."""
    a, b = np.zeros((16, 16)), np.zeros((16, 8))
    for lane in range(32):
        g, t = lane // 4, lane % 4
        for reg, (row, col) in enumerate(((g, 2 * t), (g + 8, 2 * t), (g, 2 * t + 8),
                                          (g + 8, 2 * t + 8))):
            a[row, col: col + 2] = a_regs[lane][reg]
        for reg, k in enumerate((2 * t, 2 * t + 8)):
            b[k: k + 2, g] = b_regs[lane][reg]
    c = a @ b
    for lane in range(32):
        g, t = lane // 4, lane % 4
        acc[lane] += [c[g, 2 * t], c[g, 2 * t + 1], c[g + 8, 2 * t], c[g + 8, 2 * t + 1]]


def _ldmatrix_x2_trans(shared, row_address):
    """ldmatrix.m8n8.x2.trans.b16: lanes 0–7 and 8–15 name the rows of two 8×8 matrices; lane
    gets, of each, elements [2(lane%4)][lane/4] and [2(lane%4)+1][lane/4]."""
    out = []
    for lane in range(32):
        g, t = lane // 4, lane % 4
        regs = []
        for matrix in range(2):
            rows = [row_address(8 * matrix + r) for r in (2 * t, 2 * t + 1)]
            regs.append(tuple(shared[start + g] for start in rows))
        out.append(regs)
    return out


def test_flash_tc_fragment_indexing_computes_s_and_pv_for_one_warp():
    """The lane arithmetic of flash_attention_tc.cu, replayed in numpy with PTX's documented
    fragment layouts: Q's A fragments and K's B fragments from the padded shared rows give
    S = Q·Kᵀ in the accumulator layout; that layout, packed in pairs, is P's A fragment; and
    ldmatrix.trans on row-major V gives V's B fragments, so O = P·V (d 32, BC 32: 2 k-steps,
    4 key n-tiles)."""
    rng = np.random.default_rng(0)
    d, bc, stride = 32, 32, 32 + 8
    q, k, v = (rng.standard_normal((rows, d)) for rows in (16, bc, bc))
    flat = lambda m: np.pad(m, ((0, 0), (0, stride - d))).ravel()  # noqa: E731
    qs, ks, vs = flat(q), flat(k), flat(v)
    pair = lambda buf, i: (buf[i], buf[i + 1])  # noqa: E731 (load_pair: two bf16, low first)
    qf = [[[pair(qs, (g) * stride + 2 * t + 16 * kk), pair(qs, (g + 8) * stride + 2 * t + 16 * kk),
            pair(qs, g * stride + 2 * t + 16 * kk + 8),
            pair(qs, (g + 8) * stride + 2 * t + 16 * kk + 8)]
           for kk in range(d // 16)] for g, t in ((lane // 4, lane % 4) for lane in range(32))]
    s = [np.zeros((bc // 8, 4)) for _ in range(32)]
    for n in range(bc // 8):
        for kk in range(d // 16):
            b = [[pair(ks, (8 * n + lane // 4) * stride + 2 * (lane % 4) + 16 * kk),
                  pair(ks, (8 * n + lane // 4) * stride + 2 * (lane % 4) + 16 * kk + 8)]
                 for lane in range(32)]
            acc = [s[lane][n] for lane in range(32)]
            _mma_m16n8k16([qf[lane][kk] for lane in range(32)], b, acc)
    full_s = np.zeros((16, bc))
    for lane in range(32):
        g, t = lane // 4, lane % 4
        for n in range(bc // 8):
            full_s[g, 8 * n + 2 * t: 8 * n + 2 * t + 2] = s[lane][n][:2]
            full_s[g + 8, 8 * n + 2 * t: 8 * n + 2 * t + 2] = s[lane][n][2:]
    np.testing.assert_allclose(full_s, q @ k.T, atol=1e-12)

    p = s  # any values in the S layout: P·V must take them as the A operand unchanged
    o = [np.zeros((d // 8, 4)) for _ in range(32)]
    for kk in range(bc // 16):
        a = [[(p[lane][2 * kk][0], p[lane][2 * kk][1]), (p[lane][2 * kk][2], p[lane][2 * kk][3]),
              (p[lane][2 * kk + 1][0], p[lane][2 * kk + 1][1]),
              (p[lane][2 * kk + 1][2], p[lane][2 * kk + 1][3])] for lane in range(32)]
        for n in range(d // 8):
            b = _ldmatrix_x2_trans(vs, lambda row, kk=kk, n=n: (16 * kk + row) * stride + 8 * n)
            acc = [o[lane][n] for lane in range(32)]
            _mma_m16n8k16(a, b, acc)
    full_o = np.zeros((16, d))
    for lane in range(32):
        g, t = lane // 4, lane % 4
        for n in range(d // 8):
            full_o[g, 8 * n + 2 * t: 8 * n + 2 * t + 2] = o[lane][n][:2]
            full_o[g + 8, 8 * n + 2 * t: 8 * n + 2 * t + 2] = o[lane][n][2:]
    np.testing.assert_allclose(full_o, full_s @ v, atol=1e-10)
