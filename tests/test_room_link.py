"""The served app's line to the server: room news in the title bar, notices, repaints, garbage
ignored, the server's end ending the app; and a room app that never quits itself."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import socket
import subprocess
import sys
import time

import pytest

from microgpt_tui.engine.interview.room import ROOM_KEYS
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.modals.help import HelpScreen
from microgpt_tui.tui.room_link import (
    MAX_LINE_BYTES,
    Notice,
    Repaint,
    RoomUpdate,
    parse_message,
    read_lines,
)
from microgpt_tui.tui.widgets.title_bar import TitleBar

ROOM = {"type": "room", "driver": "candidate",
        "members": [{"name": "alice", "role": "candidate"}, {"name": "bob", "role": "interviewer"}]}


@pytest.fixture(autouse=True)
def sessions_root(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROGPT_TUI_SESSIONS", str(tmp_path / "sessions"))


def line(message: dict) -> bytes:
    return json.dumps(message).encode() + b"\n"


def test_messages_are_parsed_and_anything_else_is_none():
    assert parse_message(line(ROOM)) == RoomUpdate("alice (candidate)", 2)
    as_the_server_says_it = dict(ROOM, driver="bob (interviewer)")
    assert parse_message(line(as_the_server_says_it)) == RoomUpdate("bob (interviewer)", 2)
    status = RoomUpdate("alice (candidate)", 2).status()
    assert status == "driving: alice (candidate) · 2 in the room"
    assert parse_message(line({"type": "room", "driver": "interviewer", "members": []})) == \
        RoomUpdate("interviewer", 0)
    assert parse_message(line({"type": "notice", "text": "bob\ntook the keyboard"})) == \
        Notice("bob took the keyboard")
    assert parse_message(b'{"type": "repaint"}') == Repaint()
    sneaky = {"type": "room", "driver": "candidate",
              "members": [{"name": "eve\x1b[2J\x07", "role": "candidate"}]}
    assert parse_message(line(sneaky)) == RoomUpdate("eve[2J (candidate)", 1)
    for garbage in [b"", b"not json", b"\xff\xfe", b"[1, 2]", b"[" * 60000, b'{"type": "dance"}',
                    b'{"type": "notice", "text": 5}', b'{"type": "room", "driver": null}']:
        assert parse_message(garbage) is None, garbage


def test_lines_are_split_and_an_overlong_one_is_dropped_whole():
    chunks = [b'{"a"', b':1}\n{"b":2}\n' + b"x" * (MAX_LINE_BYTES + 10), b"y" * 5000,
              b"tail\nlast\n", b"unterminated"]
    feed = iter(chunks + [b""])
    assert list(read_lines(lambda size: next(feed))) == [b'{"a":1}', b'{"b":2}', b"last"]


async def wait_until(pilot, condition, seconds: float = 10) -> None:
    for _ in range(int(seconds * 20)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out")


def title(app) -> str:
    bar = app.screen.query_one(TitleBar)
    return str(bar.render())


async def test_the_servers_messages_reach_the_app_and_its_end_ends_it():
    ours, theirs = socket.socketpair()
    app = make_app(environ={"MICROGPT_TUI_CONTROL_FD": str(theirs.detach())})
    async with app.run_test(size=(80, 24)) as pilot:
        ours.sendall(b"garbage\n" + b"[]\n" + line(ROOM))
        await wait_until(pilot, lambda: "driving: alice (candidate) · 2 in the room" in title(app))
        assert title(app).startswith("microgpt-tui")  # the screen's title gave way, cut
        ours.sendall(line({"type": "notice", "text": "bob took the keyboard"}))
        await wait_until(pilot, lambda: any(n.message == "bob took the keyboard"
                                            for n in app._notifications))
        ours.sendall(line({"type": "repaint"}))
        await pilot.pause(0.2)
        assert app.is_running and app._exception is None
        ours.close()  # the server is gone
        await wait_until(pilot, lambda: not app.is_running)


async def test_who_the_app_is_for_is_in_every_title_bar():
    app = make_app(environ={"MICROGPT_TUI_WHO": "alice (candidate)"})
    async with app.run_test(size=(80, 24)) as pilot:
        assert title(app).rstrip().endswith("alice (candidate)")
        await pilot.press("3")
        await pilot.pause()
        assert title(app).startswith("Q3 · Monte Carlo pi")
        assert title(app).rstrip().endswith("alice (candidate)")


async def test_a_room_app_never_quits_itself_and_lists_the_rooms_keys():
    app = make_app(environ={"MICROGPT_TUI_ROOM": "1"})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q", "ctrl+q", "ctrl+c")
        await pilot.pause()
        assert app.is_running
        await app.action_quit()  # the palette's "Quit" calls this
        await pilot.pause()
        assert app.is_running
        assert "Quit" not in [c.title for c in app.get_system_commands(app.screen)]
        assert "Quit" not in app.screen._compositor.render_strips()[-1].text
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.sections[-1] == ("Room", list(ROOM_KEYS))
        assert "Quit" not in [description for _, description in app.screen.keys]


async def test_outside_a_room_q_still_quits():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert "Quit" in [c.title for c in app.get_system_commands(app.screen)]
        await pilot.press("question_mark")
        await pilot.pause()
        assert "Room" not in [title for title, _ in app.screen.sections]
        await pilot.press("escape", "q")
        await pilot.pause()
        assert not app.is_running


ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()=>][0-9A-Za-z]?")


def drain(master: int, seconds: float) -> bytes:
    out, end = b"", time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                out += os.read(master, 65536)
            except OSError:
                break
    return out


@pytest.mark.slow
def test_a_repaint_sends_the_whole_screen_again_on_a_real_terminal(tmp_path):
    """A late joiner's terminal is blank: "repaint" must re-send every line, not the changes
    (there are none)."""
    import fcntl
    import struct
    import termios

    ours, theirs = socket.socketpair()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", MICROGPT_TUI_CONTROL_FD=str(theirs.fileno()),
               MICROGPT_TUI_SESSIONS=str(tmp_path), MICROGPT_TUI_CONFIG=str(tmp_path))
    process = subprocess.Popen([sys.executable, "-m", "microgpt_tui"], stdin=slave, stdout=slave,
                               stderr=slave, env=env, pass_fds=(theirs.fileno(),),
                               start_new_session=True)
    os.close(slave)
    theirs.close()
    try:
        first = b""
        for _ in range(60):  # the first frame, within a generous 30 s
            first += drain(master, 0.5)
            if b"Show keys" in ANSI.sub(b"", first):
                break
        drain(master, 1.0)  # settled
        assert drain(master, 0.5) == b""  # idle: nothing to send
        ours.sendall(line({"type": "repaint"}))
        repaint = ANSI.sub(b"", drain(master, 1.5)).decode("utf-8", "replace")
        for text in ["microgpt-tui", "Six interview questions", "Computers in general",
                     "CUDA and flash attention", "Show keys"]:
            assert text in repaint, text
        ours.close()
        assert process.wait(timeout=20) == 0  # the server's end ends the app
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)


async def test_a_descriptor_that_is_no_socket_is_said_and_the_app_goes_on():
    app = make_app(environ={"MICROGPT_TUI_CONTROL_FD": "987654"})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        (notice,) = [n.message for n in app._notifications]
        assert notice.startswith("No line to the server (MICROGPT_TUI_CONTROL_FD")
        await pilot.press("3")
        await pilot.pause()
        assert app.screen.name == "pi"
