"""The footer: the keys that work now on one line, and Ctrl+P for the palette on the right.

It shows what Textual's Footer shows, drawn as one line of text. Textual's Footer rebuilds a
widget per key whenever the bindings change (every screen switch, every play/pause), and each
of those widgets is styled, laid out and bound to the footer: about half of a served app's CPU
per navigation key, which is what decides how many interview sessions a small server can keep
answering within 100 ms (`microgpt-tui bench serve`). This bar recomputes one line instead.
A click on a key presses it, as on Textual's Footer.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widget import Widget

PALETTE_SEPARATOR = "▏"


@dataclass(frozen=True)
class Shown:
    """One entry of the bar: the keys (one, or a group's) and what they do."""

    keys: tuple[tuple[str, str], ...]  # (key to press, how it is shown)
    description: str
    enabled: bool


def shown_bindings(screen) -> tuple[list[Shown], Shown | None]:
    """The entries the bar shows for `screen`, and the palette's (or None), as Textual's Footer
    chooses them: one per action, `show=True` only, a group's keys together."""
    app = screen.app
    first: dict[str, tuple[Binding, bool]] = {}
    for _, binding, enabled, _ in screen.active_bindings.values():
        if binding.show and binding.action not in first:
            first[binding.action] = (binding, enabled)
    entries: list[Shown] = []
    for binding, enabled in first.values():
        key = (binding.key, app.get_key_display(binding))
        previous = entries[-1] if entries else None
        group = binding.group
        if group is not None and previous is not None and previous.description == group.description:
            entries[-1] = Shown((*previous.keys, key), previous.description,
                                previous.enabled or enabled)
        else:
            entries.append(Shown((key,), group.description if group else binding.description,
                                 enabled))
    palette = None
    if app.ENABLE_COMMAND_PALETTE:
        found = screen.active_bindings.get(app.COMMAND_PALETTE_BINDING)
        if found is not None:
            _, binding, enabled, _ = found
            palette = Shown(((binding.key, app.get_key_display(binding)),), binding.description,
                            enabled)
    return entries, palette


class KeyBar(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--separator"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .key-bar--separator {
            color: $foreground 20%;
        }
    }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._spans: list[tuple[int, int, str]] = []  # (from column, to column, key)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen) -> None:
        if screen is self.screen:
            self.refresh()

    def render(self) -> Text:
        entries, palette = shown_bindings(self.screen)
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        width = self.size.width
        right = Text()
        if palette is not None:
            right.append(PALETTE_SEPARATOR, self.get_component_rich_style("key-bar--separator"))
            right.append_text(self._entry(palette, key_style, description_style))
        room = max(width - right.cell_len, 0)
        line = Text(no_wrap=True, overflow="crop")
        spans: list[tuple[int, int, str]] = []
        for entry in entries:
            piece = self._entry(entry, key_style, description_style)
            if line.cell_len + piece.cell_len > room:
                break  # as Textual's Footer does, what does not fit is not shown
            spans.append((line.cell_len, line.cell_len + piece.cell_len, entry.keys[0][0]))
            line.append_text(piece)
        line.append(" " * (room - line.cell_len))
        if palette is not None:
            spans.append((room, width, palette.keys[0][0]))
        line.append_text(right)
        line.truncate(width)
        self._spans = spans
        return line

    @staticmethod
    def _entry(entry: Shown, key_style, description_style) -> Text:
        keys = " ".join(shown for _, shown in entry.keys)
        text = Text.assemble((f" {keys} ", key_style), (f"{entry.description} ",
                                                         description_style))
        if not entry.enabled:
            text.stylize("dim")
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return
