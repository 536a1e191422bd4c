"""The "answer" to a question: project-written Markdown from assets/answers/."""

from __future__ import annotations

from importlib import resources

from textual.containers import VerticalScroll


def load_answer(asset_name: str) -> str:
    return resources.files("microgpt_tui.assets").joinpath("answers", asset_name).read_text("utf-8")


class AnswerPanel(VerticalScroll):
    """A scrollable Markdown panel; screens show it beside their work or toggle it with `a`.

    The Markdown is built the first time the panel is shown: laying out a long document with
    highlighted code costs a noticeable fraction of a second, which a hidden panel never needs.
    """

    can_focus = True

    def __init__(self, asset_name: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.asset_name = asset_name
        self.loaded = False

    def load(self) -> None:
        """Build the Markdown (once)."""
        if self.loaded:
            return
        self.loaded = True
        from textual.widgets import Markdown  # markdown-it is slow to import; home never needs it

        self.mount(Markdown(load_answer(self.asset_name)))
