"""What the kit gives every screen in the real app: help and palette derived from the
bindings, and resets for the next candidate."""

from __future__ import annotations

import pytest

from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.commands import binding_commands
from microgpt_tui.tui.kit.screen import key_sections
from microgpt_tui.tui.registry import all_screens

BUILT = [(q, spec) for q, spec in all_screens() if spec.module is not None]


async def open_screen(app, pilot, screen_id: str):
    app.open_screen(screen_id)
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.screen


@pytest.mark.parametrize("question,spec", all_screens(), ids=lambda v: getattr(v, "screen_id", ""))
async def test_help_lists_each_working_key_once(question, spec):
    app = make_app(size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(app, pilot, spec.screen_id)
        keys = [item for _, items in key_sections(screen) for item in items]
        descriptions = [description for _, description in keys]
        assert len(descriptions) == len(set(descriptions)), descriptions
        has_parts = len(question.screens) > 1
        assert ("Next part" in descriptions) == has_parts
        assert ("Previous part" in descriptions) == has_parts
        assert "Show keys" in descriptions and "Keys" not in descriptions


@pytest.mark.parametrize("question,spec", BUILT, ids=lambda v: getattr(v, "screen_id", ""))
async def test_the_palette_holds_every_action_of_the_screen(question, spec):
    """Each binding that `?` lists is in the palette too: they come from one list."""
    app = make_app(size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(app, pilot, spec.screen_id)
        listed = {description for _, items in key_sections(screen) for _, description in items}
        listed.discard("Command palette")
        prefixes = (f"{screen.title}: ", "app: ")
        commands = {name.removeprefix(prefixes[0]).removeprefix(prefixes[1])
                    for name, _, _ in binding_commands(screen)}
        assert listed <= commands, sorted(listed - commands)


async def test_palette_search_finds_a_screen_action_and_runs_it():
    app = make_app(size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(app, pilot, "pi")
        assert not screen.answer_shown
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Answer")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.screen is screen
        assert screen.answer_shown


async def test_reset_this_screen_builds_it_afresh():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        first = await open_screen(app, pilot, "backprop")
        await pilot.press("R")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.name == "backprop"
        assert app.screen is not first
        assert not first.is_attached


async def test_reset_everything_forgets_every_screen_and_goes_home():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        visited = [await open_screen(app, pilot, spec.screen_id) for _, spec in BUILT]
        app.reset_everything()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(app.screen_stack) == 1
        assert all(not screen.is_attached for screen in visited)
        again = await open_screen(app, pilot, BUILT[0][1].screen_id)
        assert again is not visited[0]


@pytest.mark.parametrize("screen_id", ["cuda", "backprop"])
async def test_resets_in_a_burst_never_act_on_a_screen_still_being_built(screen_id):
    """R, a, R, … queued faster than a screen mounts: the keys that reach a screen still
    being built wait, instead of looking up widgets that are not there yet."""
    from textual import events

    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(app, pilot, screen_id)
        for _ in range(5):
            for key in ["R", "a", "R", "R", "a"]:
                event = events.Key(key, key)
                event.set_sender(app)
                app._driver.send_message(event)
            await pilot.pause()
        await pilot.pause(0.5)  # the last screen mounts (cancelled jobs never report back)
        assert app._exception is None
        assert app.screen.name == screen_id
