"""A modal editor for autograd programs: a parse error shows line:column and keeps the text."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from ..kit.jobs import JobsMixin

# ≤ 68 cells: the box's inside at 80 columns.
HINT = "Ctrl+R run · Esc cancel · + - * / ** ( ) exp log relu tanh"


class ProgramEditor(JobsMixin, ModalScreen[object | None]):
    """Edits a program; Ctrl+R builds it off the UI thread and closes with the result.

    build: turns source text into whatever the caller wants (raising ValueError with a
    line:column message on bad input); the editor closes with its return value, or None.
    """

    CSS = """
    ProgramEditor {
        align: center middle;
    }
    #editor-box {
        width: 90%;
        height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    #editor-title { height: 1; text-style: bold; }
    #editor-text { height: 1fr; }
    #editor-error { height: auto; max-height: 3; color: $error; }
    #editor-hint { height: 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("ctrl+r", "run", "Run program", priority=True),
        Binding("escape", "cancel", "Cancel", priority=True),
    ]

    def __init__(self, source: str, build: Callable[[str], object],
                 title: str = "Edit the program") -> None:
        super().__init__()
        self.source = source
        self.build = build
        self.heading = title

    def compose(self) -> ComposeResult:
        with Vertical(id="editor-box"):
            yield Static(self.heading, id="editor-title", markup=False)
            area = TextArea(self.source, id="editor-text", soft_wrap=False, tab_behavior="indent",
                            show_line_numbers=True)
            if self.app.is_headless:
                area.cursor_blink = False
            yield area
            yield Static("", id="editor-error")
            yield Static(HINT, id="editor-hint")

    def on_mount(self) -> None:
        self.query_one("#editor-text", TextArea).focus()

    @property
    def text(self) -> str:
        return self.query_one("#editor-text", TextArea).text

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_run(self) -> None:
        self.query_one("#editor-error", Static).update(Text("building…", style="italic"))
        source = self.text
        self.jobs.start("build", lambda _: self.build(source), on_done=self._finish,
                        on_failed=self._show_error, expected=(ValueError, ArithmeticError))

    def _finish(self, result: object) -> None:
        self.dismiss(result)

    def _show_error(self, error: BaseException) -> None:
        self.query_one("#editor-error", Static).update(Text(str(error), style="bold"))
        line, column = getattr(error, "line", None), getattr(error, "column", None)
        if isinstance(line, int) and isinstance(column, int):
            area = self.query_one("#editor-text", TextArea)
            row = max(0, min(line - 1, area.document.line_count - 1))
            col = max(0, min(column - 1, len(area.document.get_line(row))))
            area.cursor_location = (row, col)
