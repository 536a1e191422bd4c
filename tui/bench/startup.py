"""Start-up: process start to the home screen's first frame, against a hello-world Textual app.

Both run in a pseudo-terminal of 80×24 (so the real driver draws a real frame) and write the
time of their first frame (Textual's Ready event) to a file, then exit.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from ..app import STARTUP_PROBE_ENV
from .runner import Benchmark, Comparison, Goal, side_by_side

OURS = "from microgpt_tui.tui.cli.main import main; main([])"

HELLO_WORLD = f"""
import os, time
from textual.app import App
from textual.widgets import Static

class Hello(App):
    def compose(self):
        yield Static("Hello, world!")
    def on_ready(self):
        with open(os.environ[{STARTUP_PROBE_ENV!r}], "w") as f:
            f.write(repr(time.time()))
        self.exit()

Hello().run()
"""


def time_to_first_frame(code: str, timeout: float = 60.0) -> float:
    """Seconds from spawning `python -c code` in an 80×24 pty to its first frame."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "ready"
        env = dict(os.environ, TERM="xterm-256color", COLUMNS="80", LINES="24")
        env[STARTUP_PROBE_ENV] = str(probe)
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        start = time.time()
        process = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
            start_new_session=True,
        )
        os.close(slave)
        deadline = time.monotonic() + timeout
        try:
            while process.poll() is None:
                if time.monotonic() > deadline:
                    raise RuntimeError("start-up probe timed out")
                ready, _, _ = select.select([master], [], [], 0.05)
                if ready:
                    try:
                        os.read(master, 65536)  # drain, or the child blocks on a full pty
                    except OSError:
                        break
            process.wait(timeout=5)
        finally:
            if process.poll() is None:
                process.kill()
            os.close(master)
        if not probe.exists():
            status = process.returncode
            raise RuntimeError(f"the app exited (status {status}) before its first frame")
        return float(probe.read_text()) - start


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
            lambda: time_to_first_frame(OURS),
            lambda: time_to_first_frame(HELLO_WORLD),
            rounds,
        )
    ]


BENCHMARK = Benchmark(
    name="startup",
    description="process start to the home screen's first frame vs a hello-world Textual app",
    default_rounds=7,
    run=run,
)
