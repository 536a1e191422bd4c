"""The home screen: the questions, opened with their number keys or Enter.

From WIDE_HOME (columns × rows of the body) it also shows the selected question's short answer
(the first section of its written answer) and the runs finished in this app, newest first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..kit.screen import BaseScreen
from ..registry import QUESTIONS, Question, ScreenSpec, all_screens, find_screen

WIDE_HOME = (110, 34)  # body columns and rows from which the answer and the runs are shown
RUNS_SHOWN = 8  # the newest runs listed

# One key per question, from the registry: `1` opens question 1's first screen, and so on.
QUESTION_KEYS = [
    Binding(str(q.number), f"open_question({q.number})", q.short_title, show=False)
    for q in QUESTIONS
    if q.number <= 9
]


@dataclass(frozen=True)
class HomeStatus:
    """What this machine runs the app with: the GPU (or the simulator), NVRTC, the names."""

    gpu: str  # "NVIDIA H200 (sm_90, 132 SMs)", or "" when the CUDA screen simulates
    nvrtc: str  # "13.0", or "" when NVRTC is not installed
    data: str  # the dataset's one-line label


def data_label(data_path: Path | None) -> str:
    """Where the names come from, without reading the bundled file (its label is fixed)."""
    from ...engine.data import BUNDLED_LABEL, DatasetError, load_names_from_path

    if data_path is None:
        return BUNDLED_LABEL
    try:
        return load_names_from_path(data_path).label
    except DatasetError as error:
        return f"{data_path}: unusable ({str(error).splitlines()[0]})"


def probe_status(data_path: Path | None) -> HomeStatus:
    """Ask the kernels runtime what the CUDA screen will find (slow: loads the CUDA
    bindings), so it runs in a job, never before the home screen's first frame."""
    from ...kernels import runtime

    device = runtime.device_status()
    try:
        _, (major, minor) = runtime._nvrtc()
        nvrtc = f"{major}.{minor}"
    except runtime.KernelError:
        nvrtc = ""
    return HomeStatus(device.label if device.available else "", nvrtc, data_label(data_path))


def status_text(status: HomeStatus | None) -> Text:
    """The home screen's status line; None while the probe is still running."""
    if status is None:
        return Text("Checking for a GPU and NVRTC…", style="dim")
    text = Text()
    if status.gpu:
        text.append("GPU ", style="dim")
        text.append(status.gpu, style="bold")
    else:
        text.append("GPU ", style="dim")
        text.append("none", style="bold")
        text.append(" → simulator")
    text.append(" · NVRTC ", style="dim")
    text.append(status.nvrtc or "missing", style="bold")
    text.append(" · ", style="dim")
    text.append(status.data.replace("bundled: ", "bundled ", 1), style="bold")
    return text


@cache
def short_answer_markdown(asset_name: str) -> str:
    """The "## The short answer" section of an answer's Markdown ("" when it has none)."""
    from ..widgets.answer import load_answer

    match = re.search(r"^## The short answer[ \t]*\n(.*?)(?=^## |\Z)", load_answer(asset_name),
                      re.MULTILINE | re.DOTALL)
    return match.group(1).strip() if match else ""


_INLINE = re.compile(r"\*\*(.+?)\*\*|\*(.+?)\*|`([^`]+)`")


def _inline(text: Text, line: str) -> None:
    """Append one Markdown line: **bold**, *italic* and `code` styled, the marks dropped."""
    at = 0
    for match in _INLINE.finditer(line):
        text.append(line[at:match.start()])
        bold, italic, code = match.groups()
        if bold is not None:
            text.append(bold, style="bold")
        elif italic is not None:
            text.append(italic, style="italic")
        else:
            text.append(code, style="bold")
        at = match.end()
    text.append(line[at:])


def markdown_preview(markdown: str) -> Text:
    """A few paragraphs of plain Markdown as Rich text that wraps to any width: paragraphs
    reflowed, `- ` items as bullets, fenced code kept line for line and indented."""
    text = Text()
    paragraph: list[str] = []
    in_code = False

    def end_paragraph() -> None:
        if paragraph:
            _inline(text, " ".join(paragraph))
            text.append("\n")
            paragraph.clear()

    for raw in markdown.splitlines():
        line = raw.strip()
        if line.startswith("```"):
            end_paragraph()
            in_code = not in_code
            continue
        if in_code:
            text.append(f"    {raw}\n", style="bold")
        elif not line:
            end_paragraph()
            if text.plain and not text.plain.endswith("\n\n"):
                text.append("\n")
        elif line.startswith(("- ", "* ")):
            end_paragraph()
            paragraph.append("• " + line[2:])
        else:
            paragraph.append(line)
    end_paragraph()
    text.rstrip()
    return text


def answer_preview(question: Question) -> Text:
    """The selected question's short answer, under a heading that says where the rest is."""
    text = Text()
    text.append("The short answer", style="bold")
    text.append(f" · Q{question.number}; a on its screen shows the whole answer\n\n",
                style="dim")
    text.append_text(markdown_preview(short_answer_markdown(question.answer_asset)))
    return text


def runs_text(runs: Iterable[tuple[str, str]], limit: int = RUNS_SHOWN) -> Text:
    """The runs finished in this app ((screen id, one line) each, oldest first), newest
    first under a heading."""
    runs = list(runs)
    text = Text()
    text.append("Runs this session", style="bold")
    if not runs:
        text.append("\nNone yet: a finished run (training, a burst of darts, a timing…) "
                    "is listed here.", style="dim")
        return text
    for screen_id, line in reversed(runs[-limit:]):
        question, _ = find_screen(screen_id)
        text.append(f"\nQ{question.number} ", style="bold")
        text.append(line)
    if len(runs) > limit:
        text.append(f"\n…and {len(runs) - limit} earlier", style="dim")
    return text


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
        *QUESTION_KEYS,
        Binding("j", "cursor(1)", "Down", show=False),
        Binding("k", "cursor(-1)", "Up", show=False),
        Binding("escape", "back", "Back", show=False),
    ]
    HELP_NOTES = (
        f"{QUESTION_KEYS[0].key}–{QUESTION_KEYS[-1].key} open a question; ↑/↓ (or j/k) and Enter "
        "open any screen, parts included."
    )

    # Tests stand in for the probe so what the snapshots show does not depend on the machine.
    probe: Callable[[Path | None], HomeStatus] = staticmethod(probe_status)
    status: HomeStatus | None = None

    def compose_body(self) -> ComposeResult:
        rows = []
        for question, spec in all_screens():
            first = spec is question.screens[0]
            rows.append(Option(_row_label(question, spec, first), id=spec.screen_id))
        with Vertical(id="home-body", classes="screen-body"):
            with Horizontal(id="home-columns"):
                with Vertical(id="home-left"):
                    yield Static(
                        Text.assemble(
                            ("Six interview questions", "bold"),
                            " — run them, step through them, measure them.",
                        ),
                        id="home-intro",
                    )
                    yield OptionList(*rows, id="questions")
                    yield Static(id="home-runs")
                with Vertical(id="home-right"):
                    yield Static(id="home-detail")
                    yield Static(id="home-answer")
            yield Static(status_text(None), id="home-status")

    @property
    def wide(self) -> bool:
        return self.has_class("-wide")

    def _apply_size(self, size: Size) -> None:
        super()._apply_size(size)
        wide = self.body_width(size) >= WIDE_HOME[0] and size.height >= WIDE_HOME[1]
        was_wide = self.wide
        self.set_class(wide, "-wide")
        if wide and not was_wide and self.is_mounted and self.query("#home-runs"):
            self._show_wide_panels()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()  # sets the size classes
        if self.wide:
            self.query_one("#home-runs", Static).update(runs_text(self._recent_runs()))

    def _recent_runs(self) -> list[tuple[str, str]]:
        return list(getattr(self.app, "recent_runs", ()))

    def _show_wide_panels(self) -> None:
        """Fill the panels only the wide layout shows (nothing to compute while narrow)."""
        option = self.query_one(OptionList).highlighted_option
        if option is not None and option.id:
            self._show_answer(option.id)
        self.query_one("#home-runs", Static).update(runs_text(self._recent_runs()))

    def _show_answer(self, screen_id: str) -> None:
        question, _ = find_screen(screen_id)
        self.query_one("#home-answer", Static).update(answer_preview(question))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._show_detail(all_screens()[0][1].screen_id)
        if self.wide:
            self._show_wide_panels()
        # After the first frame: the probe imports the CUDA bindings (startup benchmark).
        self.call_after_refresh(self._start_probe)

    def _start_probe(self) -> None:
        data_path = getattr(self.app, "data_path", None)
        probe = type(self).probe
        self.jobs.start("home-status", lambda _context: probe(data_path),
                        on_done=self._show_status)

    def _show_status(self, status: HomeStatus) -> None:
        self.status = status
        self.query_one("#home-status", Static).update(status_text(status))

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
        if self.wide:
            self._show_answer(screen_id)

    def action_open_question(self, number: int) -> None:
        question = next(q for q in QUESTIONS if q.number == number)
        self.app.open_screen(question.screens[0].screen_id)

    def action_cursor(self, delta: int) -> None:
        option_list = self.query_one(OptionList)
        if delta > 0:
            option_list.action_cursor_down()
        else:
            option_list.action_cursor_up()

    def action_back(self) -> None:
        """Home is the bottom of the stack: Esc here does nothing."""
