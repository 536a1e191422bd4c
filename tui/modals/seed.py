"""`s`: ask for a seed. Enter applies it, Esc keeps the old one; bad input keeps its text."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ...engine.seeds import DART_SEED_BITS, parse_seed


class SeedDialog(ModalScreen[int | None]):
    """Dismisses with the typed seed (0 … 2^bits − 1), or None when the user keeps the old one."""

    BINDINGS = [Binding("escape", "cancel", "Keep the seed")]
    DEFAULT_CSS = """
    SeedDialog {
        align: center middle;
    }
    SeedDialog #seed-body {
        width: 50;
        height: auto;
        padding: 1 2;
        border: round $primary;
        background: $surface;
    }
    SeedDialog #seed-message {
        margin-top: 1;
    }
    SeedDialog #seed-message.-error {
        color: $error;
        text-style: bold;
    }
    """

    def __init__(
        self, seed: int, bits: int = DART_SEED_BITS, title: str = "Seed for the random darts"
    ) -> None:
        super().__init__()
        self.seed = seed
        self.bits = bits
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="seed-body"):
            yield Static(Text(self.title_text, style="bold"))
            seed_input = Input(str(self.seed), id="seed-input")
            seed_input.cursor_blink = not self.app.is_headless
            yield seed_input
            yield Static("Enter applies (and restarts the run) · Esc keeps the seed",
                         id="seed-message")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            seed = parse_seed(event.value, self.bits)
        except ValueError as error:
            message = self.query_one("#seed-message", Static)
            message.update(Text(f"✗ {error}"))  # Text: typed brackets are not markup
            message.add_class("-error")
            return
        self.dismiss(seed)

    def action_cancel(self) -> None:
        self.dismiss(None)
