"""The served app's line to the server: JSON messages on an inherited socket.

The server passes a socket's descriptor in MICROGPT_TUI_CONTROL_FD and writes one JSON object
per line to it:

    {"type": "room", "driver": "alice (candidate)", "members": [{"name": "alice", "role": ...}]}
    {"type": "notice", "text": "..."}
    {"type": "repaint"}

A daemon thread reads them and hands each one, parsed, to the app's thread. A line longer than
MAX_LINE_BYTES, one that is not JSON, or a message of a kind unknown here is skipped: the server
may be newer than the app, and garbage must never stop the reader. Text shown from a message
keeps printable characters only (a user name is chosen by whoever connects: an escape sequence
in it must not reach anyone's terminal). End of file means the server is gone, and the app with
it.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

MAX_LINE_BYTES = 64 * 1024
MAX_NOTICE_CHARS = 300  # a toast, not a document
READ_BYTES = 4096


@dataclass(frozen=True)
class RoomUpdate:
    """Who is in the room and who drives, as the title bar says it."""

    driver: str  # "alice (candidate)"
    members: int

    def status(self) -> str:
        people = "1 in the room" if self.members == 1 else f"{self.members} in the room"
        return f"driving: {self.driver} · {people}"


@dataclass(frozen=True)
class Notice:
    text: str


@dataclass(frozen=True)
class Repaint:
    pass


RoomMessage = RoomUpdate | Notice | Repaint


def parse_message(line: bytes) -> RoomMessage | None:
    """One line from the server as a message, or None when it is not one this app knows."""
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond Python's stack
        return None
    if not isinstance(message, dict):
        return None
    kind = message.get("type")
    if kind == "repaint":
        return Repaint()
    if kind == "notice" and isinstance(message.get("text"), str):
        return Notice(printable(message["text"])[:MAX_NOTICE_CHARS])
    if kind == "room" and isinstance(message.get("driver"), str):
        members = message.get("members")
        members = [m for m in members if _is_member(m)] if isinstance(members, list) else []
        # The server names the driver ("alice (candidate)"); a bare role gets its member's name.
        driver = message["driver"]
        driver = next((f"{m['name']} ({driver})" for m in members if m["role"] == driver), driver)
        return RoomUpdate(printable(driver)[:MAX_NOTICE_CHARS], len(members))
    return None


def printable(text: str) -> str:
    """`text` on one line, without control characters (escape sequences included)."""
    return "".join(ch for ch in " ".join(text.split()) if ch.isprintable())


def _is_member(member: Any) -> bool:
    return (isinstance(member, dict) and isinstance(member.get("name"), str)
            and isinstance(member.get("role"), str))


def read_lines(receive: Callable[[int], bytes]) -> Iterator[bytes]:
    """The complete lines `receive` yields until end of file (b""), without their newline; a
    line over MAX_LINE_BYTES is dropped whole (its end included), never kept growing."""
    pending = b""
    skipping = False  # inside a line that grew too long
    while chunk := receive(READ_BYTES):
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            if not skipping:
                yield line
            skipping = False
        if len(pending) > MAX_LINE_BYTES:
            pending, skipping = b"", True


class RoomLink:
    """Reads the control socket on its own thread; `deliver` and `closed` run on the app's
    thread through `call` (the app's call_from_thread)."""

    def __init__(
        self,
        fd: int,
        call: Callable[..., Any],
        deliver: Callable[[RoomMessage], None],
        closed: Callable[[], None],
    ) -> None:
        self._socket = socket.socket(fileno=fd)
        self._call = call
        self._deliver = deliver
        self._closed = closed
        self._stopping = False
        self._thread = threading.Thread(target=self._read, name="room-link", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """The app is ending: wake the reader (it then ends without calling back)."""
        self._stopping = True
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed by the server

    def _read(self) -> None:
        try:
            for line in read_lines(self._socket.recv):
                message = parse_message(line)
                if message is not None and not self._stopping:
                    self._call(self._deliver, message)
        except OSError:
            pass  # the socket broke: the same as the server closing it
        except RuntimeError:
            return  # the app is no longer running: nobody to tell
        finally:
            self._socket.close()
        if not self._stopping:
            try:
                self._call(self._closed)
            except RuntimeError:
                pass
