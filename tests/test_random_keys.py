"""Hundreds of random keys (thousands in a soak) on every screen, at two sizes, with resizes:
zero exceptions.

Every screen in the registry joins automatically, placeholders included. Quitting keys are left
out (they would end the run early); a key that leaves the screen (Esc, `[`/`]`, the palette)
is followed by reopening it, so the keys keep landing on the screen under test.

Keys arrive in bursts while workers report back, so a rare timing race can show up in one run
and not the next. Such a run is retried once: a failure that passes on the retry is still
printed as RERUN in the report (a race to chase), and one that fails twice fails the suite.
"""

from __future__ import annotations

import os
import random
import string
import unicodedata

import pytest
from textual import events
from textual.keys import _get_unicode_name_from_key

from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.registry import all_screens

# Keys per screen and size. 300 keeps the suite's share proportionate (about a tenth of a CI
# run); README's Development section gives the longer soak, e.g. MICROGPT_TUI_RANDOM_KEYS=5000.
KEYS_PER_RUN = int(os.environ.get("MICROGPT_TUI_RANDOM_KEYS", "300"))
BATCH = 25

KEYS = (
    [c for c in string.ascii_lowercase if c != "q"]
    + list("GHJKLNBTM")
    + list(string.digits)
    + [
        "space", "enter", "escape", "tab", "shift+tab", "backspace", "delete",
        "up", "down", "left", "right", "shift+up", "shift+down", "shift+left", "shift+right",
        "pageup", "pagedown", "home", "end", "plus", "minus", "equals_sign", "underscore",
        "question_mark", "left_square_bracket", "right_square_bracket", "comma", "full_stop",
        "slash", "colon", "less_than_sign", "greater_than_sign",
        "ctrl+p", "ctrl+s", "ctrl+o", "ctrl+r", "ctrl+l", "f1",
    ]
)
SIZES = [(80, 24), (120, 40)]
RESIZES = [(10, 5), (60, 20), (79, 24), (80, 24), (100, 30), (120, 40), (200, 60)]
SCREEN_IDS = ["home"] + [spec.screen_id for _, spec in all_screens()]


def _key_event(key: str) -> events.Key:
    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(key))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


async def press_burst(app, pilot, keys) -> None:
    """Queue keys as a fast typist would (no idle wait between them), then let the app settle.

    Pilot.press waits ≥ 40 ms after every key; bursts keep thousands of keys affordable in CI
    and test the harder case: keys arriving while the previous ones are still being handled.
    """
    for key in keys:
        event = _key_event(key)
        event.set_sender(app)
        app._driver.send_message(event)
    await pilot.pause()


def _on_target(app, screen_id: str) -> bool:
    if screen_id == "home":
        return len(app.screen_stack) == 1
    return app.screen.name == screen_id


@pytest.mark.slow
@pytest.mark.flaky(reruns=1)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen_id", SCREEN_IDS)
async def test_random_keys_never_raise(screen_id, size):
    rng = random.Random(f"{screen_id}:{size}")
    app = make_app(seed=7, size=size)
    exits: list[tuple] = []
    async with app.run_test(size=size) as pilot:
        real_exit = app.exit
        app.exit = lambda *args, **kwargs: exits.append(args)  # palette "Quit" must not end it
        try:
            for batch in range(KEYS_PER_RUN // BATCH):
                if not _on_target(app, screen_id):
                    app.go_home()
                    if screen_id != "home":
                        app.open_screen(screen_id)
                    await pilot.pause()
                await press_burst(app, pilot, [rng.choice(KEYS) for _ in range(BATCH)])
                if batch % 10 == 9:
                    await pilot.resize_terminal(*rng.choice(RESIZES))
                    await pilot.pause()
                    await pilot.resize_terminal(*size)
                assert app._exception is None, app._exception
            await pilot.pause()
        finally:
            app.exit = real_exit
    assert app._exception is None


@pytest.mark.slow
@pytest.mark.flaky(reruns=1)
@pytest.mark.parametrize("which", ["room", "desk"])
async def test_random_keys_in_the_interview_apps_never_raise(which, tmp_path):
    """The pair room's shared app (home; its quit keys do nothing) and the interviewer's desk."""
    from microgpt_tui.engine.interview.record import SESSION_DIR_ENV
    from microgpt_tui.engine.interview.room import ROOM_ENV
    from microgpt_tui.tui.desk import DeskApp

    environ = {SESSION_DIR_ENV: str(tmp_path / "session")}
    if which == "room":
        app = make_app(seed=7, environ={**environ, ROOM_ENV: "1"})
    else:
        app = DeskApp(environ=environ)
    rng = random.Random(which)
    async with app.run_test(size=(80, 24)) as pilot:
        for batch in range(KEYS_PER_RUN // BATCH):
            # q and ctrl+q too: in a room they must do nothing (the server owns leaving)
            keys = [rng.choice([*KEYS, "q", "ctrl+q"] if which == "room" else KEYS)
                    for _ in range(BATCH)]
            await press_burst(app, pilot, keys)
            if batch % 10 == 9:
                await pilot.resize_terminal(*rng.choice(RESIZES))
                await pilot.pause()
                await pilot.resize_terminal(80, 24)
            assert app._exception is None, app._exception
            assert app.is_running
