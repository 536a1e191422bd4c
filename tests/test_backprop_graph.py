"""The MicroGPT-token graph made readable (issue 16): nodes named for what they are, labels that
fit their boxes without cutting a word, the whole-graph overview, and the layout's progress."""

from __future__ import annotations

import pytest

from microgpt_tui.engine.backprop_presets import REAL_CONFIG, find_preset
from microgpt_tui.engine.backprop_stepper import GraphStepper
from microgpt_tui.engine.graph_layout import (
    STYLES,
    fit_label,
    layout_graph,
    overview,
    overview_cell,
)
from microgpt_tui.tui.screens.backprop_view import load_graph
from microgpt_tui.tui.widgets.dag_view import Highlight, render_overview, render_viewport
from microgpt_tui.tui.widgets.graph_models import StepperModel, reference


@pytest.fixture(scope="module")
def token():
    built = find_preset("7").build()
    return built, GraphStepper(built.root)


def test_the_token_preset_is_the_real_model():
    """Preset 7 is the Training screen's model (n_embed 16, 4 heads, 27 tokens), ~20k steps."""
    built = find_preset("7").build()
    stepper = GraphStepper(built.root)
    assert (REAL_CONFIG.n_embed, REAL_CONFIG.n_head, REAL_CONFIG.vocab_size) == (16, 4, 27)
    assert len(stepper.order) > 5_000 and stepper.length > 15_000
    assert {"attn head 0", "attn head 3", "MLP", "lm_head"} <= set(built.group_order)


def test_microgpt_nodes_are_named_for_what_they_are(token):
    built, stepper = token  # t8 is the last position: only its query reaches the loss
    names = {node.name for node in stepper.order if node.name}
    expected = {"wte[i,3]", "wte[.,0]", "wpe[2,3]", "lm_head[a,15]", "emb[3] t2",
                "rmsnorm[3] t2", "q[3] t8", "k[3] t2", "v[3] t2", "q·k h1 t8:2",
                "score h1 t8:2", "softmax h1 t8:2", "head1[5] t8", "fc1[63] t8",
                "relu[63] t8", "logit[a]", "p[.]", "loss"}
    assert expected <= names
    # No node is a bare `*#3`: an unnamed op says which module it belongs to.
    for node in stepper.order:
        if node.children and not node.name:
            text = reference(stepper, node, built.groups)
            assert built.groups[node] in text, text


def test_every_name_fits_its_box_readably(token):
    """Named nodes fit a detailed box's 13 cells (abbreviated if need be, never cut with …);
    compact boxes get whole words."""
    built, stepper = token
    model = StepperModel(stepper, built.groups)
    title_cells = STYLES[0].box_width - 4
    for node in range(len(stepper.order)):
        label = model.label(node)
        shown = fit_label(label, title_cells)
        assert len(shown) <= title_cells
        if stepper.order[node].name:
            assert "…" not in shown, (label, shown)
        compact = model.summary(node)
        assert len(compact) == STYLES[1].box_width - 1


@pytest.mark.parametrize(
    ("text", "width", "shown"),
    [
        ("loss", 13, "loss"),
        ("softmax h1 t2:0", 13, "smax h1 t2:0"),
        ("lm_head[a,15]", 11, "lmh[a,15]"),
        ("* attn head 0 #55", 13, "* head0 #55"),
        ("* embeddings #132", 10, "* emb #132"),
        ("* attn q/k/v #1234", 8, "* qkv…"),
        ("supercalifragilistic", 8, "superca…"),
    ],
)
def test_fit_label_abbreviates_then_drops_whole_words(text, width, shown):
    assert fit_label(text, width) == shown


def test_the_detailed_box_shows_the_whole_name():
    """Regression: names were cut to 11 cells (`wte[0` of `wte[0][1]`)."""
    built = find_preset("7").build()
    stepper = GraphStepper(built.root)
    layout = layout_graph(stepper.children)
    node = next(i for i, v in enumerate(stepper.order) if v.name == "lm_head[a,15]")
    x, y = layout.box(node)
    strips = render_viewport(layout, StepperModel(stepper, built.groups), Highlight(), x, y,
                             STYLES[0].box_width, 1)
    assert "lm_head[a,15]" in strips[0].text


def test_overview_holds_every_node_and_marks_the_step(token):
    built, stepper = token
    layout = layout_graph(stepper.children, STYLES[2])
    counts = overview(layout, 40, 20)
    assert sum(map(sum, counts)) == len(stepper.order)
    assert len(counts) == 20 and all(len(row) == 40 for row in counts)
    loss = len(stepper.order) - 1
    column, row = overview_cell(layout, loss, 40, 20)
    strips = render_overview(layout, StepperModel(stepper), Highlight(current=loss), 40, 20)
    assert strips[row].text[column] == "▶"
    assert all(strip.cell_length == 40 for strip in strips)
    assert render_overview(layout, StepperModel(stepper), Highlight(), 0, 0) == []


def test_layout_reports_progress_and_can_be_stopped(token):
    _, stepper = token
    heard: list[tuple[str, int, int]] = []
    layout_graph(stepper.children, STYLES[0], lambda *report: heard.append(report))
    stages = [stage for stage, _, _ in heard]
    assert stages[0] == "placing" and stages[-1] == "routing edges"
    routed = [done for stage, done, _ in heard if stage == "routing edges"]
    assert routed == sorted(routed) and len(routed) >= 10

    class Stop(Exception):
        pass

    def stop(stage: str, done: int, total: int) -> None:
        if stage == "routing edges" and done:
            raise Stop

    with pytest.raises(Stop):
        layout_graph(stepper.children, STYLES[0], stop)


def test_load_graph_says_what_it_is_doing():
    lines: list[str] = []
    loaded = load_graph("7 MicroGPT token", find_preset("7").build, None, STYLES[0],
                        lines.append)
    assert lines[0] == "building 7 MicroGPT token…"
    assert "numbering the nodes…" in lines
    assert any(line.startswith("laying out: routing edges") for line in lines)
    assert len(loaded.stepper.order) == len(loaded.layout.column_of)
