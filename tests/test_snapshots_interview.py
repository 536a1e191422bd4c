"""Snapshots of the interview mode's views at 80×24: a question screen with the whiteboard
notes open, and the interviewer's desk."""

from __future__ import annotations

import pytest
from textual.widgets import TextArea

from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.desk import DeskApp


@pytest.fixture(autouse=True)
def sessions_root(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROGPT_TUI_SESSIONS", str(tmp_path / "sessions"))


async def steady_cursors(pilot) -> None:
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False  # a blinking cursor would make the picture depend on time
    await pilot.pause()


def test_pi_with_the_notes_open_80x24(snap_compare):
    async def run_before(pilot) -> None:
        await pilot.press("3")
        await pilot.app.workers.wait_for_complete()
        await pilot.press("ctrl+n", *"## Q3", "enter", *"- 4 * inside / n", "enter")
        await steady_cursors(pilot)

    app = make_app(seed=3, environ={"MICROGPT_TUI_WHO": "alice (candidate)"})
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_the_desk_80x24(snap_compare, tmp_path):
    async def run_before(pilot) -> None:
        await pilot.pause()  # the private pane takes focus as the desk mounts
        await pilot.press(*"Explains 1/sqrt(n) unprompted.")
        await steady_cursors(pilot)

    app = DeskApp(environ={"MICROGPT_TUI_SESSION_DIR": str(tmp_path / "session"),
                           "MICROGPT_TUI_WHO": "bob (interviewer)"})
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
