"""A one-line title bar: the screen's title and subtitle, without Header's clock and icon.

On the right, the app's `title_status` when it has one (session_log.SessionApp): who this served
app belongs to, and in a pair room who drives. It follows changes on every screen; when the line
is too short for both, the screen's words are cut, never the room's.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from textual.content import Content
from textual.widget import Widget

GAP = 2  # columns kept between the title and the app's status


class TitleBar(Widget):
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
        if hasattr(self.app, "title_status"):
            self.watch(self.app, "title_status", self._status_changed, init=False)

    def _status_changed(self) -> None:
        self.refresh()

    def render(self) -> Content:
        screen = self.screen
        title = screen.title or self.app.title
        if screen.sub_title:
            title = f"{title} — {screen.sub_title}"
        status = getattr(self.app, "title_status", "")
        if not status:
            return Content(title)
        width = self.content_size.width
        room = width - cell_len(status) - GAP
        if cell_len(title) > room:
            title = set_cell_size(title, room - 1) + "…" if room > 1 else ""
        title = set_cell_size(title, max(width - cell_len(status), 0))
        return Content.assemble(title, (status, "$text-accent"))
