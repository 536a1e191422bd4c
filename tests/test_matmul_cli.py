"""`microgpt-tui matmul`: the race and the cache model headless, --json, one-line errors."""

from __future__ import annotations

import json

import pytest

from microgpt_tui.engine.matmul import race
from microgpt_tui.tui.cli import main as cli_main
from microgpt_tui.tui.cli import matmul_cmd
from microgpt_tui.tui.cli.main import main
from microgpt_tui.tui.registry import CommandSpec

PEAK = 50.0


@pytest.fixture(autouse=True)
def quick_matmul(monkeypatch):
    """The command is reachable even before the registry lists it; the machine's peak (a second
    of BLAS) is a fixed number; the n³ fit times tiny loops."""
    if "matmul" not in cli_main.COMMANDS:
        monkeypatch.setitem(cli_main.COMMANDS, "matmul",
                            CommandSpec("matmul", "microgpt_tui.tui.cli.matmul_cmd", "matmul"))
    monkeypatch.setattr(matmul_cmd, "machine_peak", lambda dtype, threads: PEAK)
    monkeypatch.setattr(race, "FIT_SIZES", (6, 8, 10))
    monkeypatch.setattr(race, "_fits", {})


def run_json(capsys, *args: str) -> list[dict]:
    assert main(["matmul", "--json", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_every_algorithm_as_json(capsys):
    records = run_json(capsys, "--n", "24", "--tile", "5", "--cutoff", "4")
    assert [r["algo"] for r in records] == list(race.ALGORITHMS)
    for record in records:
        assert record["n"] == 24 and record["dtype"] == "f64" and record["peak_gflops"] == PEAK
        assert record["seconds"] > 0 and record["estimated"] is False
        assert record["error"] < 1e-13
        assert record["fraction_of_peak"] == pytest.approx(record["gflops"] / PEAK)
    assert {r["algo"]: r["tile"] for r in records}["tiled"] == 5
    assert {r["algo"]: r["cutoff"] for r in records}["strassen"] == 4


def test_one_algorithm_in_float32_on_one_thread(capsys):
    (record,) = run_json(capsys, "--n", "40", "--algo", "blas", "--dtype", "f32",
                         "--threads", "1")
    assert record["dtype"] == "f32" and record["threads"] == 1
    assert 0 < record["error"] < 1e-5


def test_the_header_names_the_blas_at_the_thread_count_used(capsys):
    assert main(["matmul", "--n", "8", "--algo", "blas", "--threads", "1"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.startswith("8×8 f64, seed 0 · BLAS: ") and "1 thread" in header


def test_pure_python_beyond_its_limit_is_estimated(capsys):
    (record,) = run_json(capsys, "--n", "1e3", "--algo", "naive")
    assert record["n"] == 1000 and record["estimated"] is True and record["error"] is None


def test_the_seed_before_or_after_the_command_agrees(capsys):
    (after,) = run_json(capsys, "--n", "9", "--algo", "ikj", "--seed", "5")
    assert main(["--seed", "5", "matmul", "--json", "--n", "9", "--algo", "ikj"]) == 0
    (before,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert after["error"] == before["error"]


def test_text_output_is_a_table(capsys):
    assert main(["matmul", "--n", "300", "--algo", "naive"]) == 0
    out = capsys.readouterr().out
    assert "BLAS:" in out and f"peak: {PEAK:.1f} GFLOP/s" in out
    assert "seconds" in out and "of peak" in out
    assert "naive i-j-k" in out and "est." in out and "estimated from an n³ fit" in out


def test_cache_sim_as_json(capsys):
    records = run_json(capsys, "--cache-sim", "--n", "16", "--tile", "4")
    assert [r["loop"] for r in records] == ["naive", "ikj", "blocked"]
    for record in records:
        l1, l2 = record["levels"]
        assert l2["hits"] + l2["misses"] == l1["misses"]
        assert l1["misses"] == sum(l1[m]["misses"] for m in "ABC")
        assert [cache["level"] for cache in record["caches"]] == ["L1", "L2"]
    assert records[2]["tile"] == 4 and records[0]["tile"] is None


def test_cache_sim_text(capsys):
    assert main(["matmul", "--cache-sim", "--n", "8", "--tile", "4"]) == 0
    out = capsys.readouterr().out
    assert "caches: L1" in out and "miss %" in out
    assert all(loop in out for loop in ("naive", "ikj", "blocked"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n", "0"], "--n must be at least 1"),
        (["--n", "9000"], "--n must be at most"),
        (["--n", "abc"], "--n must be a number"),
        (["--n", "2.5"], "--n must be a whole number"),
        (["--tile", "0"], "--tile must be at least 1"),
        (["--cutoff", "-1"], "--cutoff must be at least 1"),
        (["--threads", "0"], "--threads must be at least 1"),
        (["--algo", "cubic"], "invalid choice"),
        (["--dtype", "f16"], "invalid choice"),
        (["--cache-sim", "--algo", "blas"], "--cache-sim takes --n and --tile only"),
        (["--cache-sim", "--seed", "3"], "not --seed"),
        (["--cache-sim", "--n", "129"], "--n must be at most 128"),
        (["--cache-sim", "--n", "16", "--tile", "17"], "--tile must be at most 16"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, args, message):
    assert main(["matmul", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_ctrl_c_keeps_what_finished(capsys, monkeypatch):
    real = matmul_cmd.run_algorithm
    calls = []

    def interrupted_second_time(*args, **options):
        calls.append(args[0])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **options)

    monkeypatch.setattr(matmul_cmd, "run_algorithm", interrupted_second_time)
    assert main(["matmul", "--json", "--n", "8"]) == 130
    captured = capsys.readouterr()
    (record,) = [json.loads(line) for line in captured.out.splitlines()]
    assert record["algo"] == "naive"
    assert "cancelled: 1 of 6 algorithms finished" in captured.err
