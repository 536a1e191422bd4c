"""The screens every question builds on: title bar, body, Footer, the too-small notice, `?`
help, Esc back, the written answer, jobs, and a reset.

A question screen yields its work from `compose_main()`; the kit puts it in `#question-main`
beside the answer panel (`a`). When the terminal is too narrow for both (below
ANSWER_SIDE_BY_SIDE columns), the shown answer takes the whole width instead of squeezing the
demo; `a` again brings the demo back.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.events import Resize
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Footer

from ..registry import find_screen
from ..widgets.answer import AnswerPanel
from ..widgets.title_bar import TitleBar
from ..widgets.too_small import MIN_HEIGHT, MIN_WIDTH, TooSmall
from .jobs import JobsMixin
from .pauses import keep_pauses_short

ANSWER_SIDE_BY_SIDE = 120  # columns needed to show the demo and the answer side by side


def key_sections(screen) -> list[tuple[str, list[tuple[str, str]]]]:
    """The keys that work now on `screen`, grouped as the help shows them: this screen,
    everywhere, the focused panel. Each (key, description) appears once; system bindings and
    disabled actions are left out."""
    app = screen.app
    focused = screen.focused
    sections: dict[str, list[tuple[str, str]]] = {
        "This screen": [],
        "Everywhere": [],
        "In the focused panel": [],
    }
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or binding.system or not active.enabled:
            continue
        if binding.action.endswith(("copy_text", "command_palette")):
            continue  # copy is mouse selection only; the palette is listed once, below
        if binding.description in seen:
            continue
        seen.add(binding.description)
        key = binding.key_display or app.get_key_display(binding)
        if active.node is screen and binding.action.startswith(("app.", "focus_")):
            section = "Everywhere"  # Textual's own Tab / Shift+Tab focus moves
        elif active.node is screen:
            section = "This screen"
        elif active.node is app:
            section = "Everywhere"
        else:
            section = "In the focused panel" if active.node is focused else "This screen"
        sections[section].append((key, binding.description))
    sections["Everywhere"].append(("ctrl+p", "Command palette"))
    return [(title, keys) for title, keys in sections.items() if keys]


class BaseScreen(JobsMixin, Screen):
    """Title bar, body, Footer, and the notice that replaces them below 80×24."""

    BINDINGS = [
        Binding("question_mark", "help", "Show keys"),
        Binding("escape", "back", "Back"),
    ]
    HELP_NOTES: ClassVar[str] = ""

    def compose(self) -> ComposeResult:
        yield TitleBar(markup=False)
        yield from self.compose_body()
        yield Footer()
        yield TooSmall()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def on_mount(self) -> None:
        self._apply_size(self.app.size)
        self.call_after_refresh(keep_pauses_short, self.app)  # see kit/pauses.py

    def on_screen_resume(self) -> None:
        self._apply_size(self.app.size)

    def on_resize(self, event: Resize) -> None:
        self._apply_size(event.size)

    def _apply_size(self, size: Size) -> None:
        self.set_class(size.width < MIN_WIDTH or size.height < MIN_HEIGHT, "-too-small")

    @property
    def help_title(self) -> str:
        return self.title or "microgpt-tui"

    def action_help(self) -> None:
        from ..modals.help import HelpScreen

        self.app.push_screen(HelpScreen(self.help_title, key_sections(self), self.HELP_NOTES))

    def action_back(self) -> None:
        self.app.go_back()


class QuestionScreen(BaseScreen):
    """A screen answering one question: its work on the left, the written answer beside it."""

    SCREEN_ID: ClassVar[str] = ""
    ANSWER_SHOWN: ClassVar[bool] = False

    BINDINGS = [
        Binding("a", "toggle_answer", "Answer"),
        Binding("R", "reset_screen", "Reset this screen", show=False),
        Binding("left_square_bracket", "part(-1)", "Previous part", show=False),
        Binding("right_square_bracket", "part(1)", "Next part", show=False),
    ]

    def __init__(self, screen_id: str | None = None) -> None:
        super().__init__(name=screen_id or self.SCREEN_ID)
        self.question, self.spec = find_screen(screen_id or self.SCREEN_ID)
        self.title = f"Q{self.question.number} · {self.spec.title}"

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="question-body", classes="screen-body"):
            with Horizontal(id="question-main"):
                yield from self.compose_main()
            answer = AnswerPanel(self.question.answer_asset, id="answer")
            answer.display = self.ANSWER_SHOWN
            yield answer

    def compose_main(self) -> ComposeResult:
        raise NotImplementedError

    def on_mount(self) -> None:
        # Textual calls every class's on_mount along the MRO: BaseScreen's runs too.
        self.set_class(self.ANSWER_SHOWN, "-answer-shown")
        if self.ANSWER_SHOWN:
            self.query_one("#answer", AnswerPanel).load()

    def _apply_size(self, size: Size) -> None:
        super()._apply_size(size)
        self.set_class(size.width < ANSWER_SIDE_BY_SIDE, "-narrow")

    @property
    def answer_shown(self) -> bool:
        return self.query_one("#answer", AnswerPanel).display

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Keys queued while the screen is still being built (a fast R, R after a reset) wait:
        # its actions would look for widgets that are not mounted yet.
        if not self.is_mounted:
            return False
        # One-part questions have no [ / ]: the help and palette must not offer them.
        if action == "part":
            return len(self.question.screens) > 1
        return True

    def action_toggle_answer(self) -> None:
        answer = self.query_one("#answer", AnswerPanel)
        answer.display = not answer.display
        self.set_class(answer.display, "-answer-shown")
        if answer.display:
            answer.load()

    def action_part(self, delta: int) -> None:
        screens = self.question.screens
        index = [s.screen_id for s in screens].index(self.spec.screen_id)
        target = screens[(index + delta) % len(screens)]
        if target.screen_id != self.spec.screen_id:
            self.app.open_screen(target.screen_id)

    def action_reset_screen(self) -> None:
        """Start this screen afresh: its work stops, its state is gone (for the next candidate)."""
        self.app.reset_screen(self.spec.screen_id)

