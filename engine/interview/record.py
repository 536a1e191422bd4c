"""A session's record on disk: one folder per interview (or per app run that wrote notes).

    <sessions root>/<session id>/
        meta.json      what the session is: id, started, mode ("local", "served", "pair")
        record.jsonl   events, one JSON object per line, appended by the server and the app
        notes.md       the shared whiteboard notes (written atomically)
        private.md     the interviewer's own notes (never shown to a candidate)
        rubric.md      the interviewer's rubric, as edited in this session
        session.cast   the optional asciinema v2 recording of the shared screen

Events are appended in one write each (engine.files.append_line): a killed server or app loses
nothing it had written, and the server and the app can both append to one record. Reading skips
what a power cut can leave: a line cut short, and the junk it glues to the front of the next one.
"""

from __future__ import annotations

import json
import math
import os
import stat
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from ..files import append_line, atomic_write_bytes, read_user_file

SESSIONS_ENV = "MICROGPT_TUI_SESSIONS"  # overrides the sessions root (tests use a temp dir)
SESSION_DIR_ENV = "MICROGPT_TUI_SESSION_DIR"  # a served app's session folder, set by the server

# Reading limits: generous (an interview appends a few thousand lines), but a damaged or foreign
# file must not fill the memory of whoever reads it.
RECORD_MAX_BYTES = 32 * 2**20
TEXT_MAX_BYTES = 4 * 2**20  # notes, private notes, rubric
META_MAX_BYTES = 64 * 2**10
LATEST_TIME = 253_402_300_799.0  # 9999-12-31 23:59:59 UTC: later stamps are junk, not events
# Event.to_json writes "kind" first: where a whole line starts inside a damaged one.
_EVENT_START = b'{"kind":'
# How many starts to try in one damaged line: bounds the work a hostile line can cause.
_RECOVERY_TRIES = 8


class SessionError(ValueError):
    """A session that cannot be opened or read: one line saying which and why."""


def sessions_root() -> Path:
    """Where sessions live: $MICROGPT_TUI_SESSIONS, else the user data folder's sessions/."""
    folder = os.environ.get(SESSIONS_ENV)
    if not folder:
        from platformdirs import user_data_dir

        folder = str(Path(user_data_dir("microgpt-tui")) / "sessions")
    return Path(folder)


@dataclass(frozen=True)
class Event:
    """One thing that happened: `kind` is a short word ("joined", "left", "screen", "run",
    "baton", "notes", "refused", ...), `text` says it in a sentence, `who` names the
    connection or role, `data` holds its key numbers (JSON values)."""

    kind: str
    text: str
    who: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    t: float = field(default_factory=time.time)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: bytes | str) -> Event | None:
        """The event a record line holds, or None for anything that is not one (a line cut
        short, junk, a JSON value of another shape). Missing text, who and data default."""
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):  # bad JSON, bad UTF-8, absurd nesting or digits
            return None
        if not isinstance(value, dict):
            return None
        kind, stamp = value.get("kind"), value.get("t")
        if not isinstance(kind, str) or not is_timestamp(stamp):
            return None
        text, who, data = value.get("text"), value.get("who"), value.get("data")
        return cls(kind, text if isinstance(text, str) else "",
                   who if isinstance(who, str) else None,
                   data if isinstance(data, dict) else {}, float(stamp))


def is_timestamp(value: Any) -> TypeGuard[float]:
    """A time.time() value a reader can format: a finite number of seconds from 1970 to 9999."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and 0 <= value <= LATEST_TIME)


def parse_record_line(line: bytes) -> Event | None:
    """One record line's event. A line cut short by a power cut has the next append glued to
    its end; the whole event is then found at a later `{"kind":`."""
    start = 0
    for _ in range(_RECOVERY_TRIES):
        event = Event.from_json(line[start:])
        if event is not None:
            return event
        start = line.find(_EVENT_START, start + 1)
        if start == -1:
            break
    return None


def new_session_id(now: float | None = None) -> str:
    """A sortable id: the start time to the second, then 4 random hex digits."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now if now is not None else time.time()))
    return f"{stamp}-{os.urandom(2).hex()}"


class Session:
    """One session's folder; created on the first write (an app that wrote nothing leaves none)."""

    def __init__(self, folder: str | os.PathLike[str], mode: str = "local") -> None:
        self.folder = Path(folder)
        self.mode = mode

    @property
    def id(self) -> str:
        return self.folder.name

    @property
    def record_path(self) -> Path:
        return self.folder / "record.jsonl"

    @property
    def notes_path(self) -> Path:
        return self.folder / "notes.md"

    @property
    def private_path(self) -> Path:
        return self.folder / "private.md"

    @property
    def rubric_path(self) -> Path:
        return self.folder / "rubric.md"

    @property
    def cast_path(self) -> Path:
        return self.folder / "session.cast"

    @property
    def meta_path(self) -> Path:
        return self.folder / "meta.json"

    def ensure(self) -> None:
        """Create the folder (0700: notes may be private) and meta.json if missing."""
        if self.meta_path.exists():
            return
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        meta = {"id": self.id, "started": time.time(), "mode": self.mode}
        atomic_write_bytes(self.meta_path, json.dumps(meta).encode())

    def append(self, event: Event) -> None:
        """Add an event to the record (creating the session on its first)."""
        self.ensure()
        append_line(self.record_path, event.to_json().encode("utf-8"))

    def write_text(self, path: Path, text: str) -> None:
        """Save one of the session's text files (notes, private notes, rubric) atomically."""
        self.ensure()
        atomic_write_bytes(path, text.encode("utf-8"))

    def meta(self) -> dict[str, Any]:
        """meta.json: at least `started` (a time.time() value) and `mode`; SessionError if
        missing or malformed."""
        raw = self._read(self.meta_path, "a session's meta.json", META_MAX_BYTES)
        try:
            meta = json.loads(raw)
        except (ValueError, RecursionError):
            raise SessionError(f"{self.meta_path}: not valid JSON") from None
        if (not isinstance(meta, dict) or not isinstance(meta.get("mode"), str)
                or not is_timestamp(meta.get("started"))):
            raise SessionError(f"{self.meta_path}: not a session's meta.json "
                               "(it needs a start time and a mode)")
        return meta

    def events(self) -> list[Event]:
        """The record's events in the order written; none if nothing was recorded. Lines that
        hold no event are skipped, and so is a last line without its newline: a write cut short
        (or one still landing)."""
        if not self.record_path.exists():
            return []
        raw = self._read(self.record_path, "a session record", RECORD_MAX_BYTES)
        events = (parse_record_line(line) for line in raw.split(b"\n")[:-1])
        return [event for event in events if event is not None]

    def read_text(self, path: Path) -> str:
        """One of the session's text files (notes, private notes, rubric); "" if never saved.
        Bytes that are not UTF-8 read as U+FFFD: the rest of the notes still shows."""
        if not path.exists():
            return ""
        return self._read(path, "a notes file", TEXT_MAX_BYTES).decode("utf-8", "replace")

    def _read(self, path: Path, expected: str, limit: int) -> bytes:
        return read_user_file(
            path, expected=expected, max_bytes=limit, error=SessionError,
            too_large=lambda p, size: SessionError(
                f"{p}: {size:,} bytes is too large for {expected} (limit {limit:,})"))


def create_session(mode: str, root: Path | None = None) -> Session:
    """A new session under `root` (default: sessions_root()) with a fresh id; not yet on disk."""
    return Session((root or sessions_root()) / new_session_id(), mode)


def is_session_id(name: str) -> bool:
    """Whether `name` can be a session folder's name: one printable path component, no dot
    files (so never `..`), no separators."""
    return (0 < len(name) <= 255 and name.isprintable() and not name.startswith(".")
            and "/" not in name and "\\" not in name)


def list_sessions(root: Path | None = None) -> list[Session]:
    """Every session under `root` (default: sessions_root()), newest first. Only real folders
    with a valid meta.json count: a folder being created, or anything else there, is left out."""
    folder = root or sessions_root()
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as error:
        raise SessionError(f"{folder}: cannot read ({error.strerror or error})") from None
    found: list[tuple[float, str, Session]] = []
    for entry in entries:
        if not is_session_id(entry.name) or not entry.is_dir(follow_symlinks=False):
            continue
        session = Session(entry.path)
        try:
            meta = session.meta()
        except SessionError:
            continue
        session.mode = meta["mode"]
        found.append((meta["started"], entry.name, session))
    found.sort(key=lambda row: (row[0], row[1]), reverse=True)
    return [session for _, _, session in found]


def open_session(session_id: str, root: Path | None = None) -> Session:
    """The session named `session_id` (its folder's name) under `root` (default:
    sessions_root()); SessionError if the id is malformed or no such session is there."""
    if not is_session_id(session_id):
        shown = repr(session_id if len(session_id) <= 60 else session_id[:60] + "…")
        raise SessionError(f"{shown} is not a session id (ids look like 20250101-093000-1a2b)")
    folder = (root or sessions_root()) / session_id
    try:
        is_folder = stat.S_ISDIR(os.lstat(folder).st_mode)
    except OSError:
        is_folder = False
    if not is_folder:
        raise SessionError(f"no session {session_id!r} in {folder.parent}")
    session = Session(folder)
    session.mode = session.meta()["mode"]
    return session
