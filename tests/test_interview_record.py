"""Session records: events read back as written, damage skipped, whole lines under concurrent
writers and a killed one, sessions listed and opened by id (and nothing outside the root)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from microgpt_tui.engine.interview import record
from microgpt_tui.engine.interview.record import (
    Event,
    Session,
    SessionError,
    create_session,
    list_sessions,
    open_session,
    parse_record_line,
)

# A child process appending `count` events "<tag> <i>" to a session; with "ack" it prints ok
# after each one and goes on until killed.
APPENDER = """
import sys
from microgpt_tui.engine.interview.record import Event, Session
session = Session(sys.argv[1], "pair")
tag, count, ack = sys.argv[2], int(sys.argv[3]), sys.argv[4] == "ack"
i = 0
while ack or i < count:
    session.append(Event("run", f"{tag} {i}", who=tag, data={"i": i, "pad": "x" * 200}))
    if ack:
        print("ok", flush=True)
    i += 1
"""


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "sessions"
    monkeypatch.setenv(record.SESSIONS_ENV, str(folder))
    return folder


def make_session(root: Path, name: str, started: float, mode: str = "pair") -> Session:
    """A session on disk with a chosen start time (ensure() would stamp the current one)."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text(json.dumps({"id": name, "started": started, "mode": mode}))
    return Session(folder, mode)


def test_events_read_back_as_written(root):
    session = create_session("pair")
    assert session.folder.parent == root and not session.folder.exists()
    written = [Event("joined", "", who="alice (candidate)",
                     data={"address": "127.0.0.1", "fingerprint": "SHA256:abc"}, t=100.0),
               Event("run", "π ≈ 3.14", who="alice (candidate)",
                     data={"screen": "pi", "darts": 1e9, "estimate": 3.14159}, t=101.5)]
    for event in written:
        session.append(event)
    assert session.events() == written
    assert session.meta()["mode"] == "pair"
    assert session.meta_path.stat().st_mode & 0o777 == 0o600
    assert session.folder.stat().st_mode & 0o777 == 0o700


def test_a_session_without_a_record_has_no_events_and_empty_notes(root):
    session = make_session(root, "quiet", 5.0)
    assert session.events() == []
    assert session.read_text(session.notes_path) == ""


def test_torn_and_invalid_lines_are_skipped(root):
    session = make_session(root, "damaged", 5.0)
    good = [Event("screen", "", who="a", data={"screen": "pi"}, t=float(i)) for i in range(4)]
    lines = [
        good[0].to_json().encode(),
        b"not json at all",
        b"[1, 2, 3]",
        b'{"text": "no kind", "t": 1}',
        b'{"kind": "run", "t": NaN}',
        b'{"kind": "run", "t": true}',
        b'{"kind": "run", "t": 1e300}',
        b'{"kind": 7, "t": 1}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"kind": "run", "t": ' + b"9" * 5000 + b"}",
        b"\xff\xfe not utf-8",
        good[1].to_json().encode(),
        # a line cut short by a power cut, with the next append glued to its end
        good[2].to_json().encode()[:25] + good[3].to_json().encode(),
        b"",
    ]
    tail = good[0].to_json().encode()[:30]  # the last write, cut short: no newline
    session.record_path.write_bytes(b"\n".join(lines) + b"\n" + tail)
    assert session.events() == [good[0], good[1], good[3]]


def test_a_glued_line_is_found_past_nested_kind_keys():
    nested = Event("run", "x", data={"kind": "inner", "more": {"kind": "deeper"}}, t=3.0)
    whole = Event("left", "", who="bob", t=4.0)
    assert parse_record_line(nested.to_json().encode()[:60] + whole.to_json().encode()) == whole
    assert parse_record_line(nested.to_json().encode()) == nested


def test_missing_fields_default_and_wrong_types_are_dropped(root):
    session = make_session(root, "sparse", 5.0)
    session.record_path.write_text('{"kind": "server", "t": 7}\n'
                                   '{"kind": "run", "t": 8, "who": 3, "data": [1], "text": null}\n')
    assert session.events() == [Event("server", "", None, {}, 7.0), Event("run", "", None, {}, 8.0)]


def test_an_oversized_record_is_one_clear_error(root, monkeypatch):
    session = make_session(root, "big", 5.0)
    session.record_path.write_bytes(b"x" * 2000 + b"\n")
    monkeypatch.setattr(record, "RECORD_MAX_BYTES", 1000)
    with pytest.raises(SessionError, match="too large for a session record"):
        session.events()


@pytest.mark.parametrize("meta", [None, "{", "[]", '{"mode": "pair"}', '{"started": 1}',
                                  '{"started": "yesterday", "mode": "pair"}'])
def test_a_missing_or_malformed_meta_is_a_session_error(root, meta):
    folder = root / "broken"
    folder.mkdir(parents=True)
    if meta is not None:
        (folder / "meta.json").write_text(meta)
    with pytest.raises(SessionError) as caught:
        Session(folder).meta()
    assert "\n" not in str(caught.value)
    with pytest.raises(SessionError):
        open_session("broken")


def test_sessions_are_listed_newest_first_and_only_valid_ones(root, tmp_path):
    make_session(root, "b-middle", 200.0)
    make_session(root, "a-newest", 300.0, mode="served")
    make_session(root, "c-oldest", 100.0)
    (root / "no-meta").mkdir()
    (root / "a-file").write_text("{}")
    (root / ".hidden").mkdir()
    make_session(tmp_path, "elsewhere", 400.0)
    (root / "linked").symlink_to(tmp_path / "elsewhere")
    sessions = list_sessions()
    assert [s.id for s in sessions] == ["a-newest", "b-middle", "c-oldest"]
    assert sessions[0].mode == "served"
    assert list_sessions(tmp_path / "missing") == []


def test_open_session_finds_a_session_by_id(root):
    make_session(root, "20250101-093000-1a2b", 5.0, mode="served")
    session = open_session("20250101-093000-1a2b")
    assert session.folder == root / "20250101-093000-1a2b" and session.mode == "served"


@pytest.mark.parametrize("bad_id", ["", ".", "..", "../sessions", "a/b", "a\\b", ".hidden",
                                    "x\x1b[31m", "line\nbreak", "x" * 300, "/etc"])
def test_open_session_refuses_malformed_ids(root, bad_id):
    with pytest.raises(SessionError, match="not a session id") as caught:
        open_session(bad_id)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200


def test_open_session_refuses_unknown_ids_and_links_out_of_the_root(root, tmp_path):
    make_session(tmp_path, "outside", 5.0)
    root.mkdir(parents=True, exist_ok=True)
    (root / "linked").symlink_to(tmp_path / "outside")
    for name in ("missing", "linked"):
        with pytest.raises(SessionError, match="no session"):
            open_session(name)


def _appender(session: Session, tag: str, count: int, ack: bool = False) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", APPENDER, str(session.folder), tag,
                             str(count), "ack" if ack else "-"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_two_processes_appending_at_once_leave_whole_lines(root):
    session = create_session("pair")
    writers = [_appender(session, tag, 500) for tag in ("server", "app")]
    for writer in writers:
        _, stderr = writer.communicate(timeout=120)
        assert writer.returncode == 0, stderr.decode()
    raw = session.record_path.read_bytes()
    assert raw.endswith(b"\n") and raw.count(b"\n") == 1000
    events = session.events()
    assert len(events) == 1000
    for tag in ("server", "app"):  # each writer's lines, whole and in its own order
        assert [e.data["i"] for e in events if e.who == tag] == list(range(500))


def test_a_killed_writer_keeps_every_line_it_had_written(root):
    session = create_session("pair")
    writer = _appender(session, "app", 0, ack=True)
    assert writer.stdout is not None
    acknowledged = 0
    deadline = time.monotonic() + 120
    while acknowledged < 200 and time.monotonic() < deadline:
        if writer.stdout.readline() == b"ok\n":
            acknowledged += 1
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=60)
    assert writer.returncode == -signal.SIGKILL and acknowledged == 200
    numbers = [e.data["i"] for e in session.events()]
    assert numbers[:acknowledged] == list(range(acknowledged))
    assert numbers == list(range(len(numbers)))  # nothing lost or garbled before the kill
