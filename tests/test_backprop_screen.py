"""The Backprop screen: stepping forward and backward shows the engine's numbers, presets load
(and the naive softmax shows its overflow), the editor keeps bad input, and snapshots."""

from __future__ import annotations

import threading

import pytest
from textual.widgets import Static

from microgpt_tui.engine.backprop_presets import find_preset
from microgpt_tui.engine.graph_layout import LEFT, RIGHT, layout_graph
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.screens import backprop
from microgpt_tui.tui.widgets.dag_view import DagView, Highlight, render_viewport
from microgpt_tui.tui.widgets.graph_models import StepperModel
from microgpt_tui.tui.widgets.program_editor import ProgramEditor


async def settle(pilot) -> None:
    """Wait until the screen's worker has installed the graph it was building."""
    screen = pilot.app.screen
    for _ in range(400):
        await pilot.pause()
        if getattr(screen, "busy", "") == "" and getattr(screen, "loaded", None) is not None:
            return
        if getattr(screen, "message", None) is not None and not screen.busy:
            return
    raise AssertionError("the screen never finished building its graph")


async def open_backprop(pilot) -> None:
    pilot.app.open_screen("backprop")
    await settle(pilot)


def panel(app) -> str:
    return str(app.screen.query_one("#bp-panel", Static).render())


def status(app) -> str:
    return str(app.screen.query_one("#bp-status", Static).render())


async def test_forward_then_backward_steps_show_the_engine_values():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        assert "1 Neuron" in status(app) and "forward 0/5" in status(app)
        await pilot.press("n")
        # The neuron's first computed node: w1 * x1 = -3 * 2.
        assert "*#3 = w1 * x1" in panel(app)
        assert "w1 = -3.0000, x1 = 2.0000" in panel(app)
        assert "data = -6.0000" in panel(app)
        await pilot.press("right", "right", "right", "right")
        assert "forward 5/5" in status(app)
        assert "o = tanh(n)" in panel(app) and "data = 0.7071" in panel(app)
        await pilot.press("b")
        text = panel(app)
        assert "backward 1/9" in text
        assert "d tanh(n)/dn = 1 - tanh²(n) = 0.5000" in text
        assert "= 0.0000 + 0.5000 × 1.0000" in text and "= 0.5000" in text
        await pilot.press("left", "left")
        text = panel(app)
        assert "edge b → n" in text and "d(+#7 + b)/db = 1" in text
        stepper = app.screen.loaded.stepper
        assert stepper.backward_done == 3
        assert stepper.last_backward.child.grad == pytest.approx(0.5)


async def test_a_node_with_two_parents_explains_two_contributions():
    app = make_app(size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_backprop(pilot)
        await pilot.press("2")
        await settle(pilot)
        seen = ""
        for _ in range(60):
            await pilot.press("b")
            if "contributions" in panel(app):
                seen = panel(app)
                break
        assert "is used" in seen and "contributions: this is 1 of" in seen


async def test_end_gives_the_backward_grads_and_reset_clears_them():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("G")
        await settle(pilot)
        loaded = app.screen.loaded
        named = dict(loaded.built.named)
        assert loaded.stepper.phase == "done"
        assert named["a"].grad == pytest.approx(138.8338, abs=1e-4)
        assert "backward done" in panel(app)
        await pilot.press("g")
        assert named["a"].grad == 0.0 and "forward 0/" in status(app)


async def test_end_is_tied_to_its_graph_and_never_touches_the_one_on_show(monkeypatch):
    release = threading.Event()
    finished_copy = backprop.finished_copy

    def held_finished_copy(loaded):
        assert release.wait(30), "the test never released the end-of-graph worker"
        return finished_copy(loaded)

    monkeypatch.setattr(backprop, "finished_copy", held_finished_copy)
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        try:
            await open_backprop(pilot)
            await pilot.press("7")
            await settle(pilot)
            token = app.screen.loaded
            await pilot.press("n", "G")
            assert "running backward" in status(app)
            await pilot.press("b", "r")  # refused while the worker runs
            assert token.stepper.forward_done == 1 and token.stepper.backward_done == 0
            await pilot.press("t")  # reads the shown graph, which the worker leaves alone
            assert panel(app).startswith("topological order")
            await pilot.press("t", "1")
            await settle(pilot)
            assert "1 Neuron" in status(app)
        finally:
            release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        # The late result for preset 7 is dropped: preset 1 stays as built, at its start.
        screen = app.screen
        assert "1 Neuron" in status(app) and screen.busy == "" and screen.last_action == ""
        assert screen.loaded.stepper.phase == "forward"
        assert token.stepper.phase == "forward" and token.stepper.backward_done == 0


async def test_end_result_is_dropped_when_a_build_started_meanwhile():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        screen = app.screen
        token = screen.loaded
        finished = backprop.finished_copy(token)
        screen.action_end()
        screen._load("1 Neuron again", find_preset("1").build, None)  # the end result arrives
        screen._ended(token, finished)  # before the new build is installed: ignored
        assert screen.loaded is token and screen.busy.startswith("building")
        await settle(pilot)
        assert "1 Neuron again" in status(app) and screen.last_action == ""


async def test_naive_softmax_shows_the_overflow_error_then_stable_works():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        await pilot.press("4")
        await settle(pilot)
        text = panel(app)
        assert "6:6: overflow: exp(1000) is too large for a float" in text
        await pilot.press("n", "b", "space", "tab", "t", "m", "plus", "G")  # all safe, no graph
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("G")
        await settle(pilot)
        m = dict(app.screen.loaded.built.named)["m"]
        assert m.grad == pytest.approx(0.0, abs=1e-12)


async def test_edit_a_program_with_a_parse_error_keeps_the_text():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        await pilot.press("e")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, ProgramEditor)
        area = editor.query_one("#editor-text")
        area.text = "x = 3\ny = x * z\n"
        await pilot.press("ctrl+r")
        for _ in range(100):
            await pilot.pause()
            if "unknown" in str(editor.query_one("#editor-error", Static).render()):
                break
        assert "2:9: unknown name 'z'" in str(editor.query_one("#editor-error", Static).render())
        assert area.text == "x = 3\ny = x * z\n"
        assert area.cursor_location == (1, 8)
        area.text = "x = 3\ny = x * x + x\n"
        await pilot.press("ctrl+r")
        for _ in range(100):
            await pilot.pause()
            if not isinstance(app.screen, ProgramEditor):
                break
        await settle(pilot)
        assert "your program" in status(app)
        await pilot.press("G")
        await settle(pilot)
        assert dict(app.screen.loaded.built.named)["x"].grad == 7.0
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.query_one("#editor-text").text == "x = 3\ny = x * x + x\n"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ProgramEditor)


async def test_microgpt_token_groups_by_module_and_keys_stay_safe():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        await pilot.press("7")
        await settle(pilot)
        assert "7 MicroGPT token" in status(app)
        await pilot.press("m")
        await settle(pilot)
        assert "by module" in status(app)
        names = app.screen.group_data[0]
        assert names[:2] == ["embeddings", "attn q/k/v"] and "lm_head" in names
        assert "MLP" in names and "attn head 0" in names
        await pilot.press("b", "minus", "minus", "plus", "l", "j", "tab", "t", "space", "space")
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert "by module" not in status(app)


async def test_tab_selects_nodes_and_t_shows_the_topological_order():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        await pilot.press("tab")
        assert "node 1 of 10" in panel(app) and "w1 (input)" in panel(app)
        await pilot.press("shift+tab")
        assert "node 10 of 10" in panel(app)
        await pilot.press("n", "n", "t")
        text = panel(app)
        assert text.startswith("topological order") and "▶" in text


def test_viewport_render_draws_boxes_edges_and_the_highlighted_route():
    from microgpt_tui.engine.backprop_stepper import GraphStepper

    stepper = GraphStepper(find_preset("1").build().root)
    layout = layout_graph(stepper.children)
    stepper.run_to_end()
    child, parent = stepper.position[stepper.order[0]], stepper.parents[0][0]
    route = {(x, y) for x, y, _ in layout.route(child, parent)}
    strips = render_viewport(layout, StepperModel(stepper), Highlight(edge=(child, parent),
                             route=route), 0, 0, 60, 12)
    text = "\n".join(strip.text for strip in strips)
    assert "╴x1╶" in text and "d     2.0000" in text and "├" in text and "┤" in text
    assert all(strip.cell_length == 60 for strip in strips)
    hot = [seg for strip in strips for seg in strip if seg.style and seg.style.bold
           and seg.text.strip("─│┌┐└┘├┤┬┴┼╴╶") == ""]
    assert hot, "the updated edge is drawn highlighted"
    assert layout.edge_cells[next(iter(route))] & (LEFT | RIGHT)


@pytest.mark.parametrize("size", [(1, 1), (5, 3), (200, 60)])
def test_viewport_render_at_any_size(size):
    from microgpt_tui.engine.backprop_stepper import GraphStepper

    stepper = GraphStepper(find_preset("7").build().root)
    layout = layout_graph(stepper.children)
    strips = render_viewport(layout, StepperModel(stepper), Highlight(), 10_000, 10_000, *size)
    assert len(strips) == size[1]


def _open_and(keys: list[str]):
    async def run_before(pilot) -> None:
        await open_backprop(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        view = pilot.app.screen.query_one(DagView)
        view.redraw(full=True)
        await pilot.pause()

    return run_before


def test_snapshot_forward_steps_80x24(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_open_and(["n", "n"]))


def test_snapshot_backward_step_80x24(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24),
                        run_before=_open_and(["n"] * 5 + ["b", "b", "b"]))


def test_snapshot_overflow_error_80x24(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_open_and(["4"]))


def test_snapshot_microgpt_modules_120x40(snap_compare):
    assert snap_compare(make_app(size=(120, 40)), terminal_size=(120, 40),
                        run_before=_open_and(["7", "m", "b"]))
