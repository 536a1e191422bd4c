"""A question whose screen has not landed yet: says plainly what is coming, shows the answer."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.widgets import Static

from ..kit.screen import QuestionScreen


class PlaceholderScreen(QuestionScreen):
    CSS_PATH = "placeholder.tcss"
    ANSWER_SHOWN = True

    def _apply_size(self, size: Size) -> None:
        # "Coming soon" is short: it stays beside the answer at any width.
        super()._apply_size(size)
        self.remove_class("-narrow")

    def compose_main(self) -> ComposeResult:
        with Vertical(id="coming"):
            yield Static(Text(self.spec.title, style="bold"), id="coming-title")
            yield Static(
                Text.assemble(("Coming soon. ", "bold"), self.spec.summary),
                id="coming-text",
            )
            yield Static(
                "Until then, the answer is beside this panel (a hides it). "
                "Esc goes back; Ctrl+P jumps anywhere.",
                id="coming-hint",
            )
