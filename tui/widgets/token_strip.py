"""The per-token loss strip: a name's positions in a row, each with its loss as a bar and a
number, and the selected position's top-k next characters with their probabilities.

Each position is a column of five cells: the character the model had to predict, a bar whose
height is the loss (0 at the bottom, ln(27) ≈ 3.3 nats, the uniform guess, at three quarters,
anything ≥ 4.4 full), and the loss in nats. The selected column is drawn reversed and marked ▲.
When the name is longer than the widget a window of columns around the selection is shown,
marked ‹ and ›, so numbers are never cut. Colours come from the theme; the glyphs carry the
meaning without colour.
"""

from __future__ import annotations

import math

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from ...engine.microgpt import readouts

EMPTY_HINT = "Per-token losses appear with the first samples."
CELL = 5  # columns per position: four for the label, bar and number, one gap
EIGHTHS = " ▁▂▃▄▅▆▇█"
FULL_LOSS = 4.4  # nats at which a bar is full: ln(27) ≈ 3.30 sits at three quarters


def char_label(label: str) -> str:
    """A character as it fits a four-cell column: ⟨bos⟩ as ^, ⟨end⟩ as `end`."""
    if label == readouts.END_LABEL:
        return "end"
    if label == readouts.BOS_LABEL:
        return "^"
    return label[:4]


def loss_number(loss: float) -> str:
    """The loss in at most four characters: 2.41, 12.3, 23 (nats)."""
    if not math.isfinite(loss):
        return "inf"
    if loss < 9.995:
        return f"{loss:.2f}"
    if loss < 99.95:
        return f"{loss:.1f}"
    return f"{min(loss, 9999):.0f}"


def bar_rows(loss: float, rows: int) -> list[str]:
    """A vertical bar of `rows` cells for the loss, top row first (eighth blocks)."""
    eighths = round(min(1.0, max(0.0, loss / FULL_LOSS)) * rows * 8)
    eighths = max(1, eighths)  # a zero loss still shows a floor, so the column is not blank
    out = []
    for row in range(rows - 1, -1, -1):
        filled = min(8, max(0, eighths - row * 8))
        out.append(EIGHTHS[filled])
    return out


class TokenStrip(Widget):
    """Shows a readouts.TokenStrip: per-position losses and the selected position's top-k."""

    COMPONENT_CLASSES = {
        "token-strip--bar",
        "token-strip--label",
        "token-strip--selected",
        "token-strip--prob",
        "token-strip--target",
    }
    DEFAULT_CSS = """
    TokenStrip {
        text-wrap: nowrap;
        text-overflow: clip;
    }
    TokenStrip > .token-strip--bar {
        color: $warning;
    }
    TokenStrip > .token-strip--label {
        color: $text-muted;
    }
    TokenStrip > .token-strip--selected {
        text-style: reverse bold;
    }
    TokenStrip > .token-strip--prob {
        color: $primary;
    }
    TokenStrip > .token-strip--target {
        text-style: bold underline;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.strip: readouts.TokenStrip | None = None
        self.selected_index = 0

    def show(self, strip: readouts.TokenStrip | None) -> None:
        """Show a scored name; the selection stays where it was when it still exists."""
        if strip is None or not strip.tokens:
            self.selected_index = 0
        else:
            self.selected_index = min(self.selected_index, len(strip.tokens) - 1)
        self.strip = strip
        self.refresh()

    def move(self, delta: int) -> None:
        """Select another position; stops at either end of the name."""
        if self.strip is not None and self.strip.tokens:
            last = len(self.strip.tokens) - 1
            self.selected_index = min(last, max(0, self.selected_index + delta))
            self.refresh()

    @property
    def selected(self) -> readouts.TokenLoss | None:
        if self.strip is None or not self.strip.tokens:
            return None
        return self.strip.tokens[self.selected_index]

    # Drawing.

    def _window(self, width: int) -> tuple[int, int]:
        """The first and one-past-last positions that fit, the selection inside them."""
        assert self.strip is not None
        count = len(self.strip.tokens)
        room = max(1, (width - 2) // CELL)  # two cells kept for the ‹ › marks
        start = min(max(0, self.selected_index - room // 2), max(0, count - room))
        return start, min(count, start + room)

    def render(self) -> Text:
        strip = self.strip
        if strip is None or not strip.tokens:
            return Text(EMPTY_HINT, style="dim", no_wrap=True, overflow="crop")
        width, height = self.size
        width = width or 80
        height = height or 9
        style = self.get_component_rich_style
        bar_style, label_style = style("token-strip--bar"), style("token-strip--label")
        chosen_style, prob_style = style("token-strip--selected"), style("token-strip--prob")
        target_style = style("token-strip--target")
        out = Text(no_wrap=True, overflow="crop")

        out.append(f"'{strip.name}'", "bold")
        mean = f"mean {strip.mean_loss:.2f}"
        for about in (f" {strip.source} · step {strip.step} · {mean} nats",
                      f" {strip.source} · step {strip.step} · {mean}", f" {strip.source} · {mean}",
                      f" {mean}"):
            if len(strip.name) + 2 + len(about) <= width:
                break
        out.append(about + "\n", "dim")  # whole pieces only: never a cut number
        start, stop = self._window(width)
        bar_height = 1 if height < 14 else min(5, height - 12)  # taller bars when zoomed
        left = "‹" if start > 0 else " "
        right = "›" if stop < len(strip.tokens) else " "

        def strip_row(cells: list[tuple[str, str | Style]], first: str = " ",
                      last: str = " ") -> None:
            out.append(first, "dim")
            for index, (cell, cell_style) in zip(range(start, stop), cells, strict=True):
                out.append(f"{cell:^4}", chosen_style if index == self.selected_index
                           else cell_style)
                out.append(" ")
            out.append(last + "\n", "dim")

        tokens = strip.tokens[start:stop]
        strip_row([(char_label(t.target), "bold") for t in tokens], left, right)
        bars = [bar_rows(t.loss, bar_height) for t in tokens]
        for row in range(bar_height):
            strip_row([(bar[row] * 4, bar_style) for bar in bars])
        strip_row([(loss_number(t.loss), label_style) for t in tokens])
        marks = ["▲" if i == self.selected_index else "" for i in range(start, stop)]
        used = 3 + bar_height + 1
        if height - used >= 4:  # room for the ▲ line as well as the details
            strip_row([(mark, "bold") for mark in marks])
            used += 1

        token = strip.tokens[self.selected_index]
        context = f'"{token.context}"' if token.context else readouts.BOS_LABEL
        out.append(f"▸ {self.selected_index + 1}/{len(strip.tokens)} ", "bold")
        out.append(f"after {context} → ")
        out.append(char_label(token.target) if token.target == readouts.END_LABEL
                   else f"'{token.target}'", "bold")
        out.append(f"  p {token.prob:.3f}  loss {token.loss:.2f}\n")
        used += 1
        rows_left = height - used
        if rows_left <= 0 or not token.top:
            return out
        if rows_left >= 3:
            # One candidate a line, with a bar for its probability.
            bar_room = max(0, min(20, width - 22))
            for label, prob in token.top[:rows_left]:
                hit = label == token.target
                out.append("  " + f"{char_label(label):<4}", target_style if hit else "bold")
                out.append(f" {prob:5.3f} ")
                filled = round(prob * bar_room)
                out.append("█" * filled, prob_style)
                out.append("·" * (bar_room - filled), "dim")
                out.append(" ◂ next\n" if hit else "\n", "dim")
            return out
        # Too short for a list: the candidates on one line, as many whole ones as fit.
        line = Text("  top ", style="dim")
        for label, prob in token.top:
            piece = f"{char_label(label)} {prob:.2f}  "
            if line.cell_len + len(piece) > width:
                break
            line.append(piece, target_style if label == token.target else "")
        out.append_text(line)
        return out
