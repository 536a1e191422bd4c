"""The interviewer's desk (private notes and the rubric, saved into the session) and the CLI's
serving switches: the hidden --desk and --low-bandwidth."""

from __future__ import annotations

import os

import pytest

from microgpt_tui.tui.app import MicroGPTApp
from microgpt_tui.tui.cli import main as cli_main
from microgpt_tui.tui.cli.main import main
from microgpt_tui.tui.desk import DeskApp, default_rubric
from microgpt_tui.tui.modals.help import HelpScreen
from microgpt_tui.tui.widgets.notes_panel import SessionTextArea

QUESTION_HEADINGS = ["## Q1 ", "## Q2 ", "## Q3 ", "## Q4 ", "## Q5 ", "## Q6 "]


@pytest.fixture(autouse=True)
def hermetic(tmp_path, monkeypatch):
    """Sessions in a temp folder; no low-bandwidth switch from the shell running the tests
    (an ssh login sets SSH_CONNECTION), and TEXTUAL_FPS restored whatever main() sets."""
    monkeypatch.setenv("MICROGPT_TUI_SESSIONS", str(tmp_path / "sessions"))
    for name in ("TEXTUAL_FPS", "MICROGPT_TUI_LOW_BANDWIDTH", "SSH_CONNECTION"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def desk(folder) -> DeskApp:
    return DeskApp(environ={"MICROGPT_TUI_SESSION_DIR": str(folder)})


def pane(app, name: str) -> SessionTextArea:
    return app.screen.query_one(f"#desk-{name}", SessionTextArea)


def test_the_rubric_has_three_to_five_points_per_question():
    rubric = default_rubric()
    sections = rubric.split("\n## ")[1:]
    assert [f"## {s}"[:6] for s in sections] == QUESTION_HEADINGS
    for section in sections:
        assert 3 <= section.count("\n- ") <= 5, section


async def test_the_desk_saves_private_notes_and_the_rubric_into_the_session(tmp_path):
    folder = tmp_path / "session"
    app = desk(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        assert pane(app, "private").has_focus
        assert pane(app, "rubric").text == default_rubric()
        await pilot.press(*"strong on DNS")
        await pilot.press("tab", "ctrl+home", *"Mine: ", "enter")
        app.autosave()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert (folder / "private.md").read_text() == "strong on DNS"
        assert (folder / "rubric.md").read_text() == "Mine: \n" + default_rubric()
        await pilot.press("shift+tab", *"; weak on TLS")
    assert (folder / "private.md").read_text() == "strong on DNS; weak on TLS"  # saved at exit
    assert not (folder / "notes.md").exists()  # nothing of the desk goes to the shared notes


async def test_the_desk_starts_from_the_sessions_own_files(tmp_path):
    folder = tmp_path / "session"
    folder.mkdir()
    (folder / "private.md").write_text("from before")
    (folder / "rubric.md").write_text("# my rubric\n")
    app = desk(folder)
    async with app.run_test(size=(80, 24)):
        assert pane(app, "private").text == "from before"
        assert pane(app, "rubric").text == "# my rubric\n"
    assert (folder / "rubric.md").read_text() == "# my rubric\n"  # unchanged: not rewritten


async def test_the_desk_works_by_keyboard_at_80x24_and_question_mark_lists_its_keys(tmp_path):
    app = desk(tmp_path / "session")
    async with app.run_test(size=(80, 24)) as pilot:
        lines = [strip.text for strip in app.screen._compositor.render_strips()]
        assert lines[0].startswith(" Private — only you see this · ctrl+o back to the room")
        assert "Private notes" in lines[1] and "Rubric" in lines[1]
        await pilot.press("escape")  # out of the pane: keys are keys again
        assert app.screen.focused is None
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = [description for _, description in app.screen.keys]
        assert "Show keys" in listed and "Quit" in listed
        assert "Back" not in listed and "Notes" not in listed  # no such thing on the desk
        await pilot.press("escape", "escape", "tab")
        assert pane(app, "private").has_focus
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running


async def test_in_a_room_the_desk_does_not_quit_itself(tmp_path):
    app = DeskApp(environ={"MICROGPT_TUI_SESSION_DIR": str(tmp_path), "MICROGPT_TUI_ROOM": "1"})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running


def test_the_desk_needs_a_session():
    with pytest.raises(ValueError):
        DeskApp(environ={})


def test_desk_without_a_session_is_refused_in_one_line(monkeypatch, capsys):
    monkeypatch.delenv("MICROGPT_TUI_SESSION_DIR", raising=False)
    assert main(["--desk"]) == 2
    err = capsys.readouterr().err
    assert "MICROGPT_TUI_SESSION_DIR" in err and err.count("\n") == 1
    assert "--desk" not in cli_main.build_parser().format_help()  # not for users
    assert main(["--desk", "--seed", "3"]) == 2


def test_desk_runs_the_desk_app(monkeypatch, tmp_path):
    monkeypatch.setenv("MICROGPT_TUI_SESSION_DIR", str(tmp_path))
    monkeypatch.setattr(cli_main, "has_terminal", lambda: True)
    opened = []
    monkeypatch.setattr(DeskApp, "run", lambda app, **kwargs: opened.append((app, kwargs)))
    assert main(["--desk"]) == 0
    (app, kwargs), = opened
    assert isinstance(app, DeskApp) and app.private.text == ""


@pytest.fixture
def captured_run(monkeypatch):
    """main([...]) up to App.run: the app and the run's arguments, without a terminal."""
    monkeypatch.setattr(cli_main, "has_terminal", lambda: True)
    opened: list = []
    monkeypatch.setattr(MicroGPTApp, "run", lambda app, **kwargs: opened.append((app, kwargs)))
    return opened


@pytest.mark.parametrize("how", ["flag", "env", "ssh"])
def test_low_bandwidth_caps_frames_turns_the_mouse_off_and_uses_the_terminals_palette(
        captured_run, monkeypatch, how):
    argv = ["--low-bandwidth"] if how == "flag" else []
    if how == "env":
        monkeypatch.setenv("MICROGPT_TUI_LOW_BANDWIDTH", "1")
    if how == "ssh":
        monkeypatch.setenv("SSH_CONNECTION", "10.0.0.1 50000 10.0.0.2 22")
    assert main(argv) == 0
    (app, kwargs), = captured_run
    assert kwargs == {"mouse": False}
    assert os.environ["TEXTUAL_FPS"] == "10"
    assert app.theme == "ansi-dark"


def test_low_bandwidth_keeps_an_ansi_theme_an_explicit_theme_and_a_set_frame_rate(
        captured_run, monkeypatch):
    monkeypatch.setenv("TEXTUAL_FPS", "5")
    assert main(["--low-bandwidth", "--theme", "ansi-light"]) == 0
    assert main(["--low-bandwidth"]) == 0  # ansi-light is remembered: it stays
    assert main(["--low-bandwidth", "--theme", "nord"]) == 0  # asked for by name
    assert [app.theme for app, _ in captured_run] == ["ansi-light", "ansi-light", "nord"]
    assert os.environ["TEXTUAL_FPS"] == "5"


def test_without_low_bandwidth_the_mouse_stays_on(captured_run):
    assert main([]) == 0
    (app, kwargs), = captured_run
    assert kwargs == {"mouse": True} and "TEXTUAL_FPS" not in os.environ
    assert app.theme != "ansi-dark"


def test_the_forced_palette_is_not_remembered(captured_run):
    assert main(["--theme", "nord"]) == 0
    assert main(["--low-bandwidth"]) == 0
    assert main([]) == 0
    assert [app.theme for app, _ in captured_run] == ["nord", "ansi-dark", "nord"]
