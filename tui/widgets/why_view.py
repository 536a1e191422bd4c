""""Why this character?": one stage of a readouts.WhyChain at a time.

A stage is a title, its formula, and its terms as aligned rows (label, value, a bar for |value|
scaled to the stage's largest, ▆ for a positive term and ▒ for a negative one so the sign reads
without colour, the detail where there is room). Where a stage is a sum, a last row checks that
all its terms, shown or not, add up to the total (✓), or says by how much they miss (✗).
Stepping goes forward and back through the stages and stops at either end; the first line says
which stage of how many is shown. Lines are cut at a word, never mid-number.
"""

from __future__ import annotations

import textwrap

from rich.text import Text
from textual.widget import Widget

from ...engine.microgpt import readouts

EMPTY_HINT = "Pick a character to see why the model gave it its probability."
SUM_TOLERANCE = 1e-6  # relative: the terms are float64 sums of the same products


def fit_words(text: str, width: int) -> str:
    """`text` cut at a space to fit `width` cells, with … when anything was dropped."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if space > width // 3:
        cut = cut[:space]
    return cut.rstrip(" ·,") + "…"


def sums_to_total(terms: tuple[readouts.Term, ...], total: float) -> bool:
    """Whether the stage's terms add up to its total, to rounding."""
    return abs(sum(t.value for t in terms) - total) <= SUM_TOLERANCE * max(1.0, abs(total))


class WhyChain(Widget):
    """Shows a readouts.WhyChain one stage at a time: step(+1) forward, step(-1) back."""

    COMPONENT_CLASSES = {
        "why-chain--title",
        "why-chain--formula",
        "why-chain--positive",
        "why-chain--negative",
        "why-chain--check",
        "why-chain--miss",
    }
    DEFAULT_CSS = """
    WhyChain {
        text-wrap: nowrap;
        text-overflow: clip;
    }
    WhyChain > .why-chain--title {
        text-style: bold;
    }
    WhyChain > .why-chain--formula {
        color: $primary;
    }
    WhyChain > .why-chain--positive {
        color: $success;
    }
    WhyChain > .why-chain--negative {
        color: $error;
    }
    WhyChain > .why-chain--check {
        color: $success;
        text-style: bold;
    }
    WhyChain > .why-chain--miss {
        color: $error;
        text-style: bold;
    }
    """

    def __init__(self, hint: str = EMPTY_HINT, **kwargs) -> None:
        super().__init__(**kwargs)
        self.hint = hint  # shown before there is anything to draw (the screen names its keys)
        self.chain: readouts.WhyChain | None = None
        self.stage_index = 0

    def show(self, chain: readouts.WhyChain | None) -> None:
        """Show a chain; the same question asked again (a newer step) keeps its stage."""
        old = self.chain
        same = (old is not None and chain is not None
                and (old.name, old.position, old.char) == (chain.name, chain.position, chain.char))
        self.chain = chain
        if chain is None or not chain.stages:
            self.stage_index = 0
        elif not same:
            self.stage_index = 0
        else:
            self.stage_index = min(self.stage_index, len(chain.stages) - 1)
        self.refresh()

    def step(self, delta: int) -> None:
        """Go `delta` stages forward (positive) or back (negative); stops at either end."""
        if self.chain is not None and self.chain.stages:
            last = len(self.chain.stages) - 1
            self.stage_index = min(last, max(0, self.stage_index + delta))
            self.refresh()

    @property
    def stage(self) -> readouts.WhyStage | None:
        if self.chain is None or not self.chain.stages:
            return None
        return self.chain.stages[self.stage_index]

    def render(self) -> Text:
        chain, stage = self.chain, self.stage
        if chain is None or stage is None:
            return Text(self.hint, style="dim", no_wrap=True, overflow="crop")
        width, height = self.size
        width = width or 80
        height = height or 9
        style = self.get_component_rich_style
        out = Text(no_wrap=True, overflow="crop")

        count = len(chain.stages)
        where = f"stage {self.stage_index + 1}/{count} {stage.key}"
        context = f'"{chain.context}"' if chain.context else readouts.BOS_LABEL
        question = f"  why {chain.char} after {context}? · step {chain.step}"
        if len(where) + len(question) > width:
            question = question[: question.index("? ·") + 1]
        out.append(where, "bold")
        out.append(fit_words(question, max(0, width - len(where))) + "\n", "dim")
        rows = height - 1
        trail = " › ".join(s.key for s in chain.stages)
        if rows >= 12 and len(trail) <= width:
            for index, s in enumerate(chain.stages):
                if index:
                    out.append(" › ", "dim")
                out.append(s.key, "reverse" if index == self.stage_index else "dim")
            out.append("\n")
            rows -= 1
        # The title and the formula are the stage's point: wrapped (two lines each at most),
        # never cut; the terms give up the rows (their rest is summed on one line).
        for text, part in ((stage.title, "why-chain--title"),
                           (stage.formula, "why-chain--formula")):
            lines = textwrap.wrap(text, width) or [""]
            if len(lines) > 2:
                lines = [lines[0], fit_words(" ".join(lines[1:]), width)]
            for line in lines:
                out.append(line + "\n", style(part))
            rows -= len(lines)

        terms = stage.terms
        closing = 1 if stage.total is not None else 0
        room = max(0, rows - closing)
        shown = terms if len(terms) <= room else terms[: max(0, room - 1)]
        label_width = min(22, max((len(t.label) for t in terms), default=1), max(4, 2 * width // 5))
        value_width = max(len(f"{t.value:+.4f}") for t in terms) if terms else 7
        detail_width = max((len(t.detail) for t in terms), default=0)
        free = width - label_width - value_width - 3
        if detail_width and free - detail_width - 1 >= 6:
            bar_width = min(24, free - detail_width - 1)
        else:
            bar_width, detail_width = max(0, min(24, free)), 0
        biggest = max((abs(t.value) for t in terms), default=0.0) or 1.0
        positive, negative = style("why-chain--positive"), style("why-chain--negative")
        for term in shown:
            out.append(f"{fit_words(term.label, label_width):<{label_width}} ")
            out.append(f"{term.value:>+{value_width}.4f} ")
            filled = max(1 if term.value else 0, round(abs(term.value) / biggest * bar_width))
            out.append(("▆" if term.value >= 0 else "▒") * filled,
                       positive if term.value >= 0 else negative)
            out.append(" " * (bar_width - filled))
            if detail_width and term.detail:
                strong = term.detail == "explained"
                out.append(" " + fit_words(term.detail, detail_width),
                           "bold" if strong else "dim")
            out.append("\n")
        hidden = terms[len(shown):]
        if hidden:
            rest = sum(t.value for t in hidden)
            out.append(fit_words(f"… {len(hidden)} more, together {rest:+.4f}", width) + "\n",
                       "dim")
        if stage.total is not None:
            total = stage.total
            out.append(f"{'total':<{label_width}} ", "bold")
            out.append(f"{total:>+{value_width}.4f} ", "bold")
            room = max(0, width - label_width - value_width - 3)
            if sums_to_total(terms, total):
                out.append("✓", style("why-chain--check"))
                note = f" = Σ of all {len(terms)} terms"
            else:
                out.append("✗", style("why-chain--miss"))
                note = f" but Σ terms {sum(t.value for t in terms):+.4f}"
            out.append(note if len(note) <= room else "", "dim")  # whole, or not at all
        return out
