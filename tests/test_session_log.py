"""The app's record: screens opened and runs finished, appended to the server's session at once,
or held in memory by a local app until its notes make a session, then written in order."""

from __future__ import annotations

import json

import pytest

from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.session_log import SessionLog


@pytest.fixture(autouse=True)
def sessions_root(tmp_path, monkeypatch):
    root = tmp_path / "sessions"
    monkeypatch.setenv("MICROGPT_TUI_SESSIONS", str(root))
    return root


def events(folder) -> list[dict]:
    path = folder / "record.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_served_log_appends_each_event_at_once(tmp_path):
    folder = tmp_path / "served"
    log = SessionLog({"MICROGPT_TUI_SESSION_DIR": str(folder),
                      "MICROGPT_TUI_WHO": "alice (candidate)"})
    log.record("screen", "Q3 · Monte Carlo pi", screen="pi")
    log.record("run", "pi: 10 darts", screen="pi", darts=10, estimate=float("nan"))
    first, second = events(folder)
    assert (first["kind"], first["who"], first["data"]) == ("screen", "alice (candidate)",
                                                            {"screen": "pi"})
    assert second["data"] == {"screen": "pi", "darts": 10, "estimate": None}  # JSON, no NaN
    assert json.loads((folder / "meta.json").read_text())["mode"] == "served"


def test_a_local_log_waits_for_its_session_then_writes_in_order(sessions_root):
    log = SessionLog({})
    log.record("screen", "one")
    log.record("screen", "two")
    assert log.session is None and not sessions_root.exists()
    session = log.open()
    log.record("screen", "three")
    assert [e["text"] for e in events(session.folder)] == ["one", "two", "three"]
    assert all(e["who"] is None for e in events(session.folder))


def test_an_event_that_cannot_be_written_waits_for_the_next(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    log = SessionLog({"MICROGPT_TUI_SESSION_DIR": str(blocker / "session")})
    with pytest.raises(OSError):
        log.record("screen", "one")
    blocker.unlink()
    log.record("screen", "two")
    assert [e["text"] for e in events(blocker / "session")] == ["one", "two"]


async def settle(app, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def wait_for_run(app, pilot, folder, screen_id: str, seconds: float = 60) -> dict:
    for _ in range(int(seconds * 10)):
        runs = [e for e in events(folder)
                if e["kind"] == "run" and e["data"]["screen"] == screen_id]
        if runs:
            return runs[-1]
        await pilot.pause(0.1)
    raise AssertionError(f"no {screen_id} run in {events(folder)}")


async def test_the_app_records_screens_and_finished_runs(tmp_path, small_names_path):
    folder = tmp_path / "served"
    app = make_app(data_path=small_names_path,
                   environ={"MICROGPT_TUI_SESSION_DIR": str(folder), "MICROGPT_TUI_WHO": "bob"})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3", "2")  # Q3, then a burst to 10^2 darts
        pi = await wait_for_run(app, pilot, folder, "pi")
        assert pi["data"]["darts"] == 100 and 2.0 <= pi["data"]["estimate"] <= 4.0
        assert pi["text"].startswith("pi: 100 darts, estimate ") and pi["who"] == "bob"

        app.open_screen("backprop")
        await settle(app, pilot)
        await pilot.press("G")  # the neuron's whole timeline: forward, then backward()
        backprop = await wait_for_run(app, pilot, folder, "backprop")
        assert (backprop["data"]["nodes"], backprop["data"]["edges"]) == (10, 9)
        await pilot.press("g", "G")  # the same pass finished again: recorded once
        await settle(app, pilot)

        app.open_screen("cuda")  # the screen launches its first kernel as it opens
        cuda = await wait_for_run(app, pilot, folder, "cuda")
        assert cuda["data"]["kernel"] and cuda["data"]["size"] > 0 and cuda["data"]["backend"]

        app.open_screen("training")
        await settle(app, pilot)
        await pilot.press("s")  # the reference run on the NumPy engine
        training = await wait_for_run(app, pilot, folder, "training")
        assert training["data"]["steps"] > 0 and training["data"]["loss"] > 0
    screens = [e["data"]["screen"] for e in events(folder) if e["kind"] == "screen"]
    assert screens == ["pi", "backprop", "cuda", "training"]
    assert sum(e["data"]["screen"] == "backprop" for e in events(folder)
               if e["kind"] == "run") == 1


async def test_a_local_app_keeps_its_events_until_the_notes_make_a_session(sessions_root):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await settle(app, pilot)
        assert not sessions_root.exists()
        await pilot.press("ctrl+n", *"first note")
        app.autosave()
        await settle(app, pilot)
        (folder,) = sessions_root.iterdir()
        assert [e["kind"] for e in events(folder)] == ["screen"]
        await pilot.press("escape", "escape", "5")
        await settle(app, pilot)
        assert [e["data"]["screen"] for e in events(folder)] == ["pi", "backprop"]
