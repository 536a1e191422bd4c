"""The screens every question builds on: title bar, body, key bar, the too-small notice, `?`
help, Esc back, the whiteboard notes (Ctrl+N), the written answer, jobs, and a reset.

A question screen yields its work from `compose_main()`; the kit puts it in `#question-main`
beside the answer panel (`a`). When the terminal is too narrow for both (below
ANSWER_SIDE_BY_SIDE columns), the shown answer takes the whole width instead of squeezing the
demo; `a` again brings the demo back.

The notes panel is the app's (`app.notes`, one document; `app.notes_shown`, one switch for every
screen): beside the body when the terminal leaves the body 80 columns, else below it, where it
takes 8 rows (app.tcss) and the body the rest, which its screens share out in 1fr parts.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.events import Resize
from textual.geometry import Size
from textual.screen import Screen

from ...engine.interview.room import ROOM_KEYS
from ..registry import find_screen
from ..widgets.answer import AnswerPanel
from ..widgets.key_bar import KeyBar
from ..widgets.notes_panel import NotesPanel
from ..widgets.title_bar import TitleBar
from ..widgets.too_small import MIN_HEIGHT, MIN_WIDTH, TooSmall
from .jobs import JobsMixin
from .pauses import keep_pauses_short

ANSWER_SIDE_BY_SIDE = 120  # columns needed to show the demo and the answer side by side
NOTES_WIDTH = 36  # the notes panel beside the body (app.tcss)


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
    """Title bar, body, key bar (the footer), and the notice that replaces them below 80×24."""

    # Esc is left out of the key bar to make room for Notes at 80 columns (? lists it).
    BINDINGS = [
        Binding("question_mark", "help", "Show keys"),
        Binding("escape", "back", "Back", show=False),
        Binding("ctrl+n", "notes", "Notes", priority=True),
    ]
    HELP_NOTES: ClassVar[str] = ""

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield from self.compose_body()
        yield NotesPanel()
        yield KeyBar()
        yield TooSmall()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def on_mount(self) -> None:
        self._apply_size(self.app.size)
        self.call_after_refresh(keep_pauses_short, self.app)  # see kit/pauses.py

    def call_after_refresh(self, callback, *args, **kwargs) -> bool:
        """Textual's, except that the callback is dropped when its screen is being removed
        by then: a screen popped (Esc) or reset (R) with a redraw still queued has no widgets
        left to draw into, and the callback's query would crash the app."""

        def unless_removed():
            if self.is_attached and not (self._closing or self._pruning):
                return callback(*args, **kwargs)
            return None

        return super().call_after_refresh(unless_removed)

    def draw_after_refresh(self, draw) -> None:
        """Run `draw` once after the next refresh, however often it is asked for before then:
        a burst of progress reports from a job draws one frame, not one per report."""
        pending = self.__dict__.setdefault("_draws_pending", set())
        if draw in pending:
            return
        pending.add(draw)

        def run() -> None:
            pending.discard(draw)
            draw()

        self.call_after_refresh(run)

    def on_screen_resume(self) -> None:
        notes = self.query_one(NotesPanel)
        if getattr(self.app, "notes_shown", False):
            notes.open(self.app.notes)  # the notes may have changed on another screen
        else:
            notes.close()
        self._apply_size(self.app.size)

    def on_resize(self, event: Resize) -> None:
        self._apply_size(event.size)

    def _apply_size(self, size: Size) -> None:
        self.set_class(size.width < MIN_WIDTH or size.height < MIN_HEIGHT, "-too-small")
        self.set_class(size.width >= MIN_WIDTH + NOTES_WIDTH, "-notes-beside")
        self.set_class(self.query_one(NotesPanel).display, "-notes-shown")

    def body_width(self, size: Size) -> int:
        """The columns the body gets at `size`: the notes beside it take theirs."""
        beside = self.has_class("-notes-beside") and self.has_class("-notes-shown")
        return size.width - (NOTES_WIDTH if beside else 0)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "notes":
            return getattr(self.app, "notes", None) is not None
        return True

    def action_notes(self) -> None:
        """Show the notes and type in them; from the notes, hide them; shown but not focused
        (after Esc), type in them again."""
        panel = self.query_one(NotesPanel)
        if not panel.display:
            panel.open(self.app.notes)
            panel.take_focus()
        elif panel.has_focus:
            panel.close()
        else:
            panel.take_focus()
        self.app.notes_shown = panel.display
        self._apply_size(self.app.size)

    @property
    def help_title(self) -> str:
        return self.title or "microgpt-tui"

    def action_help(self) -> None:
        from ..modals.help import HelpScreen

        sections = key_sections(self)
        if getattr(self.app, "in_room", False):  # the server's keys: no app action, no palette
            sections.append(("Room", list(ROOM_KEYS)))
        self.app.push_screen(HelpScreen(self.help_title, sections, self.HELP_NOTES))

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
        self.set_class(self.body_width(size) < ANSWER_SIDE_BY_SIDE, "-narrow")

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
        return super().check_action(action, parameters)

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

