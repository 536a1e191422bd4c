"""Guards for Textual bugs that random-key testing found, applied once when the app loads.

OptionList (and the command palette's list, which is one) raises KeyError on PageUp/PageDown
when its highlighted option has not been laid out yet (the list is still empty-sized, e.g.
just after Ctrl+P while the palette fills in). Paging then does nothing instead of crashing.

The command palette's search worker and its "No matches found" timer can run after the
palette has closed (Esc or a jump while results are still arriving) and then fail looking up
their own, removed, list; likewise a screen's worker thread reporting back while the app is
quitting finds its widgets already gone. The app ignores exactly those lookups
(`is_lookup_after_teardown`): what is gone has nothing left to show.

A modal that is dismissed twice (two Enters or Escs queued before the first is handled) would
pop the screen beneath it the second time, or raise when that was the last screen: a dismiss
from a screen that is no longer on top is ignored.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from textual.await_complete import AwaitComplete
from textual.command import CommandPalette
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import OptionList
from textual.worker import WorkerFailed


def _guard_option_list_paging() -> None:
    original = OptionList._move_page
    if getattr(original, "_microgpt_guarded", False):
        return

    def move_page(self: OptionList, direction) -> None:
        if self._index_to_line.get(self.highlighted or 0) is None or not self._lines:
            return
        original(self, direction)

    move_page._microgpt_guarded = True  # type: ignore[attr-defined]
    OptionList._move_page = move_page  # type: ignore[method-assign]


def is_lookup_after_teardown(app, error: BaseException) -> bool:
    """True for a failed widget lookup by code whose widgets are being torn down: anything
    while the app is quitting, or the command palette's own code after it left the screen."""
    inner = error.error if isinstance(error, WorkerFailed) else error
    if not isinstance(inner, NoMatches):
        return False
    if not app.is_running:
        return True
    if any(isinstance(screen, CommandPalette) for screen in app.screen_stack):
        return False
    files = {Path(frame.f_code.co_filename) for frame, _ in traceback.walk_tb(inner.__traceback__)}
    return any(path.parent.name == "textual" and path.name == "command.py" for path in files)


def _ignore_stale_dismiss() -> None:
    original = Screen.dismiss
    if getattr(original, "_microgpt_guarded", False):
        return

    def dismiss(self: Screen, result=None) -> AwaitComplete:
        if self.app.screen is not self or len(self.app.screen_stack) <= 1:

            async def nothing() -> None:
                return None

            return AwaitComplete(nothing()).call_next(self.app)
        return original(self, result)

    dismiss._microgpt_guarded = True  # type: ignore[attr-defined]
    Screen.dismiss = dismiss  # type: ignore[method-assign]


def apply() -> None:
    _guard_option_list_paging()
    _ignore_stale_dismiss()
