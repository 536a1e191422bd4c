"""The app's side of a session record: the screens opened, the runs finished, the texts it saves.

A served app (MICROGPT_TUI_SESSION_DIR, set by the server) writes into the server's session from
its first event. A local app has no session until its notes are first saved: the events before
that wait in memory and are written then, so an app run that wrote no notes leaves no folder.

`SessionApp` is the base of both apps (the questions and the interviewer's desk): events are
appended on the UI thread (one short O_APPEND write each); the texts are saved every
AUTOSAVE_SECONDS when changed, in a thread (a save fsyncs), and once more when the app ends. A
save or a write that fails says so in one line and keeps the text; the next tries again.
"""

from __future__ import annotations

import math
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.reactive import Reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ..engine.files import read_user_file
from ..engine.interview.record import SESSION_DIR_ENV, Event, Session, create_session
from ..engine.interview.room import CONTROL_FD_ENV, ROOM_ENV, WHO_ENV
from .room_link import Notice, RoomLink, RoomMessage, RoomUpdate, printable

MAX_WAITING_EVENTS = 10_000  # a local app's events kept before its session exists (oldest go)
MAX_TEXT_BYTES = 1024 * 1024  # a session text file read back (notes, rubric)
AUTOSAVE_SECONDS = 3.0
AUTOSAVE_GROUP = "autosave"


class SessionLog:
    """Where this app's events and text files go: the server's session, or a local one made on
    the first save."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        folder = env.get(SESSION_DIR_ENV)
        self.who = env.get(WHO_ENV) or None
        self.in_room = env.get(ROOM_ENV) == "1"
        self.served = bool(folder)  # the server named the session: this app runs for it
        # The server writes the session's meta.json first; the mode only matters if it has not.
        mode = "pair" if self.in_room else "served"
        self._session: Session | None = Session(folder, mode) if folder else None
        self._waiting: deque[Event] = deque(maxlen=MAX_WAITING_EVENTS)
        self._lock = threading.Lock()  # the UI thread records while a save thread opens

    @property
    def session(self) -> Session | None:
        """The session written to, or None while a local app has written nothing."""
        return self._session

    def open(self) -> Session:
        """The session, created now for a local app, with the events that waited for it."""
        with self._lock:
            if self._session is None:
                self._session = create_session("local")
            self._flush(self._session)
            return self._session

    def record(self, kind: str, text: str, **data: Any) -> None:
        """Add an event (kept in memory while a local app has no session). Raises OSError
        when the record cannot be written; the event is then kept for the next write."""
        event = Event(kind, text, self.who, {key: _json_value(v) for key, v in data.items()})
        with self._lock:
            self._waiting.append(event)
            if self._session is not None:
                self._flush(self._session)

    def _flush(self, session: Session) -> None:
        while self._waiting:
            session.append(self._waiting[0])  # an OSError leaves it waiting, in order
            self._waiting.popleft()


def _json_value(value: Any) -> Any:
    """JSON never holds NaN or Infinity: a non-finite number is recorded as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class TextReadError(Exception):
    """A session text file that is there but cannot be read back (one line)."""


def read_session_text(path: Path) -> str | None:
    """A session text file's text, or None when there is none yet."""
    if not path.exists():
        return None
    data = read_user_file(
        path, expected="a text file", max_bytes=MAX_TEXT_BYTES, error=TextReadError,
        too_large=lambda p, size: TextReadError(f"{p}: {size:,} bytes, more than a session "
                                                f"text file holds ({MAX_TEXT_BYTES:,})"),
    )
    return data.decode("utf-8", errors="replace")


class SessionText:
    """One text file of the session (the notes, private notes, rubric) as edited in an app.

    `edit` runs on the UI thread; `save` may run on any thread, one at a time, and writes only
    when something changed since the last save. It writes the text as it was when the save
    began: an edit made meanwhile is saved next time.
    """

    def __init__(self, log: SessionLog, label: str, path_of: Callable[[Session], Path],
                 text: str = "") -> None:
        self.log = log
        self.label = label  # "notes", "private notes": what a failure notice names
        self.path_of = path_of
        self.text = text
        self._edits = 0
        self._saved = 0
        self._save_lock = threading.Lock()

    @property
    def changed(self) -> bool:
        return self._edits != self._saved

    def edit(self, text: str) -> None:
        if text != self.text:
            self.text = text  # before the count: a save that sees the count sees this text
            self._edits += 1

    def save(self) -> bool:
        """Write the text atomically if it changed (creating a local session first); True
        when written. Raises OSError when it cannot be written; the text stays unsaved."""
        with self._save_lock:
            edits = self._edits
            text = self.text
            if edits == self._saved:
                return False
            session = self.log.open()
            session.write_text(self.path_of(session), text)
            self._saved = edits
            return True


def save_texts(texts: list[SessionText]) -> str | None:
    """Save each text; what failed, in one line (None when all were saved)."""
    problems = []
    for text in texts:
        try:
            text.save()
        except OSError as error:
            problems.append(f"{text.label.capitalize()} not saved ({error})")
    return "; ".join(problems) or None


class SessionApp(App[None]):
    """An app that keeps a session: its record, its texts saved as they change, and when the
    server passes one, its line to the server (room, notices, repaints; its end ends the app)."""

    # The title bar's right side (widgets/title_bar.py). Not App.sub_title: changing that
    # repaints the whole screen, which every member of a room would be sent again.
    title_status: Reactive[str] = Reactive("", repaint=False)

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.environ = os.environ if environ is None else environ
        self.session_log = SessionLog(self.environ)
        self.in_room = self.session_log.in_room  # the server owns leaving: no quit key here
        self.room_status = ""
        self._texts: list[SessionText] = []
        self._saving: Worker | None = None
        self._room_link: RoomLink | None = None
        self._failing: set[str] = set()  # what has said it fails (said once until it works)
        self._unread: list[str] = []  # texts that could not be read back, said once mounted
        self._show_status()

    def session_text(self, label: str, path_of: Callable[[Session], Path],
                     default: str = "") -> SessionText:
        """A text file of the session, autosaved: its saved text when the session has it."""
        text = default
        session = self.session_log.session
        if session is not None:
            try:
                saved = read_session_text(path_of(session))
            except TextReadError as error:
                self._unread.append(f"{error}; {label} start afresh (saving replaces it)")
            else:
                text = default if saved is None else saved
        document = SessionText(self.session_log, label, path_of, text)
        self._texts.append(document)
        return document

    def on_mount(self) -> None:
        for line in self._unread:
            self.notify(line, severity="error", timeout=8, markup=False)
        self.set_interval(AUTOSAVE_SECONDS, self.autosave)
        descriptor = self.environ.get(CONTROL_FD_ENV, "")
        if descriptor.isdigit():
            try:
                self._room_link = RoomLink(int(descriptor), self.call_from_thread,
                                           self.apply_room_message, self.exit)
            except OSError as error:  # not an open socket: the app still works, unlinked
                self._failed("link", f"No line to the server ({CONTROL_FD_ENV}: {error})")
            else:
                self._room_link.start()

    def on_unmount(self) -> None:
        if self._room_link is not None:
            self._room_link.stop()
        for text in self._texts:  # the app is ending: a few ms of fsync no longer matter
            try:
                text.save()
            except OSError:
                pass  # no screen left to say it on; the autosave said it if it kept failing

    # -- saving ------------------------------------------------------------------------------

    def autosave(self) -> None:
        """Save what changed, in a thread; one save at a time (the next tick takes the rest)."""
        changed = [text for text in self._texts if text.changed]
        if changed and (self._saving is None or self._saving.is_finished):
            self._saving = self.run_worker(partial(save_texts, changed), thread=True,
                                           group=AUTOSAVE_GROUP, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != AUTOSAVE_GROUP or event.state != WorkerState.SUCCESS:
            return
        problem = event.worker.result
        if problem is None:
            self._worked("save")
        else:
            self._failed("save", f"{problem}: kept here, saving again every "
                                 f"{AUTOSAVE_SECONDS:g} s")

    # -- the record --------------------------------------------------------------------------

    def record(self, kind: str, text: str, **data: Any) -> None:
        """Add an event to the session's record; a write that fails says so once."""
        try:
            self.session_log.record(kind, text, **data)
        except OSError as error:
            self._failed("record", f"The session record cannot be written ({error})")
        else:
            self._worked("record")

    def _failed(self, what: str, line: str) -> None:
        if what not in self._failing:
            self._failing.add(what)
            self.notify(line, severity="error", timeout=8, markup=False)

    def _worked(self, what: str) -> None:
        self._failing.discard(what)

    # -- the room ----------------------------------------------------------------------------

    def apply_room_message(self, message: RoomMessage) -> None:
        if isinstance(message, RoomUpdate):
            self.room_status = message.status()
            self._show_status()
        elif isinstance(message, Notice):
            self.notify(message.text, timeout=5, markup=False)
        else:  # a late joiner's terminal is blank: every cell is sent again
            self.screen.refresh()

    def _show_status(self) -> None:
        """The title bar's right side: who this app is for, and who drives the room."""
        who = printable(self.session_log.who or "")  # a user name: no escape sequences shown
        self.title_status = " · ".join(filter(None, [who, self.room_status]))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "quit" and self.in_room:
            return False  # q does nothing and is not offered: leaving is the server's Ctrl+Q
        return True

    async def action_quit(self) -> None:
        if not self.in_room:
            await super().action_quit()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        served = self.session_log.served
        for command in super().get_system_commands(screen):
            if self.in_room and command.callback == self.action_quit:
                continue
            if served and command.title == "Screenshot":
                continue  # it would write a file into the server's working folder
            yield command
