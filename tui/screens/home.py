"""The home screen: the six questions, opened with 1–6 or Enter."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..registry import QUESTIONS, Question, ScreenSpec, all_screens, find_screen
from .base import BaseScreen


def _row_label(question: Question, spec: ScreenSpec, first: bool) -> Text:
    # Screens still to come are dimmed; the detail panel says what they will show.
    style = "dim" if spec.module is None else "bold"
    if first:
        number = (f" {question.number} ", "reverse")
        return Text.assemble(number, "  ", (question.title, style))
    return Text.assemble("    └ ", (spec.title, style))


class HomeScreen(BaseScreen):
    TITLE = "microgpt-tui"
    SUB_TITLE = "six interview questions you can run"

    BINDINGS = [
        Binding("1", "open_question(1)", "Computers", show=False),
        Binding("2", "open_question(2)", "Matmul", show=False),
        Binding("3", "open_question(3)", "Pi", show=False),
        Binding("4", "open_question(4)", "URL", show=False),
        Binding("5", "open_question(5)", "GPT", show=False),
        Binding("6", "open_question(6)", "CUDA", show=False),
        Binding("j", "cursor(1)", "Down", show=False),
        Binding("k", "cursor(-1)", "Up", show=False),
        Binding("escape", "back", "Back", show=False),
    ]
    HELP_NOTES = "1–6 open a question; ↑/↓ (or j/k) and Enter open any screen, parts included."

    def compose_body(self) -> ComposeResult:
        rows = []
        for question, spec in all_screens():
            first = spec is question.screens[0]
            rows.append(Option(_row_label(question, spec, first), id=spec.screen_id))
        with Horizontal(id="home-body", classes="screen-body"):
            with Vertical(id="home-left"):
                yield Static(
                    Text.assemble(
                        ("Six interview questions", "bold"),
                        " — run them, step through them, measure them.",
                    ),
                    id="home-intro",
                )
                yield OptionList(*rows, id="questions")
            yield Static(id="home-detail")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._show_detail(all_screens()[0][1].screen_id)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self._show_detail(event.option.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.open_screen(event.option.id)

    def _show_detail(self, screen_id: str) -> None:
        question, spec = find_screen(screen_id)
        text = Text()
        text.append(f"Question {question.number}: {question.title}\n", style="bold")
        text.append(f"{question.topics}\n\n", style="italic")
        text.append(f"{spec.title}\n", style="bold")
        if spec.module is None:
            text.append("Coming soon. ", style="bold yellow")
            text.append(spec.summary)
        else:
            text.append(spec.summary)
        text.append("\n\nEnter opens it · a on any question shows the written answer", style="dim")
        self.query_one("#home-detail", Static).update(text)

    def action_open_question(self, number: int) -> None:
        self.app.open_screen(QUESTIONS[number - 1].screens[0].screen_id)

    def action_cursor(self, delta: int) -> None:
        option_list = self.query_one(OptionList)
        if delta > 0:
            option_list.action_cursor_down()
        else:
            option_list.action_cursor_up()

    def action_back(self) -> None:
        """Home is the bottom of the stack: Esc here does nothing."""
