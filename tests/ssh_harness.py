"""Serving the app on loopback in a test, and SSH clients whose screens a test can read.

A client feeds what it receives into a terminal emulator (pyte), so a test asserts on the
screen a user would see, not on escape sequences; it also keeps the raw bytes, so a test can
prove something was never sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pyte

from microgpt_tui.tui.serve.log import ConnectionLog
from microgpt_tui.tui.serve.server import ServeOptions, bound_port, start_server, stop_server

WAIT = 30.0  # seconds: a served app starts in a fresh Python process on a busy 2-core CI box


@dataclass
class Keys:
    folder: Path

    def key(self, name: str) -> asyncssh.SSHKey:
        path = self.folder / name
        if not path.exists():
            path.write_bytes(asyncssh.generate_private_key("ssh-ed25519").export_private_key())
        return asyncssh.read_private_key(str(path))

    def authorize(self, file_name: str, *names: str) -> Path:
        path = self.folder / file_name
        path.write_text("".join(self.key(n).export_public_key().decode() for n in names))
        return path


class Screen(asyncssh.SSHClientSession):
    """An SSH client's terminal: the bytes received, drawn by a terminal emulator."""

    def __init__(self, columns: int, rows: int) -> None:
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.closed = asyncio.Event()
        self.chan: asyncssh.SSHClientChannel | None = None

    def connection_made(self, chan) -> None:
        self.chan = chan

    def data_received(self, data: bytes, datatype) -> None:
        self.raw += data
        self.stream.feed(data)

    def connection_lost(self, exc) -> None:
        self.closed.set()

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def press(self, keys: str | bytes) -> None:
        assert self.chan is not None
        self.chan.write(keys.encode() if isinstance(keys, str) else keys)

    def resize(self, columns: int, rows: int) -> None:
        assert self.chan is not None
        self.screen.resize(rows, columns)
        self.chan.change_terminal_size(columns, rows)

    async def wait_for(self, text: str, timeout: float = WAIT) -> None:
        """Until `text` is on the screen; AssertionError with the screen if it never is."""
        deadline = time.monotonic() + timeout
        while text not in self.text():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen:\n{self.text()}")
            await asyncio.sleep(0.05)

    async def wait_for_row(self, row: int, text: str, timeout: float = WAIT) -> None:
        """Until row `row` (0-based) shows `text`."""
        deadline = time.monotonic() + timeout
        while text not in self.screen.display[row]:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared on row {row}; the screen:\n"
                                     f"{self.text()}")
            await asyncio.sleep(0.05)

    async def settle(self, quiet: float = 0.5, timeout: float = WAIT) -> None:
        """Until nothing arrived for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        seen = -1
        while seen != len(self.raw) and time.monotonic() < deadline:
            seen = len(self.raw)
            await asyncio.sleep(quiet)


@contextlib.asynccontextmanager
async def serving(options: ServeOptions, host_key: asyncssh.SSHKey):
    """The server on 127.0.0.1 and a free port, stopped (apps and all) at the end."""
    options.host, options.port = "127.0.0.1", 0
    log = ConnectionLog(None, stream=open("/dev/null", "w"))  # noqa: SIM115
    acceptor, hub = await start_server(options, host_key, log)
    try:
        yield bound_port(acceptor), hub
    finally:
        await stop_server(acceptor, hub)
        log.stream.close()


async def connect(port: int, key: asyncssh.SSHKey | None, user: str = "alice",
                  password: str | None = None) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        "127.0.0.1", port, username=user, client_keys=[key] if key else None,
        password=password, known_hosts=None, agent_path=None,
        preferred_auth="publickey" if password is None else "password",
    )


async def open_screen(conn: asyncssh.SSHClientConnection, columns: int = 80,
                      rows: int = 24) -> Screen:
    _, screen = await conn.create_session(
        lambda: Screen(columns, rows), term_type="xterm-256color",
        term_size=(columns, rows), encoding=None)
    return screen


async def eventually(condition, timeout: float = 10.0) -> None:
    """Until `condition()` holds (the server's side of a closed connection ends a moment later)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        await asyncio.sleep(0.02)
