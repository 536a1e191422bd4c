"""The Textual application and the factory that tests and the CLI use to build it."""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from . import textual_fixes
from .commands import ScreenCommands
from .registry import find_screen
from .screens.home import HomeScreen

textual_fixes.apply()

# Set by `microgpt-tui bench startup`: the app writes the moment of its first frame, then exits.
STARTUP_PROBE_ENV = "MICROGPT_TUI_STARTUP_PROBE"


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
    ) -> None:
        super().__init__()
        self.seed = seed
        self.data_path = Path(data_path) if data_path is not None else None
        self.preferred_size = size  # tests pass it to run_test(size=...)
        if theme:
            self.theme = theme

    def _handle_exception(self, error: Exception) -> None:
        if textual_fixes.is_lookup_after_teardown(self, error):
            return  # see textual_fixes: nothing is lost, those widgets are already gone
        super()._handle_exception(error)

    def get_default_screen(self) -> Screen:
        # Home is the first screen, so the Ready event marks home's first frame.
        return HomeScreen()

    def on_ready(self) -> None:
        probe = os.environ.get(STARTUP_PROBE_ENV)
        if probe:
            Path(probe).write_text(repr(time.time()))
            self.exit()

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
