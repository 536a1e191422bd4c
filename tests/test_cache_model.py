"""The cache model against cases worked out on paper, and the tiling view's step trace."""

from __future__ import annotations

import pytest

from microgpt_tui.engine.matmul import cache_model
from microgpt_tui.engine.matmul.cache_model import (
    Cache,
    CacheLevel,
    Hierarchy,
    access_stream,
    machine_levels,
    simulate,
    tiling_trace,
)
from microgpt_tui.engine.matmul.loops import tile_steps
from microgpt_tui.kernels.replay import build_replay
from microgpt_tui.kernels.trace import MemoryLevel, dram_bytes

# Two sets of one 16-byte line (two float64s): at n = 2 each matrix row is one line, and row r
# of every matrix lands in set r % 2 (each matrix starts on its own page).
DIRECT_MAPPED = [CacheLevel("L1", 32, 16, 1)]
# Everything fits: only the first touch of each line misses.
HUGE = [CacheLevel("L1", 64 * 1024, 64, 1024)]
# 16 lines, fully associative (no conflict misses, only capacity), and a small L2.
TINY_L1_L2 = [CacheLevel("L1", 1024, 64, 16), CacheLevel("L2", 8192, 64, 4)]


def test_cache_level_geometry_and_checks():
    level = CacheLevel("L1", 48 * 1024, 64, 12)
    assert level.sets == 64 and level.describe() == "L1 48 KiB, 64 B lines, 12-way"
    assert "direct-mapped" in DIRECT_MAPPED[0].describe()
    with pytest.raises(ValueError, match="whole number of sets"):
        CacheLevel("L1", 1000, 64, 4)
    with pytest.raises(ValueError, match="ways"):
        CacheLevel("L1", 1024, 64, 0)


def test_lru_eviction_order_in_a_two_way_set():
    cache = Cache(CacheLevel("t", 16, 8, 2))  # one set of two 8-byte lines
    assert [cache.access(line) for line in (1, 2, 1)] == [False, False, True]
    assert cache.lines(0) == [2, 1]  # least recently used first
    assert cache.access(3) is False and cache.lines(0) == [1, 3]  # 2 was the LRU: evicted
    assert cache.access(2) is False and cache.lines(0) == [3, 2]  # now 1 goes
    assert cache.access(3) is True and cache.lines(0) == [2, 3]


def test_a_direct_mapped_cache_naive_loop_by_hand():
    """n = 2, sets S0/S1. Per (i, j) the loop touches A_i, B_0, A_i, B_1, C_i (row lines):

    (0,0): A0 S0 miss, B0 S0 miss, A0 S0 miss, B1 S1 miss, C0 S0 miss    5 misses
    (0,1): A0 miss,    B0 miss,    A0 miss,    B1 hit,     C0 miss       4 + 1 hit (B)
    (1,0): A1 S1 miss, B0 S0 miss, A1 hit,     B1 S1 miss, C1 S1 miss    4 + 1 hit (A)
    (1,1): A1 miss,    B0 hit,     A1 hit,     B1 miss,    C1 miss       3 + 2 hits (A, B)
    """
    (l1,) = simulate("naive", 2, levels=DIRECT_MAPPED).levels
    assert l1.misses == (6, 6, 4) and l1.hits == (2, 2, 0)


def test_a_direct_mapped_cache_ikj_loop_by_hand():
    """Per (i, k): A_i, then B_k, C_i for j = 0 and again for j = 1:

    (0,0): A0 S0 miss, B0 S0 miss, C0 S0 miss, B0 miss, C0 miss          5 misses
    (0,1): A0 S0 miss, B1 S1 miss, C0 S0 miss, B1 hit,  C0 hit           3 + 2 hits
    (1,0): A1 S1 miss, B0 S0 miss, C1 S1 miss, B0 hit,  C1 hit           3 + 2 hits
    (1,1): A1 S1 miss, B1 S1 miss, C1 S1 miss, B1 miss, C1 miss          5 misses
    """
    (l1,) = simulate("ikj", 2, levels=DIRECT_MAPPED).levels
    assert l1.misses == (4, 6, 6) and l1.hits == (0, 2, 2)


@pytest.mark.parametrize(("loop", "accesses"), [("naive", 2 * 512 + 64), ("ikj", 2 * 512 + 64),
                                                ("blocked", 2 * 512 + 64 * 2)])
def test_a_cache_that_holds_everything_misses_once_per_line(loop, accesses):
    """n = 8: each matrix is 512 bytes, 8 lines of 64 bytes. Blocked with tile 4 loads A[i][k]
    once per run of j, two runs per row."""
    (l1,) = simulate(loop, 8, tile=4, levels=HUGE).levels
    assert l1.misses == (8, 8, 8)
    assert l1.total_hits + l1.total_misses == accesses


def test_the_access_streams_in_order():
    base = cache_model.Layout(2).matrix_bytes  # A at 0, B at base, C at 2·base
    naive = access_stream("naive", 2)
    pairs = list(zip(naive.matrices.tolist(), naive.addresses.tolist(), strict=True))
    assert pairs[:5] == [(0, 0), (1, base), (0, 8), (1, base + 16), (2, 2 * base)]
    assert naive.done_after.tolist() == [2, 5, 7, 10, 12, 15, 17, 20]
    ikj = access_stream("ikj", 2)
    pairs = list(zip(ikj.matrices.tolist(), ikj.addresses.tolist(), strict=True))
    assert pairs[:5] == [(0, 0), (1, base), (2, 2 * base), (1, base + 8), (2, 2 * base + 8)]


def test_blocking_wins_when_b_does_not_fit():
    """n = 32: each matrix is 8 KiB (4 lines a row) against a 16-line L1. The naive loop's walk
    down a column of B needs 32 lines, so every B access misses; i-k-j walks rows; tiles of 8
    (2 + 8 + 8 lines of A, B, C) nearly fit."""
    naive, ikj, blocked = cache_model.compare_loops(32, 8, TINY_L1_L2)
    assert naive.levels[0].misses[1] == 32**3
    misses = [report.levels[0].total_misses for report in (naive, ikj, blocked)]
    assert misses[0] > 5 * misses[1] and misses[1] > 2 * misses[2]
    for report in (naive, ikj, blocked):
        l1, l2 = report.levels
        assert l2.total_hits + l2.total_misses == l1.total_misses  # L2 sees L1's misses only
        assert l1.miss_rate == pytest.approx(l1.total_misses / (l1.total_hits + l1.total_misses))
    assert blocked.to_dict()["levels"][0]["B"]["misses"] == blocked.levels[0].misses[1]


def test_hierarchy_access_and_run_count_alike():
    stream = access_stream("naive", 8)
    one_by_one, in_bulk = Hierarchy(TINY_L1_L2), Hierarchy(TINY_L1_L2)
    for matrix, address in zip(stream.matrices.tolist(), stream.addresses.tolist(), strict=True):
        one_by_one.access(matrix, address)
    in_bulk.run(stream.matrices.tolist(), stream.addresses.tolist())
    assert one_by_one.counts() == in_bulk.counts()


def test_bad_sizes_and_loops_are_refused():
    with pytest.raises(ValueError, match="from 1 to"):
        simulate("naive", cache_model.MAX_N + 1)
    with pytest.raises(ValueError, match="tile size"):
        simulate("blocked", 8, tile=0)
    with pytest.raises(ValueError, match="unknown loop"):
        simulate("kij", 8)
    with pytest.raises(ValueError, match="at least 4"):
        tiling_trace(64, 2, HUGE)


def _fake_sysfs(root, entries):
    for index, (level, kind, size, line, ways) in enumerate(entries):
        folder = root / f"index{index}"
        folder.mkdir()
        for name, value in (("level", level), ("type", kind), ("size", size),
                            ("coherency_line_size", line), ("ways_of_associativity", ways)):
            (folder / name).write_text(f"{value}\n")


def test_machine_levels_from_sysfs_and_the_fallbacks(tmp_path):
    described = tmp_path / "described"
    described.mkdir()
    _fake_sysfs(described, [(1, "Data", "48K", 64, 12), (1, "Instruction", "32K", 64, 8),
                            (2, "Unified", "1024K", 64, 16), (3, "Unified", "32768K", 64, 16)])
    assert machine_levels(described) == (CacheLevel("L1", 48 * 1024, 64, 12),
                                         CacheLevel("L2", 1024 * 1024, 64, 16))
    broken = tmp_path / "broken"
    broken.mkdir()
    _fake_sysfs(broken, [(1, "Data", "lots", 64, 12)])
    assert machine_levels(broken) == (cache_model.DEFAULT_L1, cache_model.DEFAULT_L2)
    assert machine_levels(tmp_path / "missing") == (cache_model.DEFAULT_L1,
                                                    cache_model.DEFAULT_L2)


# --- the step trace ------------------------------------------------------------------------


def test_the_trace_steps_through_the_blocked_loop_beside_the_naive_one():
    n, tile = 16, 4
    trace = tiling_trace(n, tile, TINY_L1_L2)
    assert len(trace.steps) == 64
    assert [(s.i_tile * tile, s.j_tile * tile, s.k_tile * tile) for s in trace.steps] == \
        tile_steps(n, n, n, tile)
    assert [s.multiply_adds for s in trace.steps] == [64 * (i + 1) for i in range(64)]
    last = trace.steps[-1]
    assert last.blocked == trace.blocked == simulate("blocked", n, tile, TINY_L1_L2).levels
    assert last.naive == trace.naive == simulate("naive", n, tile, TINY_L1_L2).levels
    # Each step's own counts add up to the cumulative ones.
    for level in range(2):
        assert sum(s.step[level].total_misses for s in trace.steps) == \
            trace.blocked[level].total_misses
    c, a, b = trace.steps[5].tiles  # C(0, 1) += A(0, 1) · B(1, 1)
    assert (c.operand, c.rows, c.cols) == ("C", (0, 4), (4, 8))
    assert (a.operand, a.rows, a.cols) == ("A", (0, 4), (4, 8))
    assert (b.operand, b.rows, b.cols) == ("B", (4, 8), (4, 8))


def test_trace_levels_and_cached_tiles():
    trace = tiling_trace(16, 8, HUGE)  # a row is two lines; a tile row is one
    first, second = trace.steps[0], trace.steps[1]
    # Step 0 touches its tiles for the first time: from DRAM. Step 1 (C(0,0) again) finds C
    # in L1 but reads new A and B tiles from DRAM.
    assert [ref.level for ref in first.tiles] == [MemoryLevel.DRAM] * 3
    assert [ref.level for ref in second.tiles] == [MemoryLevel.SRAM, MemoryLevel.DRAM,
                                                   MemoryLevel.DRAM]
    a_cached, b_cached, c_cached = first.cached[0]
    assert (a_cached, b_cached, c_cached) == ({(0, 0)}, {(0, 0)}, {(0, 0)})
    every_tile = {(r, c) for r in range(2) for c in range(2)}
    assert trace.steps[-1].cached[0] == (every_tile, every_tile, every_tile)
    assert trace.steps[-1].naive[0].total_misses == 96  # the naive loop: 32 lines × 3


def test_the_trace_replays_through_the_kernel_replay():
    trace = tiling_trace(8, 4, TINY_L1_L2)
    replay = build_replay(trace.kernel_trace(), trace.tile_map())
    assert len(replay) == len(trace.steps) == 8
    assert replay.refs[3] == list(trace.steps[3].tiles)
    grids = replay.tile_grids(3, 3)
    assert [grid.title for grid in grids] == ["C", "A", "B", "C tiles × k steps"]
    assert any("L1" in words or "DRAM" in words for _, words in replay.legend)
    assert trace.kernel_trace().simulated and trace.kernel_trace().sm_count == 1


def test_the_trace_counts_float64_bytes():
    """The cache model's matrices are float64: a 4×4 tile is 128 bytes (the CUDA traces' float32
    tiles keep 4 bytes an element), and the first step reads its three tiles from DRAM."""
    trace = tiling_trace(16, 4, HUGE)
    c, a, b = trace.steps[0].tiles
    assert c.bytes == a.bytes == b.bytes == 16 * 8
    replay = build_replay(trace.kernel_trace(), trace.tile_map())
    first_step_dram = sum(dram_bytes(ref, trace.tile_map().levels) for ref in replay.refs[0])
    assert first_step_dram == 3 * 16 * 8
