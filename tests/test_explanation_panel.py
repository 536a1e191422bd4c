"""The explanation panel: prepared text or a Markdown template with live numbers."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Static

from microgpt_tui.tui.widgets.explanation import ExplanationPanel


class PanelApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ExplanationPanel(id="panel")


async def test_it_shows_text_and_repaints_only_on_change():
    app = PanelApp()
    async with app.run_test(size=(40, 10)) as pilot:
        panel = app.query_one(ExplanationPanel)
        panel.show(Text("a.grad += 2 × 1.5"))
        await pilot.pause()
        static = panel.query_one(Static)
        assert panel.text == "a.grad += 2 × 1.5"
        assert "a.grad += 2 × 1.5" in str(static.render())
        updates = []
        static.update = updates.append  # type: ignore[method-assign]
        panel.show(Text("a.grad += 2 × 1.5"))
        assert updates == []  # unchanged text: nothing repainted
        panel.show("[bold]not markup[/bold]")
        assert updates == ["[bold]not markup[/bold]"]


async def test_a_markdown_template_is_filled_with_numbers():
    app = PanelApp()
    async with app.run_test(size=(60, 10)) as pilot:
        panel = app.query_one(ExplanationPanel)
        panel.show_markdown("**RTT** is {rtt:.1f} ms; light covers {km:,} km", rtt=12.345,
                            km=3700)
        await pilot.pause()
        assert panel.text == "**RTT** is 12.3 ms; light covers 3,700 km"
        lines = [strip.text for strip in app.screen._compositor.render_strips()]
        assert any("RTT is 12.3 ms; light covers 3,700 km" in line for line in lines)
        assert not panel.can_focus
