"""The app in a pseudo-terminal of its own, as the server runs it for a connection or a room.

Each served app is a separate process: one user's heavy work or crash never stops another's,
the kernel shares the cores between them, and a process can be niced and killed. The server
reads the app's terminal output and sends it on (to one SSH channel, or every member of a
room), writes the keys it lets through, and resizes the pty when a client's window changes
(the kernel then signals the app, which redraws at the new size).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import pty
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable

from ...engine.interview.room import CONTROL_FD_ENV

# The child makes the pty its controlling terminal (so a resize signals it and a hang-up ends
# it), then runs the CLI as `microgpt-tui ARGS` would.
BOOTSTRAP = (
    "import fcntl, sys, termios\n"
    "fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
    "from microgpt_tui.tui.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
READ_BYTES = 65536
MAX_PENDING_KEYS = 64 * 1024  # keys the app has not taken yet; beyond this, a flood: dropped
SERVED_NICENESS = 5  # served apps yield to the server, so its relaying never waits on them


class AppProcess:
    """`microgpt-tui ARGS` in a pty of `size` (columns, rows); its output goes to `on_output`,
    its end to `on_exit(status)`. Messages for the app's control channel go through
    `control()` (a socket the app reads; see tui/room_link.py)."""

    def __init__(self, args: list[str], env: dict[str, str], size: tuple[int, int],
                 on_output: Callable[[bytes], None], on_exit: Callable[[int | None], None]
                 ) -> None:
        self.args = args
        self.env = env
        self.size = size
        self.on_output = on_output
        self.on_exit = on_exit
        self.process: subprocess.Popen[bytes] | None = None
        self.master = -1
        self._control: socket.socket | None = None
        self._pending = bytearray()  # keys not yet taken by the pty (it was full)
        self._ended = False

    def start(self) -> None:
        """Start the app; OSError (and nothing left open) if it cannot start."""
        loop = asyncio.get_running_loop()
        master, slave = pty.openpty()
        ours, theirs = socket.socketpair()
        try:
            self._set_size(slave, self.size)
            env = dict(self.env, **{CONTROL_FD_ENV: str(theirs.fileno())})
            self.process = subprocess.Popen(
                [sys.executable, "-c", BOOTSTRAP, *self.args],
                stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                pass_fds=(theirs.fileno(),), start_new_session=True)
        except (OSError, ValueError, struct.error) as error:
            os.close(master)
            ours.close()
            raise OSError(f"cannot start the app: {error}") from None
        finally:
            os.close(slave)
            theirs.close()
        self.master = master
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, self.process.pid, SERVED_NICENESS)
        ours.setblocking(False)
        self._control = ours
        os.set_blocking(self.master, False)
        loop.add_reader(self.master, self._readable)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def _readable(self) -> None:
        try:
            data = os.read(self.master, READ_BYTES)
        except BlockingIOError:
            return
        except OSError:  # EIO: the app closed its terminal (it exited)
            data = b""
        if data:
            self.on_output(data)
        else:
            self._end()

    def write(self, data: bytes) -> None:
        """Keys for the app; what the pty cannot take now is sent when it can."""
        if self._ended:
            return
        self._pending += data[:max(MAX_PENDING_KEYS - len(self._pending), 0)]
        self._flush()

    def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                sent = os.write(self.master, self._pending)
                del self._pending[:sent]
        except BlockingIOError:
            loop.add_writer(self.master, self._flush)
            return
        except OSError:
            self._pending.clear()
        loop.remove_writer(self.master)

    def resize(self, size: tuple[int, int]) -> None:
        if size != self.size and not self._ended:
            self.size = size
            self._set_size(self.master, size)

    @staticmethod
    def _set_size(fd: int, size: tuple[int, int]) -> None:
        columns, rows = size
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    def control(self, message: dict) -> None:
        """One JSON line for the app; dropped if the app is not reading (it never blocks us)."""
        if self._control is None or self._ended:
            return
        with contextlib.suppress(OSError):
            self._control.send(json.dumps(message).encode() + b"\n")

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        loop = asyncio.get_running_loop()
        loop.remove_reader(self.master)
        loop.remove_writer(self.master)
        status = self.process.poll() if self.process else None
        self._close_fds()
        self.on_exit(status)

    def _close_fds(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.master)
        if self._control is not None:
            self._control.close()

    async def stop(self, grace: float = 2.0) -> None:
        """End the app: a hang-up first (it saves its notes), then a kill after `grace`."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGHUP)
            # Polled, not waited for in a thread: the loop's thread pool may be busy.
            deadline = time.monotonic() + grace
            while process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if process.poll() is None:
                _signal_group(process.pid, signal.SIGKILL)
                while process.poll() is None:
                    await asyncio.sleep(0.02)
        if not self._ended:
            self._end()


def _signal_group(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, number)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, number)

