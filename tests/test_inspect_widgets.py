"""The Training screen's inspection widgets, drawn from hand-built readouts at the panel's sizes:
48×9 (80×24), 48×20 (the panel zoomed) and 90×30 (120×40). Nothing that matters is cut
mid-number, selection and stepping move both ways, and each shows a hint before it has data."""

from __future__ import annotations

import re

import numpy as np
import pytest
from textual.app import App, ComposeResult
from textual.widget import Widget

from microgpt_tui.engine.microgpt import readouts
from microgpt_tui.engine.microgpt.readouts import BOS_LABEL, END_LABEL, Term
from microgpt_tui.tui.widgets.embedding_plot import EmbeddingMap
from microgpt_tui.tui.widgets.gradcheck_view import GradCheck
from microgpt_tui.tui.widgets.health_map import HealthGrid
from microgpt_tui.tui.widgets.token_strip import TokenStrip
from microgpt_tui.tui.widgets.why_view import WhyChain

SIZES = [(48, 9), (48, 20), (90, 30)]


class WidgetApp(App):
    CSS = "Screen > * { width: 1fr; height: 1fr; }"

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


def screen_lines(app: App) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


# Hand-built readouts.


def sample_strip(name: str = "emmanuelle") -> readouts.TokenStrip:
    tokens = []
    targets = [*name, END_LABEL]
    for i, target in enumerate(targets):
        loss = [3.41, 0.52, 1.88, 2.07, 12.5, 0.03, 2.9, 1.1, 0.8, 4.9, 0.25][i % 11]
        prob = float(np.exp(-loss))
        others = [c for c in ("a", "e", "i", END_LABEL, "o") if c != target][:4]
        top = ((target, prob), *zip(others, (0.21, 0.12, 0.07, 0.05), strict=True))
        if i == 1:  # a position whose target is not among the top candidates
            top = (("a", 0.31), ("o", 0.22), ("i", 0.11), ("y", 0.09), ("l", 0.06))
        tokens.append(readouts.TokenLoss(i, name[:i], target, prob, loss, top))
    return readouts.TokenStrip(name, "sampled", tuple(tokens), step=300)


def sample_chain() -> readouts.WhyChain:
    dims = tuple(Term(f"x[{i}]", v, f"{v / 0.5:+.3f} × {0.5:+.3f}")
                 for i, v in enumerate([0.9125, -0.4375, 0.3, 0.25, -0.125, 0.0625, 0.05, 0.03,
                                        -0.02, 0.0125, 0.01, 0.005]))
    residual = (Term("embedding", 0.75, "token + position, normalised"),
                Term("L0 attention", 0.5625), Term("L0 MLP", -0.3125))
    stages = (
        readouts.WhyStage("probability", "p(m) = 0.1532 at temperature 1",
                          "p(c) = softmax(z / T)[c]",
                          (Term("a", 0.31), Term("m", 0.1532, "explained"), Term("e", 0.12)),
                          None),
        readouts.WhyStage("logits", "z(m) = +1.0000, rank 2 of 27", "z = lm_head · x",
                          (Term("a", 1.7), Term("m", 1.0, "explained"), Term("e", 0.8)), None),
        readouts.WhyStage("lm_head",
                          "z(m) = Σ over 12 dimensions of lm_head[m]_i · x_i = +1.0500",
                          "z_c = Σ_i lm_head[c, i] · x_i", dims, 1.05),
        readouts.WhyStage("residual", "z(m) = +1.0000 split by what wrote the residual stream",
                          "z_c = lm_head[c] · (embedding + Σ_layers (attention + MLP))",
                          residual, 1.0),
        readouts.WhyStage("attention", "the attention blocks' share of z(m)",
                          "attention_c = Σ_heads Σ_j a_j · lm_head[c] · Wo[:, head] · v_j",
                          (Term(f"L0 H0 ← {BOS_LABEL} @0", 0.5, "weight 0.600"),
                           Term("L0 H1 ← e @1", 0.25, "weight 0.300"),
                           Term("L0 H1 ← m @2", 0.0625, "weight 0.100")), 0.7),  # misses
    )
    return readouts.WhyChain("emma", 2, "em", "m", 1.0, stages, step=300)


def sample_grid() -> readouts.HealthGrid:
    names = ("wte", "wpe", "lm_head", "blocks.0.attn.wq", "blocks.0.attn.wk", "blocks.0.attn.wv",
             "blocks.0.attn.wo", "blocks.0.mlp_fc1", "blocks.0.mlp_fc2")
    steps = tuple(range(10, 610, 10))  # 60 columns
    values = np.array([[-4.0 + 0.3 * r + 0.02 * c for c in range(len(steps))]
                       for r in range(len(names))])
    values[1, :5] = np.nan
    return readouts.HealthGrid(names, steps, values, "grad norm")


def sample_check(rel: float = 1e-8) -> readouts.GradCheck:
    numeric = -0.0123456789
    return readouts.GradCheck("blocks.0.mlp_fc1", 3, 7, 0.0421, numeric * (1 + rel),
                              numeric * (1 - rel / 2), numeric, 1e-5, 2.345678,
                              ("emma", "olivia", "ava", "isabella", "sophia", "charlotte",
                               "mia", "amelia", "harper", "evelyn"), step=300)


def sample_map() -> readouts.EmbeddingMap:
    labels = (*"abcdefghijklmnopqrstuvwxyz", BOS_LABEL)
    angles = np.linspace(0, 2 * np.pi, 26, endpoint=False)
    xy = np.stack([np.cos(angles), 0.5 * np.sin(angles)], axis=1)
    xy = np.vstack([xy, [[1.0, 0.0]]])  # ⟨bos⟩ lands exactly on 'a'
    return readouts.EmbeddingMap(labels, xy, (0.41, 0.23), step=300)


async def drawn(widget: Widget, data, size: tuple[int, int]) -> tuple[WidgetApp, list[str]]:
    app = WidgetApp(widget)
    async with app.run_test(size=size) as pilot:
        widget.show(data)  # type: ignore[attr-defined]
        await pilot.pause()
        return app, screen_lines(app)


def fits(lines: list[str], width: int) -> None:
    assert all(len(line) <= width for line in lines)


# The no-data hints.


@pytest.mark.parametrize("cls,hint", [
    (TokenStrip, "Per-token losses appear with the first samples."),
    (WhyChain, "Pick a character to see why"),
    (HealthGrid, "Gradient health appears after the first training steps."),
    (GradCheck, "A weight's gradient check appears once a model exists."),
    (EmbeddingMap, "The embedding map appears once a model exists."),
])
async def test_each_widget_shows_a_one_line_hint_before_it_has_data(cls, hint):
    app = WidgetApp(cls())
    async with app.run_test(size=(48, 9)) as pilot:
        await pilot.pause()
        lines = [line.rstrip() for line in screen_lines(app)]
        assert lines[0].startswith(hint[:40]) and not any(lines[1:])
        app.widget.show(None)
        await pilot.pause()
        assert screen_lines(app)[0].rstrip().startswith(hint[:40])


# TokenStrip.


async def test_the_token_strip_shows_each_position_with_whole_numbers_and_moves_the_selection():
    widget = TokenStrip()
    app = WidgetApp(widget)
    async with app.run_test(size=(48, 9)) as pilot:
        widget.show(sample_strip())
        await pilot.pause()
        lines = screen_lines(app)
        assert lines[0].startswith("'emmanuelle' sampled · step 300 · mean")
        assert lines[1].split()[:3] == ["e", "m", "m"] and lines[1].rstrip().endswith("›")
        numbers = lines[3].split()
        assert numbers[:5] == ["3.41", "0.52", "1.88", "2.07", "12.5"]  # never cut
        assert lines[4].strip() == "▲"
        assert "▸ 1/11 after ⟨bos⟩ → 'e'  p 0.033  loss 3.41" in lines[5]
        assert widget.selected is not None and widget.selected.position == 0
        widget.move(-1)  # stops at the first position
        assert widget.selected_index == 0
        widget.move(1)
        await pilot.pause()
        lines = screen_lines(app)
        assert '▸ 2/11 after "e" → \'m\'' in lines[5] and lines[4].index("▲") == 7
        widget.move(100)  # to the end: the window scrolls, ‹ marks what is left of it
        await pilot.pause()
        lines = screen_lines(app)
        assert widget.selected is not None and widget.selected.target == END_LABEL
        assert lines[1].lstrip().startswith("‹") and lines[1].split()[-1] == "end"
        assert "→ end" in lines[5]
        fits(lines, 48)
        widget.move(-3)
        assert widget.selected_index == 7


async def test_the_zoomed_token_strip_lists_the_top_candidates_and_marks_the_true_next():
    for size in [(48, 20), (90, 30)]:
        widget = TokenStrip()
        app, lines = await drawn(widget, sample_strip(), size)
        text = "\n".join(lines)
        assert "▲" in text
        assert re.search(r"^  e    0\.033 .*◂ next *$", text, re.M), text
        assert re.search(r"^  a    0\.210 █", text, re.M)
        assert re.search(r"^  end  0\.070 ", text, re.M)
        fits(lines, size[0])
    # Short: the candidates on one line, whole ones only.
    app, lines = await drawn(TokenStrip(), sample_strip("emma"), (40, 8))
    top = next(line for line in lines if line.startswith("  top "))
    assert lines[0].rstrip() == "'emma' sampled · step 300 · mean 4.08"  # "nats" left out
    assert top.split()[1:5] == ["e", "0.03", "a", "0.21"]


# WhyChain.


async def test_the_why_chain_steps_forward_and_back_through_its_stages():
    widget = WhyChain()
    app = WidgetApp(widget)
    async with app.run_test(size=(48, 9)) as pilot:
        widget.show(sample_chain())
        await pilot.pause()
        first = screen_lines(app)
        assert first[0].startswith('stage 1/5 probability  why m after "em"?')
        assert first[1].startswith("p(m) = 0.1532") and first[2].startswith("p(c) = softmax")
        assert re.match(r"m +\+0\.1532 ▆+ +explained", first[4])
        widget.step(-1)
        assert widget.stage_index == 0
        widget.step(2)
        await pilot.pause()
        third = screen_lines(app)
        assert third[0].startswith("stage 3/5 lm_head")
        # The long title wraps at a word onto a second line, never cut.
        assert third[1].rstrip().endswith("·") and third[2].strip().startswith("x_i")
        assert re.match(r"x\[0\] +\+0\.9125 ▆+", third[4])
        assert third[-2].startswith("… 9 more, together")
        assert re.match(r"total +\+1\.0500 ✓ = Σ of all 12 terms", third[-1])
        fits(third, 48)
        widget.step(1)
        widget.step(-1)
        await pilot.pause()
        assert screen_lines(app) == third  # back is the exact reverse of forward
        widget.step(-2)
        await pilot.pause()
        assert screen_lines(app) == first
        widget.step(10)
        await pilot.pause()
        last = screen_lines(app)
        assert last[0].startswith("stage 5/5 attention")
        assert any(re.match(r"total +\+0\.7000 ✗ but Σ terms \+0\.8125", line)
                   for line in last)
        widget.show(sample_chain())  # the same question at a newer step keeps the stage
        assert widget.stage_index == 4


async def test_the_zoomed_why_chain_shows_every_term_and_the_stage_trail():
    for size in [(48, 20), (90, 30)]:
        widget = WhyChain()
        app = WidgetApp(widget)
        async with app.run_test(size=size) as pilot:
            widget.show(sample_chain())
            widget.step(2)
            await pilot.pause()
            lines = screen_lines(app)
            text = "\n".join(lines)
            assert "x[11]" in text and "more, together" not in text
            assert "✓ = Σ of all 12 terms" in text
            if size[0] >= 60:
                assert "probability › logits › lm_head › residual › attention" in text
                assert "+1.825 × +0.500" in text  # details where there is room
            fits(lines, size[0])


# HealthGrid.


async def test_the_health_grid_shades_by_value_with_the_range_and_kind_in_the_legend():
    app, lines = await drawn(HealthGrid(), sample_grid(), (48, 9))
    assert lines[0].startswith("grad norm log10 ")
    low, high = re.search(r"log10 (-?\d+\.\d) ░▒▓█ (-?\d+\.\d)", lines[0]).groups()
    assert float(low) < float(high)
    assert lines[1].startswith("wte ") and "░" in lines[1]
    assert lines[-1].startswith("… 2 more tensors")  # 9 rows: the rest on zoom
    fits(lines, 48)
    app, lines = await drawn(HealthGrid(), sample_grid(), (48, 20))
    names = [line.split()[0] for line in lines[1:10]]
    assert names[-1] == "blocks.0.mlp_fc2" and "█" in lines[9]
    assert lines[10].strip().startswith("step ") and lines[10].rstrip().endswith("600")
    app, lines = await drawn(HealthGrid(), sample_grid(), (90, 30))
    assert "·" in lines[2] and "steps 10–600" in lines[0]  # wpe's first steps have no data
    fits(lines, 90)


# GradCheck.


async def test_the_gradient_check_aligns_the_three_gradients_and_marks_the_error():
    for size in SIZES:
        app, lines = await drawn(GradCheck(), sample_check(), size)
        assert lines[0].startswith("blocks.0.mlp_fc1[3,7] = +0.042100  step 300")
        grads = [line for line in lines[1:4]]
        columns = {line.index("e-02") for line in grads}
        assert len(columns) == 1  # digit under digit
        assert "-1.234567890e-02" in grads[2]
        assert re.search(r"scalar vs diff +1\.00e-08 ✓ < 1e-5", "\n".join(lines))
        assert "h 1e-05 · loss 2.345678 on 10 names" in "\n".join(lines)
        batch = next(line for line in lines if line.startswith(" batch "))
        assert batch.rstrip().endswith("more") or batch.rstrip().endswith("evelyn")
        assert "emma, olivia" in batch
        fits(lines, size[0])
    app, lines = await drawn(GradCheck(), sample_check(rel=1e-3), (48, 9))
    assert re.search(r"scalar vs diff +9\.99e-04 ✗ ≥ 1e-5", "\n".join(lines))


# EmbeddingMap.


async def test_the_embedding_map_places_characters_with_axes_and_counts_overlaps():
    for size in SIZES:
        app, lines = await drawn(EmbeddingMap(), sample_map(), size)
        assert lines[0].startswith("wte on PC1 41% × PC2 23%  step 300")
        plot = lines[1:-1]
        text = "\n".join(plot)
        assert "┼" in text and "PC1" in text
        rightmost = max(range(len(plot)), key=lambda r: plot[r].rstrip()[-1:] != "")
        assert any(line.rstrip().endswith("^") for line in plot)  # ⟨bos⟩ on top of 'a'
        assert rightmost >= 0
        assert "hidden under later ones" in lines[-1] and " a" in lines[-1]
        fits(lines, size[0])
    app, lines = await drawn(EmbeddingMap(), sample_map(), (90, 30))
    drawn_chars = set("".join(lines[1:-1])) & set("bcdefghijklmnopqrstuvwxyz")
    assert len(drawn_chars) == 25  # room enough: only the exact overlap is hidden


# Themes: the glyphs carry the meaning, so a light theme draws the same characters.


@pytest.mark.parametrize("cls,data", [
    (TokenStrip, sample_strip()), (WhyChain, sample_chain()), (HealthGrid, sample_grid()),
    (GradCheck, sample_check()), (EmbeddingMap, sample_map()),
])
async def test_each_widget_draws_the_same_glyphs_on_a_light_theme(cls, data):
    widget = cls()
    app = WidgetApp(widget)
    async with app.run_test(size=(48, 9)) as pilot:
        widget.show(data)
        await pilot.pause()
        dark = screen_lines(app)
        app.theme = "ansi-light"
        await pilot.pause()
        assert screen_lines(app) == dark
        assert any(line.strip() for line in dark[1:])


# Odd data and odd sizes: no exception, nothing wider than the widget.


def odd_data() -> list[tuple[type[Widget], object]]:
    one = readouts.TokenLoss(0, "", END_LABEL, 1.0, 0.0, ())
    nan_grid = readouts.HealthGrid(("wte",), (10,), np.array([[np.nan]]), "update/weight")
    flat_grid = readouts.HealthGrid(("wte", "wpe"), (10, 20), np.full((2, 2), -2.0), "grad norm")
    empty_stage = readouts.WhyStage("logits", "nothing", "z", (), 0.0)
    return [
        (TokenStrip, readouts.TokenStrip("", "held-out", (one,), 0)),
        (TokenStrip, readouts.TokenStrip("x", "sampled", (), 0)),
        (WhyChain, readouts.WhyChain("a", 0, "", "a", 0.5, (empty_stage,), 0)),
        (WhyChain, readouts.WhyChain("a", 0, "", "a", 0.5, (), 0)),
        (HealthGrid, nan_grid),
        (HealthGrid, flat_grid),
        (GradCheck, readouts.GradCheck("wte", 0, 0, 0.0, 0.0, 0.0, 0.0, 1e-5, 0.0, (), 0)),
        (EmbeddingMap, readouts.EmbeddingMap(("a", "b"), np.zeros((2, 2)), (0.0, 0.0), 0)),
    ]


async def test_odd_data_at_odd_sizes_draws_without_errors():
    for cls, data in odd_data():
        for size in [(4, 3), (20, 5), (48, 9)]:
            app, lines = await drawn(cls(), data, size)
            fits(lines, size[0])
    app, lines = await drawn(HealthGrid(), odd_data()[4][1], (48, 9))
    assert lines[0].startswith("update/weight no data yet") and lines[1].startswith("wte ·")
    app, lines = await drawn(HealthGrid(), odd_data()[5][1], (48, 9))
    assert "log10 -2.0 ░▒▓█ -2.0" in lines[0] and "▓▓▓▓" in lines[1]
    app, lines = await drawn(EmbeddingMap(), odd_data()[7][1], (48, 9))
    assert "1 hidden under later ones: a" in lines[-1] and "b" in "".join(lines[1:-1])
