"""Guards for Textual bugs that random-key testing found, applied once when the app loads.

OptionList (and the command palette's list, which is one) raises KeyError on PageUp/PageDown
when its highlighted option has not been laid out yet (the list is still empty-sized, e.g.
just after Ctrl+P while the palette fills in). Paging then does nothing instead of crashing.

The command palette's search worker can finish after the palette has begun closing (Esc or a
jump while results are still arriving) and then fails looking up its own, removed, list.

A modal that is dismissed twice (two Enters or Escs queued before the first is handled) would
pop the screen beneath it the second time, or raise when that was the last screen: a dismiss
from a screen that is no longer on top is ignored.
"""

from __future__ import annotations

from textual.await_complete import AwaitComplete
from textual.command import CommandList, CommandPalette
from textual.screen import Screen
from textual.widgets import OptionList


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


def _guard_palette_after_close() -> None:
    original = CommandPalette._watch__list_visible
    if getattr(original, "_microgpt_guarded", False):
        return

    def watch_list_visible(self: CommandPalette) -> None:
        if self.is_attached and self.query(CommandList):
            original(self)

    watch_list_visible._microgpt_guarded = True  # type: ignore[attr-defined]
    CommandPalette._watch__list_visible = watch_list_visible  # type: ignore[method-assign]


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
    _guard_palette_after_close()
    _ignore_stale_dismiss()
