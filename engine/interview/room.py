"""Pair mode's room, as data: who is in it, who drives, what each connection's bytes do.

The server keys are single control bytes, caught by the server before any app sees them, so
they work whatever screen (or text field) has focus and cannot be remapped by an app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from ..cores import MAX_CORES_ENV  # noqa: F401  (one of the served app's variables)

# What the server tells a served app through its environment (the app reads these).
CONTROL_FD_ENV = "MICROGPT_TUI_CONTROL_FD"  # a socket of JSON lines: room, notice, repaint
ROOM_ENV = "MICROGPT_TUI_ROOM"  # "1": a pair room's shared app (it must not quit)
LOW_BANDWIDTH_ENV = "MICROGPT_TUI_LOW_BANDWIDTH"  # "1": frame cap, no mouse, terminal palette
WHO_ENV = "MICROGPT_TUI_WHO"  # "alice (candidate)": shown in the title bar

TAKE_KEY = b"\x14"  # Ctrl+T: the interviewer takes the keyboard, or gives it back
PRIVATE_KEY = b"\x0f"  # Ctrl+O: the interviewer swaps between the room and the private desk
LEAVE_KEY = b"\x11"  # Ctrl+Q: leave the room (the room goes on)

# What `?` lists in a room app, as (key, what it does): the room's own keys.
ROOM_KEYS = (
    ("ctrl+t", "Interviewer: take the keyboard / give it back"),
    ("ctrl+o", "Interviewer: private notes and rubric / back to the room"),
    ("ctrl+q", "Leave the room (it goes on without you)"),
)

MIN_SIZE = (80, 24)  # the app's own minimum: below it, it only says "enlarge"
SERVER_KEYS = TAKE_KEY + PRIVATE_KEY + LEAVE_KEY
_SERVER_KEY_SPLIT = re.compile(b"([" + re.escape(SERVER_KEYS) + b"])")
# What a terminal sends by itself, not a person: replies to the app's queries (DEC private
# modes, cursor position, device attributes), focus in/out, OSC replies. The room app's queries
# reach every member's terminal, so every terminal replies; a spectator's replies are dropped
# without a notice.
_TERMINAL_REPLY = re.compile(rb"(?:\x1b\[\?[0-9;$]*[a-zA-Z]|\x1b\[[0-9;]*R|\x1b\[[IO]"
                             rb"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\))+")


# A terminal that reports its own size in-band (mode 2048) would make the room app ignore the
# pty's size, which the server sets to the driver's: its answer to the app's query and its size
# reports are kept from the app, whoever sends them.
_IN_BAND_SIZE = re.compile(rb"\x1b\[\?2048;\d+\$y|\x1b\[48;[0-9;:]*t")


class Role(StrEnum):
    INTERVIEWER = "interviewer"
    CANDIDATE = "candidate"
    SPECTATOR = "spectator"


class View(StrEnum):
    ROOM = "room"  # the shared app
    DESK = "desk"  # the interviewer's private desk


@dataclass
class Member:
    """One connection in the room."""

    id: int
    name: str  # the SSH user name
    identity: str  # who it is across reconnects: a key fingerprint, or "password:<user>"
    role: Role
    size: tuple[int, int]  # columns, rows
    view: View = View.ROOM

    @property
    def label(self) -> str:
        return f"{self.name} ({self.role.value})"


# What a member's bytes turn into (Room.route).
@dataclass(frozen=True)
class ToRoom:
    data: bytes


@dataclass(frozen=True)
class ToDesk:
    data: bytes


@dataclass(frozen=True)
class Ignored:
    """Keys that reached the server from a member who may not use them; `notice` says why."""

    member: int
    notice: str


@dataclass(frozen=True)
class BatonChanged:
    driver: int | None  # the member now driving (None: the candidate's seat, empty)
    text: str


@dataclass(frozen=True)
class ViewChanged:
    member: int
    view: View


@dataclass(frozen=True)
class Leave:
    member: int


Action = ToRoom | ToDesk | Ignored | BatonChanged | ViewChanged | Leave


@dataclass
class Room:
    """Who is in the room and who drives. The candidate drives unless an interviewer has taken
    the keyboard; only an interviewer takes it or gives it back. The candidate's seat belongs to
    the first identity that took it, so the candidate finds it again after a reconnect."""

    members: dict[int, Member] = field(default_factory=dict)
    candidate_identity: str | None = None
    interviewer_driving: int | None = None  # the interviewer who took the keyboard
    last_size: tuple[int, int] = (80, 24)

    def join(self, member_id: int, name: str, identity: str, interviewer: bool,
             size: tuple[int, int]) -> Member:
        if interviewer:
            role = Role.INTERVIEWER
        elif self.candidate_identity in (None, identity):
            role = Role.CANDIDATE
            self.candidate_identity = identity
            for other in self.members.values():  # an older connection of the same candidate
                if other.role is Role.CANDIDATE:  # is most likely dead: it only watches now
                    other.role = Role.SPECTATOR
        else:
            role = Role.SPECTATOR
        member = Member(member_id, name, identity, role, size)
        self.members[member_id] = member
        return member

    def leave(self, member_id: int) -> Member | None:
        self.shared_size()  # the last one to leave leaves their size behind
        member = self.members.pop(member_id, None)
        if member_id == self.interviewer_driving:
            self.interviewer_driving = None  # the keyboard goes back to the candidate
        return member

    def candidate(self) -> Member | None:
        return next((m for m in self.members.values() if m.role is Role.CANDIDATE), None)

    def driver(self) -> Member | None:
        """The member whose keys reach the room app (None: the candidate is not connected)."""
        if self.interviewer_driving is not None:
            return self.members.get(self.interviewer_driving)
        return self.candidate()

    def driver_label(self) -> str:
        driver = self.driver()
        if driver is not None:
            return driver.label
        return "the candidate (not connected)"

    def resize(self, member_id: int, size: tuple[int, int]) -> None:
        if member_id in self.members:
            self.members[member_id].size = size

    def shared_size(self) -> tuple[int, int]:
        """The room app's size: the smallest terminal watching the room, so that everyone sees
        all of it (a larger terminal shows it in a corner). Terminals below the app's minimum
        (80×24) do not count: they get a notice instead. With no one left, the last size."""
        sizes = [m.size for m in self.members.values()
                 if m.view is View.ROOM and m.size[0] >= MIN_SIZE[0] and m.size[1] >= MIN_SIZE[1]]
        if sizes:
            self.last_size = (min(c for c, _ in sizes), min(r for _, r in sizes))
        return self.last_size

    def fits(self, member_id: int) -> bool:
        """Whether the member's terminal can show the shared screen (a larger one shows it
        letterboxed; a smaller one gets a notice instead of a garbled screen)."""
        columns, rows = self.members[member_id].size
        shared_columns, shared_rows = self.shared_size()
        return columns >= shared_columns and rows >= shared_rows

    def route(self, member_id: int, data: bytes) -> list[Action]:
        """What `data` from a member does: keys for the room or the desk, server keys, or
        nothing (with a notice) when the member does not drive."""
        member = self.members.get(member_id)
        if member is None:
            return []
        actions: list[Action] = []
        for part in _SERVER_KEY_SPLIT.split(_IN_BAND_SIZE.sub(b"", data)):
            if not part:
                continue
            if part in (TAKE_KEY, PRIVATE_KEY, LEAVE_KEY):
                actions.extend(self._server_key(member, part))
            elif member.view is View.DESK:
                actions.append(ToDesk(part))
            elif self.driver() is member:
                actions.append(ToRoom(part))
            elif _TERMINAL_REPLY.sub(b"", part):
                actions.append(Ignored(member.id, f"{member.label}: keys ignored, "
                                                  f"{self.driver_label()} is driving"))
        return actions

    def _server_key(self, member: Member, key: bytes) -> list[Action]:
        if key == LEAVE_KEY:
            return [Leave(member.id)]
        if member.role is not Role.INTERVIEWER:
            what = "hands the keyboard over" if key == TAKE_KEY else "has private notes"
            return [Ignored(member.id, f"{member.label}: only the interviewer {what}")]
        if key == PRIVATE_KEY:
            member.view = View.ROOM if member.view is View.DESK else View.DESK
            return [ViewChanged(member.id, member.view)]
        if self.interviewer_driving == member.id:
            self.interviewer_driving = None
            text = f"{member.label} gave the keyboard back to {self.driver_label()}"
            driver = self.driver()
            return [BatonChanged(driver.id if driver is not None else None, text)]
        self.interviewer_driving = member.id
        member.view = View.ROOM  # the one who drives sees what they drive
        return [BatonChanged(member.id, f"{member.label} took the keyboard")]

    def summary(self) -> dict:
        """What the room app shows in its title bar (sent as the control channel's "room")."""
        return {
            "type": "room",
            "driver": self.driver_label(),
            "members": [{"name": m.name, "role": m.role.value} for m in self.members.values()],
        }
