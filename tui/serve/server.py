"""The SSH server: who may connect, what a connection may ask for, and where its keys go.

Only the app is served. A connection authenticates with a public key from an authorized_keys
file (or a password, when a password file is given); then its session may ask for a pty and a
shell, and gets the app instead of a shell. Exec, subsystems (sftp), port and agent forwarding
are refused and logged. Failed logins are counted per address; an address that fails too often
is turned away for a while. Every connection is logged: who, key fingerprint, from where, when,
and how it ended.

Without `--pair` every connection runs its own app (tui/serve/session.py); with it, everyone
shares one room (tui/serve/room_host.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from ...engine.interview.passwords import check_login, load_password_file
from ...engine.interview.ratelimit import FailureLimiter
from .log import ConnectionLog

IDLE_CHECK_SECONDS = 1.0
LOGIN_TIMEOUT = 30  # seconds to finish authentication
PASSWORD_TRIES = 3  # wrong passwords on one connection before it is closed
PASSWORD_CHECKS_AT_ONCE = 2  # scrypt runs at once (each ~16 MiB and tens of ms, on purpose)
MAX_KEYS_BYTES = 1024 * 1024


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 2222
    authorized_keys: Path | None = None
    interviewer_keys: Path | None = None
    password_file: Path | None = None
    pair: bool = False
    max_sessions: int = 16
    idle_timeout: float = 1800.0
    record: bool = False
    host_key: Path | None = None
    app_args: list[str] = field(default_factory=list)  # e.g. ["--seed", "3"]
    max_cores: int = 1  # per served app
    sessions_root: Path | None = None


class Hub:
    """What every connection shares: keys, passwords, the failure limiter, the open sessions,
    the room (pair mode) and the log."""

    def __init__(self, options: ServeOptions, log: ConnectionLog) -> None:
        self.options = options
        self.log = log
        self.authorized = _read_keys(options.authorized_keys)
        self.interviewers = _read_keys(options.interviewer_keys)
        self.passwords = (load_password_file(options.password_file)
                          if options.password_file else {})
        self.limiter = FailureLimiter()
        # Password checks run here, never more than PASSWORD_CHECKS_AT_ONCE: a flood of
        # guesses is refused instead of queueing scrypt runs that would fill both cores.
        self.password_checks = ThreadPoolExecutor(PASSWORD_CHECKS_AT_ONCE,
                                                  thread_name_prefix="password")
        self.password_slots = asyncio.Semaphore(PASSWORD_CHECKS_AT_ONCE)
        self.sessions: set[Any] = set()  # the open SessionChannels
        self.room: Any = None  # a RoomHost in pair mode, created by the caller
        self.next_id = 0

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def key_allowed(self, key: asyncssh.SSHKey, address: str) -> tuple[bool, bool]:
        """(allowed, is an interviewer) for a client's public key."""
        # validate() gives the key's options (often an empty dict) or None when not listed.
        # A from="…" option is matched against the address (no reverse DNS lookups here).
        if self.interviewers is not None and \
                self.interviewers.validate(key, address, address) is not None:
            return True, True
        if self.authorized is not None and \
                self.authorized.validate(key, address, address) is not None:
            return True, False
        return False, False


class KeysFileError(ValueError):
    """An authorized_keys file that cannot be used; one line says why."""


def _read_keys(path: Path | None) -> asyncssh.SSHAuthorizedKeys | None:
    if path is None:
        return None
    from ...engine.files import read_user_file

    data = read_user_file(path, expected="an authorized_keys file", max_bytes=MAX_KEYS_BYTES,
                          error=KeysFileError,
                          too_large=lambda p, size: KeysFileError(f"{p}: {size} bytes, too large"
                                                                  " for an authorized_keys file"))
    try:
        return asyncssh.import_authorized_keys(data.decode("utf-8", errors="replace"))
    except (ValueError, asyncssh.KeyImportError) as error:
        raise KeysFileError(f"{path}: not an authorized_keys file ({error})") from None


class Connection(asyncssh.SSHServer):
    """One TCP connection: authentication and what it may ask for."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.address = "?"
        self.port = 0
        self.username = ""
        self.identity = ""  # key fingerprint, or "password:<user>"
        self.interviewer = False
        self.authenticated = False
        self.wrong_passwords = 0
        self.conn: asyncssh.SSHServerConnection | None = None

    @property
    def where(self) -> str:
        return f"{self.address}:{self.port}"

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.address, self.port = peer[0], peer[1]
        if not self.hub.limiter.allowed(self.address):
            self.hub.log.event("refused", who=None, address=self.where,
                               reason="too many failed logins from this address")
            self.authenticated = True  # not a new failure: it was turned away before trying
            conn.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.authenticated:
            self.hub.limiter.failed(self.address)
            self.hub.log.event("refused", who=self.username or None, address=self.where,
                               reason="authentication failed")

    def begin_auth(self, username: str) -> bool:
        self.username = username
        return True

    def public_key_auth_supported(self) -> bool:
        return self.hub.authorized is not None or self.hub.interviewers is not None

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        allowed, interviewer = self.hub.key_allowed(key, self.address)
        if allowed:
            self.identity = key.get_fingerprint("sha256")
            self.interviewer = interviewer
        return allowed

    def password_auth_supported(self) -> bool:
        return bool(self.hub.passwords)

    async def validate_password(self, username: str, password: str) -> bool:  # type: ignore[override]
        hub = self.hub
        if not hub.limiter.allowed(self.address) or hub.password_slots.locked():
            return False  # banned meanwhile, or a flood of guesses: not even checked
        async with hub.password_slots:
            # scrypt takes tens of milliseconds on purpose: off the loop that relays every key.
            loop = asyncio.get_running_loop()
            ok = await loop.run_in_executor(hub.password_checks, check_login, hub.passwords,
                                            username, password)
        if ok:
            # Not whatever key this connection showed before: a password is never an interviewer.
            self.identity, self.interviewer = f"password:{username}", False
            return True
        hub.limiter.failed(self.address)
        self.wrong_passwords += 1
        if self.wrong_passwords >= PASSWORD_TRIES and self.conn is not None:
            self.authenticated = True  # counted already, one by one
            self.conn.close()
        return False

    def auth_completed(self) -> None:
        self.authenticated = True
        self.hub.limiter.succeeded(self.address)

    def session_requested(self):
        from .session import SessionChannel

        assert self.conn is not None
        channel = self.conn.create_server_channel(encoding=None)
        # asyncssh refuses agent and X11 forwarding (create_server turns them off) without a
        # word; its request handlers are wrapped so that each refusal is logged too.
        for request, what in (("auth_agent_req_at_openssh_dot_com", "agent forwarding"),
                              ("x11_req", "X11 forwarding")):
            handler = getattr(channel, f"_process_{request}_request", None)
            if handler is not None:
                setattr(channel, f"_process_{request}_request", self._logged(handler, what))
        return channel, SessionChannel(self)

    def _logged(self, handler, what: str):
        def refused(packet):
            self._refuse(what)
            return handler(packet)

        return refused

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str,
                             orig_port: int) -> bool:
        self._refuse(f"port forwarding to {dest_host}:{dest_port}")
        return False

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        self._refuse(f"remote port forwarding on {listen_host}:{listen_port}")
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        self._refuse(f"forwarding to the socket {dest_path}")
        return False

    def unix_server_requested(self, listen_path: str) -> bool:
        self._refuse(f"remote forwarding of the socket {listen_path}")
        return False

    def tun_requested(self, unit: int | None) -> bool:
        self._refuse("a tunnel device")
        return False

    def tap_requested(self, unit: int | None) -> bool:
        self._refuse("a tap device")
        return False

    def _refuse(self, what: str) -> None:
        self.hub.log.event("refused", who=self.username, address=self.where,
                           fingerprint=self.identity, reason=f"{what} is not offered")


async def start_server(options: ServeOptions, host_key: asyncssh.SSHKey,
                       log: ConnectionLog) -> tuple[asyncssh.SSHAcceptor, Hub]:
    """Listen; the acceptor (close it to stop) and the hub."""
    hub = Hub(options, log)
    if options.pair:
        from .room_host import RoomHost

        hub.room = RoomHost(hub)
    acceptor = await asyncssh.create_server(
        lambda: Connection(hub), options.host, options.port,
        server_host_keys=[host_key], encoding=None, login_timeout=LOGIN_TIMEOUT,
        # Only the keys and passwords given: no Kerberos (GSS) logins, whatever this host has.
        gss_host=None, kbdint_auth=False, host_based_auth=False,
        agent_forwarding=False, x11_forwarding=False, allow_scp=False,
        keepalive_interval=30, keepalive_count_max=4,
    )
    asyncio.get_running_loop().create_task(_close_idle(hub))
    return acceptor, hub


def bound_port(acceptor: asyncssh.SSHAcceptor) -> int:
    return int(acceptor.sockets[0].getsockname()[1])


async def _close_idle(hub: Hub, clock: Callable[[], float] = time.monotonic) -> None:
    """End sessions whose user pressed nothing for the idle timeout."""
    while True:
        await asyncio.sleep(IDLE_CHECK_SECONDS)
        now = clock()
        for session in list(hub.sessions):
            if now - session.last_input > hub.options.idle_timeout:
                try:
                    session.end("idle timeout", message=f"No keys for "
                                f"{hub.options.idle_timeout:g} s: disconnected.")
                except Exception as error:  # one session's trouble must not stop the checks
                    hub.log.event("server", who=session.label, address="-",
                                  reason=f"ending an idle session failed: {error}")


async def stop_server(acceptor: asyncssh.SSHAcceptor, hub: Hub) -> None:
    """Stop listening, end every session (apps save their notes) and the room."""
    acceptor.close()
    for session in list(hub.sessions):
        session.end("server stopped", message="The server is stopping.")
    if hub.room is not None:
        await hub.room.stop()
    for session in list(hub.sessions):
        await session.closed()
    hub.password_checks.shutdown(wait=False, cancel_futures=True)
    hub.log.event("server", who=None, address=hub.options.host, reason="stopped")
