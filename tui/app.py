"""The Textual application and the factory that tests and the CLI use to build it.

Served by `microgpt-tui serve`, the same app reads what the server says through its
environment (session_log.py, room_link.py): where the session's record and notes go, whose app
this is, whether it is a pair room's shared app (which never quits itself), and a socket
carrying the room's news.
"""

from __future__ import annotations

import importlib
import os
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import RenderableType
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from . import settings, textual_fixes
from .commands import ScreenCommands
from .registry import find_screen
from .screens.home import HomeScreen
from .session_log import SessionApp

textual_fixes.apply()


class MicroGPTApp(SessionApp):
    """Home screen plus one lazily imported screen per interview question, and the whiteboard
    notes every screen shows (Ctrl+N)."""

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
        low_bandwidth: bool = False,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """remember_theme: read the theme from, and save changes to, the user's settings file
        (the CLI's app does; tests leave it off so they never touch the user's files).
        low_bandwidth: the terminal's own palette (ansi-dark) unless the theme is an ANSI one
        already, for this run only. environ: where the server's variables are read (tests)."""
        super().__init__(environ)
        self.seed = seed
        self.data_path = Path(data_path) if data_path is not None else None
        self.preferred_size = size  # tests pass it to run_test(size=...)
        self.remember_theme = False  # the theme set now is the one remembered, not a change
        remembered = settings.load().get("theme") if remember_theme else None
        chosen = theme or remembered
        if chosen not in self.available_themes:
            chosen = None
        if low_bandwidth and not (chosen and self.get_theme(chosen).ansi):
            chosen = "ansi-dark"  # 16 colours: far fewer bytes per frame than 24-bit ones
        if chosen:
            self.theme = chosen
        self.remember_theme = remember_theme
        self.notes = self.session_text("notes", lambda session: session.notes_path)
        self.notes_shown = False  # the notes panel, on every screen alike
        # The runs finished since the app started (or was reset), for home: (screen id, line).
        self.recent_runs: deque[tuple[str, str]] = deque(maxlen=100)

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
        self.record_screen(screen_id)

    def record_screen(self, screen_id: str) -> None:
        """The record says which question screen was opened."""
        question, spec = find_screen(screen_id)
        self.record("screen", f"Q{question.number} · {spec.title}", screen=screen_id)

    def record_run(self, screen_id: str, text: str, **numbers: Any) -> None:
        """The record keeps a finished run in one line, with its key numbers."""
        self.recent_runs.append((screen_id, text))
        self.record("run", text, screen=screen_id, **numbers)

    def reset_screen(self, screen_id: str) -> None:
        """Throw a screen's state away (its work stops) and open it afresh."""
        self._discard([screen_id])
        self.open_screen(screen_id)

    def reset_everything(self) -> None:
        """Every question screen back to its first state, and home: the next candidate's app."""
        self._discard(list(self._installed_screens))
        self.recent_runs.clear()
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
    environ: Mapping[str, str] | None = None,
) -> MicroGPTApp:
    """The app as tests build it: a fixed seed, an explicit data path, a terminal size, and
    the server's variables (none: a local app) rather than the process's own."""
    return MicroGPTApp(seed=seed, data_path=data_path, size=size, theme=theme,
                       environ=environ if environ is not None else {})
