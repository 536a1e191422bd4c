"""Monte Carlo pi: darts per second against the plain Python loop, and the screen's SSH budget.

* Throughput: `estimate_pi` (pseudo mode, every core) against the loop every tutorial shows —
  `random.random()` twice and `x**2 + y**2 <= 1` — alternated in one run.
* SSH: the app runs in an 80×24 pseudo-terminal; the bench opens question 3 (key "3"), starts
  the animation (Space) at the default speed and counts the bytes the app writes to the terminal
  and the frames the screen shows (the bench's probe app reports the screen's `frames_shown`
  every 50 ms, so a rate over 3 s is good to about ±0.4 frames/s); then it pauses (Space) and
  counts the bytes written while idle.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from ...engine.montecarlo import run_estimate
from .probe_app import PROBE_APP_CODE, STATE_PROBE_ENV, read_state
from .pty_app import PtyApp
from .runner import Benchmark, Comparison, Goal, Measurement, side_by_side

OURS_DARTS = 200_000_000
PEER_DARTS = 300_000
SETTLE_SECONDS = 1.0
ANIMATE_SECONDS = 3.0
IDLE_SECONDS = 2.0


def ours_darts_per_second() -> float:
    began = time.perf_counter()
    run_estimate(OURS_DARTS, seed=1)
    return OURS_DARTS / (time.perf_counter() - began)


def peer_darts_per_second() -> float:
    """The plain loop, exactly as written in tutorials."""
    began = time.perf_counter()
    inside = 0
    for _ in range(PEER_DARTS):
        x = random.random()
        y = random.random()
        if x**2 + y**2 <= 1:
            inside += 1
    return PEER_DARTS / (time.perf_counter() - began)


def frames_shown(state_file: Path) -> int:
    """The frames the top screen has shown, as the probe app last reported; 0 before any."""
    state = read_state(state_file)
    return (state or {}).get("frames") or 0


def wait_for_frames(app: PtyApp, state_file: Path, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not frames_shown(state_file):
        app.read_for(0.05)


def ssh_session() -> tuple[float, float, float]:
    """(bytes/s while animating, frames/s while animating, bytes/s while paused)."""
    with tempfile.TemporaryDirectory() as tmp:
        state_file = Path(tmp) / "state"
        app = PtyApp(PROBE_APP_CODE, env={STATE_PROBE_ENV: str(state_file)})
        try:
            app.settle()  # start-up and home's first frames
            app.press("3")
            app.settle()
            app.press(" ")
            wait_for_frames(app, state_file)
            app.read_for(SETTLE_SECONDS)
            first_frame = frames_shown(state_file)
            animating = app.read_for(ANIMATE_SECONDS)
            frames = frames_shown(state_file) - first_frame
            app.press(" ")
            app.settle()
            idle = app.read_for(IDLE_SECONDS)
        finally:
            app.close()
    if frames == 0:
        raise RuntimeError("the Pi screen showed no frames: did key 3 open it?")
    return animating / ANIMATE_SECONDS, frames / ANIMATE_SECONDS, idle / IDLE_SECONDS


def run(rounds: int) -> list[Comparison | Measurement]:
    speed = Comparison(
        label="darts per second",
        ours=f"estimate_pi, pseudo mode, every core ({OURS_DARTS:.0e} darts)",
        peer=f"plain Python loop: random() twice, x**2 + y**2 <= 1 ({PEER_DARTS:.0e} darts)",
        unit="darts/s",
        goal=Goal(100, "≥ 100× the plain Python loop"),
    )
    side_by_side(speed, ours_darts_per_second, peer_darts_per_second, rounds)
    output = Measurement(
        label="SSH: terminal output while animating",
        what="bytes/s written to an 80×24 pty, Pi screen animating at the default speed",
        unit="B/s",
        limit=30_000,
        at_most=True,
    )
    updates = Measurement(
        label="SSH: updates while animating",
        what="frames the Pi screen showed per second in the same runs",
        unit="frames/s",
        limit=10,
        at_most=False,
    )
    idle = Measurement(
        label="SSH: terminal output while paused",
        what="bytes/s written to the pty with the Pi screen paused",
        unit="B/s",
        limit=0,
        at_most=True,
    )
    for _ in range(min(rounds, 3)):
        bytes_per_second, frames_per_second, idle_bytes = ssh_session()
        output.samples.append(bytes_per_second)
        updates.samples.append(frames_per_second)
        idle.samples.append(idle_bytes)
    return [speed, output, updates, idle]


BENCHMARK = Benchmark(
    name="pi",
    default_rounds=5,
    run=run,
)
