"""Text areas over the session's text files: the whiteboard notes panel, the desk's two panes.

A `SessionTextArea` edits one `SessionText`: every change is written back to it (saving is the
app's job, every few seconds, off the UI thread), and Esc gives focus back to what had it.

The notes panel is on every screen, but each screen's panel edits the app's one document: a
panel loads it when shown, so the notes follow the user from screen to screen.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from textual import events
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import TextArea

if TYPE_CHECKING:
    from ..session_log import SessionText


PASTE_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class SessionTextArea(TextArea):
    """A plain-text editor (the text is Markdown) of one session text."""

    BINDINGS = [Binding("escape", "leave", "Leave the text")]

    def __init__(self, *, id: str, placeholder: str) -> None:
        super().__init__(id=id, soft_wrap=True, placeholder=placeholder)
        self.document_text: SessionText | None = None
        self._return_focus: Widget | None = None

    def show_text(self, document: SessionText) -> None:
        """Edit `document` from its current text (another screen may have changed it); the
        cursor goes to the end, where notes are usually added."""
        self.document_text = document
        if self.text != document.text:
            self.load_text(document.text)
            self.move_cursor(self.document.end)

    def take_focus(self) -> None:
        """Focus the text, remembering what had focus so that Esc can give it back."""
        focused = self.screen.focused
        if focused is not self:
            self._return_focus = focused
        self.focus()

    async def _on_paste(self, event: events.Paste) -> None:
        # Pasted text keeps its lines and tabs; other control characters (C0, DEL, C1) go:
        # drawn raw, they would reach every terminal watching as escape sequences.
        # TextArea's own handler (which would insert the raw text) is the default, skipped here.
        event.prevent_default()
        if self.read_only:
            return
        clean = PASTE_CONTROLS.sub("", event.text)
        if result := self._replace_via_keyboard(clean, *self.selection):
            self.move_cursor(result.end_location)
            self.focus()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area is self and self.document_text is not None:
            self.document_text.edit(self.text)

    def action_leave(self) -> None:
        """Back to the screen: focus returns to the widget that had it before, if any."""
        widget, self._return_focus = self._return_focus, None
        if widget is not None and widget.is_attached and widget.focusable:
            widget.focus()
        else:
            self.screen.set_focus(None)


class NotesPanel(SessionTextArea):
    """The whiteboard, hidden until Ctrl+N; beside or below the screen's body (app.tcss)."""

    DEFAULT_CSS = """
    NotesPanel {
        display: none;
        border-title-color: $text-muted;
        border-subtitle-color: $text-muted;
    }
    """
    BINDINGS = [Binding("escape", "leave", "Back to the screen")]

    def __init__(self) -> None:
        super().__init__(id="notes", placeholder="Markdown notes, saved as you type")
        self.border_title = "Notes"
        self.border_subtitle = "esc back · ^n hide"

    def open(self, document: SessionText) -> None:
        self.show_text(document)
        self.display = True

    def close(self) -> None:
        if self.has_focus:
            self.action_leave()
        self.display = False
