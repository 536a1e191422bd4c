"""`microgpt-tui sort`: merge sort's comparisons at n against the bounds, the fitted constant,
Timsort beside it, --json lines; bad input exits 2 with one line. Run in-process."""

from __future__ import annotations

import json

import pytest

from microgpt_tui.engine.basics import mergesort as ms
from microgpt_tui.tui.cli.main import main


def run_sort(capsys, *argv: str, before: tuple[str, ...] = ()) -> tuple[int, str, str]:
    """`microgpt-tui [before…] sort argv…`"""
    code = main([*before, "sort", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_text_report(capsys):
    code, out, err = run_sort(capsys, "--n", "1000", "--seed", "4")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "merge sort of 1,000 items (random, seed 4)"
    expected = ms.count_merge_sort(ms.make_values(1000, "random", 4))
    assert lines[1].split()[:2] == ["comparisons", f"{expected:,}"]
    assert "worst case" in out and f"{ms.worst_case_comparisons(1000):,}" in out
    assert "fitted c" in out and "over n = 1,000, 100, 10" in out
    assert lines[-1].startswith("Timsort (sorted())")
    assert " s " in out  # the time, never checked for its value


def test_json_for_every_order(capsys):
    code, out, err = run_sort(capsys, "--n", "1e3", "--order", "all", "--json")
    assert code == 0 and err == ""
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["order"] for r in records] == list(ms.ORDERS)
    for record in records:
        assert record["n"] == 1000
        assert record["comparisons"] <= record["worst_case"] == ms.worst_case_comparisons(1000)
        assert record["simple_bound"] == 10_000
        assert record["ratio"] == pytest.approx(record["comparisons"] / record["n_log2_n"])
        assert [point["n"] for point in record["fit"]] == [1000, 100, 10]
        assert 0 < record["fit_constant"] < 1
        assert record["seconds"] >= 0 and record["timsort_seconds"] >= 0
    random_order, in_order, backwards = records
    assert random_order["seed"] == 0 and in_order["seed"] is None
    assert in_order["timsort_comparisons"] == backwards["timsort_comparisons"] == 999
    assert in_order["fit_constant"] == pytest.approx(0.5, abs=0.03)


def test_the_seed_defaults_to_the_apps_and_reproduces(capsys):
    _, first, _ = run_sort(capsys, "--n", "500", "--json", before=("--seed", "9"))
    _, second, _ = run_sort(capsys, "--n", "500", "--seed", "9", "--json")
    one, two = json.loads(first), json.loads(second)
    assert one["seed"] == two["seed"] == 9 and one["comparisons"] == two["comparisons"]


def test_one_item(capsys):
    code, out, _ = run_sort(capsys, "--n", "1", "--json")
    record = json.loads(out)
    assert code == 0 and record["comparisons"] == 0 and record["ratio"] is None
    assert record["fit_constant"] is None  # JSON null, never NaN
    code, out, _ = run_sort(capsys, "--n", "1")
    assert code == 0 and out.startswith("merge sort of 1 item (")


@pytest.mark.parametrize("argv, words", [
    (["--n", "0"], "--n must be at least 1"),
    (["--n", "-5"], "--n must be at least 1"),
    (["--n", "2e7"], "--n must be at most 1e7"),
    (["--n", "ten"], "--n must be a number"),
    (["--n", "1.5"], "--n must be a whole number"),
    (["--n", ""], "--n must be a number"),
    (["--order", "upside"], "invalid choice"),
    (["--seed", "-1"], "a seed is a whole number"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, words):
    code, out, err = run_sort(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and words in err, err
