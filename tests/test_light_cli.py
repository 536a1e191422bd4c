"""`microgpt-tui light`: a distance, two cities, a clock, the ladder and the city list, as text
and as JSON lines; bad input exits 2 with one line. Run in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from microgpt_tui.engine.basics.cities import CITIES
from microgpt_tui.tui.cli.main import main


def run_light(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["light", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_a_distance_in_vacuum_and_fibre(capsys):
    code, out, err = run_light(capsys, "--km", "5570")
    assert code == 0 and err == ""
    assert out.splitlines() == [
        "5,570 km",
        "  vacuum (c = 299,792,458 m/s): 18.58 ms one way, 37.16 ms round trip",
        "  fibre (c / 1.47 ≈ 203,940 km/s): 27.31 ms one way, 54.62 ms round trip",
    ]


def test_fibre_only_as_json(capsys):
    code, out, _ = run_light(capsys, "--km", "5570", "--fibre", "--json")
    [record] = json_lines(out)
    assert code == 0 and record["kind"] == "distance" and record["km"] == 5570
    assert "vacuum" not in record
    assert record["fibre"]["round_trip_s"] == pytest.approx(0.0546238, rel=1e-6)
    assert record["fibre"]["speed_km_s"] == pytest.approx(299_792.458 / 1.47)
    code, out, _ = run_light(capsys, "--km", "299792.458", "--json")
    assert json_lines(out)[0]["vacuum"] == {"speed_km_s": 299_792.458, "one_way_s": 1.0,
                                            "round_trip_s": 2.0}


def test_two_cities(capsys):
    code, out, err = run_light(capsys, "--from", "london", "--to", "NEW YORK")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == ("London, United Kingdom → New York, United States: 5,570 km "
                        "(great circle)")
    assert "round-trip floor over fibre: 54.63 ms" in out
    assert "a rule of thumb, not measured" in lines[-1]


def test_two_cities_as_json(capsys):
    code, out, _ = run_light(capsys, "--from", "syd", "--to", "lond", "--json")
    [record] = json_lines(out)
    assert code == 0 and record["kind"] == "pair"
    assert record["from"]["name"] == "Sydney" and record["to"]["country"] == "United Kingdom"
    assert record["great_circle_km"] == pytest.approx(16_990, rel=0.005)
    assert record["round_trip_floor_s"] == record["fibre"]["round_trip_s"]
    assert record["typical_ping_measured"] is False
    low, high = record["typical_ping_s"]
    assert low == pytest.approx(1.3 * record["round_trip_floor_s"]) and high > low
    assert "haversine" in record["model"]


def test_a_clock_cycle(capsys):
    code, out, _ = run_light(capsys, "--ghz", "3")
    assert code == 0
    assert out == ("3 GHz: one cycle lasts 333.3 ps; light covers 9.993 cm in vacuum, "
                   "6.798 cm in fibre\n")
    code, out, _ = run_light(capsys, "--ghz", "3", "--fibre", "--json")
    [record] = json_lines(out)
    assert record["frequency_hz"] == 3e9 and "vacuum_m" not in record
    assert record["fibre_m"] == pytest.approx(0.0679801, rel=1e-6)


def test_the_ladder(capsys):
    code, out, _ = run_light(capsys, "--ladder")
    lines = out.splitlines()
    assert code == 0 and "orders of magnitude" in lines[0]
    assert [line.split("  ")[0] for line in lines[1:]] == [
        "L1 cache hit", "L2 cache hit", "DRAM read", "NVMe SSD read", "Same data centre",
        "Across a continent", "Earth's far side"]
    assert "light: 29.98 cm" in lines[1] and "light: 59,958 km" in lines[-1]
    bars = [line.count("#") for line in lines[1:]]
    assert bars == sorted(bars)
    code, out, _ = run_light(capsys, "--ladder", "--json")
    records = json_lines(out)
    assert [r["seconds"] for r in records] == [1e-9, 4e-9, 1e-7, 1e-4, 5e-4, 0.04, 0.2]
    assert all(r["source"] and r["light_vacuum_m"] > 0 for r in records)


def test_the_city_list(capsys):
    code, out, _ = run_light(capsys, "--cities", "--json")
    records = json_lines(out)
    assert code == 0 and [r["name"] for r in records] == [c.name for c in CITIES]


@pytest.mark.parametrize("argv, words", [
    ([], "give --km D, --from CITY --to CITY, --ghz F, --ladder or --cities"),
    (["--km", "x"], "--km must be a number, not 'x'"),
    (["--km", "-1"], "--km must be from 0 to 1e+13 (about a light year), not '-1'"),
    (["--km", "nan"], "--km must be from 0"),
    (["--km", "inf"], "--km must be from 0"),
    (["--km", "1", "--ghz", "2"], "give only one of --km, --ghz"),
    (["--ghz", "0"], "--ghz must be from 1e-12 (1 mHz) to 1,000,000, not '0'"),
    (["--km", "1__0"], "--km must be a number, not '1__0'"),
    (["--ghz", "fast"], "--ghz must be a number"),
    (["--from", "paris"], "give both --from CITY and --to CITY"),
    (["--to", "paris"], "give both --from CITY and --to CITY"),
    (["--from", "lo", "--to", "paris"], "'lo' could be London or Los Angeles"),
    (["--from", "Londn", "--to", "paris"], "did you mean London?; --cities lists them"),
    (["--ladder", "--fibre"], "--fibre goes with --km, --from/--to or --ghz, not --ladder"),
    (["--cities", "--ladder"], "give only one of --ladder, --cities"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, words):
    code, out, err = run_light(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and words in err, err


def test_ascii_output_where_the_terminal_lacks_symbols():
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "LC_ALL": "C"}
    done = subprocess.run([sys.executable, "-m", "microgpt_tui", "light", "--from", "sao",
                           "--to", "zurich"], capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Sao Paulo, Brazil -> Zurich, Switzerland: 9,621 km")
    assert "c / 1.47 ~= 203,940 km/s" in done.stdout and "1.3-2.1x the floor" in done.stdout
