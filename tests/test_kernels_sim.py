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
    flash_block_steps,
    make_inputs,
    occupancy,
    reference,
    simulate,
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
    # Flash reads Q once and K, V once per query tile: (2 + 2·⌈N/BR⌉)·N·d·4 bytes.
    assert attention_hbm_bytes(flash) == (2 + 2 * 32) * 1024 * 64 * 4


def test_flash_row_state_is_the_online_softmax():
    problem = Problem("flash_attention_fwd", 100, 16)
    inputs = make_inputs(problem, seed=3)
    defines = defines_for(problem)
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
    result = simulate(Problem("matmul_tiled", 48))
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
    slots[0] = (1_000, 1_500, 7, 2, 1, 0, 0, 0)
    slots[2] = (1_600, 1_900, 7, 2, 1, 0, 2, 0)
    records = records_from_slots(slots, launch_index=0, t0_ns=1_000)
    assert [(r.sm, r.block, r.step, r.start_ns, r.end_ns) for r in records] == [
        (7, (2, 1, 0), 0, 0, 500), (7, (2, 1, 0), 2, 600, 900)
    ]
    assert SLOT_DTYPE.itemsize == 40  # sizeof(TraceSlot) in trace.cuh


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
    refs = tiled.tiles(0, (1, 2, 0), 3)  # the last k tile of C tile (2, 1)
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
