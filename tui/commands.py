"""Command palette (Ctrl+P): jump to any screen, or run any action of the current screen.

The screen's actions are read from its active bindings (the same list `?` shows), so every
key a screen binds is in the palette without a second list to keep in step.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from .registry import all_screens

Command = tuple[str, str, Callable[[], object]]


def binding_commands(screen) -> list[Command]:
    """One command per enabled, described binding of `screen` (its focused widget and the
    app included), named "<screen>: <description>", with its key in the help text."""
    commands: list[Command] = []
    seen: set[tuple[int, str]] = set()
    app = screen.app
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or binding.system or not active.enabled:
            continue
        if binding.action in ("app.command_palette", "command_palette"):
            continue
        marker = (id(active.node), binding.action)
        if marker in seen:
            continue
        seen.add(marker)
        key = binding.key_display or app.get_key_display(binding)
        where = "app" if active.node is app else (screen.title or "screen")
        commands.append(
            (
                f"{where}: {binding.description}",
                f"key {key}",
                partial(app.run_action, binding.action, active.node),
            )
        )
    return commands


class ScreenCommands(Provider):
    """Every screen by question and title, home, reset everything, and the current screen's
    actions."""

    def _commands(self) -> list[Command]:
        app = self.app
        commands: list[Command] = [
            ("Home", "Back to the list of questions", app.go_home),
            (
                "Reset everything",
                "Every screen back to its first state (e.g. before the next candidate)",
                app.reset_everything,
            ),
        ]
        for question, spec in all_screens():
            commands.append(
                (
                    f"Q{question.number} {spec.title}",
                    f"{question.title}: {question.topics}",
                    partial(app.open_screen, spec.screen_id),
                )
            )
        return commands + binding_commands(self.screen)

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
