"""Question 2's engine: every algorithm equals numpy on awkward shapes, shapes are checked,
errors are measured, BLAS is described and limited, and the race is plain data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from microgpt_tui.engine.matmul import blas as blas_module
from microgpt_tui.engine.matmul import measure, race
from microgpt_tui.engine.matmul.blas import blas, blas_info, limit_threads
from microgpt_tui.engine.matmul.loops import (
    Cancelled,
    blocked,
    check_shapes,
    ikj,
    naive_ijk,
    shape_of,
    tile_steps,
)
from microgpt_tui.engine.matmul.measure import gflops, machine_peak, parse_dtype, relative_error
from microgpt_tui.engine.matmul.tiled import numpy_tiled

# The Strassen module is another piece of this issue; its cases run as soon as it exists.
HAS_STRASSEN = (Path(blas_module.__file__).parent / "strassen.py").exists()
needs_strassen = pytest.mark.skipif(not HAS_STRASSEN, reason="engine/matmul/strassen.py not yet")


def _strassen(a, b):
    from microgpt_tui.engine.matmul.strassen import strassen

    return strassen(a, b, cutoff=4)  # a small cutoff: the tests go through the recursion


PURE_PYTHON = {
    "naive": naive_ijk,
    "ikj": ikj,
    "blocked3": lambda a, b: blocked(a, b, 3),
    "blocked64": lambda a, b: blocked(a, b, 64),
}
NUMPY_BASED = {
    "tiled7": lambda a, b: numpy_tiled(a, b, 7),
    "tiled64": lambda a, b: numpy_tiled(a, b, 64),
    "blas": blas,
    "strassen": _strassen,
}
SMALL_SHAPES = [(1, 1, 1), (1, 7, 1), (7, 1, 7), (1, 6, 9), (9, 6, 1), (5, 7, 3), (16, 16, 16),
                (13, 20, 11)]
LARGE_SHAPES = [(300, 300, 300), (257, 129, 300), (64, 300, 1)]
TOLERANCE = {"f64": 1e-13, "f32": 1e-5}


def _params(table: dict) -> list:
    return [pytest.param(function, id=name, marks=needs_strassen if name == "strassen" else ())
            for name, function in table.items()]


def _inputs(m: int, k: int, p: int, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    kind = parse_dtype(dtype)
    return rng.uniform(-1, 1, (m, k)).astype(kind), rng.uniform(-1, 1, (k, p)).astype(kind)


@pytest.mark.parametrize("dtype", ["f64", "f32"])
@pytest.mark.parametrize("shape", SMALL_SHAPES, ids=str)
@pytest.mark.parametrize("multiply", _params(PURE_PYTHON | NUMPY_BASED))
def test_every_algorithm_equals_numpy_on_small_shapes(multiply, shape, dtype):
    a, b = _inputs(*shape, dtype)
    c = np.asarray(multiply(a, b), dtype=np.float64)
    assert c.shape == (shape[0], shape[2])
    assert relative_error(c, a, b) < TOLERANCE[dtype]


@pytest.mark.parametrize("dtype", ["f64", "f32"])
@pytest.mark.parametrize("shape", LARGE_SHAPES, ids=str)
@pytest.mark.parametrize("multiply", _params(NUMPY_BASED))
def test_numpy_based_algorithms_equal_numpy_up_to_300(multiply, shape, dtype):
    a, b = _inputs(*shape, dtype, seed=1)
    c = multiply(a, b)
    assert c.dtype == parse_dtype(dtype)  # float32 stays float32
    assert relative_error(c, a, b) < TOLERANCE[dtype]


@pytest.mark.parametrize("multiply", _params(PURE_PYTHON | NUMPY_BASED))
def test_integers_multiply_exactly(multiply):
    rng = np.random.default_rng(2)
    a, b = rng.integers(-9, 10, (5, 4)), rng.integers(-9, 10, (4, 6))
    assert np.array_equal(np.asarray(multiply(a, b)), a @ b)
    assert np.array_equal(np.asarray(multiply(a.tolist(), b.tolist())), a @ b)


def test_pure_python_loops_take_lists_and_return_lists():
    a, b = [[1, 2, 3], [4, 5, 6]], [[1.5], [0], [-1]]
    for loop in (naive_ijk, ikj, lambda x, y: blocked(x, y, 2)):
        assert loop(a, b) == [[-1.5], [0.0]]


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError) as raised:
        check_shapes(np.zeros((2, 3)), [[0] * 5] * 4)
    assert str(raised.value) == "cannot multiply 2×3 by 4×5: inner sizes 3 and 4 differ"


@pytest.mark.parametrize("multiply", _params(PURE_PYTHON | NUMPY_BASED))
def test_every_algorithm_refuses_mismatched_shapes(multiply):
    with pytest.raises(ValueError, match="cannot multiply"):
        multiply(np.ones((2, 3)), np.ones((4, 5)))


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[1, 2], [3]], "row 0 has 2, row 1 has 1"),
        ([1, 2, 3], "a list of rows"),
        (np.ones(3), "2-D"),
        (np.ones((2, 2, 2)), "2-D"),
    ],
)
def test_malformed_matrices_are_refused(matrix, message):
    with pytest.raises(ValueError, match=message):
        shape_of(matrix)


def test_non_numbers_are_refused_by_the_loops():
    with pytest.raises(ValueError, match="real numbers"):
        naive_ijk([["x"]], [[1]])
    with pytest.raises(ValueError, match="real numbers"):
        ikj(np.array([["x"]]), np.array([[1]]))


@pytest.mark.parametrize("multiply", _params(PURE_PYTHON | NUMPY_BASED))
def test_empty_matrices(multiply):
    assert np.asarray(multiply(np.zeros((0, 5)), np.ones((5, 3)))).reshape(0, 3).shape == (0, 3)
    zeros = np.asarray(multiply(np.ones((4, 0)), np.ones((0, 3))))
    assert zeros.shape == (4, 3) and not zeros.any()


def test_empty_lists():
    assert naive_ijk([], []) == []
    assert shape_of([]) == (0, 0) and shape_of([[]]) == (1, 0)
    assert ikj([[]], []) == [[]]  # 1×0 times 0×0


def test_tile_steps_keep_each_c_tile_while_k_passes():
    assert tile_steps(4, 3, 2, 2) == [(0, 0, 0), (0, 0, 2), (2, 0, 0), (2, 0, 2)]


@pytest.mark.parametrize("tile", [0, -1, 1.5, True])
def test_bad_tiles_are_refused(tile):
    with pytest.raises(ValueError, match="tile size"):
        blocked([[1]], [[1]], tile)
    with pytest.raises(ValueError, match="tile size"):
        numpy_tiled(np.ones((1, 1)), np.ones((1, 1)), tile)


def test_progress_per_row_and_cancel():
    a = np.ones((6, 6))
    seen: list[float] = []
    ikj(a, a, progress=seen.append)
    assert seen == [pytest.approx((i + 1) / 6) for i in range(6)]
    calls = []

    def cancel_after_three() -> bool:
        calls.append(1)
        return len(calls) >= 3

    with pytest.raises(Cancelled):
        naive_ijk(a, a, cancel=cancel_after_three)
    assert len(calls) == 3  # checked once per row: it stopped at the third

    class Stop(Exception):
        pass

    def raising() -> bool:
        raise Stop

    with pytest.raises(Stop):  # a cancel that raises its own exception (a job's check) works
        blocked(a, a, 2, cancel=raising)
    with pytest.raises(Cancelled):
        numpy_tiled(a, a, 2, cancel=lambda: True)


# --- measure -------------------------------------------------------------------------------


def test_gflops_counts_two_operations_per_term():
    assert gflops(2, 3, 4, 1e-9) == pytest.approx(48.0)
    assert math.isnan(gflops(2, 2, 2, 0.0))
    with pytest.raises(ValueError):
        gflops(2, 2, 2, -1.0)


def test_relative_error_is_scaled_by_max_a_max_b_and_k():
    a = np.array([[1.0, -2.0], [3.0, 4.0]])
    b = np.array([[0.5, 1.0], [2.0, -1.0]])
    c = a @ b
    assert relative_error(c, a, b) == 0.0
    c[1, 0] += 0.04  # max|A| = 4, max|B| = 2, k = 2: 0.04 / 16
    assert relative_error(c, a, b) == pytest.approx(0.04 / 16)
    assert relative_error(np.zeros((2, 2)), np.zeros((2, 2)), b) == 0.0
    assert relative_error(np.ones((2, 2)), np.zeros((2, 2)), b) == math.inf
    with pytest.raises(ValueError, match="expected"):
        relative_error(np.zeros((3, 2)), a, b)


def test_float32_error_is_visible_and_float64_is_not():
    a, b = _inputs(64, 64, 64, "f32")
    error32 = relative_error(a @ b, a, b)
    assert 1e-10 < error32 < 1e-6
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    assert relative_error(numpy_tiled(a64, b64, 16), a64, b64) < 1e-15


@pytest.mark.parametrize("dtype", ["f16", "int", None, "float16"])
def test_parse_dtype_takes_f64_and_f32_only(dtype):
    assert parse_dtype("f32") == np.float32 and parse_dtype(np.float64) == np.float64
    with pytest.raises(ValueError, match="f64 or f32"):
        parse_dtype(dtype)


def test_machine_peak_is_measured_once_per_setting():
    first = machine_peak("f64", threads=1, seconds=0.01, n=48)
    assert first > 0
    assert machine_peak("f64", threads=1, seconds=5.0, n=48) == first  # cached, not re-run


# --- blas ----------------------------------------------------------------------------------


def test_blas_info_and_thread_limit(monkeypatch):
    info = blas_info()
    assert info.library and info.threads >= 1
    assert info.library in info.describe()
    with limit_threads(1) as threads:
        assert threads == 1 and blas_info().threads == 1
    assert blas_info().threads == info.threads  # restored
    with limit_threads(None) as threads:
        assert threads == info.threads
    with pytest.raises(ValueError, match="threads"), limit_threads(0):
        pass


def test_a_forced_openblas_kernel_is_reported(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    info = blas_info()
    if info.library != "openblas":
        pytest.skip("numpy here is not built on OpenBLAS")
    assert info.forced_by == "OPENBLAS_CORETYPE=Haswell" and "forced by" in info.describe()
    monkeypatch.delenv("OPENBLAS_CORETYPE")
    assert blas_info().forced_by is None


# --- race ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [pytest.param(n, marks=needs_strassen if n == "strassen" else ())
                                  for n in race.ALGORITHMS])
def test_run_algorithm_reports_a_result(name):
    result = race.run_algorithm(name, 24, "f32", threads=1, seed=3, tile=5, cutoff=4, peak=2.0)
    assert (result.algo, result.n, result.dtype, result.threads) == (name, 24, "f32", 1)
    assert result.seconds > 0 and result.gflops == pytest.approx(gflops(24, 24, 24,
                                                                        result.seconds))
    assert result.fraction_of_peak == pytest.approx(result.gflops / 2.0)
    assert result.error is not None and result.error < 1e-5 and not result.estimated
    assert result.tile == (5 if name in ("blocked", "tiled") else None)
    assert result.cutoff == (4 if name == "strassen" else None)
    assert set(result.to_dict()) >= {"algo", "n", "seconds", "gflops", "fraction_of_peak",
                                     "error", "estimated"}


def test_pure_python_beyond_its_limit_is_estimated(monkeypatch):
    monkeypatch.setattr(race, "FIT_SIZES", (6, 8, 10))
    monkeypatch.setattr(race, "_fits", {})
    seen: list[float] = []
    result = race.run_algorithm("ikj", race.PURE_PYTHON_MAX_N + 1, peak=1.0,
                                progress=seen.append)
    assert result.estimated and result.error is None
    assert result.seconds == pytest.approx(race._fits[("ikj", "f64", race.DEFAULT_TILE)]
                                           * (race.PURE_PYTHON_MAX_N + 1) ** 3)
    assert seen and seen[-1] == pytest.approx(1.0)


def test_fit_n3_is_the_geometric_mean_of_t_over_n_cubed():
    assert race.fit_n3([(2, 8 * 3.0), (4, 64 * 3.0)]) == pytest.approx(3.0)
    assert race.fit_n3([(10, 1e3 * 2.0), (10, 1e3 * 8.0)]) == pytest.approx(4.0)
    with pytest.raises(ValueError):
        race.fit_n3([])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "cubic"}, "unknown algorithm"),
        ({"n": 0}, "n must be"),
        ({"n": race.MAX_N + 1}, "n must be"),
        ({"n": 2.0}, "n must be"),
        ({"tile": 0}, "tile size"),
        ({"cutoff": 0}, "cutoff"),
        ({"dtype": "f16"}, "f64 or f32"),
        ({"threads": 0}, "threads"),
    ],
)
def test_run_algorithm_refuses_bad_settings(options, message):
    settings = {"name": "blas", "n": 4, "peak": 1.0} | options
    with pytest.raises(ValueError, match=message):
        race.run_algorithm(**settings)


@pytest.mark.parametrize("name", ["naive", "blas"])
def test_the_race_can_be_cancelled(name):
    with pytest.raises(Cancelled):
        race.run_algorithm(name, 32, cancel=lambda: True, peak=1.0)


def test_run_race_yields_each_result_with_one_progress_bar():
    seen: list[float] = []
    results = list(race.run_race(["ikj", "blas"], 8, peak=1.0, progress=seen.append))
    assert [r.algo for r in results] == ["ikj", "blas"]
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    assert max(f for f in seen if f <= 0.5) == pytest.approx(0.5)


def test_the_same_seed_gives_the_same_inputs():
    a1, b1 = race.make_inputs(5, "f32", seed=7)
    a2, b2 = race.make_inputs(5, "f32", seed=7)
    assert np.array_equal(a1, a2) and np.array_equal(b1, b2) and a1.dtype == np.float32
    assert not np.array_equal(a1, race.make_inputs(5, "f32", seed=8)[0])
    assert -1 <= a1.min() and a1.max() < 1


def test_a_faster_blas_run_raises_the_peak_taken_earlier():
    from microgpt_tui.engine.matmul.measure import note_peak

    first = measure.machine_peak("f32", 1, seconds=0.01, n=64)
    note_peak("f32", 1, first * 10)
    assert measure.machine_peak("f32", 1, seconds=0.01, n=64) == first * 10
