"""The Monte Carlo pi engine: honest estimates, exact and reproducible counts, the quasi mode."""

from __future__ import annotations

import math
import multiprocessing
import threading
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction

import numpy as np
import pytest

from microgpt_tui.engine import montecarlo as mc
from microgpt_tui.engine.montecarlo import (
    BLOCK_DARTS,
    MAX_DARTS,
    MAX_SEED,
    Mode,
    Tally,
    count_inside,
    estimate_pi,
    run_estimate,
    throw_darts,
)
from microgpt_tui.engine.quasirandom import halton_points, radical_inverse

P = math.pi / 4


def true_standard_error(darts: int) -> float:
    """4·√(p(1−p)/n) at the true p = π/4 (not the estimate's own, which can be tiny by luck)."""
    return 4 * math.sqrt(P * (1 - P) / darts)


# -- statistics ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("darts", "seed"), [(10**3, 1), (10**4, 2), (10**5, 3), (10**6, 4), (10**7, 5), (3 * 10**7, 6)]
)
def test_pseudo_estimates_lie_within_five_standard_errors(darts, seed):
    tally = run_estimate(darts, seed=seed).tally
    assert tally.darts == darts
    assert abs(tally.estimate - math.pi) < 5 * true_standard_error(darts)


@pytest.mark.parametrize(("darts", "seed"), [(10**4, 7), (2 * 10**5, 8)])
def test_python_loop_estimates_lie_within_five_standard_errors(darts, seed):
    tally = run_estimate(darts, seed=seed, mode="python").tally
    assert abs(tally.estimate - math.pi) < 5 * true_standard_error(darts)


def test_many_seeds_spread_like_the_standard_error():
    """Over 40 seeds the estimates' spread matches 4·√(p(1−p)/n) (a chi-square-ish check)."""
    darts = 10**5
    estimates = [run_estimate(darts, seed=seed, workers=1).tally.estimate for seed in range(40)]
    spread = float(np.std(estimates, ddof=1))
    assert 0.6 * true_standard_error(darts) < spread < 1.5 * true_standard_error(darts)
    assert abs(np.mean(estimates) - math.pi) < 5 * true_standard_error(darts) / math.sqrt(40)


def test_tally_statistics():
    tally = Tally(1000, 785)
    assert tally.estimate == 3.14
    assert tally.error == pytest.approx(abs(3.14 - math.pi))
    assert tally.standard_error == pytest.approx(4 * math.sqrt(0.785 * 0.215 / 1000))
    low, high = tally.interval95
    assert low < tally.estimate < high
    assert high - low == pytest.approx(2 * 1.96 * tally.standard_error, rel=0.02)
    assert Tally(2, 1) + Tally(3, 2) == Tally(5, 3)
    # Wilson's interval stays sound where estimate ± 1.96·SE collapses to a point.
    assert Tally(1, 1).standard_error == 0
    low, high = Tally(1, 1).interval95
    assert 0 < low < 4 and high == 4
    assert math.isnan(Tally(0, 0).estimate)


def test_counts_are_exact_python_ints_far_beyond_a_trillion_darts():
    start = 10**12 + 12_345  # block 59,605: the stream reaches that far without drawing the rest
    counted = count_inside(5_000, seed=3, start=start)
    assert isinstance(counted, int)
    assert counted == int(throw_darts(5_000, seed=3, start=start).inside.sum())
    # Beyond 2^53 a float count would lose single darts; the tally does not.
    big = Tally(2**60, 2**59 + 1) + Tally(1, 1)
    assert (big.darts, big.inside) == (2**60 + 1, 2**59 + 2)
    assert big.estimate == pytest.approx(2.0)


# -- the dart stream ------------------------------------------------------------------------------


def test_same_seed_same_counts_for_any_worker_count():
    darts = 3 * BLOCK_DARTS + 12_345  # several pieces, so workers really share the work
    counts = {w: run_estimate(darts, seed=42, workers=w).tally.inside for w in (1, 2, 3)}
    assert len(set(counts.values())) == 1
    assert run_estimate(darts, seed=42, workers=2).tally.inside == counts[1]
    assert run_estimate(darts, seed=43, workers=2).tally.inside != counts[1]


@pytest.mark.parametrize("mode", ["pseudo", "quasi", "python"])
def test_the_count_for_n_is_the_sum_over_any_split(mode):
    rng = np.random.default_rng(0)
    block = BLOCK_DARTS if mode == "pseudo" else mc.PYTHON_BLOCK_DARTS
    start = block - 3_001  # straddle a block boundary and the 4-darts-per-output lanes
    total = 9_000 if mode == "python" else 40_000
    whole = count_inside(total, seed=9, mode=mode, start=start)
    for _ in range(3):
        cuts = np.sort(rng.choice(np.arange(1, total), size=7, replace=False))
        edges = [0, *cuts.tolist(), total]
        parts = [
            count_inside(b - a, seed=9, mode=mode, start=start + a)
            for a, b in zip(edges, edges[1:], strict=False)
        ]
        assert sum(parts) == whole
    singles = [count_inside(1, seed=9, mode=mode, start=start + k) for k in range(4)]
    assert sum(singles) == count_inside(4, seed=9, mode=mode, start=start)


def test_streaming_progress_sums_to_the_single_count():
    darts = 2 * BLOCK_DARTS + 777
    events = list(estimate_pi(darts, seed=5, start=1_000, workers=2))
    assert [e.tally.darts for e in events] == sorted(e.tally.darts for e in events)
    assert events[-1].complete
    assert events[-1].tally.inside == count_inside(darts, seed=5, start=1_000)


def test_pieces_run_on_a_given_executor_with_the_same_counts():
    """A process pool (where a plain-Python loop leaves the caller's GIL free) counts the same
    darts; the stream leaves the executor running for its next user."""
    darts = 3 * mc.PIECE_DARTS[Mode.PYTHON] + 123
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        events = list(estimate_pi(darts, seed=4, mode="python", start=500, executor=pool))
        assert events[-1].complete
        assert events[-1].tally.inside == count_inside(darts, seed=4, mode="python", start=500)
        cancel = threading.Event()
        for _ in estimate_pi(40 * mc.PIECE_DARTS[Mode.PYTHON], seed=4, mode="python",
                             cancel=cancel, executor=pool):
            cancel.set()
        assert pool.submit(abs, -1).result() == 1  # not shut down by the stream


def test_fast_count_matches_the_exact_test_on_every_dart():
    """The coarse-cell shortcut counts exactly what the full 30-bit test on each dart gives."""
    darts = throw_darts(600_000, seed=11, start=BLOCK_DARTS - 100_000)
    assert count_inside(600_000, seed=11, start=BLOCK_DARTS - 100_000) == int(darts.inside.sum())
    # Coordinates are 30-bit cell midpoints, uniform over the square.
    scaled = darts.x * 2**30 - 0.5
    assert np.array_equal(scaled, np.round(scaled))
    assert 0 < darts.x.min() and darts.x.max() < 1 and 0 < darts.y.min() and darts.y.max() < 1
    assert abs(darts.x.mean() - 0.5) < 0.003 and abs(darts.y.mean() - 0.5) < 0.003
    inside = darts.x**2 + darts.y**2 < 1
    assert np.array_equal(inside, darts.inside)


def test_coarse_cells_decide_exactly_what_they_claim():
    """For all 65,536 coarse cells: U² + V² ≥ 2^16 puts every lattice point of the cell outside;
    U² + V² below the candidate line puts every point inside (so only candidates need fine bits).
    """
    cell = np.arange(1 << 16, dtype=np.uint64)
    u, v = cell >> np.uint64(8), cell & np.uint64(0xFF)
    step, one = np.uint64(1 << (mc.FINE_BITS + 1)), np.uint64(1)
    nearest = (u * step + one) ** 2 + (v * step + one) ** 2  # (2X+1)² + (2Y+1)², X = U·2^22
    farthest = ((u + one) * step - one) ** 2 + ((v + one) * step - one) ** 2
    limit = np.uint64(1 << 62)
    coarse = (u * u + v * v).astype(np.int64)
    assert (nearest[coarse >= 1 << 16] >= limit).all()
    assert (farthest[coarse < mc._CANDIDATE] < limit).all()


@pytest.mark.parametrize("mode", ["pseudo", "quasi", "python"])
def test_drawn_darts_are_the_counted_darts(mode):
    drawn = throw_darts(3_000, seed=2, mode=mode, start=70_000)
    assert drawn.x.shape == drawn.y.shape == drawn.inside.shape == (3_000,)
    assert int(drawn.inside.sum()) == count_inside(3_000, seed=2, mode=mode, start=70_000)


def test_cancel_stops_early_and_keeps_an_exact_prefix():
    cancel = threading.Event()
    seen = []
    for progress in estimate_pi(40 * BLOCK_DARTS, seed=1, workers=2, cancel=cancel):
        seen.append(progress)
        cancel.set()
    assert len(seen) == 1 and not seen[0].complete
    prefix = seen[0].tally
    assert prefix.inside == count_inside(prefix.darts, seed=1)
    cancelled_at_once = threading.Event()
    cancelled_at_once.set()
    assert list(estimate_pi(10**9, cancel=cancelled_at_once)) == []
    assert count_inside(10**6, cancel=cancelled_at_once) is None


def test_memory_stays_small_whatever_the_count():
    tracemalloc.start()
    try:
        run_estimate(4 * BLOCK_DARTS, seed=3, workers=2)
        run_estimate(16 * BLOCK_DARTS, seed=3, workers=16)  # more workers take smaller chunks
        run_estimate(2**21, mode="quasi", workers=2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20


@pytest.mark.parametrize(
    ("darts", "seed", "start"),
    [(0, 0, 0), (-1, 0, 0), (1.5, 0, 0), (True, 0, 0), (MAX_DARTS + 1, 0, 0), (10, 0, MAX_DARTS),
     (10, -1, 0), (10, MAX_SEED + 1, 0), (10, 0, -5)],
)
def test_bad_requests_are_refused(darts, seed, start):
    with pytest.raises(ValueError):
        count_inside(darts, seed=seed, start=start)


def test_bad_worker_counts_are_refused():
    with pytest.raises(ValueError):
        run_estimate(10, workers=0)


# -- quasi-random points --------------------------------------------------------------------------


def reference_radical_inverse(index: int, base: int) -> Fraction:
    result, scale = Fraction(0), Fraction(1, base)
    while index:
        index, digit = divmod(index, base)
        result += digit * scale
        scale /= base
    return result


def test_radical_inverse_mirrors_the_digits():
    assert radical_inverse(np.arange(8), 2).tolist() == [0, 0.5, 0.25, 0.75, 0.125, 0.625, 0.375,
                                                         0.875]
    assert radical_inverse(np.array([1, 2, 3, 4]), 3) == pytest.approx([1 / 3, 2 / 3, 1 / 9, 4 / 9])
    rng = np.random.default_rng(1)
    indices = rng.integers(0, 10**15, size=200)
    for base in (2, 3, 5):
        got = radical_inverse(indices, base)
        want = [float(reference_radical_inverse(int(i), base)) for i in indices]
        assert got == pytest.approx(want, abs=1e-15)
    with pytest.raises(ValueError):
        radical_inverse(np.arange(3), 1)


def test_halton_points_fill_the_square_evenly():
    x, y = halton_points(0, 3**6 * 2**6)
    counts, _, _ = np.histogram2d(x, y, bins=[8, 9], range=[[0, 1], [0, 1]])
    # 2^6 · 3^6 points: each 1/8 × 1/9 box holds exactly its share.
    assert (counts == x.size / 72).all()


def test_quasi_random_error_at_a_hundred_thousand_points():
    """Halton's star discrepancy is O((log n)² / n); for our points n·|error| / (ln n)² stays
    below 0.4 from n = 10^3 to 10^6 (measured), so (ln n)² / n bounds the error with room
    to spare — about ten times tighter than the random standard error at 10^5."""
    n = 10**5
    error = run_estimate(n, mode="quasi").tally.error
    bound = math.log(n) ** 2 / n
    assert error < bound
    assert bound < true_standard_error(n) / 3


def test_quasi_error_falls_roughly_like_one_over_n():
    errors = {n: run_estimate(n, mode="quasi").tally.error for n in (10**3, 10**6)}
    # A thousand times the points: ~1000× smaller error for 1/n (and only ~32× for 1/√n).
    assert errors[10**6] < errors[10**3] / 100
