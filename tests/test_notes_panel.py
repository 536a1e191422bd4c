"""The whiteboard notes: one document on every screen, Ctrl+N and Esc, saved atomically into
the session (the server's, or a local one made at the first save), a failed save kept."""

from __future__ import annotations

import json

import pytest

from microgpt_tui.engine.interview import record
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.commands import binding_commands
from microgpt_tui.tui.kit.screen import key_sections
from microgpt_tui.tui.screens.home import HomeScreen
from microgpt_tui.tui.widgets.notes_panel import NotesPanel


@pytest.fixture(autouse=True)
def sessions_root(tmp_path, monkeypatch):
    root = tmp_path / "sessions"
    monkeypatch.setenv("MICROGPT_TUI_SESSIONS", str(root))
    return root


def panel(app) -> NotesPanel:
    return app.screen.query_one(NotesPanel)


async def open_screen(app, pilot, screen_id: str) -> None:
    app.open_screen(screen_id)
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def save_now(app, pilot) -> None:
    """What the 3-second timer does, without waiting for it."""
    app.autosave()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_every_screen_shows_the_same_notes():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(app, pilot, "pi")
        await pilot.press("ctrl+n", *"binary", "enter")
        assert panel(app).display and panel(app).has_focus
        await pilot.press("escape", "escape")  # out of the notes, then back home
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert panel(app).display and panel(app).text == "binary\n"
        await open_screen(app, pilot, "backprop")
        await pilot.press("ctrl+n", *"chain rule")
        await open_screen(app, pilot, "pi")
        assert panel(app).text == "binary\nchain rule" == app.notes.text


async def test_ctrl_n_shows_types_and_hides_even_from_inside_the_text():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        home_list = app.screen.focused
        await pilot.press("ctrl+n")
        assert panel(app).has_focus
        await pilot.press("q", "question_mark", "1")  # typed, not quit / help / open Q1
        assert isinstance(app.screen, HomeScreen) and panel(app).text == "q?1"
        await pilot.press("ctrl+n")  # a priority key: it hides the notes from inside them
        assert not panel(app).display and app.screen.focused is home_list
        assert not app.notes_shown


async def test_esc_leaves_the_notes_and_then_goes_back():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(app, pilot, "pi")
        await pilot.press("ctrl+n", "x", "escape")
        assert app.screen.name == "pi" and not panel(app).has_focus and panel(app).display
        await pilot.press("ctrl+n")  # shown but not focused: back into the text
        assert panel(app).has_focus
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, HomeScreen)


async def test_notes_are_in_the_footer_the_help_and_the_palette():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(app, pilot, "training")
        keys = [item for _, items in key_sections(app.screen) for item in items]
        assert ("^n", "Notes") in keys
        commands = [name for name, _, _ in binding_commands(app.screen)]
        assert "Q5 · MicroGPT training: Notes" in commands
        footer = app.screen._compositor.render_strips()[-1].text
        assert "^n Notes" in footer and "q Quit" in footer


@pytest.mark.parametrize("size", [(80, 24), (140, 40)], ids=["below", "beside"])
async def test_the_panel_fits_beside_or_below_and_the_screen_keeps_working(size):
    app = make_app(size=size)
    async with app.run_test(size=size) as pilot:
        await open_screen(app, pilot, "pi")
        await pilot.press("ctrl+n", *"notes", "escape", "n")  # n: the screen's next frame
        await app.workers.wait_for_complete()
        await pilot.pause()
        body, notes = app.screen.query_one("#question-body"), panel(app)
        assert not body.region.overlaps(notes.region)
        assert app.screen.region.contains_region(notes.region)
        if size[0] >= 116:
            assert notes.region.width == 36 and body.region.width >= 80
        else:
            assert notes.region.width == size[0] and body.region.height >= 12
        assert app.screen.run.tally.darts > 0


async def test_autosave_writes_the_notes_atomically_into_the_servers_session(tmp_path,
                                                                             monkeypatch):
    folder = tmp_path / "served"
    writes = []
    real_write = record.atomic_write_bytes
    monkeypatch.setattr(record, "atomic_write_bytes",
                        lambda path, data: writes.append(path) or real_write(path, data))
    app = make_app(environ={"MICROGPT_TUI_SESSION_DIR": str(folder)})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n", *"# Notes")
        await save_now(app, pilot)
        assert (folder / "notes.md").read_text() == "# Notes"
        await pilot.press(*" more")
    # The app's end saves what the last timer tick had not.
    assert (folder / "notes.md").read_text() == "# Notes more"
    assert writes.count(folder / "notes.md") == 2
    assert sorted(p.name for p in folder.iterdir()) == ["meta.json", "notes.md"]  # no temps


async def test_the_timer_saves_without_being_asked(tmp_path):
    folder = tmp_path / "served"
    app = make_app(environ={"MICROGPT_TUI_SESSION_DIR": str(folder)})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n", *"ticked")
        for _ in range(100):  # the timer fires every 3 s: a generous 10 s
            if (folder / "notes.md").exists():
                break
            await pilot.pause(0.1)
        assert (folder / "notes.md").read_text() == "ticked"


async def test_a_served_app_starts_from_the_sessions_notes(tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "notes.md").write_text("from before\n")
    app = make_app(environ={"MICROGPT_TUI_SESSION_DIR": str(folder)})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n")
        assert panel(app).text == "from before\n"


async def test_a_local_app_makes_its_session_at_the_first_save_only(sessions_root):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(app, pilot, "pi")
        await pilot.press("ctrl+n", "escape", "ctrl+n", "ctrl+n")  # shown, nothing typed
        await save_now(app, pilot)
    assert not sessions_root.exists()  # an app run that wrote no notes leaves no folder
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n", *"kept")
    (session,) = sessions_root.iterdir()
    assert (session / "notes.md").read_text() == "kept"
    assert json.loads((session / "meta.json").read_text())["mode"] == "local"


async def test_a_failed_save_says_so_once_and_keeps_the_text(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = make_app(environ={"MICROGPT_TUI_SESSION_DIR": str(blocker / "session")})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n", *"precious")
        await save_now(app, pilot)
        await pilot.press(*" words")
        await save_now(app, pilot)
        notices = [n.message for n in app._notifications]
        assert len(notices) == 1 and "Notes not saved" in notices[0], notices
        assert "\n" not in notices[0]
        assert panel(app).text == app.notes.text == "precious words" and app.notes.changed
        blocker.unlink()  # the folder can be made now: the next save goes through
        await save_now(app, pilot)
        assert (blocker / "session" / "notes.md").read_text() == "precious words"
        assert not app.notes.changed


async def test_notes_that_cannot_be_read_back_are_said_and_start_empty(tmp_path):
    folder = tmp_path / "served"
    (folder / "notes.md").mkdir(parents=True)  # not a file: unreadable as notes
    app = make_app(environ={"MICROGPT_TUI_SESSION_DIR": str(folder)})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        (notice,) = [n.message for n in app._notifications]
        assert "is a directory" in notice and "notes start afresh" in notice
        assert app.notes.text == ""


@pytest.mark.parametrize("width,narrow", [(140, True), (160, False)])
async def test_notes_beside_leave_the_answer_beside_the_demo_only_if_it_fits(width, narrow):
    """The answer goes beside the demo when the body, not the terminal, has 120 columns."""
    size = (width, 40)
    app = make_app(size=size)
    async with app.run_test(size=size) as pilot:
        await open_screen(app, pilot, "pi")
        await pilot.press("a")
        assert not app.screen.has_class("-narrow")
        await pilot.press("ctrl+n")
        assert app.screen.has_class("-narrow") == narrow
        await pilot.press("ctrl+n")
        assert not app.screen.has_class("-narrow")


async def test_pasted_control_characters_never_reach_the_notes(tmp_path):
    from textual import events

    from microgpt_tui.tui.widgets.notes_panel import SessionTextArea

    app = make_app(environ={"MICROGPT_TUI_SESSION_DIR": str(tmp_path / "s")})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        area = app.screen.query_one(SessionTextArea)
        area.post_message(events.Paste("ok\x1b]52;c;aGk=\x07 \x9b31mred\tend\nline"))
        await pilot.pause()
        assert area.text.endswith("ok]52;c;aGk= 31mred\tend\nline")
