"""Strassen's recursion: equal to numpy on every kind of shape, the schemes' data is the
arithmetic that runs, and bad input is refused with one clear line. Small sizes only (n ≤ 300);
speed is `microgpt-tui bench matmul`'s business."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from microgpt_tui.engine.matmul.strassen import (
    STRASSEN,
    WINOGRAD,
    Scheme,
    Workspace,
    multiplications,
    scheme,
    strassen,
)

strassen_module = importlib.import_module("microgpt_tui.engine.matmul.strassen")

SHAPES = [
    (1, 1, 1),
    (1, 5, 1),  # 1×n times n×1
    (5, 1, 4),  # n×1 times 1×n: a rank-1 product
    (2, 2, 2),
    (3, 3, 3),
    (7, 5, 3),
    (16, 16, 16),
    (33, 17, 65),  # odd and non-square at every level
    (64, 63, 62),
    (101, 99, 57),
    (128, 128, 128),
    (255, 256, 257),
    (300, 300, 300),
]


def _inputs(m: int, k: int, p: int, dtype=np.float64, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1, 1, (m, k)).astype(dtype), rng.uniform(-1, 1, (k, p)).astype(dtype))


def _tolerance(k: int, dtype) -> float:
    # Strassen's error bound grows with the levels; with |entries| ≤ 1 and cutoff 4 this is
    # generous enough for both dtypes and still far below any real mistake (an entry is ~√k).
    return (2e-12 if dtype == np.float64 else 2e-3) * max(k, 1)


@pytest.mark.parametrize("winograd", [True, False], ids=["winograd", "strassen"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_equals_numpy(shape, dtype, winograd):
    a, b = _inputs(*shape, dtype=dtype)
    result = strassen(a, b, cutoff=4, winograd=winograd)  # small cutoff: it really recurses
    assert result.shape == (shape[0], shape[2])
    assert result.dtype == dtype
    np.testing.assert_allclose(result, a @ b, rtol=0, atol=_tolerance(shape[1], dtype))


@pytest.mark.parametrize("levels", [0, 1, 2, 3])
def test_levels_limit_the_recursion(levels):
    a, b = _inputs(96, 96, 96)
    result = strassen(a, b, cutoff=1, levels=levels)
    np.testing.assert_allclose(result, a @ b, rtol=0, atol=1e-11)
    if levels == 0:  # no level at all: exactly the BLAS product
        assert np.array_equal(result, a @ b)


def test_integers_are_exact():
    rng = np.random.default_rng(3)
    a = rng.integers(-50, 50, (45, 38))
    b = rng.integers(-50, 50, (38, 51))
    result = strassen(a, b, cutoff=2)
    assert result.dtype == np.result_type(a, b)
    assert np.array_equal(result, a @ b)


def test_integer_wraparound_matches_numpy():
    # Strassen's identities hold modulo 2^64, so overflow wraps exactly as numpy's product does.
    big = np.full((8, 8), 2**40, dtype=np.int64)
    assert np.array_equal(strassen(big, big, cutoff=1), big @ big)


def test_lists_and_mixed_dtypes():
    a = [[1, 2], [3, 4]]
    b = np.array([[0.5, 0.0], [0.0, 0.5]], dtype=np.float32)
    result = strassen(a, b, cutoff=1)
    assert result.dtype == np.result_type(np.asarray(a), b)
    np.testing.assert_allclose(result, np.asarray(a) @ b)


def test_complex_inputs():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((20, 18)) + 1j * rng.standard_normal((20, 18))
    b = rng.standard_normal((18, 22)) + 1j * rng.standard_normal((18, 22))
    np.testing.assert_allclose(strassen(a, b, cutoff=2), a @ b, atol=1e-12)


@pytest.mark.parametrize("shapes", [((0, 0), (0, 0)), ((0, 5), (5, 3)), ((4, 0), (0, 3)),
                                    ((4, 5), (5, 0))])
def test_empty_shapes(shapes):
    a, b = np.ones(shapes[0]), np.ones(shapes[1])
    result = strassen(a, b, cutoff=1)
    assert result.shape == (shapes[0][0], shapes[1][1])
    assert np.array_equal(result, a @ b)  # all zeros where k = 0


def test_non_contiguous_inputs():
    a, b = _inputs(80, 80, 80)
    np.testing.assert_allclose(strassen(a.T, b[::-1], cutoff=4), a.T @ b[::-1], atol=1e-11)


def test_inputs_are_left_untouched():
    a, b = _inputs(40, 40, 40)
    a_copy, b_copy = a.copy(), b.copy()
    strassen(a, b, cutoff=2)
    assert np.array_equal(a, a_copy) and np.array_equal(b, b_copy)


def test_workspace_is_reused():
    a, b = _inputs(128, 128, 128)
    workspace = Workspace()
    first = strassen(a, b, cutoff=8, workspace=workspace)
    held = workspace.nbytes
    assert held > 0
    second = strassen(a, b, cutoff=8, workspace=workspace)
    assert workspace.nbytes == held  # the same buffers, not new ones
    assert np.array_equal(first, second)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("shape", [(150, 151, 149), (64, 64, 64)], ids=str)
def test_row_bands_over_threads(monkeypatch, shape, threads):
    # Every product and addition is big enough to be split, so the bands really run.
    monkeypatch.setattr(strassen_module, "PARALLEL_MIN_ELEMENTS", 1)
    a, b = _inputs(*shape)
    result = strassen(a, b, cutoff=8, threads=threads)
    np.testing.assert_allclose(result, a @ b, rtol=0, atol=_tolerance(shape[1], np.float64))


def test_blas_threads_are_restored():
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    before = blas_threads()
    a, b = _inputs(600, 600, 600)  # large enough for the threaded path
    strassen(a, b, cutoff=128, threads=2)
    assert blas_threads() == before


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 2\)"):
        strassen(np.ones((2, 3)), np.ones((4, 2)))


@pytest.mark.parametrize(
    ("a", "b", "options", "message"),
    [
        (np.ones(3), np.ones((3, 3)), {}, "2-D"),
        (np.ones((2, 2, 2)), np.ones((2, 2)), {}, "2-D"),
        (np.ones((2, 2), bool), np.ones((2, 2), bool), {}, "numeric"),
        (np.array([["a"]]), np.array([["b"]]), {}, "numeric"),
        (np.ones((2, 2)), np.ones((2, 2)), {"cutoff": 0}, "cutoff"),
        (np.ones((2, 2)), np.ones((2, 2)), {"cutoff": 2.5}, "cutoff"),
        (np.ones((2, 2)), np.ones((2, 2)), {"cutoff": True}, "cutoff"),
        (np.ones((2, 2)), np.ones((2, 2)), {"levels": -1}, "levels"),
        (np.ones((2, 2)), np.ones((2, 2)), {"threads": 0}, "threads"),
    ],
)
def test_bad_input_is_one_clear_line(a, b, options, message):
    with pytest.raises(ValueError, match=message) as raised:
        strassen(a, b, **options)
    assert "\n" not in str(raised.value)


def test_multiplication_counts():
    assert [(c.strassen, c.classical) for c in map(multiplications, range(4))] == [
        (1, 1), (7, 8), (49, 64), (343, 512)]
    two = multiplications(2)
    assert two.fraction == pytest.approx((7 / 8) ** 2)
    assert two.scalar(8) == (49 * 8, 512)  # leaves of 2×2: 8 scalar products each
    assert multiplications(1).scalar(5) == (7 * 27, 125)  # odd n: leaves of ⌈5/2⌉ = 3
    with pytest.raises(ValueError, match="levels"):
        multiplications(-1)


def _run_scheme(chosen: Scheme, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Evaluate the scheme's data as written (names and signed terms) on 2×2 blocks."""
    h = a.shape[0] // 2
    values = {
        "A11": a[:h, :h], "A12": a[:h, h:], "A21": a[h:, :h], "A22": a[h:, h:],
        "B11": b[:h, :h], "B12": b[:h, h:], "B21": b[h:, :h], "B22": b[h:, h:],
    }

    def combine(step):
        return sum(sign * values[operand] for sign, operand in step.terms)

    for step in chosen.sums:
        values[step.name] = combine(step)
    for product in chosen.products:
        values[product.name] = values[product.left] @ values[product.right]
    for step in chosen.assembly:
        values[step.name] = combine(step)
    return np.block([[values["C11"], values["C12"]], [values["C21"], values["C22"]]])


@pytest.mark.parametrize("chosen", [WINOGRAD, STRASSEN], ids=["winograd", "strassen"])
def test_scheme_data_is_a_correct_product(chosen):
    a, b = _inputs(8, 8, 8, seed=5)
    np.testing.assert_allclose(_run_scheme(chosen, a, b), a @ b, atol=1e-12)
    assert chosen.multiplications == 7
    assert [p.name for p in chosen.products] == [f"M{i}" for i in range(1, 8)]


def test_scheme_descriptions_for_the_screen():
    assert WINOGRAD.additions == 15 and STRASSEN.additions == 18
    assert scheme() is WINOGRAD and scheme(winograd=False) is STRASSEN
    assert STRASSEN.products[0].formula == "M1 = S1·T1"
    assert STRASSEN.expanded_formula("M1") == "M1 = (A11 + A22)·(B11 + B22)"
    assert STRASSEN.expanded_formula("C22") == "C22 = M1 − M2 + M3 + M6"
    assert WINOGRAD.expanded_formula("M1") == "M1 = A11·B11"
    assert WINOGRAD.expanded_formula("M3") == "M3 = (A11 + A12 − A21 − A22)·B22"
    assert WINOGRAD.expanded_formula("C12") == "C12 = M1 + M3 + M5 + M6"
    assert [step.formula for step in WINOGRAD.sums[:2]] == ["S1 = A21 + A22", "S2 = S1 − A11"]
