"""The explanation panel: a scrolling side panel that says, in words and numbers, what the
step on screen just did (the chain-rule update of an edge, a DNS answer, a cache miss).

Screens hand it ready-made Rich Text (built by their view-model from live numbers) or a
Markdown template whose `{placeholders}` are filled with the numbers; it repaints only when
the text changed, so a screen may call it on every frame.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static


class ExplanationPanel(VerticalScroll):
    """Explains the current step; scrolls when the explanation is longer than the panel.

    Not focusable by default: its scroll keys would shadow a stepping screen's arrows and
    Home/End (pass can_focus=True where the panel should take the keys)."""

    DEFAULT_CSS = """
    ExplanationPanel > Static {
        width: 1fr;
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None,
                 can_focus: bool = False) -> None:
        super().__init__(id=id, classes=classes, can_focus=can_focus)
        self._shown: RenderableType | str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", markup=False)

    def show(self, text: Text | str) -> None:
        """Show prepared text (a str is shown as it is, never parsed as markup)."""
        if text == self._shown:
            return
        self._shown = text
        self.query_one(Static).update(text)

    def show_markdown(self, template: str, **numbers: object) -> None:
        """Show a Markdown template with `{name}` placeholders filled from `numbers`."""
        from rich.markdown import Markdown  # markdown-it is slow to import: only when used

        source = template.format(**numbers)
        if source == self._shown:
            return
        self._shown = source
        self.query_one(Static).update(Markdown(source))

    @property
    def text(self) -> str:
        """What the panel says now, as plain text (for tests and the CLI)."""
        shown = self._shown
        if isinstance(shown, Text):
            return shown.plain
        return "" if shown is None else str(shown)
