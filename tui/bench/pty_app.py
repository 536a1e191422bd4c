"""A Python program run in a pseudo-terminal, as a user's terminal would run it.

The benches that measure what a terminal sees (start-up to first frame, bytes per second over
SSH) drive the app through this: a real pty of a given size, its output drained and counted.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

# What a user's `microgpt-tui` (no command) runs: the app, opening on the home screen.
APP_CODE = "from microgpt_tui.tui.cli.main import main; main([])"


class PtyApp:
    """`python -c code` in a pty of `columns`×`lines`, with the bytes it writes counted."""

    def __init__(
        self, code: str, env: dict[str, str] | None = None, columns: int = 80, lines: int = 24
    ) -> None:
        full_env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(columns), LINES=str(lines))
        full_env.update(env or {})
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.started = time.time()
        self.process = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=full_env,
            close_fds=True,
            start_new_session=True,
        )
        os.close(slave)

    def read_for(self, seconds: float) -> int:
        """Drain the terminal for `seconds`; the number of bytes the program wrote."""
        deadline = time.monotonic() + seconds
        received = 0
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.05))
            if ready:
                try:
                    received += len(os.read(self.master, 65536))
                except OSError:
                    raise RuntimeError("the app exited during the measurement") from None
        return received

    def settle(self, quiet: float = 0.5, limit: float = 20.0) -> None:
        """Drain until the program has written nothing for `quiet` seconds (at most `limit`)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and self.read_for(quiet):
            pass

    def wait_for_exit(self, timeout: float = 60.0) -> int:
        """Drain (so the program never blocks on a full pty) until it exits; its status."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise RuntimeError("the program did not exit in time")
            try:
                self.read_for(0.05)
            except RuntimeError:
                break  # the pty closed: the program has gone
        return self.process.wait(timeout=5)

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> None:
        """Quit with `q`, then make sure the process is gone and the pty closed."""
        try:
            self.press("q")
            self.read_for(0.5)
            self.process.wait(timeout=5)
        except (RuntimeError, OSError, subprocess.TimeoutExpired):
            pass
        finally:
            self.release()

    def release(self) -> None:
        """Kill the process if it still runs and close the pty; call once, when done."""
        if self.process.poll() is None:
            self.process.kill()
        os.close(self.master)
