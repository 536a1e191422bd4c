"""Command palette (Ctrl+P): jump to any screen, or run a screen action."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from .registry import all_screens


class ScreenCommands(Provider):
    """Every screen by question and title, plus home and the answer toggle."""

    def _commands(self) -> list[tuple[str, str, object]]:
        app = self.app
        commands: list[tuple[str, str, object]] = [
            ("Home", "Back to the list of questions", app.go_home),
            ("Show keys", "The current screen's keys", partial(app.run_action, "screen.help")),
            (
                "Toggle answer",
                "Show or hide the written answer on a question screen",
                partial(app.run_action, "screen.toggle_answer"),
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
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
