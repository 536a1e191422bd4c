"""`microgpt-tui serve`: bad options exit 2 with one line; --web without its extra says how."""

from __future__ import annotations

import sys

import pytest

from microgpt_tui.tui.cli.main import main as cli


@pytest.mark.parametrize(("argv", "says"), [
    (["serve"], "nobody could log in"),
    (["serve", "--authorized-keys", "/nonexistent/keys"], "no such file"),
    (["serve", "--pair", "--authorized-keys", __file__], "--pair needs --interviewer-keys"),
    (["serve", "--port", "70000", "--authorized-keys", __file__], "--port must be"),
    (["serve", "--max-sessions", "0", "--authorized-keys", __file__], "--max-sessions"),
    (["serve", "--idle-timeout", "-1", "--authorized-keys", __file__], "--idle-timeout"),
])
def test_bad_serve_options_exit_2_with_one_line(argv, says, capsys):
    assert cli(argv) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1


def test_an_authorized_keys_file_that_is_not_one_is_refused(tmp_path, capsys):
    bad = tmp_path / "keys"
    bad.write_text("this is not a key\n")
    argv = ["serve", "--authorized-keys", str(bad), "--port", "0",
            "--host-key", str(tmp_path / "host")]
    assert cli(argv) == 2
    assert "not an authorized_keys file" in capsys.readouterr().err


def test_serve_web_without_textual_serve_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "textual_serve", None)
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    assert cli(["serve", "--web"]) == 2
    assert "microgpt-tui[web]" in capsys.readouterr().err


def test_serve_web_runs_the_app_with_the_global_options(monkeypatch, capsys):
    import types

    started = {}

    class FakeServer:
        def __init__(self, command, host, port):
            started.update(command=command, host=host, port=port)

        def serve(self):
            started["served"] = True

    module = types.ModuleType("textual_serve.server")
    module.Server = FakeServer
    monkeypatch.setitem(sys.modules, "textual_serve", types.ModuleType("textual_serve"))
    monkeypatch.setitem(sys.modules, "textual_serve.server", module)
    assert cli(["--seed", "7", "serve", "--web"]) == 0
    assert started["host"] == "127.0.0.1" and started["port"] == 8000 and started["served"]
    assert "-m microgpt_tui --seed 7" in started["command"]


def test_esc_waits_25_ms_for_a_sequence_unless_the_user_says_otherwise(monkeypatch):
    from microgpt_tui.tui.cli.main import quick_escape

    monkeypatch.delenv("ESCDELAY", raising=False)
    quick_escape()
    assert __import__("os").environ["ESCDELAY"] == "25"
    monkeypatch.setenv("ESCDELAY", "200")
    quick_escape()
    assert __import__("os").environ["ESCDELAY"] == "200"


def test_the_app_starts_under_textual_serves_web_driver(tmp_path):
    """textual-serve runs the command with no terminal and TEXTUAL_DRIVER naming its driver."""
    import os
    import subprocess

    env = dict(os.environ, TEXTUAL_DRIVER="textual.drivers.web_driver:WebDriver",
               COLUMNS="80", ROWS="24")
    app = subprocess.Popen([sys.executable, "-m", "microgpt_tui"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        first = app.stdout.read(64)  # the web driver's first packet, not "needs a terminal"
    finally:
        app.kill()
        app.communicate()
    assert first and b"needs a terminal" not in first

