"""The server's parts without a connection: the host key kept, a served app's environment."""

from __future__ import annotations

import stat
from types import SimpleNamespace

import pytest

from microgpt_tui.engine.interview.record import create_session
from microgpt_tui.tui.serve.host_key import HostKeyError, load_or_create_host_key
from microgpt_tui.tui.serve.server import ServeOptions
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
