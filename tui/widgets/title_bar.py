"""A one-line title bar: the screen's title and subtitle, without Header's clock and icon."""

from textual.widgets import Static


class TitleBar(Static):
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
        text-style: bold;
        padding: 0 1;
    }
    """

    def on_mount(self) -> None:
        screen = self.screen
        text = screen.title or self.app.title
        if screen.sub_title:
            text = f"{text} — {screen.sub_title}"
        self.update(text)
