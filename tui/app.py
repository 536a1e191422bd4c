"""The Textual application and the factory that tests and the CLI use to build it."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from rich.console import RenderableType
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from . import settings, textual_fixes
from .commands import ScreenCommands
from .registry import find_screen
from .screens.home import HomeScreen

textual_fixes.apply()


class MicroGPTApp(App[None]):
    """Home screen plus one lazily imported screen per interview question."""

    # Home's own .tcss loads with the app's: a screen-level CSS_PATH on the first screen would
    # make Textual reparse the whole stylesheet before the first frame (~30 ms).
    CSS_PATH = ["app.tcss", "screens/home.tcss"]
    TITLE = "microgpt-tui"
    COMMANDS = App.COMMANDS | {ScreenCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        *,
        seed: int = 0,
        data_path: str | os.PathLike[str] | None = None,
        size: tuple[int, int] | None = None,
        theme: str | None = None,
        remember_theme: bool = False,
    ) -> None:
        """remember_theme: read the theme from, and save changes to, the user's settings file
        (the CLI's app does; tests leave it off so they never touch the user's files)."""
        super().__init__()
        self.seed = seed
        self.data_path = Path(data_path) if data_path is not None else None
        self.preferred_size = size  # tests pass it to run_test(size=...)
        self.remember_theme = remember_theme
        remembered = settings.load().get("theme") if remember_theme else None
        chosen = theme or remembered
        if chosen and chosen in self.available_themes:
            self.theme = chosen

    def panic(self, *renderables: RenderableType) -> None:
        # A crash outside a message handler (in Textual's input thread, say) ends in panic(),
        # which leaves the exit status 0: any crash exits 1 (the CLI reads return_code).
        self._return_code = 1
        super().panic(*renderables)

    def watch_theme(self, theme: str) -> None:
        if self.remember_theme:
            settings.update(theme=theme)

    def get_default_screen(self) -> Screen:
        return HomeScreen()

    def make_screen(self, screen_id: str) -> Screen:
        """Import and build a question screen, or its placeholder when it has not landed."""
        _, spec = find_screen(screen_id)
        if spec.module is None:
            from .screens.placeholder import PlaceholderScreen

            return PlaceholderScreen(screen_id)
        module_name, class_name = spec.module.split(":")
        screen_class = getattr(importlib.import_module(module_name), class_name)
        return screen_class()

    def open_screen(self, screen_id: str) -> None:
        """Show a question screen above home; a screen keeps its state (and work) between visits."""
        if not self.is_screen_installed(screen_id):
            self.install_screen(self.make_screen(screen_id), screen_id)
        if self.screen is self.get_screen(screen_id):
            return
        self.go_home()
        self.push_screen(screen_id)

    def reset_screen(self, screen_id: str) -> None:
        """Throw a screen's state away (its work stops) and open it afresh."""
        self._discard([screen_id])
        self.open_screen(screen_id)

    def reset_everything(self) -> None:
        """Every question screen back to its first state, and home: the next candidate's app."""
        self._discard(list(self._installed_screens))
        self.notify("Every screen starts afresh.", timeout=3)

    def _discard(self, screen_ids: list[str]) -> None:
        """Go home and uninstall these screens. Removing a screen unmounts it, which cancels
        its jobs: Textual removes the ones it pops; the others are removed here."""
        stacked = list(self.screen_stack)
        self.go_home()
        for screen_id in screen_ids:
            screen = self._installed_screens.get(screen_id)
            if not isinstance(screen, Screen):
                continue
            self.uninstall_screen(screen_id)
            if screen not in stacked and screen.is_attached:
                screen.remove()

    def go_home(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def go_back(self) -> None:
        if len(self.screen_stack) > 1:
            self.pop_screen()


def make_app(
    seed: int = 0,
    data_path: str | os.PathLike[str] | None = None,
    size: tuple[int, int] = (80, 24),
    theme: str | None = None,
) -> MicroGPTApp:
    """The app as tests build it: a fixed seed, an explicit data path, a terminal size."""
    return MicroGPTApp(seed=seed, data_path=data_path, size=size, theme=theme)
