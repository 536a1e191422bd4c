"""`?`: the keys of the screen it was opened from, with what each does."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    """A modal list of key bindings; any of Esc, ? or q closes it."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", show=False),
    ]

    def __init__(
        self, title: str, sections: list[tuple[str, list[tuple[str, str]]]], notes: str = ""
    ) -> None:
        super().__init__()
        self.help_title = title
        self.sections = sections
        self.notes = notes

    @property
    def keys(self) -> list[tuple[str, str]]:
        """Every (key, description) listed, in order."""
        return [item for _, keys in self.sections for item in keys]

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for index, (section, keys) in enumerate(self.sections):
            if index:
                table.add_row("", "")
            table.add_row(Text(section, style="italic"), "")
            for key, description in keys:
                table.add_row(key, description)
        with VerticalScroll(id="help-body"):
            yield Static(Text(f"Keys — {self.help_title}", style="bold"), id="help-title")
            yield Static(table, id="help-keys")
            if self.notes:
                yield Static(self.notes, id="help-notes", markup=False)
            yield Static(Text("Esc, ? or q closes this", style="dim"), id="help-close")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
