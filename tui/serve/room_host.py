"""Pair mode: one room app that everyone watches, and the interviewer's private desk.

The room app runs once, in a pty the size of the driver's terminal, for as long as the server
does: anyone may disconnect (the candidate finds the room as it was on reconnecting). Its
output goes to every member who watches the room and whose terminal can show it; a larger
terminal shows it in its top-left corner (the rest cleared), a smaller one gets a notice
instead of a broken screen. Only the driver's keys reach it (engine/interview/room.py decides).

The desk (private notes and the rubric) is a separate app whose output goes only to members
in the desk view — interviewers — so nothing of it is ever written to a candidate's channel.
"""

from __future__ import annotations

import time

from ...engine.interview.record import Event, create_session
from ...engine.interview.room import (
    BatonChanged,
    Ignored,
    Leave,
    Room,
    ToDesk,
    ToRoom,
    View,
    ViewChanged,
)
from .app_process import AppProcess
from .cast import CastRecorder
from .session import REPAINT, SessionChannel, app_env, safe_append

ENTER = b"\x1b[?1049h\x1b[?25l\x1b[2J\x1b[H"  # alternate screen, no cursor, cleared
CLEAR = b"\x1b[0m\x1b[2J\x1b[H"
LEAVE = b"\x1b[0m\x1b[2J\x1b[H\x1b[?25h\x1b[?1049l"  # back to the client's own screen
NOTICE_EVERY = 5.0  # seconds between two "keys ignored" notices for one member
RESTARTS_PER_MINUTE = 3  # a room app that keeps dying is not restarted forever


class RoomHost:
    def __init__(self, hub) -> None:
        self.hub = hub
        self.room = Room()
        self.session = create_session("pair", hub.options.sessions_root)
        safe_append(self.session, Event("server", "room opened", data={"pair": True}))
        self.links: dict[int, SessionChannel] = {}
        self.showing: dict[int, str | None] = {}  # "screen", "notice", None: not yet either
        self.app: AppProcess | None = None
        self.desk: AppProcess | None = None
        self.cast: CastRecorder | None = None
        self._last_notice: dict[int, float] = {}
        self._starts: list[float] = []  # when the room app was started, for the restart limit

    # the apps ----------------------------------------------------------------------------

    def _start_app(self) -> None:
        now = time.monotonic()
        self._starts = [t for t in self._starts if now - t < 60] + [now]
        if len(self._starts) > RESTARTS_PER_MINUTE:
            self._fail(f"the room's app ended {RESTARTS_PER_MINUTE} times within a minute")
            return
        size = self.room.shared_size()
        env = app_env(self.hub, "room", self.session, "xterm-256color", room=True)
        app = AppProcess(self.hub.options.app_args, env, size, self._room_output,
                         self._room_exited)
        try:
            app.start()
        except OSError as error:
            self._fail(str(error))
            return
        self.app = app
        if self.hub.options.record and self.cast is None:
            try:
                self.cast = CastRecorder(self.session.cast_path, size, "microgpt-tui interview")
            except OSError:
                pass  # the interview goes on unrecorded rather than not at all

    def _fail(self, why: str) -> None:
        """The room cannot run its app: everyone is told, and the server's log says why."""
        safe_append(self.session, Event("server", f"the room stopped: {why}"))
        self.hub.log.event("server", who=None, address="-", reason=f"the room stopped: {why}")
        for link in list(self.links.values()):
            link.end("the room stopped", message=f"The room stopped: {why}.")

    def _room_exited(self, status: int | None) -> None:
        # The room app never quits by itself; if it crashed, a fresh one takes its place.
        self.app = None
        if self.links:
            safe_append(self.session, Event("server", f"the room's app ended ({status})"))
            self._start_app()
            self._sync()

    def _start_desk(self, size: tuple[int, int]) -> None:
        env = app_env(self.hub, "interviewer", self.session, "xterm-256color")
        desk = AppProcess(["--desk"], env, size, self._desk_output, self._desk_exited)
        try:
            desk.start()
        except OSError as error:
            self._control({"type": "notice", "text": f"The private desk could not start: {error}"})
            return
        self.desk = desk

    def _desk_exited(self, status: int | None) -> None:
        # Whoever watched it stays in the desk view, so that nothing typed as a private note
        # goes to the shared app: their keys are dropped until Ctrl+O (a new desk, or the room).
        self.desk = None
        for link in self._watching(View.DESK):
            link.send(CLEAR + b"The private desk closed. Ctrl+O: back to the room.")

    def _room_output(self, data: bytes) -> None:
        if self.cast is not None:
            self.cast.output(data)
        for link in self._watching(View.ROOM):
            if self.showing.get(link.id) == "screen":
                link.send(data)

    def _desk_output(self, data: bytes) -> None:
        for link in self._watching(View.DESK):
            link.send(data)

    def _watching(self, view: View) -> list[SessionChannel]:
        return [link for member_id, link in self.links.items()
                if self.room.members[member_id].view is view]

    # members -----------------------------------------------------------------------------

    def join(self, link: SessionChannel) -> None:
        connection = link.connection
        member = self.room.join(link.id, connection.username, connection.identity,
                                connection.interviewer, link.size)
        self.links[link.id] = link
        self._record("joined", f"{member.label} joined from {connection.where}", member.label,
                     fingerprint=connection.identity, address=connection.where,
                     role=member.role.value)
        link.send(ENTER)
        if self.app is None:
            self._start_app()
        self.showing[link.id] = None
        self._sync()

    def leave(self, link: SessionChannel, reason: str) -> None:
        member = self.room.leave(link.id)
        self.links.pop(link.id, None)
        self.showing.pop(link.id, None)
        if member is not None:
            seconds = round(time.monotonic() - link.started, 1)
            self._record("left", f"{member.label} left ({reason})", member.label,
                         fingerprint=member.identity, address=link.connection.where,
                         reason=reason, seconds=seconds)
        self._sync()

    def farewell(self) -> bytes:
        return LEAVE

    def resize(self, link: SessionChannel) -> None:
        self.room.resize(link.id, link.size)
        member = self.room.members[link.id]
        if member.view is View.DESK and self.desk is not None:
            self.desk.resize(link.size)
        self._sync()

    def keys(self, link: SessionChannel, data: bytes) -> None:
        for action in self.room.route(link.id, data):
            if isinstance(action, ToRoom) and self.app is not None:
                self.app.write(action.data)
            elif isinstance(action, ToDesk) and self.desk is not None:
                self.desk.write(action.data)
            elif isinstance(action, Ignored):
                self._notice_ignored(action)
            elif isinstance(action, BatonChanged):
                self._record("baton", action.text, self.room.members[link.id].label)
                self._control({"type": "notice", "text": action.text})
                self.showing[link.id] = None  # taking the keyboard brings one back to the room
                self._sync()
            elif isinstance(action, ViewChanged):
                self._switch_view(link, action.view)
            elif isinstance(action, Leave):
                link.end("left the room", message="You left the room; it goes on.")
                break  # what came after Ctrl+Q is not this member's any more

    def _notice_ignored(self, action: Ignored) -> None:
        now = time.monotonic()
        if now - self._last_notice.get(action.member, -NOTICE_EVERY) >= NOTICE_EVERY:
            self._last_notice[action.member] = now
            self._control({"type": "notice", "text": action.notice})

    def _switch_view(self, link: SessionChannel, view: View) -> None:
        if view is View.DESK:
            link.send(CLEAR)
            if self.desk is None:
                self._start_desk(link.size)  # its first frame is a whole one
            else:
                self.desk.resize(link.size)
                self.desk.control(REPAINT)
        else:
            self.showing[link.id] = None  # _sync shows the room again, whole
        self._sync()

    def repaint_for(self, link: SessionChannel) -> None:
        member = self.room.members.get(link.id)
        if member is None:
            return
        if member.view is View.DESK and self.desk is not None:
            self.desk.control(REPAINT)
        else:
            self.showing[link.id] = None
            self._sync()

    # keeping everyone's screen right -----------------------------------------------------

    def _sync(self) -> None:
        """Size the room app to the driver, tell it who drives, and give every member who
        watches the room a whole screen or the notice their terminal needs."""
        if self.app is None:
            return
        size = self.room.shared_size()
        resized = size != self.app.size
        if resized:
            self.app.resize(size)  # the app redraws everything at the new size
            if self.cast is not None:
                self.cast.resize(size)
        self._control(self.room.summary())
        repaint = False
        for member_id, link in self.links.items():
            member = self.room.members[member_id]
            if member.view is not View.ROOM:
                continue
            wanted = "screen" if self.room.fits(member_id) else "notice"
            if not resized and self.showing.get(member_id) == wanted:
                continue
            if wanted == "screen":
                link.send(CLEAR)  # a larger terminal's margin must not keep an old frame
                repaint = True
            else:
                link.send(_too_small(member.size, size))
            self.showing[member_id] = wanted
        if repaint and not resized:
            self.app.control(REPAINT)

    def _show(self, link: SessionChannel) -> None:
        self.showing[link.id] = None
        self._sync()

    def _control(self, message: dict) -> None:
        if self.app is not None:
            self.app.control(message)

    def _record(self, kind: str, text: str, who: str | None, **data) -> None:
        safe_append(self.session, Event(kind, text, who=who, data=data))
        if kind in ("joined", "left"):
            self.hub.log.event(kind, who=who, address=str(data.get("address", "")),
                               fingerprint=data.get("fingerprint"), role=data.get("role"),
                               reason=data.get("reason"), seconds=data.get("seconds"),
                               session=self.session.id)

    async def stop(self) -> None:
        for process in (self.app, self.desk):
            if process is not None:
                await process.stop()
        safe_append(self.session, Event("server", "room closed"))


def _too_small(size: tuple[int, int], shared: tuple[int, int]) -> bytes:
    """A whole-screen notice for a terminal smaller than the room's screen."""
    columns, rows = size
    lines = [
        "The room's screen does not fit here.",
        f"Room: {shared[0]}x{shared[1]}; this terminal: {columns}x{rows}.",
        "Enlarge this window to watch; the room goes on meanwhile.",
    ]
    out = [CLEAR]
    for row, line in enumerate(lines, start=1):
        out.append(f"\x1b[{row};1H{line[:max(columns, 1)]}".encode())
    return b"".join(out)
