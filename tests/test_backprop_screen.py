"""The Backprop screen: one timeline stepped forward and back shows the engine's numbers, every
step undoes exactly, presets load (and the naive softmax shows its overflow), the run to the end
of a big graph stays off the UI thread, the editor keeps bad input, the keys listed are the keys
that work, and snapshots."""

from __future__ import annotations

import random
import threading

import pytest
from textual.widgets import Static

from microgpt_tui.engine import backprop_stepper
from microgpt_tui.engine.backprop_presets import (
    PRESETS,
    Preset,
    build_microgpt_token,
    find_preset,
)
from microgpt_tui.engine.backprop_stepper import GraphStepper
from microgpt_tui.engine.graph_layout import LEFT, RIGHT, generations, layout_graph
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.kit.screen import key_sections
from microgpt_tui.tui.modals.program_editor import ProgramEditor
from microgpt_tui.tui.screens import backprop
from microgpt_tui.tui.widgets.dag_view import DagView, Highlight, render_viewport
from microgpt_tui.tui.widgets.explanation import ExplanationPanel
from microgpt_tui.tui.widgets.graph_models import StepperModel

# Preset 4 overflows by design. The timeline tests visit every position, so preset 7 (the real
# model, ~20k steps) runs there at the toy size: the same code, ~1k steps.
TOY_TOKEN = Preset("7", "MicroGPT token", "toy size", builder=build_microgpt_token)
EVALUATED = [TOY_TOKEN if p.key == "7" else p for p in PRESETS if p.key != "4"]


async def settle(pilot) -> None:
    """Wait until the screen's job has finished and a graph (or its error) is on show."""
    screen = pilot.app.screen
    for _ in range(400):
        await pilot.pause()
        if not screen.busy and (screen.loaded is not None or screen.failure is not None):
            return
    raise AssertionError("the screen never finished its job")


async def open_backprop(pilot) -> None:
    pilot.app.open_screen("backprop")
    await settle(pilot)


def panel(app) -> str:
    return app.screen.query_one("#bp-side", ExplanationPanel).text


def status(app) -> str:
    return str(app.screen.query_one("#bp-status", Static).render())


# The engine's timeline: undo is exact, seeking equals stepping, going back never recomputes.


def grads(stepper: GraphStepper) -> list[float]:
    return [node.grad for node in stepper.order]


@pytest.mark.parametrize("preset", EVALUATED, ids=lambda p: p.key)
def test_stepping_forward_then_back_restores_every_value_exactly(preset):
    stepper = GraphStepper(preset.build().root)
    data = [node.data for node in stepper.order]
    seen = []
    for position in range(stepper.length + 1):
        stepper.seek(position)
        seen.append((grads(stepper), list(stepper.received), stepper.current))
    for position in range(stepper.length, -1, -1):
        stepper.seek(position)
        assert (grads(stepper), stepper.received, stepper.current) == seen[position]
    assert [node.data for node in stepper.order] == data
    assert set(grads(stepper)) == {0.0}


@pytest.mark.parametrize("preset", EVALUATED, ids=lambda p: p.key)
def test_seeking_anywhere_equals_stepping_there(preset):
    rng = random.Random(5)
    stepped = GraphStepper(preset.build().root)
    sought = GraphStepper(preset.build().root)
    for _ in range(30):
        target = rng.randrange(stepped.length + 1)
        while stepped.position < target:
            stepped.seek(stepped.position + 1)
        while stepped.position > target:
            stepped.seek(stepped.position - 1)
        sought.seek(target)
        assert grads(sought) == grads(stepped) and sought.received == stepped.received
        assert sought.phase == stepped.phase and sought.current_edge == stepped.current_edge


def test_the_end_equals_backward_and_going_back_never_reruns_the_engine(monkeypatch):
    yielded = 0
    engine_steps = backprop_stepper.backward_steps

    def counted(root):
        nonlocal yielded
        for step in engine_steps(root):
            yielded += 1
            yield step

    monkeypatch.setattr(backprop_stepper, "backward_steps", counted)
    stepper = GraphStepper(find_preset("7").build().root)
    reference = GraphStepper(find_preset("7").build().root)
    reference.root.backward()
    stepper.seek(stepper.length)
    assert grads(stepper) == grads(reference)
    for position in (stepper.length - 1, stepper.forward_total, 0, 3, stepper.length):
        stepper.seek(position)
    assert yielded == stepper.edge_total  # every edge computed once, then undone and redone
    assert grads(stepper) == grads(reference)


def test_inner_node_columns_are_networkx_topological_generations():
    import networkx as nx

    stepper = GraphStepper(find_preset("7").build().root)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(stepper.order)))
    graph.add_edges_from((c, i) for i, kids in enumerate(stepper.children) for c in kids)
    peer = {n: g for g, members in enumerate(nx.topological_generations(graph)) for n in members}
    column = generations(stepper.children)
    assert all(column[n] == peer[n] for n in stepper.computed)
    with pytest.raises(ValueError, match="children-first"):
        generations([(1,), ()])


# The screen.


async def test_forward_then_backward_steps_show_the_engine_values_and_b_undoes():
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
        assert "forward 5/5" in status(app) and "step 5/14" in status(app)
        assert "o = tanh(n)" in panel(app) and "data = 0.7071" in panel(app)
        assert "forward done" in panel(app)
        await pilot.press("n")
        text = panel(app)
        assert "backward 1/9" in text
        assert "d tanh(n)/dn = 1 - tanh²(n) = 0.5000" in text
        assert "= 0.0000 + 0.5000 × 1.0000" in text and "= 0.5000" in text
        await pilot.press("right", "right")
        text = panel(app)
        assert "edge b → n" in text and "d(+#7 + b)/db = 1" in text
        stepper = app.screen.loaded.stepper
        named = dict(app.screen.loaded.built.named)
        assert stepper.backward_done == 3 and named["b"].grad == pytest.approx(0.5)
        await pilot.press("b")  # undoes b's update: its grad is 0 again
        assert stepper.backward_done == 2 and named["b"].grad == 0.0
        await pilot.press("left", "left")  # back before backward(): the seed is gone too
        assert "backward 0/9" in status(app) and stepper.root.grad == 0.0
        assert "o = tanh(n)" in panel(app)
        await pilot.press("left")
        assert "forward 4/5" in status(app) and not stepper.is_evaluated(len(stepper.order) - 1)


async def test_a_node_with_two_parents_explains_two_contributions():
    app = make_app(size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_backprop(pilot)
        await pilot.press("2")
        await settle(pilot)
        seen = ""
        for _ in range(80):
            await pilot.press("n")
            if "contributions" in panel(app):
                seen = panel(app)
                break
        assert "is used" in seen and "contributions: this is 1 of" in seen


async def test_end_gives_the_backward_grads_and_start_clears_them():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("G")
        loaded = app.screen.loaded
        named = dict(loaded.built.named)
        assert loaded.stepper.phase == "done"
        assert named["a"].grad == pytest.approx(138.8338, abs=1e-4)
        assert "backward done" in panel(app)
        await pilot.press("g")
        assert named["a"].grad == 0.0 and "forward 0/" in status(app)


async def test_playback_plays_at_the_chosen_speed_and_stops_at_the_end():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        screen = app.screen
        screen.playback.tick_seconds = 3600  # the test ticks by hand, never the clock
        await pilot.press("plus", "plus")
        assert "×5" in status(app)
        await pilot.press("space")
        assert "▶" in status(app)
        screen.playback._tick()
        assert screen.loaded.stepper.position == 5
        await pilot.press("minus")
        screen.playback._tick()
        assert screen.loaded.stepper.position == 7 and "×2" in status(app)
        for _ in range(10):
            screen.playback._tick()
        assert screen.loaded.stepper.phase == "done" and "⏸" in status(app)
        await pilot.press("b")
        assert screen.loaded.stepper.position == screen.loaded.stepper.length - 1


async def test_the_run_to_the_end_of_a_big_graph_is_a_job_tied_to_its_graph(monkeypatch):
    release = threading.Event()
    finished = backprop.finished

    def held_finished(loaded):
        assert release.wait(30), "the test never released the end-of-graph job"
        return finished(loaded)

    monkeypatch.setattr(backprop, "finished", held_finished)
    monkeypatch.setattr(backprop, "SYNC_SEEK_EDGES", 0)  # every graph counts as big here
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        try:
            await open_backprop(pilot)
            await pilot.press("7")
            await settle(pilot)
            token = app.screen.loaded
            await pilot.press("n", "G")
            assert "running to the end" in status(app)
            await pilot.press("b", "g")  # refused while the job runs
            assert token.stepper.position == 1
            await pilot.press("t")  # reads the shown graph, which the job leaves alone
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
        assert "1 Neuron" in status(app) and not screen.busy
        assert screen.loaded.stepper.position == 0
        assert token.stepper.position == 1 and token.stepper.backward_done == 0


async def test_the_end_computed_in_a_job_can_be_stepped_back(monkeypatch):
    monkeypatch.setattr(backprop, "SYNC_SEEK_EDGES", 0)
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        shown = app.screen.loaded
        await pilot.press("G")
        await settle(pilot)
        stepper = app.screen.loaded.stepper
        assert stepper is not shown.stepper and stepper.phase == "done"
        assert shown.stepper.position == 0  # the copy ran, not the graph that was on show
        assert "backward done" in panel(app)
        await pilot.press("b")
        assert stepper.backward_done == stepper.edge_total - 1


async def test_naive_softmax_shows_the_overflow_error_then_stable_works():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        await pilot.press("4")
        await settle(pilot)
        text = panel(app)
        assert "6:6: overflow: exp(1000) is too large for a float" in text
        await pilot.press("n", "b", "space", "tab", "t", "m", "z", "plus", "G")  # no graph: safe
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
        assert "8 Your program" in status(app)
        await pilot.press("G")
        await settle(pilot)
        assert dict(app.screen.loaded.built.named)["x"].grad == 7.0
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.query_one("#editor-text").text == "x = 3\ny = x * x + x\n"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ProgramEditor)


def editor_title(app) -> str:
    return str(app.screen.query_one("#editor-title", Static).render())


async def wait_for_editor_to_close(pilot) -> None:
    for _ in range(100):
        await pilot.pause()
        if not isinstance(pilot.app.screen, ProgramEditor):
            return
    raise AssertionError("the editor never closed")


async def test_the_microgpt_token_says_it_cannot_be_edited():
    """Regression: e on preset 7 silently opened another program (preset 1's) in the editor."""
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        await pilot.press("7")
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        assert not isinstance(app.screen, ProgramEditor)
        messages = [notification.message for notification in app._notifications]
        assert any("7 MicroGPT token is built from Values in Python" in m
                   and "cannot be edited" in m for m in messages), messages


async def test_an_edited_preset_is_a_copy_kept_as_preset_8():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        assert "Preset: your program" not in descriptions(app.screen)  # none yet
        await pilot.press("8")  # nothing to come back to: no-op
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        assert editor_title(app) == "Editing a copy of 3 Softmax + CE (Ctrl+R keeps it as 8)"
        area = app.screen.query_one("#editor-text")
        assert area.show_line_numbers
        area.text = area.text.replace("l3 = 998.0", "l3 = 990.0")
        await pilot.press("ctrl+r")
        await wait_for_editor_to_close(pilot)
        await settle(pilot)
        assert "8 Your program" in status(app)
        assert "Preset: your program" in descriptions(app.screen)
        await pilot.press("3")  # the preset itself is unchanged
        await settle(pilot)
        assert dict(app.screen.loaded.built.named)["l3"].data == 998.0
        await pilot.press("8")  # and the copy is there to come back to
        await settle(pilot)
        assert "8 Your program" in status(app)
        assert dict(app.screen.loaded.built.named)["l3"].data == 990.0
        await pilot.press("e")
        await pilot.pause()
        assert editor_title(app) == "Editing 8 Your program (Ctrl+R runs it)"
        assert "l3 = 990.0" in app.screen.query_one("#editor-text").text


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
        names = app.screen.loaded.grouping.names
        assert names[:2] == ["embeddings", "attn q/k/v"] and "lm_head" in names
        assert "MLP" in names and "attn head 0" in names
        await pilot.press("n", "b", "Z", "Z", "z", "l", "j", "tab", "t", "space", "space")
        await settle(pilot)
        assert "by module" in status(app) and "compact" in status(app)
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
        await pilot.press("n")  # a step moves on from the inspected node
        assert "forward 1/5" in panel(app)
        await pilot.press("n", "t")
        text = panel(app)
        assert text.startswith("topological order") and "▶" in text


def descriptions(screen) -> set[str]:
    return {description for _, keys in key_sections(screen) for _, description in keys}


async def test_help_lists_exactly_the_keys_that_work():
    playback = {"Play/pause", "Step forward", "Step back", "Faster", "Slower", "First step",
                "Last step"}
    graph = {"Topo order", "Next node", "Previous node", "Pan left", "Pan right", "Pan up",
             "Pan down", "Zoom in", "Zoom out"}
    always = {"Edit program", "Answer", "Reset this screen", "Previous part", "Next part",
              "Show keys", "Back"} | {f"Preset: {p.title}" for p in PRESETS}
    assert all(binding.description for binding in backprop.BackpropScreen.BINDINGS)
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        screen = app.screen
        listed = descriptions(screen)
        assert playback | graph | always <= listed and "Group by module" not in listed
        await pilot.press("7")
        await settle(pilot)
        assert "Group by module" in descriptions(screen)
        await pilot.press("4")
        await settle(pilot)
        listed = descriptions(screen)  # no graph: nothing to step, pan or zoom
        assert always <= listed and not (playback - {"Faster", "Slower"}) & listed
        assert not graph & listed
        await pilot.press("question_mark")
        await pilot.pause()
        shown = {description for _, description in app.screen.keys}
        assert shown == listed


async def test_answer_beside_the_graph_leaves_the_graph_room_at_120_columns():
    app = make_app(size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_backprop(pilot)
        await pilot.press("n", "n", "n", "n", "n")  # o = tanh(n), the rightmost column
        await pilot.press("a")
        await pilot.pause()
        view = app.screen.query_one(DagView)
        assert view.size.width >= 50
        assert app.screen.query_one("#answer").outer_size.width == 40
        # The narrower view still shows the step's node whole.
        x, _ = view.layout_data.box(app.screen.loaded.stepper.current)
        assert view.origin[0] <= x and x + 15 <= view.origin[0] + view.size.width


def test_viewport_render_draws_boxes_edges_and_the_states_by_glyph():
    stepper = GraphStepper(find_preset("1").build().root)
    layout = layout_graph(stepper.children)
    stepper.seek(stepper.length)
    child, parent = stepper.current_edge
    route = {(x, y) for x, y, _ in layout.route(child, parent)}
    strips = render_viewport(layout, StepperModel(stepper),
                             Highlight(parent, frozenset(stepper.children[parent]),
                                       (child, parent), 0, route), 0, 0, 60, 12)
    text = "\n".join(strip.text for strip in strips)
    assert "x1" in text and "d     2.0000" in text and "├" in text
    assert "╔" in text, "the step's node: a double border"
    assert "┏" in text, "the Tab cursor: a heavy border"
    assert all(strip.cell_length == 60 for strip in strips)
    hot = [seg for strip in strips for seg in strip if seg.style and seg.style.bold
           and seg.text.strip("━┃┏┓┗┛┣┫┳┻╋╸╺╹╻") == ""]
    assert hot, "the updated edge is drawn in heavy lines"
    x, y, _ = layout.route(child, parent)[0]  # the cell leaving the child's box
    assert layout.edge_cells[(x, y)] & (LEFT | RIGHT)


@pytest.mark.parametrize("size", [(1, 1), (5, 3), (200, 60)])
def test_viewport_render_at_any_size(size):
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
                        run_before=_open_and(["n"] * 8))


def test_snapshot_overflow_error_80x24(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_open_and(["4"]))


def test_snapshot_editor_with_line_numbers_80x24(snap_compare):
    async def run_before(pilot) -> None:
        await open_backprop(pilot)
        await pilot.press("e")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_microgpt_modules_120x40(snap_compare):
    assert snap_compare(make_app(size=(120, 40)), terminal_size=(120, 40),
                        run_before=_open_and(["7", "m", "n"]))


# Issue 16: the real MicroGPT token made readable.


def in_view(view: DagView, node: int) -> bool:
    layout = view.layout_data
    x, y = layout.box(node)
    ox, oy = view.origin
    return (ox <= x and x + layout.style.box_width <= ox + view.size.width
            and oy <= y and y + layout.style.box_height <= oy + view.size.height)


async def test_the_view_follows_the_updated_edge_both_ways():
    """Regression: only the step's node was kept in view; the child at the other end of the
    updated edge (and the edge) could be off screen, stepping forward or back."""
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        await pilot.press("7")
        await settle(pilot)
        await pilot.press("G")
        await settle(pilot)
        view = app.screen.query_one(DagView)
        stepper = app.screen.loaded.stepper
        moved = set()
        for key in ["b"] * 40 + ["n"] * 15:
            await pilot.press(key)
            child, parent = stepper.current_edge
            layout = view.layout_data
            fits = (abs(layout.box(child)[0] - layout.box(parent)[0]) + layout.style.box_width
                    <= view.size.width and abs(layout.box(child)[1] - layout.box(parent)[1])
                    + layout.style.box_height <= view.size.height)
            assert in_view(view, parent), key
            if fits:
                assert in_view(view, child), (key, stepper.position)
            moved.add(view.origin)
        assert len(moved) > 1, "the view scrolled to follow"


async def test_f_fits_the_whole_graph_and_back_to_one_to_one():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        await pilot.press("7")
        await settle(pilot)
        await pilot.press("n", "n")
        assert "Fit whole graph / 1:1" in descriptions(app.screen)
        await pilot.press("f")
        view = app.screen.query_one(DagView)
        assert view.fit and "fit · node density" in status(app)
        frame = "\n".join(strip.text for strip in view._frame)
        assert "▶" in frame and "█" in frame
        listed = descriptions(app.screen)
        assert not {"Pan left", "Zoom in", "Zoom out"} & listed  # nothing to pan in a fit
        await pilot.press("h", "z", "n")
        assert view.fit and app.screen.loaded.stepper.position == 3
        await pilot.press("f")
        assert not view.fit and "detail" in status(app)
        assert in_view(view, app.screen.loaded.stepper.current)


async def test_the_status_says_whether_the_numbers_are_data_or_grads():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        assert "detail · d data, g grad" in status(app)
        await pilot.press("Z")
        await settle(pilot)
        await pilot.press("n")
        assert "compact · data" in status(app)
        await pilot.press("G")
        await settle(pilot)
        assert "compact · grads" in status(app)
        assert all(len(line) <= 78 for line in status(app).splitlines())


async def test_the_detail_panel_gives_the_full_name_the_box_abbreviates():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_backprop(pilot)
        await pilot.press("7")
        await settle(pilot)
        screen = app.screen
        order = screen.loaded.stepper.order
        node = next(i for i, v in enumerate(order) if v.name == "softmax h1 t8:2")
        screen.selected = node - 1
        await pilot.press("tab")
        await pilot.pause()
        assert screen.selected == node
        assert "softmax h1 t8:2 = " in panel(app)
        frame = "\n".join(strip.text for strip in screen.query_one(DagView)._frame)
        assert "smax h1 t8:2" in frame


async def test_the_token_preset_shows_progress_while_laid_out_and_keys_answer(monkeypatch):
    release = threading.Event()
    load_graph = backprop.load_graph

    def held(title, build, source, style, report):
        if title.startswith("7"):
            report("laying out: routing edges 40%…")
            assert release.wait(30), "the test never released the layout"
        return load_graph(title, build, source, style, report)

    monkeypatch.setattr(backprop, "load_graph", held)
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        try:
            await open_backprop(pilot)
            await pilot.press("7")
            for _ in range(50):
                await pilot.pause()
                if "routing edges 40%" in status(app):
                    break
            assert "routing edges 40%" in status(app)  # drawn while the job runs
            await pilot.press("t")  # keys answer meanwhile
            assert app.screen.show_order
        finally:
            release.set()
        await settle(pilot)
        assert "7 MicroGPT token" in status(app) and "routing" not in status(app)
