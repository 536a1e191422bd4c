"""The matmul bench's logic on tiny sizes: the exact reference, the crossover rule, the child
process's records, and one whole run shrunk to a few milliseconds. No speed is asserted."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from microgpt_tui.tui.bench import matmul as bench
from microgpt_tui.tui.bench.runner import Comparison, Goal, Measurement


def test_two_product_is_exact():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, 200), rng.uniform(-1e3, 1e3, 200)
    product, error = bench.two_product(x, y)
    for xi, yi, p, e in zip(x, y, product, error, strict=True):
        assert Fraction(p) + Fraction(e) == Fraction(xi) * Fraction(yi)


def test_exact_entries_are_the_correctly_rounded_sums():
    rng = np.random.default_rng(1)
    a, b = rng.uniform(-1, 1, (6, 50)), rng.uniform(-1, 1, (50, 7))
    rows, cols = np.array([0, 2, 5]), np.array([1, 6])
    found = bench.exact_entries(a, b, rows, cols)
    for i, row in enumerate(rows):
        for j, col in enumerate(cols):
            exact = sum(Fraction(a[row, k]) * Fraction(b[k, col]) for k in range(50))
            assert found[i, j] == float(exact)  # Fraction → float rounds to nearest


def test_sampled_error_scale():
    a, b = np.full((4, 4), 0.5), np.full((4, 4), 2.0)
    rows = cols = np.arange(4)
    exact = bench.exact_entries(a, b, rows, cols)
    c = a @ b
    assert bench.sampled_error(c, a, b, exact, rows, cols) == 0.0
    c[1, 2] += 0.25  # scale: max|A|·max|B|·k = 0.5·2·4 = 4
    assert bench.sampled_error(c, a, b, exact, rows, cols) == pytest.approx(0.25 / 4)


def _comparison(n: int, strassen: float, blas: float) -> Comparison:
    return Comparison(label=f"Strassen vs BLAS, n={n}", ours="s", peer="b", unit="GFLOP/s",
                      goal=None, ours_samples=[strassen], peer_samples=[blas])


@pytest.mark.parametrize(
    ("ratios", "expected"),
    [
        ({1024: 0.8, 2048: 0.95, 4096: 1.01, 8192: 1.08}, 4096),
        ({1024: 1.02, 2048: 0.97, 4096: 1.01, 8192: 1.08}, 4096),  # must stay ahead after
        ({1024: 1.1, 2048: 1.1}, 1024),
        ({1024: 0.9, 8192: 0.99}, None),
    ],
)
def test_crossover_is_where_strassen_stays_ahead(ratios, expected):
    comparisons = [_comparison(n, 100.0 * r, 100.0) for n, r in reversed(ratios.items())]
    found = bench.crossover(comparisons)
    if expected is None:
        assert not found.samples and not found.met and "below" in found.note
    else:
        assert found.samples == [expected] and f"n = {expected}" in found.what


def test_sweep_cutoff_gives_every_size_a_level():
    for n in bench.SWEEP:
        assert bench.levels_for(n, n, n, bench.sweep_cutoff(n)) >= 1


def test_undisturbed_returns_a_sample():
    calls = []

    def sample() -> float:
        calls.append(1)
        return 0.5

    retaken: list[int] = []
    assert bench.undisturbed(sample, retaken)() == 0.5
    assert 1 <= len(calls) <= bench.RETAKES
    assert len(retaken) == len(calls) - 1


def test_records_survive_the_child_pipe():
    results = [
        Comparison(label="x", ours="o", peer="p", unit="GFLOP/s", goal=Goal(1.05, "g"),
                   ours_samples=[2.0], peer_samples=[1.0], note="n"),
        Comparison(label="y", ours="o", peer="p", unit="s", goal=None,
                   ours_samples=[1.0], peer_samples=[2.0]),
        Measurement(label="z", what="w", unit="", limit=3.0, at_most=True, samples=[1.0]),
    ]
    for result in results:
        again = bench.decode(json.loads(json.dumps(bench.encode(result))))
        assert again == result
        assert again.record("matmul") == result.record("matmul")


def test_run_moves_to_a_child_only_when_the_kernel_is_forced(monkeypatch):
    seen = []
    monkeypatch.setattr(bench, "measure", lambda rounds, forced: seen.append(("here", forced)))
    monkeypatch.setattr(bench, "run_in_child",
                        lambda rounds, forced: seen.append(("child", forced)))
    monkeypatch.delenv(bench.CHILD_ENV, raising=False)
    monkeypatch.setenv(bench.CORETYPE_ENV, "Haswell")
    bench.run(1)
    monkeypatch.setenv(bench.CHILD_ENV, "OPENBLAS_CORETYPE=Haswell")  # already the child
    bench.run(1)
    monkeypatch.delenv(bench.CHILD_ENV)
    monkeypatch.delenv(bench.CORETYPE_ENV)
    bench.run(1)
    assert seen == [("child", "OPENBLAS_CORETYPE=Haswell"),
                    ("here", "OPENBLAS_CORETYPE=Haswell"), ("here", None)]


def test_a_whole_run_on_tiny_sizes(monkeypatch):
    monkeypatch.setattr(bench, "SWEEP", (32, 64))
    monkeypatch.setattr(bench, "GOAL_N", 64)
    monkeypatch.setattr(bench, "LOOP_N", 12)
    monkeypatch.setattr(bench, "PEAK_SIZES", dict.fromkeys(bench.PEAK_SIZES, 24))
    monkeypatch.setattr(bench, "PEAK_TILES", {"blocked": 8, "tiled": 8})
    monkeypatch.setattr(bench, "machine_peak", lambda dtype, threads, seconds, n: 100.0)
    results = bench.measure(1, forced="OPENBLAS_CORETYPE=Haswell")
    labels = [result.label for result in results]
    assert labels[:4] == ["Strassen vs BLAS, n=32", "Strassen vs BLAS, n=64",
                          "Strassen, new workspace, n=64", "Strassen crossover n"]
    assert labels[4:6] == ["Strassen error, n=64 (×1e-18)", "BLAS error, n=64 (×1e-18)"]
    assert labels[6] == "i-k-j vs i-j-k (Python), n=12"
    assert all(len(f"matmul: {label}") <= 40 for label in labels)  # the table's column
    goals = [r.goal.text for r in results if isinstance(r, Comparison) and r.goal]
    assert goals == [bench.GOAL.text, bench.LOOP_GOAL.text]  # the 8192 row and the loops
    shares = [r for r in results if "vs peak" in r.label]
    assert {r.label.split()[0] for r in shares} == set(bench.ALGORITHMS)
    assert all(r.peer_median == 100.0 and r.ours_median > 0 for r in shares)
    assert all("run without OPENBLAS_CORETYPE=Haswell" in r.note for r in results)
    for result in results:
        json.dumps(result.record("matmul"), allow_nan=False)  # what --json prints
        assert result.line("matmul")
