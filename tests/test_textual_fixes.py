"""tui/textual_fixes.py: every upstream bug reproduced with Textual's own code, then gone.

The `*_upstream` tests restore the original Textual function and show the bug. When a Textual
upgrade makes one of them fail, upstream has fixed that bug: remove the fix and its tests.
Each uses a bare Textual App, so the bug is Textual's own, not this project's.
"""

from __future__ import annotations

import logging
import random
import subprocess
import sys

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.command import CommandList, CommandPalette
from textual.screen import ModalScreen, Screen
from textual.widgets import OptionList, Static
from textual.worker import WorkerFailed

from microgpt_tui.tui import textual_fixes

textual_fixes.apply()  # as importing the app does


@pytest.fixture
def upstream(monkeypatch):
    """Put one fix's original Textual function back for the rest of the test."""

    def restore(name: str) -> None:
        patch = textual_fixes.APPLIED[name]
        monkeypatch.setattr(patch.owner, patch.attribute, patch.original)

    return restore


def test_every_fix_applies_to_the_pinned_textual():
    assert textual_fixes.SKIPPED == {}
    assert set(textual_fixes.APPLIED) == set(textual_fixes.FIXES)


def test_a_renamed_internal_is_skipped_and_logged_once(monkeypatch, caplog):
    """A Textual whose internal was renamed: the app starts unpatched, with one warning."""
    monkeypatch.setattr(textual_fixes, "APPLIED", {})
    monkeypatch.setattr(textual_fixes, "SKIPPED", {})
    _, _, guard = textual_fixes.FIXES["option_list_paging"]
    renamed = {"option_list_paging": ("textual.widgets.OptionList", "_renamed", guard)}
    monkeypatch.setattr(textual_fixes, "FIXES", renamed)
    with caplog.at_level(logging.WARNING, logger=textual_fixes.__name__):
        textual_fixes.apply()
        textual_fixes.apply()
    warnings = [r.getMessage() for r in caplog.records if "option_list_paging" in r.getMessage()]
    assert len(warnings) == 1 and "running unpatched" in warnings[0]
    assert textual_fixes.APPLIED == {}


# --- option_list_paging ----------------------------------------------------------------------


class HiddenList(App):
    """An OptionList not laid out yet, like the palette's list while it fills in."""

    CSS = "OptionList { display: none; }"

    def compose(self) -> ComposeResult:
        yield OptionList(*[f"option {i}" for i in range(50)])


async def _page_down_unlaid_list() -> None:
    app = HiddenList()
    async with app.run_test(size=(40, 10)):
        option_list = app.query_one(OptionList)
        option_list.highlighted = 3
        option_list.action_page_down()


async def test_option_list_paging_upstream(upstream):
    upstream("option_list_paging")
    with pytest.raises(KeyError):
        await _page_down_unlaid_list()


async def test_option_list_paging_fixed():
    await _page_down_unlaid_list()


# --- stale_dismiss ---------------------------------------------------------------------------


class Dialog(ModalScreen[str]):
    def compose(self) -> ComposeResult:
        yield Static("dialog")


async def _dismiss_twice() -> tuple[list[str | None], int]:
    results: list[str | None] = []
    app = App()
    async with app.run_test() as pilot:
        app.push_screen(Screen())
        dialog = Dialog()
        app.push_screen(dialog, results.append)
        await pilot.pause()
        dialog.dismiss("first")
        dialog.dismiss("second")  # a second Esc queued before the first was handled
        await pilot.pause()
        depth = len(app.screen_stack)
    return results, depth


async def test_stale_dismiss_upstream(upstream):
    upstream("stale_dismiss")
    results, depth = await _dismiss_twice()
    assert results == ["first"] and depth == 1  # the second dismiss popped the screen beneath


async def test_stale_dismiss_fixed():
    results, depth = await _dismiss_twice()
    assert results == ["first"] and depth == 2


# --- palette_search_after_close --------------------------------------------------------------


async def _search_after_close() -> None:
    app = App()
    async with app.run_test() as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        palette._action_escape()  # Esc: the palette closes, its widgets start going...
        await palette.query_one(CommandList).remove()
        palette._gather_commands("q")  # ...and a key typed before the Esc reaches its input
        await pilot.pause(0.3)


async def test_palette_search_after_close_upstream(upstream):
    upstream("palette_search_after_close")
    with pytest.raises(WorkerFailed):
        await _search_after_close()


async def test_palette_search_after_close_fixed():
    await _search_after_close()


async def test_a_search_whose_palette_closes_while_it_runs_ends_quietly():
    """The search was started while the palette was open; its list goes before it runs."""
    app = App()
    async with app.run_test() as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        palette._gather_commands("q")  # started while open...
        await palette.query_one(CommandList).remove()  # ...the list goes before it runs
        await pilot.pause(0.3)
    assert app._exception is None


async def test_a_flood_of_palette_keys_never_crashes():
    """The random-key sequence that crashed upstream Textual's palette (seed 2 failed within
    100 keys): open, type, Esc and Enter in bursts, pauses around the 0.5 s "No matches" timer."""
    keys = list("zxwvyaeiou") + ["ctrl+p"] * 6 + ["escape"] * 4 + ["enter"] * 3
    keys += ["down", "up", "pageup", "pagedown", "backspace", "tab"]
    rng = random.Random(2)
    app = App()
    async with app.run_test(size=(80, 24)) as pilot:
        app.exit = lambda *args, **kwargs: None  # the palette's "Quit" must not end the run
        for _ in range(12):
            for key in (rng.choice(keys) for _ in range(10)):
                event = events.Key(key, key if len(key) == 1 else None)
                event.set_sender(app)
                app._driver.send_message(event)
            await pilot.pause()
            await pilot.pause(rng.choice([0, 0, 0.02, 0.25, 0.5, 0.52]))
            assert app._exception is None


# --- lenient_terminal_input ------------------------------------------------------------------


def _decode_line_noise() -> str:
    """What the Linux driver's input thread does with each read from the terminal."""
    from textual.drivers import linux_driver

    return linux_driver.getincrementaldecoder("utf-8")().decode(b"\xf9ok", final=False)


def test_lenient_terminal_input_upstream(upstream):
    upstream("lenient_terminal_input")
    with pytest.raises(UnicodeDecodeError):  # raised in the input thread: the app stops
        _decode_line_noise()


def test_lenient_terminal_input_fixed():
    assert _decode_line_noise() == "\ufffdok"


# --- linear_input_restrict -------------------------------------------------------------------

# Digits then a letter: refused, after trying every way to split the digits into groups.
REFUSED_AFTER_DIGITS = {"integer": "1" * 40 + "x", "number": "-" + "1" * 40 + "e1x"}


def _decides_in_time(pattern: str, text: str, seconds: float) -> bool:
    """Whether re.fullmatch decides `text` within `seconds` (in a process: it holds the GIL)."""
    code = "import re, sys; re.fullmatch(sys.argv[1], sys.argv[2])"
    try:
        subprocess.run([sys.executable, "-c", code, pattern, text], timeout=seconds, check=True)
    except subprocess.TimeoutExpired:
        return False
    return True


@pytest.mark.parametrize("kind", REFUSED_AFTER_DIGITS)
def test_linear_input_restrict_upstream(kind):
    original = textual_fixes.APPLIED["linear_input_restrict"].original[kind]
    assert not _decides_in_time(original, REFUSED_AFTER_DIGITS[kind], seconds=2)


@pytest.mark.parametrize("kind", REFUSED_AFTER_DIGITS)
def test_linear_input_restrict_fixed(kind):
    from textual.widgets._input import _RESTRICT_TYPES

    assert _decides_in_time(_RESTRICT_TYPES[kind], REFUSED_AFTER_DIGITS[kind] * 100, seconds=60)


def test_linear_input_restrict_keeps_what_upstream_allows():
    """Every string of up to 5 characters of digits, `_ . e E - +` and a letter: the same
    verdict from the linear patterns as from upstream's."""
    import itertools
    import re

    from textual.widgets._input import _RESTRICT_TYPES

    original = textual_fixes.APPLIED["linear_input_restrict"].original
    for length in range(6):
        for chars in itertools.product("12_.eE-+x", repeat=length):
            text = "".join(chars)
            for kind in REFUSED_AFTER_DIGITS:
                upstream = re.fullmatch(original[kind], text) is not None
                assert (re.fullmatch(_RESTRICT_TYPES[kind], text) is not None) == upstream, text


# --- styles_cache_keeps_widgets --------------------------------------------------------------


def _styles_cache_survives() -> bool:
    """Whether a StylesCache that nothing else refers to is still alive after a collection."""
    import gc
    import weakref

    from textual._styles_cache import StylesCache
    from textual.color import Color

    cache = StylesCache()
    cache.get_inner_outer(Color(1, 2, 3), Color(4, 5, 6))
    alive = weakref.ref(cache)
    del cache
    gc.collect()
    return alive() is not None


def test_styles_cache_keeps_widgets_upstream(upstream):
    upstream("styles_cache_keeps_widgets")
    assert _styles_cache_survives()


def test_styles_cache_keeps_widgets_fixed():
    from textual._styles_cache import StylesCache
    from textual.color import Color
    from textual.style import Style

    assert not _styles_cache_survives()
    inner, outer = StylesCache().get_inner_outer(Color(0, 0, 0), Color(10, 20, 30, 0.5))
    assert isinstance(inner, Style) and isinstance(outer, Style)
    assert outer == Style(background=Color(0, 0, 0))


# --- watchers_keep_closed_widgets ------------------------------------------------------------


async def _footer_keys_alive_after_recomposes(times: int) -> int:
    """FooterKeys still alive after the Footer redraws its keys `times` times."""
    import gc

    from textual.binding import Binding
    from textual.widgets import Footer
    from textual.widgets._footer import FooterKey

    class Keys(App[None]):
        BINDINGS = [Binding("a", "toggle", "Toggle")]
        shown = True

        def compose(self) -> ComposeResult:
            yield Footer()

        def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
            return self.shown if action == "toggle" else True

        def action_toggle(self) -> None:
            pass

    app = Keys()
    async with app.run_test() as pilot:
        for _ in range(times):
            app.shown = not app.shown
            app.refresh_bindings()
            await pilot.pause()
            await pilot.pause()
        gc.collect()
        return sum(1 for obj in gc.get_objects() if isinstance(obj, FooterKey))


async def test_watchers_keep_closed_widgets_upstream(upstream):
    upstream("watchers_keep_closed_widgets")
    # The toggled key is drawn every other time, and each one drawn stays alive.
    assert await _footer_keys_alive_after_recomposes(20) >= 10


async def test_watchers_keep_closed_widgets_fixed():
    # The footer shows at most the bindings' keys plus the palette's: a handful, not 20 redraws'.
    assert await _footer_keys_alive_after_recomposes(20) <= 4


# --- escape_select_timeout / escape_parser_seen ----------------------------------------------


def test_the_input_select_wakes_when_a_lone_escape_is_due():
    import os
    import threading

    from textual._time import get_time
    from textual.drivers import linux_driver

    keys: list[str] = []
    read, write = os.pipe()

    def input_thread() -> None:  # as the driver's: its parser, then a select with nothing to read
        parser = linux_driver.XTermParser()
        list(parser.feed("\x1b"))  # a lone ESC: Esc, or the start of a sequence?
        left = textual_fixes.select_timeout(0.1, parser, get_time())
        assert left is not None and left <= 0.1
        parser._timeout_time = get_time()  # due now: select must not wait its own timeout
        selector = linux_driver.selectors.SelectSelector()
        selector.register(read, linux_driver.selectors.EVENT_READ)
        selector.select(60)
        keys.extend(event.key for event in parser.tick())

    try:
        waiter = threading.Thread(target=input_thread, daemon=True)
        waiter.start()
        waiter.join(10)
        assert not waiter.is_alive(), "select waited for its own timeout, not for the escape"
        assert keys == ["escape"]
    finally:
        os.close(read)
        os.close(write)


def test_select_timeout_leaves_other_waits_alone():
    assert textual_fixes.select_timeout(0.1, None, 5.0) == 0.1

    class Pending:
        _timeout_time = 5.025

    assert textual_fixes.select_timeout(0.1, Pending(), 5.0) == pytest.approx(0.025)
    assert textual_fixes.select_timeout(None, Pending(), 6.0) == 0.0
