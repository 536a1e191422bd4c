"""`microgpt-tui notes`: list the sessions, show and export a write-up (private parts only when
asked), JSON lines, and one-line errors for bad ids and paths."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from microgpt_tui.engine.interview.record import SESSIONS_ENV, Event, Session
from microgpt_tui.tui.cli.main import main

START = 1_736_000_000.0  # a fixed start: expected times are this machine's local ones
PRIVATE = "PRIVATE: strong on estimation"
RUBRIC = "RUBRIC: explains the 1/sqrt(n) error"


def local(stamp: float, pattern: str = "%H:%M:%S") -> str:
    return time.strftime(pattern, time.localtime(stamp))


def make_session(root: Path, name: str, started: float, events: list[Event],
                 mode: str = "pair") -> Session:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text(json.dumps({"id": name, "started": started, "mode": mode}))
    session = Session(folder, mode)
    for event in events:
        session.append(event)
    return session


INTERVIEW = [
    Event("server", "server started on 127.0.0.1:2222", t=START),
    Event("joined", "", who="alice (candidate)",
          data={"fingerprint": "SHA256:AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg",
                "address": "127.0.0.1"}, t=START + 5),
    Event("joined", "", who="bob (interviewer)", data={"address": "127.0.0.1"}, t=START + 6),
    Event("screen", "", who="alice (candidate)", data={"screen": "pi"}, t=START + 10),
    Event("run", "", who="alice (candidate)",
          data={"screen": "pi", "darts": 1e9, "estimate": 3.14159265, "seconds": 1.3},
          t=START + 20),
    Event("baton", "bob (interviewer) took the keyboard", data={"driver": "interviewer"},
          t=START + 30),
    Event("notes", "", who="bob (interviewer)", t=START + 40),
    Event("notes", "", who="bob (interviewer)", t=START + 45),
    Event("mystery", "", data={"level": 3}, t=START + 50),
    Event("left", "", who="alice (candidate)", data={"ended": "disconnected"}, t=START + 90),
]


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "sessions"
    monkeypatch.setenv(SESSIONS_ENV, str(folder))
    return folder


@pytest.fixture
def interview(root) -> Session:
    session = make_session(root, "20250104-150000-abcd", START, INTERVIEW)
    session.write_text(session.notes_path, "# Plan\n\nAsk about the error bars.\n")
    session.write_text(session.private_path, PRIVATE)
    session.write_text(session.rubric_path, RUBRIC)
    make_session(root, "20250103-090000-0001", START - 86_400, [], mode="served")
    return session


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_shows_sessions_newest_first(capsys, interview):
    code, out, err = run_cli(capsys, "notes", "list")
    assert code == 0 and err == ""
    header, first, second = out.splitlines()
    assert header.split() == ["ID", "STARTED", "MODE", "EVENTS", "WHO"]
    assert first.split()[:5] == ["20250104-150000-abcd", local(START, "%Y-%m-%d"),
                                 local(START, "%H:%M"), "pair", "10"]
    assert first.endswith("  alice (candidate), bob…")  # cut to fit 80 columns
    assert second.split()[0] == "20250103-090000-0001" and " served " in second
    assert max(len(line) for line in out.splitlines()) <= 80
    assert run_cli(capsys, "notes")[1] == out  # list is the default


def test_list_json_is_one_object_per_session(capsys, interview):
    code, out, _ = run_cli(capsys, "notes", "list", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [row["id"] for row in rows] == ["20250104-150000-abcd",
                                                        "20250103-090000-0001"]
    assert rows[0]["who"] == ["alice (candidate)", "bob (interviewer)"]
    assert rows[0]["events"] == 10 and rows[0]["started"] == START and rows[1]["events"] == 0


def test_no_sessions_is_said_not_an_error(capsys, root):
    code, out, err = run_cli(capsys, "notes", "list")
    assert code == 0 and "no sessions" in out and err == ""
    assert run_cli(capsys, "notes", "list", "--json") == (0, "", "")


def test_show_prints_the_write_up_without_private_parts(capsys, interview):
    code, out, err = run_cli(capsys, "notes", "show", interview.id)
    assert code == 0 and err == ""
    assert out.startswith(f"# Interview, {local(START, '%Y-%m-%d %H:%M')} (pair room)\n")
    for expected in [
        "## Who",
        "- **alice (candidate)**: key SHA256:AbCdEfGh…defg; from 127.0.0.1; "
        f"{local(START + 5)} to {local(START + 90)} (disconnected)",
        f"- **bob (interviewer)**: from 127.0.0.1; {local(START + 6)} to the end",
        "## Timeline",
        f"- {local(START)} server started on 127.0.0.1:2222",
        f"- {local(START + 10)} alice (candidate) opened pi",
        f"- {local(START + 20)} alice (candidate) ran pi: 10^9 darts, estimate 3.14159…, 1.3 s",
        f"- {local(START + 30)} bob (interviewer) took the keyboard",
        f"- {local(START + 45)} bob (interviewer) saved the notes (2 saves from "
        f"{local(START + 40)})",
        f"- {local(START + 50)} mystery: level 3",
        "## Notes\n\n### Plan\n\nAsk about the error bars.",
        "private notes and rubric are not included",
    ]:
        assert expected in out
    assert PRIVATE not in out and RUBRIC not in out


def test_private_parts_only_with_private(capsys, interview):
    _, out, _ = run_cli(capsys, "notes", "show", interview.id, "--private")
    assert f"## Interviewer's private notes\n\n{PRIVATE}" in out
    assert f"## Rubric\n\n{RUBRIC}" in out
    _, out, _ = run_cli(capsys, "notes", "show", interview.id, "--json")
    assert PRIVATE not in out and RUBRIC not in out


def test_show_json_gives_meta_events_and_notes(capsys, interview):
    code, out, _ = run_cli(capsys, "notes", "show", interview.id, "--json", "--private")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and records[0]["type"] == "session"
    assert records[0]["meta"] == {"id": interview.id, "started": START, "mode": "pair"}
    events = [r for r in records if r["type"] == "event"]
    assert [e["kind"] for e in events] == [e.kind for e in INTERVIEW]
    assert events[4]["data"]["darts"] == 1e9
    notes = {r["file"]: r["text"] for r in records if r["type"] == "notes"}
    assert notes == {"notes.md": "# Plan\n\nAsk about the error bars.\n",
                     "private.md": PRIVATE, "rubric.md": RUBRIC}


def test_export_writes_the_write_up_or_the_record_to_a_file(capsys, interview, tmp_path):
    _, shown, _ = run_cli(capsys, "notes", "show", interview.id)
    target = tmp_path / "out" / "interview.md"
    code, out, err = run_cli(capsys, "notes", "export", interview.id, "--markdown",
                             "--output", str(target))
    assert code == 0 and err == "" and str(target) in out
    assert target.read_text() == shown
    assert run_cli(capsys, "notes", "export", interview.id)[1] == shown  # stdout by default
    code, out, _ = run_cli(capsys, "notes", "export", interview.id, "--json", "--output",
                           str(tmp_path / "record.jsonl"))
    assert json.loads(out)["exported"] == interview.id
    lines = (tmp_path / "record.jsonl").read_text().splitlines()
    assert len(lines) == 1 + len(INTERVIEW) + 1


def test_export_to_a_bad_path_is_one_line_exit_2(capsys, interview, tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere.md")
    for target in (tmp_path, tmp_path / "link"):
        code, out, err = run_cli(capsys, "notes", "export", interview.id, "--output", str(target))
        assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert not (tmp_path / "elsewhere.md").exists()


@pytest.mark.parametrize("argv, problem", [
    (["show", ".."], "not a session id"),
    (["show", "../sessions"], "not a session id"),
    (["export", "/etc/passwd"], "not a session id"),
    (["show", "\x1b[31mred"], "not a session id"),
    (["show", "20990101-000000-ffff"], "no session"),
    (["show"], "needs a session ID"),
    (["list", "20250104-150000-abcd"], "takes no ID"),
    (["list", "--private"], "go with show or export"),
    (["show", "20250104-150000-abcd", "--output", "x.md"], "go with export"),
    (["export", "20250104-150000-abcd", "--markdown", "--json"], "not both"),
    (["delete"], "invalid choice"),
])
def test_bad_ids_and_usage_are_one_line_exit_2(capsys, interview, argv, problem):
    code, out, err = run_cli(capsys, "notes", *argv)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and problem in err and "\x1b" not in err


def test_a_damaged_record_still_shows(capsys, root):
    session = make_session(root, "damaged", START, INTERVIEW[:2])
    with open(session.record_path, "ab") as record:
        record.write(b'{"kind": "run", "t": 1e300}\nnot json\n{"kind":"scr')  # a torn end
    code, out, _ = run_cli(capsys, "notes", "show", "damaged")
    assert code == 0 and "alice (candidate) joined from 127.0.0.1" in out
    _, listed, _ = run_cli(capsys, "notes", "list", "--json")
    assert json.loads(listed)["events"] == 2


def test_what_a_client_sent_cannot_reach_the_terminal_as_escapes(capsys, root):
    hostile = "\x1b]0;owned\x07\x1b[2J eve (candidate)"
    make_session(root, "hostile", START, [
        Event("joined", "\x1b[31m", who=hostile, data={"address": "\x1b[5m1.2.3.4"}, t=START),
        Event("\x1b[1mrun", "", who=hostile, data={"\x1b": "\x9b"}, t=START + 1),
    ]).write_text(root / "hostile" / "notes.md", "fine \x1b[31mred\x1b[0m\n")
    for argv in (["show", "hostile"], ["list"], ["show", "hostile", "--json"]):
        code, out, _ = run_cli(capsys, "notes", *argv)
        assert code == 0 and "\x1b" not in out and "\x9b" not in out and "\x07" not in out
