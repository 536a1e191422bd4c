"""A Python program run in a pseudo-terminal, as a user's terminal would run it.

The benches that measure what a terminal sees (start-up to first frame, bytes per second over
SSH, key-to-frame latency) drive the app through this: a real pty of a given size, its output
drained and counted, or searched for the text a frame shows.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

TAIL_BYTES = 4096  # kept of the output, to say why the program exited
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()=>][0-9A-Za-z]?")


class PtyApp:
    """`python -c code` in a pty of `columns`×`lines`, with the bytes it writes counted."""

    def __init__(
        self, code: str, env: dict[str, str] | None = None, columns: int = 80, lines: int = 24,
        args: list[str] | None = None,
    ) -> None:
        full_env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(columns), LINES=str(lines))
        full_env.update(env or {})
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.started = time.time()
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, *(args or [])],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=full_env,
            close_fds=True,
            start_new_session=True,
        )
        os.close(slave)
        self._tail = b""

    def _read(self, timeout: float) -> bytes:
        """The next bytes the program writes within `timeout` seconds (b"" if none came)."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            data = os.read(self.master, 65536)
        except OSError:
            words = self.last_words()
            raise RuntimeError(f"the app exited during the measurement: {words}") from None
        self._tail = (self._tail + data)[-TAIL_BYTES:]
        return data

    def last_words(self) -> str:
        """The last lines of text the program wrote (escape sequences removed): an error."""
        text = ANSI_ESCAPE.sub("", self._tail.decode(errors="replace"))
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return " / ".join(lines[-3:]) or "no output"

    def read_for(self, seconds: float) -> int:
        """Drain the terminal for `seconds`; the number of bytes the program wrote."""
        deadline = time.monotonic() + seconds
        received = 0
        while (left := deadline - time.monotonic()) > 0:
            received += len(self._read(min(left, 0.05)))
        return received

    def read_until(self, marker: bytes, timeout: float) -> float:
        """Drain until the program writes `marker`; `time.perf_counter()` when it arrived.

        The marker may be split across reads. Raises TimeoutError after `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        tail = b""
        while (left := deadline - time.monotonic()) > 0:
            seen = tail + self._read(min(left, 0.05))
            arrived = time.perf_counter()
            if marker in seen:
                return arrived
            tail = seen[max(len(seen) - len(marker) + 1, 0):]
        raise TimeoutError(f"{marker!r} did not appear within {timeout:g} s")

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
