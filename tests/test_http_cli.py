"""`microgpt-tui http`: every step printed with its time, --json lines, repeats, cold vs warm;
a failure exits 1 with one line naming the step, a usage error exits 2 with one line.

Run in-process against the loopback internet (`--demo`, started by each command and stopped
when it ends). No test names a real host: the only URLs given are under demo.test or on
127.0.0.1, and only where a usage error stops the command before any lookup.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from microgpt_tui.engine.nettrace import demo, visit
from microgpt_tui.engine.nettrace.demo import NAMES
from microgpt_tui.engine.nettrace.demo_ca import DemoCA
from microgpt_tui.tui.cli.main import main

FULL = ["parse", "dns", "walk", "tcp", "tls", "http", "render"]


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leaked = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"


def run_http(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["http", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_the_demo_list(capsys):
    code, out, err = run_http(capsys, "--demo", "list")
    assert code == 0 and err == ""
    assert [line.split()[0] for line in out.splitlines()] == list(NAMES)
    code, out, _ = run_http(capsys, "--demo", "list", "--json")
    records = json_lines(out)
    assert [r["name"] for r in records] == list(NAMES)
    assert all(r["url"].split("//")[1].split(":")[0].endswith("demo.test") for r in records)


def test_a_trusted_visit_prints_every_phase(capsys):
    code, out, err = run_http(capsys, "--demo", "--trust-demo-ca")
    assert code == 0 and err == ""
    assert out.startswith("the loopback internet: https://www.demo.test:")
    headlines = [line.split()[0] for line in out.splitlines()
                 if line and not line.startswith((" ", "the ", "visit "))]
    assert headlines == ["URL", "DNS", "DNS", "TCP", "TLS", "HTTP", "Render"]  # DNS, DNS walk
    assert "HTTP/2 frames:" in out and "certificate chain (verified chain):" in out
    assert "not trusted yet" not in out


def test_an_untrusted_visit_fails_at_tls_with_one_line(capsys):
    code, out, err = run_http(capsys, "--demo")
    assert code == 1
    assert err == ("microgpt-tui: error: TLS: certificate not trusted: unable to get local "
                   "issuer certificate\n")
    assert "add --trust-demo-ca to trust it" in out
    assert "certificate chain (as offered, read again without verifying):" in out


@pytest.mark.parametrize("name, words", [
    ("nxdomain", "DNS: NXDOMAIN"),
    ("refused", "TCP: connection refused by 127.0.0.1:"),
    ("expired", "TLS: certificate not trusted: certificate has expired"),
    ("not-found", "HTTP: 404 Not Found"),
])
def test_each_failing_demo_names_its_step(capsys, name, words):
    code, _, err = run_http(capsys, "--demo", name, "--trust-demo-ca", "--brief")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"microgpt-tui: error: {words}")


def test_json_is_one_object_per_step(capsys):
    code, out, err = run_http(capsys, "--demo", "--trust-demo-ca", "--json")
    assert code == 0 and err == ""
    records = json_lines(out)
    assert [r["phase"] for r in records] == FULL
    for record in records:
        assert record["url"].startswith("https://www.demo.test:") and record["run"] == 0
        assert record["elapsed_ms"] >= 0 and record["ok"] is True
    assert records[-1]["page_title"] == "The demo internet"
    assert records[-1]["title"].startswith("DOM of ")  # the step's own title survives


def test_json_of_a_failure(capsys):
    code, out, err = run_http(capsys, "--demo", "refused", "--json")
    records = json_lines(out)
    assert code == 1 and err.count("\n") == 1
    assert records[-1]["phase"] == "tcp" and records[-1]["ok"] is False
    assert records[-1]["error"].startswith("connection refused by 127.0.0.1:")


def test_repeats_end_with_percentiles(capsys):
    code, out, _ = run_http(capsys, "--demo", "--trust-demo-ca", "--repeat", "3", "--json",
                            "--no-walk")
    assert code == 0
    *steps, last = json_lines(out)
    assert [r["run"] for r in steps if r["phase"] == "http"] == [0, 1, 2]
    rows = {row["phase"]: row for row in last["percentiles"]}
    assert rows["tls"]["runs"] == 1 and rows["tls"]["skipped"] == 2
    assert rows["total"]["runs"] == 3 and "walk" not in rows
    code, out, _ = run_http(capsys, "--demo", "--trust-demo-ca", "--repeat", "2", "--no-walk")
    assert code == 0 and "p50" in out and "(skipped in 1)" in out


def test_cold_warm_side_by_side(capsys):
    code, out, err = run_http(capsys, "--demo", "--trust-demo-ca", "--cold-warm", "--brief")
    assert code == 0 and err == ""
    assert "visit 1 (cold)" in out and "visit 2 (warm)" in out and "visit 3 (new conn.)" in out
    table = out[out.index("\nphase"):].splitlines()[1:]
    assert table[0].split() == ["phase", "cold", "warm", "new", "conn."]
    tls = next(line for line in table if line.startswith("TLS"))
    assert "skipped" in tls and tls.rstrip().endswith("↺")


def test_insecure_and_brief_and_km(capsys):
    code, out, _ = run_http(capsys, "--demo", "--insecure", "--km", "100")
    assert code == 0 and "verified: NO — verification was switched off (--insecure)" in out
    assert "light needs ~0" in out  # loopback: whatever --km says, the server is right here
    code, out, _ = run_http(capsys, "--demo", "--trust-demo-ca", "--brief")
    assert code == 0 and not any(line.startswith("      ") for line in out.splitlines())


def test_a_cafile_of_another_ca_is_read_and_does_not_help(capsys, tmp_path):
    other = DemoCA().write_ca(tmp_path / "other.pem")
    code, _, err = run_http(capsys, "--demo", "--cafile", str(other), "--brief")
    assert code == 1 and "TLS: certificate not trusted" in err


def test_a_silent_server_times_out(capsys):
    code, _, err = run_http(capsys, "--demo", "timeout", "--timeout", "0.3", "--no-walk",
                            "--brief")
    assert code == 1
    assert err == "microgpt-tui: error: TLS: no answer to the ClientHello within 0.3 s\n"


@pytest.fixture
def nothing_runs(monkeypatch):
    """A usage error stops the command before the loopback internet or any visit starts."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("a usage error must stop before anything runs")

    monkeypatch.setattr(demo.DemoInternet, "start", refuse)
    monkeypatch.setattr(visit, "run_visit", refuse)
    monkeypatch.setattr(visit, "cold_warm", refuse)


def _not_pem(tmp_path) -> str:
    path = tmp_path / "not.pem"
    path.write_text("this is not a certificate\n")
    return str(path)


@pytest.mark.parametrize("argv, words", [
    ([], "give a URL, or --demo"),
    (["https://www.demo.test/", "--demo"], "not both"),
    (["--demo", "--timeout", "-1"], "--timeout must be more than 0"),
    (["--demo", "--timeout", "nan"], "--timeout must be more than 0"),
    (["--demo", "--timeout", "0"], "--timeout must be more than 0"),
    (["--demo", "--timeout", "soon"], "--timeout must be a number of seconds"),
    (["--demo", "--repeat", "0"], "--repeat must be at least 1"),
    (["--demo", "--repeat", ""], "--repeat must be a number"),
    (["--demo", "--repeat", "1.5"], "--repeat must be a whole number"),
    (["--demo", "--repeat", "1001"], "--repeat must be at most 1,000"),
    (["--demo", "--km", "-1"], "--km must be from 0 to 40075"),
    (["--demo", "--km", "inf"], "--km must be from 0 to 40075"),
    (["--demo", "--km", "far"], "--km must be a distance in km"),
    (["--demo", "--cafile", "/definitely/missing.pem"], "no such file"),
    (["--demo", "--cafile", "{tmp}"], "not a regular file"),
    (["--demo", "--cafile", "{not_pem}"], "not a PEM file of certificates"),
    (["--demo", "nope"], "no demo called 'nope'; try: list, home,"),
    (["ftp://www.demo.test/"], "not ftp://"),
    (["mailto:someone@www.demo.test"], "not mailto:"),
    (["https://www.demo.test:0/"], "port 0"),
    (["https://127.0.0.1:9/", "--trust-demo-ca"], "--trust-demo-ca goes with --demo"),
    (["--demo", "--cold-warm", "--repeat", "2"], "--cold-warm or --repeat, not both"),
    (["--demo", "--no-such-option"], "unrecognized arguments"),
])
def test_usage_errors_exit_2_with_one_line(capsys, tmp_path, nothing_runs, argv, words):
    argv = [arg.format(tmp=tmp_path, not_pem=_not_pem(tmp_path)) for arg in argv]
    code, out, err = run_http(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("microgpt-tui: error: ") and err.count("\n") == 1
    assert words in err
