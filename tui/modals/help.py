"""`?`: the keys of the screen it was opened from, with what each does."""

from __future__ import annotations

import textwrap

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static

Sections = list[tuple[str, list[tuple[str, str]]]]
COLUMN_GAP = 2  # spaces between a key and what it does


class KeyList(Widget):
    """Sections of (key, what it does), the descriptions wrapped under their own column.

    Drawn as plain lines built for the width it gets, not as a Rich table: `?` is the key the
    responsiveness bench times, and a table is measured and rendered several times per frame
    (about a quarter of the help's key-to-frame time at 80×24).
    """

    DEFAULT_CSS = "KeyList { height: auto; }"

    def __init__(self, sections: Sections, id: str | None = None) -> None:
        super().__init__(id=id)
        self.sections = sections
        self._lines_for: tuple[int, list[Content]] = (-1, [])

    def lines(self, width: int) -> list[Content]:
        """The list laid out in `width` cells (cached for the last width asked)."""
        if self._lines_for[0] != width:
            self._lines_for = (width, key_lines(self.sections, width))
        return self._lines_for[1]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def render(self) -> Content:
        return Content("\n").join(self.lines(self.content_size.width))


def key_lines(sections: Sections, width: int) -> list[Content]:
    """Each section's title (italic), then a line per key; a blank line between sections."""
    key_width = max((cell_len(key) for _, keys in sections for key, _ in keys), default=0)
    indent = key_width + COLUMN_GAP
    wrap_width = max(width - indent, 10)  # too narrow to wrap sensibly: let lines run over
    lines: list[Content] = []
    for index, (section, keys) in enumerate(sections):
        if index:
            lines.append(Content(""))
        lines.append(Content.styled(section, "italic"))
        for key, description in keys:
            parts = textwrap.wrap(description, wrap_width) or [""]
            padding = " " * (indent - cell_len(key))
            lines.append(Content.assemble((key, "bold"), padding, parts[0]))
            lines.extend(Content(" " * indent + part) for part in parts[1:])
    return lines


class HelpScreen(ModalScreen[None]):
    """A modal list of key bindings; any of Esc, ? or q closes it."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", show=False),
    ]

    def __init__(self, title: str, sections: Sections, notes: str = "") -> None:
        super().__init__()
        self.help_title = title
        self.sections = sections
        self.notes = notes

    @property
    def keys(self) -> list[tuple[str, str]]:
        """Every (key, description) listed, in order."""
        return [item for _, keys in self.sections for item in keys]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(Text(f"Keys — {self.help_title}", style="bold"), id="help-title")
            yield KeyList(self.sections, id="help-keys")
            if self.notes:
                yield Static(self.notes, id="help-notes", markup=False)
            yield Static(Text("Esc, ? or q closes this", style="dim"), id="help-close")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
