"""Guards for Textual bugs that random-key testing found, applied once when the app loads.

Each fix replaces one Textual internal, so pyproject pins Textual to the minor series they were
tested with (8.2). A release that renames an internal cannot stop the app from starting: that
fix is skipped, a warning is logged once (never printed: the terminal belongs to the app), and
the app runs as upstream Textual does. tests/test_textual_fixes.py reproduces every upstream bug
with the original code, so after an upgrade a failing reproduction says which fix can go.

- option_list_paging: OptionList (and the command palette's list, which is one) raises
  KeyError on PageUp/PageDown when its highlighted option has not been laid out yet (the list
  is still empty-sized, e.g. just after Ctrl+P while the palette fills in). Paging then does
  nothing instead.
- stale_dismiss: a modal dismissed twice (two Enters or Escs queued before the first is
  handled) would pop the screen beneath it the second time, or raise when that was the last
  screen. A dismiss from a screen that is no longer on top is ignored.
- palette_search_after_close: keys typed just before Esc reach the palette's input after it
  has closed; the search each one starts then looks up the palette's removed list and the
  worker fails, taking the app down. A closed palette starts no search, and a search whose
  palette closed while it ran ends quietly.
- lenient_terminal_input: the Linux driver decodes the terminal's bytes as strict UTF-8, so one
  byte that is not UTF-8 (line noise, a Latin-1 terminal, a cat'ed binary file) kills its input
  thread and the app stops. Such a byte is read as U+FFFD, a key that does nothing.
- linear_input_restrict: the patterns that keep an `Input(type="integer" | "number")` to
  digits nest one repetition in another (groups of digits, repeated), so a value they refuse
  takes exponential time: typing a letter after 25 digits froze the app for minutes. The same
  languages, written so that each character has one way to match.
- styles_cache_keeps_widgets: `StylesCache.get_inner_outer` is an `lru_cache` on a method, so
  its 1024 entries hold every recent StylesCache (and its widget) alive after the widget is
  gone; each `?`/Esc leaves more objects for the garbage collector to walk, which shows as
  key latency. The cache is kept, keyed by the two colours only.
- watchers_keep_closed_widgets: a watcher added with `watch()` (and every `data_bind`) stays in
  the watched object's list until the watched value next changes. The Footer binds each of its
  FooterKeys to its own `compact` and recomposes them whenever the bindings change (every `?`
  and Esc), and `compact` never changes, so every FooterKey it ever drew stays alive: about
  1,100 objects per `?`/Esc for the collector to walk. Watchers of closed nodes are dropped
  whenever a watcher is added, as upstream drops them when the value changes.
- escape_select_timeout (with escape_parser_seen): a lone ESC is the Esc key only once the
  input parser's escape delay has passed with nothing after it, but the Linux driver checks
  for that only when its `select` times out, after 100 ms. So Esc ("back" on every screen) took
  100 ms (or more) to do anything. The input thread's `select` now wakes when the parser's
  pending timeout is due. Textual's escape delay is the ESCDELAY environment variable (ms).
"""

from __future__ import annotations

import functools
import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())  # seen where logging is set up (tests), never on the TTY


@dataclass(frozen=True)
class Patch:
    """A Textual attribute this module replaced, with the original kept (tests restore it)."""

    owner: type | ModuleType
    attribute: str
    original: Callable[..., Any]


APPLIED: dict[str, Patch] = {}
SKIPPED: dict[str, str] = {}  # fix name -> why it could not be applied


def _guard_option_list_paging(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def _move_page(self, direction) -> None:
        try:
            laid_out = bool(self._lines) and (self.highlighted or 0) in self._index_to_line
        except AttributeError:  # internals renamed within the pin: behave as upstream
            laid_out = True
        if laid_out:
            original(self, direction)

    return _move_page


def _ignore_stale_dismiss(original: Callable[..., Any]) -> Callable[..., Any]:
    from textual.await_complete import AwaitComplete

    @functools.wraps(original)
    def dismiss(self, result=None) -> AwaitComplete:
        if self.app.screen is not self or len(self.app.screen_stack) <= 1:

            async def nothing() -> None:
                return None

            return AwaitComplete(nothing()).call_next(self.app)
        return original(self, result)

    return dismiss


def _no_search_after_close(original: Callable[..., Any]) -> Callable[..., Any]:
    from textual import work
    from textual.command import CommandList, CommandPalette
    from textual.css.query import NoMatches

    search = original.__wrapped__  # the coroutine under Textual's @work

    async def gather(self, search_value: str) -> None:
        if not self.is_active:
            return
        try:
            await search(self, search_value)
        except NoMatches:
            if self.query(CommandList):
                raise  # the list is there: a real bug stays visible
            # The palette closed while the search ran: its list is gone, nothing to show.

    gather_in_worker = work(exclusive=True, group=CommandPalette._GATHER_COMMANDS_GROUP)(gather)

    @functools.wraps(original)
    def _gather_commands(self, search_value: str):
        if not self.is_active:
            return None
        return gather_in_worker(self, search_value)

    return _gather_commands


def _lenient_utf8(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def getincrementaldecoder(encoding: str) -> Callable[..., Any]:
        return functools.partial(original(encoding), errors="replace")

    return getincrementaldecoder


_DIGITS = r"(?:\d+(?:_\d+)*_?)?"  # digits; each `_` after a digit (upstream's `(?:\d*|\d+_)*`)


def _linear_restrict_types(original: dict[str, str | None]) -> dict[str, str | None]:
    # Upstream's number is sign, digits, optional `.digits`, then `\d[eE]?[-+]?digits`; that
    # last digit is the mantissa's own last one, so a lookbehind asks for it instead.
    return {
        **original,
        "integer": rf"[-+]?{_DIGITS}",
        "number": rf"[-+]?{_DIGITS}(?:\.{_DIGITS})?(?:(?<=\d)(?:[eE][-+]?|[-+]){_DIGITS})?",
    }


@functools.lru_cache(1024)
def _inner_outer_styles(base_background: Any, background: Any) -> Any:
    from textual.style import Style

    return Style(background=base_background + background), Style(background=base_background)


def _cache_without_self(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def get_inner_outer(self, base_background: Any, background: Any) -> Any:
        return _inner_outer_styles(base_background, background)

    return get_inner_outer


def _closed(node: Any) -> bool:
    return bool(getattr(node, "_closing", False) or getattr(node, "_closed", False))


def _prune_closed_watchers(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def _watch(node, obj, attribute_name, callback, *, init=True) -> None:
        watchers = getattr(obj, "__watchers", {}).get(attribute_name)
        if watchers:
            watchers[:] = [entry for entry in watchers if not _closed(entry[0])]
        original(node, obj, attribute_name, callback, init=init)

    return _watch


_input_thread = threading.local()  # the parser of the Linux driver's input thread


def _parser_seen(original: Callable[..., Any]) -> Callable[..., Any]:
    class SeenParser(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            _input_thread.parser = self

    return SeenParser


def select_timeout(timeout: float | None, parser: Any, now: float) -> float | None:
    """`timeout`, shortened to when `parser`'s pending escape timeout falls due."""
    due = getattr(parser, "_timeout_time", None)
    if due is None:
        return timeout
    left = max(due - now, 0.0)
    return left if timeout is None else min(timeout, left)


def _select_on_time(original: ModuleType) -> ModuleType:
    from textual._time import get_time

    class OnTimeSelector(original.SelectSelector):  # type: ignore[name-defined, misc]
        def select(self, timeout: float | None = None) -> Any:
            parser = getattr(_input_thread, "parser", None)
            return super().select(select_timeout(timeout, parser, get_time()))

    shim = ModuleType(original.__name__)
    shim.__dict__.update(original.__dict__)
    shim.SelectSelector = OnTimeSelector  # type: ignore[attr-defined]
    return shim


# name -> (class or module, its attribute, the guard built around the original)
FIXES: dict[str, tuple[str, str, Callable[[Any], Any]]] = {
    "option_list_paging": ("textual.widgets.OptionList", "_move_page", _guard_option_list_paging),
    "stale_dismiss": ("textual.screen.Screen", "dismiss", _ignore_stale_dismiss),
    "palette_search_after_close": (
        "textual.command.CommandPalette",
        "_gather_commands",
        _no_search_after_close,
    ),
    "lenient_terminal_input": (
        "textual.drivers.linux_driver",
        "getincrementaldecoder",
        _lenient_utf8,
    ),
    "linear_input_restrict": ("textual.widgets._input", "_RESTRICT_TYPES", _linear_restrict_types),
    "styles_cache_keeps_widgets": (
        "textual._styles_cache.StylesCache",
        "get_inner_outer",
        _cache_without_self,
    ),
    "watchers_keep_closed_widgets": ("textual.dom", "_watch", _prune_closed_watchers),
    "escape_parser_seen": ("textual.drivers.linux_driver", "XTermParser", _parser_seen),
    "escape_select_timeout": ("textual.drivers.linux_driver", "selectors", _select_on_time),
}


def _apply_one(name: str) -> None:
    owner_path, attribute, guard = FIXES[name]
    try:
        owner = importlib.import_module(owner_path)
    except ModuleNotFoundError:  # not a module: a class in one
        module_name, class_name = owner_path.rsplit(".", 1)
        owner = getattr(importlib.import_module(module_name), class_name)
    original = getattr(owner, attribute)
    setattr(owner, attribute, guard(original))
    APPLIED[name] = Patch(owner, attribute, original)


def apply() -> None:
    """Apply every fix once; one that no longer fits this Textual is skipped and logged once."""
    for name in FIXES:
        if name in APPLIED or name in SKIPPED:
            continue
        try:
            _apply_one(name)
        except (ImportError, AttributeError) as error:
            SKIPPED[name] = str(error)
            logger.warning("Textual fix %r skipped, running unpatched: %s", name, error)
