"""The responsiveness bench's measuring parts, and the probe app the pty benches drive.

Timing itself is for `microgpt-tui bench`; these check the logic with a tiny fake program and
the real probe app, asserting nothing about speed beyond "it finished".
"""

from __future__ import annotations

import json
import math

import pytest

from microgpt_tui.tui.bench.probe_app import (
    PROBE_APP_CODE,
    READY_PROBE_ENV,
    STATE_PROBE_ENV,
    ProbeApp,
    read_state,
)
from microgpt_tui.tui.bench.pty_app import PtyApp
from microgpt_tui.tui.bench.responsiveness import HELP_TITLE, key_to_frame
from microgpt_tui.tui.bench.runner import Measurement
from microgpt_tui.tui.bench.startup import time_to_first_frame
from microgpt_tui.tui.cli.main import main

PAUSE = 0.05  # between the fake's two halves of the title

# Waits for one key in raw mode, then writes the help's title in two styled halves.
FAKE_APP = f"""
import os, time, tty
tty.setraw(0)
os.read(0, 1)
os.write(1, b"\\x1b[1mKe")
time.sleep({PAUSE})
os.write(1, "ys \\u2014 fake\\x1b[0m".encode())
time.sleep(30)
"""


def test_the_clock_stops_when_the_whole_title_has_arrived():
    app = PtyApp(FAKE_APP)
    try:
        app.read_for(0.2)  # the fake is in raw mode before the key is written
        seconds = key_to_frame(app, "?", HELP_TITLE, timeout=10)
    finally:
        app.release()
    # Split across two writes, the title is only complete after the fake's pause.
    assert PAUSE <= seconds < 10


def test_a_title_that_never_comes_is_a_timeout_not_a_sample():
    app = PtyApp("import time; print('no help here'); time.sleep(30)")
    try:
        with pytest.raises(TimeoutError):
            key_to_frame(app, "?", HELP_TITLE, timeout=0.3)
    finally:
        app.release()


def test_an_exited_program_is_named_with_its_last_words():
    app = PtyApp("print('Traceback: the screen broke'); raise SystemExit(1)")
    try:
        with pytest.raises(RuntimeError, match="the screen broke"):
            app.read_for(5)
    finally:
        app.release()


def test_the_probe_app_writes_its_first_frame_time_and_exits():
    assert time_to_first_frame(PROBE_APP_CODE) > 0


def test_the_hello_world_peer_and_the_probe_app_share_the_ready_probe():
    from microgpt_tui.tui.bench import startup

    assert READY_PROBE_ENV in startup.HELLO_WORLD


async def test_the_state_probe_reports_the_top_screen_and_its_frames(tmp_path, monkeypatch):
    state_file = tmp_path / "state"
    monkeypatch.setenv(STATE_PROBE_ENV, str(state_file))
    app = ProbeApp()
    async with app.run_test(size=(80, 24)) as pilot:
        while read_state(state_file) is None:
            await pilot.pause(0.05)
        assert read_state(state_file)["screen"] == "HomeScreen"
        await pilot.press("3")
        while read_state(state_file)["screen"] != "PiScreen":
            await pilot.pause(0.05)
        state = read_state(state_file)
    assert state["frames"] == 0 and state["workers"] == 0 and state["playing"] is False


def test_a_percentile_budget_uses_the_nearest_rank():
    latency = Measurement("key → frame", "test", "s", limit=0.050, at_most=True,
                          samples=[i / 1000 for i in range(1, 21)], percentile=95)
    assert latency.value == pytest.approx(0.019) and latency.median == pytest.approx(0.0105)
    assert latency.met and latency.goal_text == "p95 ≤ 50.0 ms"
    assert latency.record("responsiveness")["p95"] == pytest.approx(0.019)


def test_a_measurement_without_samples_fails_and_says_why():
    failed = Measurement("key → frame, CUDA", "test", "s", limit=0.050, at_most=True,
                         percentile=95, note="not measured: CUDA: the screen broke")
    assert not failed.met and math.isnan(failed.value)
    assert "failed" in failed.line("responsiveness")
    assert failed.record("responsiveness")["p95"] is None


def test_bench_list_names_responsiveness(capsys):
    assert main(["bench", "--list", "--json"]) == 0
    names = [json.loads(line)["bench"] for line in capsys.readouterr().out.splitlines()]
    assert "responsiveness" in names
