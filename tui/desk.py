"""The interviewer's desk: private notes and the rubric, in an app of their own.

In a pair room the server runs this beside the shared room app (`python -m microgpt_tui --desk`,
with the session's folder in MICROGPT_TUI_SESSION_DIR) and sends its screen only to the
interviewer's connection, who swaps between the two with Ctrl+O. Being a separate process is the
privacy: nothing typed here ever reaches the room app's screen, so it cannot reach a candidate.

Two panes, both autosaved into the session like the whiteboard notes: private.md and rubric.md
(seeded from assets/rubric.md until this session has its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen

from .kit.screen import BaseScreen
from .session_log import SessionApp
from .widgets.notes_panel import SessionTextArea

TITLE = "Private — only you see this · ctrl+o back to the room"


def default_rubric() -> str:
    return resources.files("microgpt_tui.assets").joinpath("rubric.md").read_text("utf-8")


class DeskScreen(BaseScreen):
    TITLE = TITLE
    HELP_NOTES = (
        "Both panes save themselves every few seconds and when the desk closes. Esc leaves a "
        "pane (then ? shows these keys); Tab moves to the other pane. Ctrl+O (the server's "
        "key) goes back to the room."
    )

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="desk-body", classes="screen-body"):
            yield SessionTextArea(id="desk-private", placeholder="Notes only you see")
            yield SessionTextArea(id="desk-rubric", placeholder="What you look for")

    def on_mount(self) -> None:
        app = self.app
        assert isinstance(app, DeskApp)
        private = self.query_one("#desk-private", SessionTextArea)
        private.border_title = "Private notes"
        private.show_text(app.private)
        rubric = self.query_one("#desk-rubric", SessionTextArea)
        rubric.border_title = "Rubric"
        rubric.show_text(app.rubric)
        rubric.move_cursor((0, 0))  # a rubric is read from the top
        private.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return False  # the desk is the only screen: Esc only leaves a pane
        return super().check_action(action, parameters)


class DeskApp(SessionApp):
    """The desk for the session in MICROGPT_TUI_SESSION_DIR (required)."""

    CSS_PATH = ["app.tcss", "desk.tcss"]
    TITLE = "microgpt-tui desk"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(self, environ: Mapping[str, str] | None = None,
                 low_bandwidth: bool = False) -> None:
        super().__init__(environ)
        if self.session_log.session is None:
            raise ValueError("the desk needs MICROGPT_TUI_SESSION_DIR (the server sets it)")
        self.private = self.session_text("private notes", lambda session: session.private_path)
        self.rubric = self.session_text("rubric", lambda session: session.rubric_path,
                                        default=default_rubric())
        if low_bandwidth:
            self.theme = "ansi-dark"

    def get_default_screen(self) -> Screen:
        return DeskScreen()
