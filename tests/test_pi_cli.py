"""`microgpt-tui pi`: results that match the engine, clear one-line errors, clean Ctrl+C."""

from __future__ import annotations

import json
import math

import pytest

from microgpt_tui.engine.montecarlo import Progress, Tally, count_inside
from microgpt_tui.tui.cli import pi_cmd
from microgpt_tui.tui.cli.main import main


def run_json(capsys, *args: str) -> dict:
    assert main(["pi", "--json", *args]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def test_json_result_matches_the_engine(capsys):
    record = run_json(capsys, "--darts", "1e5", "--seed", "3")
    assert record["darts"] == 100_000
    assert record["inside"] == count_inside(100_000, seed=3)
    assert record["estimate"] == 4 * record["inside"] / 100_000
    assert record["error"] == pytest.approx(abs(record["estimate"] - math.pi))
    low, high = record["interval95"]
    assert low < record["estimate"] < high
    assert record["standard_error"] > 0 and record["darts_per_second"] > 0
    assert record["mode"] == "pseudo" and record["complete"] is True


def test_text_output_names_estimate_error_interval_and_speed(capsys):
    assert main(["pi", "--darts", "20000", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "pi ≈" in out and "20,000 darts" in out
    assert "standard error" in out and "95% interval" in out and "darts/s" in out


def test_seed_before_or_after_the_command_and_any_worker_count_agree(capsys):
    after = run_json(capsys, "--darts", "3e4", "--seed", "8", "--workers", "1")
    before_main = main(["--seed", "8", "pi", "--json", "--darts", "3e4", "--workers", "2"])
    assert before_main == 0
    before = json.loads(capsys.readouterr().out)
    assert after["inside"] == before["inside"]
    assert after["workers"] == 1 and before["workers"] == 2


def test_quasi_and_python_modes(capsys):
    quasi = run_json(capsys, "--darts", "1e5", "--mode", "quasi")
    assert quasi["standard_error"] is None and quasi["interval95"] is None
    assert quasi["error"] < 2e-3
    python = run_json(capsys, "--darts", "2000", "--mode", "python", "--seed", "4")
    assert python["inside"] == count_inside(2000, seed=4, mode="python")
    assert python["workers"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--darts", "-5"], "at least 1"),
        (["--darts", "0"], "at least 1"),
        (["--darts", "abc"], "number"),
        (["--darts", "1.5"], "whole number"),
        (["--darts", "1e16"], "--darts must be at most 1e15, not '1e16'"),
        (["--darts", "nan"], "finite"),
        (["--darts", "inf"], "finite"),
        (["--seed", "-1"], "--seed"),
        (["--seed", "x"], "--seed"),
        (["--seed", str(2**64)], "--seed"),
        (["--workers", "0"], "--workers"),
        (["--workers", "257"], "--workers must be at most 256, not '257'"),
        (["--workers", "1.5"], "--workers must be a whole number, not '1.5'"),
        (["--mode", "fast"], "invalid choice"),
    ],
)
def test_bad_values_exit_2_with_one_line(capsys, args, message):
    assert main(["pi", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_one_seed_range_for_pi_and_every_other_seed(capsys):
    """Regression: pi's --seed took 0 … 2^64−1, the global --seed only up to 2^63−1."""
    largest = str(2**64 - 1)
    assert run_json(capsys, "--darts", "10", "--seed", largest)["seed"] == 2**64 - 1
    assert main(["--seed", largest, "pi", "--darts", "10", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["seed"] == 2**64 - 1
    refusals = []
    for argv in (["pi", "--seed", str(2**64)], ["--seed", str(2**64), "pi"],
                 ["train", "--seed", str(2**64)], ["kernels", "list", "--seed", str(2**64)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        refusals.append(err[err.index("a seed is"):err.index(" (see")])
    assert set(refusals) == {f"a seed is a whole number from 0 to 2^64−1, not '{2**64}'"}


def test_large_counts_parse_in_every_spelling():
    assert pi_cmd.parse_count("1e9") == 10**9
    assert pi_cmd.parse_count("1_000_000") == 10**6
    assert pi_cmd.parse_count(" 2.5e3 ") == 2500
    assert pi_cmd.parse_count("1e15") == 10**15


def test_ctrl_c_cancels_cleanly_with_the_darts_counted_so_far(capsys, monkeypatch):
    def interrupted(darts, **options):
        yield Progress(Tally(1000, 786), darts, 0.01)
        raise KeyboardInterrupt

    monkeypatch.setattr(pi_cmd, "estimate_pi", interrupted)
    assert main(["pi", "--darts", "1e9"]) == 130
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == "cancelled: π ≈ 3.144000000 from the first 1,000 darts"
