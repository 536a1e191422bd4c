"""The server's parts without a connection: the host key kept, a served app's environment."""

from __future__ import annotations

import io
import stat
from types import SimpleNamespace

import pytest

from microgpt_tui.engine.interview.record import create_session
from microgpt_tui.tui.serve.host_key import HostKeyError, load_or_create_host_key
from microgpt_tui.tui.serve.log import ConnectionLog
from microgpt_tui.tui.serve.server import Hub, ServeOptions
from microgpt_tui.tui.serve.session import app_env


def test_the_host_key_is_made_once_kept_private_and_reused(tmp_path):
    path = tmp_path / "data" / "host_key"
    key, created = load_or_create_host_key(path)
    assert created and stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created_again = load_or_create_host_key(path)
    assert not created_again
    assert again.get_fingerprint() == key.get_fingerprint()  # clients see the same host


def test_a_host_key_file_that_is_not_a_key_is_one_clear_error(tmp_path):
    path = tmp_path / "host_key"
    path.write_text("not a key")
    with pytest.raises(HostKeyError, match="not a usable private key"):
        load_or_create_host_key(path)


def test_a_served_app_gets_a_capped_low_bandwidth_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("SSH_AUTH_SOCK", "/tmp/agent")
    hub = SimpleNamespace(options=ServeOptions(max_cores=1, sessions_root=tmp_path))
    session = create_session("served", tmp_path)
    env = app_env(hub, "alice (you)", session, "screen-256color", room=True)
    assert env["MICROGPT_TUI_MAX_CORES"] == env["OMP_NUM_THREADS"] == "1"
    assert env["TEXTUAL_FPS"] == "10" and env["MICROGPT_TUI_LOW_BANDWIDTH"] == "1"
    assert env["MICROGPT_TUI_ROOM"] == "1" and env["MICROGPT_TUI_WHO"] == "alice (you)"
    assert env["MICROGPT_TUI_SESSION_DIR"] == str(session.folder)
    assert env["TERM"] == "screen-256color"
    assert "COLUMNS" not in env and "SSH_AUTH_SOCK" not in env  # the pty's size rules


class FakeConn:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def hub_with(keys, tmp_path, passwords: dict[str, str]) -> Hub:
    """A hub whose interviewer is `ivy` and whose password file holds `passwords`."""
    password_file = tmp_path / "passwords"
    for user, stored in passwords.items():
        with password_file.open("a") as handle:
            handle.write(f"{user}:{stored}\n")
    options = ServeOptions(interviewer_keys=keys.authorize("interviewers", "ivy"),
                           password_file=password_file)
    return Hub(options, ConnectionLog(None, stream=io.StringIO()))


async def test_a_password_login_is_never_an_interviewer_whatever_key_it_showed(keys, tmp_path):
    from microgpt_tui.engine.interview.passwords import hash_password
    from microgpt_tui.tui.serve.server import Connection

    hub = hub_with(keys, tmp_path, {"cal": hash_password("candidate pw")})
    connection = Connection(hub)
    connection.address = "127.0.0.1"
    public = keys.key("ivy").convert_to_public()
    assert connection.validate_public_key("cal", public)  # a probe with a public key
    assert connection.interviewer
    assert await connection.validate_password("cal", "candidate pw")
    assert not connection.interviewer and connection.identity == "password:cal"


async def test_three_wrong_passwords_close_the_connection(keys, tmp_path):
    from microgpt_tui.engine.interview.passwords import hash_password
    from microgpt_tui.tui.serve.server import PASSWORD_TRIES, Connection

    hub = hub_with(keys, tmp_path, {"cal": hash_password("candidate pw")})
    connection = Connection(hub)
    connection.address, connection.conn = "127.0.0.1", FakeConn()
    for _ in range(PASSWORD_TRIES):
        assert not await connection.validate_password("cal", "guess")
    assert connection.conn.closed


def test_client_sizes_and_terminal_names_are_kept_sane():
    from microgpt_tui.tui.serve.session import MAX_COLUMNS, MAX_ROWS, TERM_NAME, client_size

    assert client_size(70000, 0, (80, 24)) == (MAX_COLUMNS, 24)
    assert client_size(0, 99999, (100, 30)) == (100, MAX_ROWS)
    assert client_size(120, 40) == (120, 40)
    assert TERM_NAME.fullmatch("xterm-256color")
    assert not TERM_NAME.fullmatch("xterm\x00") and not TERM_NAME.fullmatch("x\x1b[31m")


async def test_an_app_that_cannot_start_leaves_nothing_open(tmp_path):
    import os

    from microgpt_tui.tui.serve.app_process import AppProcess

    before = len(os.listdir("/proc/self/fd"))
    app = AppProcess([], {"BAD": "nul\x00byte"}, (80, 24), lambda data: None, lambda status: None)
    with pytest.raises(OSError, match="cannot start the app"):
        app.start()
    assert len(os.listdir("/proc/self/fd")) == before


def test_what_a_client_chose_reaches_the_operators_terminal_as_plain_text():
    stream = io.StringIO()
    log = ConnectionLog(None, stream=stream)
    log.event("refused", who="cal", address="1.2.3.4:5",
              reason="the \x1b]52;c;aGk=\x07 subsystem is not offered")
    assert "\x1b" not in stream.getvalue() and "\x07" not in stream.getvalue()
