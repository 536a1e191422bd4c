"""The notice shown instead of a layout that cannot fit."""

from textual.widgets import Static

MIN_WIDTH = 80
MIN_HEIGHT = 24


class TooSmall(Static):
    """Fills the screen when the terminal is below 80×24; hidden otherwise (see app.tcss)."""

    def __init__(self) -> None:
        super().__init__(id="too-small", markup=False)

    def on_mount(self) -> None:
        self.refresh_text()

    def on_resize(self) -> None:
        self.refresh_text()

    def refresh_text(self) -> None:
        width, height = self.app.size
        # In an interview room the server owns leaving (Ctrl+Q), and q does nothing.
        leave = "Ctrl+Q leaves the room." if getattr(self.app, "in_room", False) else "q quits."
        self.update(
            f"Enlarge the terminal to at least {MIN_WIDTH}×{MIN_HEIGHT} "
            f"(now {width}×{height}). {leave}"
        )
