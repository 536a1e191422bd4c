"""One SSH session: a pty and a shell request get the app (its own, or the room's).

The session relays bytes both ways and keeps the terminal honest: a client that cannot keep
up (its channel's buffer is full) gets no frames meanwhile, then one full repaint, so a slow
link shows a current screen instead of queueing stale ones.
"""

from __future__ import annotations

import asyncio
import os
import re
import time

import asyncssh

from ...engine.interview.record import SESSION_DIR_ENV, SESSIONS_ENV, Event, Session
from ...engine.interview.room import LOW_BANDWIDTH_ENV, MAX_CORES_ENV, ROOM_ENV, WHO_ENV
from .app_process import AppProcess

FRAME_CAP_FPS = "10"  # a served app draws at most this many frames a second
REPAINT = {"type": "repaint"}
MAX_COLUMNS, MAX_ROWS = 1000, 500  # a client's size is its word: kept within what is sane
TERM_NAME = re.compile(r"[A-Za-z0-9._+-]{1,64}")


def client_size(columns: int, rows: int, before: tuple[int, int] = (80, 24)) -> tuple[int, int]:
    """The size a client asked for, kept within 1…MAX (0 means "unknown": the size before)."""
    return (min(max(columns or before[0], 1), MAX_COLUMNS),
            min(max(rows or before[1], 1), MAX_ROWS))


def safe_append(session: Session | None, event: Event) -> None:
    """Add to the record; a full disk must not stop the session's own clean-up."""
    if session is None:
        return
    try:
        session.append(event)
    except OSError:
        pass


def app_env(hub, who: str, session: Session, term: str, room: bool = False) -> dict[str, str]:
    """The environment of a served app: low bandwidth, a bounded share of the cores, who it
    serves and where its session is kept."""
    cores = str(hub.options.max_cores)
    # COLUMNS and LINES would override the pty's size (and so every resize) for good.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("SSH_") and key not in ("COLUMNS", "LINES")}
    env.update({
        "TERM": term or "xterm-256color",
        "TEXTUAL_FPS": FRAME_CAP_FPS,
        LOW_BANDWIDTH_ENV: "1",
        MAX_CORES_ENV: cores,
        "OMP_NUM_THREADS": cores, "OPENBLAS_NUM_THREADS": cores, "MKL_NUM_THREADS": cores,
        WHO_ENV: who,
        SESSION_DIR_ENV: str(session.folder),
    })
    if hub.options.sessions_root is not None:
        env[SESSIONS_ENV] = str(hub.options.sessions_root)
    if room:
        env[ROOM_ENV] = "1"
    return env


class SessionChannel(asyncssh.SSHServerSession):
    def __init__(self, connection) -> None:
        self.connection = connection
        self.hub = connection.hub
        self.id = self.hub.new_id()
        self.size = (80, 24)
        self.term = "xterm-256color"
        self.has_pty = False
        self.chan: asyncssh.SSHServerChannel | None = None
        self.last_input = time.monotonic()
        self.started = time.monotonic()
        self.app: AppProcess | None = None  # solo mode: this session's own app
        self.session: Session | None = None  # solo mode: its record
        self.paused = False
        self.missed_frames = False
        self.ended = False
        self._closed = asyncio.Event()

    @property
    def label(self) -> str:
        return self.connection.username

    # asyncssh callbacks -------------------------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int],
                      term_modes) -> bool:
        self.has_pty = True
        if term_type and TERM_NAME.fullmatch(term_type):
            self.term = term_type
        self.size = client_size(term_size[0], term_size[1])
        return True

    def shell_requested(self) -> bool:
        return True  # the "shell" is the app

    def exec_requested(self, command: str) -> bool:
        self._refused(f"running a command ({command[:60]!r})")
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        self._refused(f"the {subsystem} subsystem")
        return False

    def session_started(self) -> None:
        if not self.has_pty:
            self._refused("a session without a terminal")
            self._goodbye("microgpt-tui is a terminal app: connect with `ssh -t`.", status=1)
            return
        if len(self.hub.sessions) >= self.hub.options.max_sessions:
            self._refused(f"a session beyond the cap of {self.hub.options.max_sessions}")
            self._goodbye(f"The server is full ({self.hub.options.max_sessions} sessions): "
                          "try again later.", status=1)
            return
        self.hub.sessions.add(self)
        if self.hub.room is not None:
            self.hub.room.join(self)
        else:
            self._start_solo()

    def data_received(self, data: bytes, datatype) -> None:
        self.last_input = time.monotonic()
        if self.hub.room is not None and self in self.hub.sessions:
            self.hub.room.keys(self, data)
        elif self.app is not None:
            self.app.write(data)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int,
                              pixheight: int) -> None:
        self.size = client_size(width, height, self.size)
        if self.hub.room is not None and self in self.hub.sessions:
            self.hub.room.resize(self)
        elif self.app is not None:
            self.app.resize(self.size)

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        if self.missed_frames:
            self.missed_frames = False
            self.repaint()

    def eof_received(self) -> bool:
        return False  # the client closed its input: close the session

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish("disconnected" if exc is None else f"connection lost ({exc})")

    # relaying ----------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Output for the client; while it cannot keep up, frames are skipped (then repainted)."""
        if self.chan is None or self.ended:
            return
        if self.paused:
            self.missed_frames = True
            return
        self._write(data)

    def _write(self, data: bytes) -> None:
        try:
            self.chan.write(data)  # type: ignore[union-attr]
        except OSError:  # the client is going: its session ends in connection_lost
            pass

    def repaint(self) -> None:
        """Ask the app this client watches for a whole frame."""
        if self.hub.room is not None:
            self.hub.room.repaint_for(self)
        elif self.app is not None:
            self.app.control(REPAINT)

    # solo mode ---------------------------------------------------------------------------

    def _start_solo(self) -> None:
        from ...engine.interview.record import create_session

        self.session = create_session("served", self.hub.options.sessions_root)
        who = f"{self.label} (you)"
        safe_append(self.session, Event("joined", f"{self.label} connected from "
                                        f"{self.connection.where}", who=self.label,
                                        data={"fingerprint": self.connection.identity,
                                              "address": self.connection.where}))
        self.hub.log.event("joined", who=self.label, address=self.connection.where,
                           fingerprint=self.connection.identity, session=self.session.id)
        app = AppProcess(self.hub.options.app_args,
                         app_env(self.hub, who, self.session, self.term),
                         self.size, self.send, self._app_exited)
        try:
            app.start()
        except OSError as error:
            self._goodbye(f"The app could not start ({error}).", status=1,
                          reason="the app could not start")
            return
        self.app = app

    def _app_exited(self, status: int | None) -> None:
        self._goodbye("", status=0 if not status else 1, reason="quit the app")

    # ending ------------------------------------------------------------------------------

    def end(self, reason: str, message: str = "") -> None:
        """End this session from the server's side (idle, server stopping, left the room)."""
        self._goodbye(message, status=0, reason=reason)

    def _goodbye(self, message: str, status: int, reason: str | None = None) -> None:
        if self.chan is not None and not self.ended:
            if self.hub.room is not None and self in self.hub.sessions:
                self._write(self.hub.room.farewell())
            if message:
                self._write(f"\r\n{message}\r\n".encode())
            try:
                self.chan.exit(status)
            except OSError:
                pass
        self._finish(reason)

    def _finish(self, reason: str | None) -> None:
        if self.ended:
            return
        self.ended = True
        if self in self.hub.sessions:
            self.hub.sessions.discard(self)
            seconds = round(time.monotonic() - self.started, 1)
            if self.hub.room is not None:
                self.hub.room.leave(self, reason or "disconnected")
            else:
                self.hub.log.event("left", who=self.label, address=self.connection.where,
                                   fingerprint=self.connection.identity,
                                   reason=reason or "disconnected", seconds=seconds)
                safe_append(self.session, Event("left", f"{self.label} left ({reason})",
                                                who=self.label,
                                                data={"ended": reason, "seconds": seconds}))
        if self.app is not None:
            asyncio.get_running_loop().create_task(self._stop_app())
        else:
            self._closed.set()

    async def _stop_app(self) -> None:
        if self.app is not None:
            await self.app.stop()
        self._closed.set()

    async def closed(self) -> None:
        await self._closed.wait()

    def _refused(self, what: str) -> None:
        self.hub.log.event("refused", who=self.label, address=self.connection.where,
                           fingerprint=self.connection.identity, reason=f"{what} is not offered")
