"""Start-up: process start to the home screen's first frame, against a hello-world Textual app.

Both run in a pseudo-terminal of 80×24 (so the real driver draws a real frame) and write the
time of their first frame (Textual's Ready event) to a file, then exit. Ours is the bench's
probe app (`probe_app.py`): the real app started as `microgpt-tui` starts it, with the probe in
the subclass, importing nothing more than the real app before its first frame.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .probe_app import PROBE_APP_CODE, READY_PROBE_ENV
from .pty_app import PtyApp
from .runner import Benchmark, Comparison, Goal, side_by_side

HELLO_WORLD = f"""
import os, time
from textual.app import App
from textual.widgets import Static

class Hello(App):
    def compose(self):
        yield Static("Hello, world!")
    def on_ready(self):
        with open(os.environ[{READY_PROBE_ENV!r}], "w") as f:
            f.write(repr(time.time()))
        self.exit()

Hello().run()
"""


def time_to_first_frame(code: str, timeout: float = 60.0) -> float:
    """Seconds from spawning `python -c code` in an 80×24 pty to its first frame."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "ready"
        app = PtyApp(code, env={READY_PROBE_ENV: str(probe)})
        try:
            status = app.wait_for_exit(timeout)
        finally:
            app.release()
        if not probe.exists():
            raise RuntimeError(
                f"the app exited (status {status}) before its first frame: {app.last_words()}"
            )
        return float(probe.read_text()) - app.started


def run(rounds: int) -> list[Comparison]:
    comparison = Comparison(
        label="start-up to first frame (80×24 pty)",
        ours="microgpt-tui home screen",
        peer="hello-world Textual app",
        unit="s",
        goal=Goal(1 / 1.3, "within 1.3× of the peer"),
    )
    return [
        side_by_side(
            comparison,
            lambda: time_to_first_frame(PROBE_APP_CODE),
            lambda: time_to_first_frame(HELLO_WORLD),
            rounds,
        )
    ]


BENCHMARK = Benchmark(
    name="startup",
    default_rounds=7,
    run=run,
)
