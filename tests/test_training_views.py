"""The Training screen's narration and inspection (issue 16): the pace, the per-token losses,
"why this character?", gradient health, the embedding map, the gradient check and the zoomed
panel — driven by keys on a real run, and drawn in snapshots at 80×24."""

from __future__ import annotations

import pytest
from test_training_screen import (
    _open_with,
    open_training,
    set_fields,
    text_of,
    wait_for,
)

from microgpt_tui.engine.data import load_names_from_path
from microgpt_tui.engine.microgpt.session import FINISHED, RUNNING, ProcessSession
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.kit.screen import key_sections
from microgpt_tui.tui.screens.training_view import PACES, next_pace
from microgpt_tui.tui.widgets.embedding_plot import EmbeddingMap
from microgpt_tui.tui.widgets.gradcheck_view import GradCheck
from microgpt_tui.tui.widgets.health_map import HealthGrid
from microgpt_tui.tui.widgets.loss_chart import LossChart
from microgpt_tui.tui.widgets.token_strip import TokenStrip
from microgpt_tui.tui.widgets.why_view import WhyChain

POSITION, STAGE, KIND = "Next position", "Next stage (one further back)", "Grad norm / update ratio"


def offered(screen) -> set[str]:
    """What `?` lists now (the descriptions of the keys that work)."""
    return {description for _, rows in key_sections(screen) for _, description in rows}


def test_the_pace_ladder_runs_from_one_step_a_second_to_full_speed():
    assert next_pace(None, -1) == 500 and next_pace(500, 1) is None
    assert next_pace(None, 1) is None and next_pace(1, -1) == 1  # the ends hold
    assert next_pace(3, 1) == 5 and next_pace(3, -1) == 2  # off the ladder: its neighbours
    pace = None
    for _ in PACES:
        pace = next_pace(pace, -1)
    assert pace == 1


async def test_a_paced_run_trains_at_the_pace_and_full_speed_finishes_it(small_names_path):
    app = make_app(data_path=small_names_path, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        assert "pace full speed" in text_of(screen, "#train-status")
        await pilot.press(*["comma"] * 9)  # down the ladder to 1 step a second
        assert screen.run.pace == 1 and "pace 1 steps/s" in text_of(screen, "#train-status")
        set_fields(screen, num_steps="400", n_embed="8", n_head="2")
        await pilot.press("s")
        # Both engines train in a child process: the UI keeps the GIL to itself.
        assert isinstance(screen.session, ProcessSession)
        await wait_for(pilot, lambda: screen.run.step >= 1)
        assert screen.run.state == RUNNING and screen.run.step < 100  # paced, not finished
        await pilot.press(*["full_stop"] * 10)
        assert screen.run.pace is None
        await wait_for(pilot, lambda: screen.run.state == FINISHED, timeout=90)
        assert screen.query_one(LossChart).point_count == 400


async def test_the_inspection_panels_follow_a_real_run(small_names_path):
    app = make_app(data_path=small_names_path, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        assert not {POSITION, STAGE, KIND} & offered(screen)
        set_fields(screen, num_steps="60", sample_every="20", n_embed="8", n_head="2")
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.run.state == FINISHED)
        await pilot.pause()

        await pilot.press("5")
        strip = screen.query_one(TokenStrip)
        assert strip.strip.name == screen.run.samples[0] and strip.strip.step == 60
        assert POSITION in offered(screen) and STAGE not in offered(screen)
        await pilot.press("right")
        why = screen.query_one(WhyChain)
        await wait_for(pilot, lambda: why.chain.position == 1)
        assert why.chain.name == strip.strip.name

        await pilot.press("6", "down", "down")
        assert why.stage.key == "lm_head" and {STAGE, POSITION} <= offered(screen)
        await pilot.press("up")
        assert why.stage.key == "logits"

        for _ in screen.run.samples:  # past the samples: the first held-out name
            await pilot.press("n")
        await wait_for(pilot, lambda: strip.strip.source == "held-out")
        assert strip.strip.name == screen.run.heldout_names[0]
        assert text_of(screen, "#samples").splitlines()[2] == (
            f"▸ {screen.run.heldout_names[0]}  (held-out; n next)")  # on show at 80×24

        await pilot.press("7")
        heatmap = screen.query_one(HealthGrid)
        assert heatmap.grid.kind == "grad norm" and heatmap.grid.steps[-1] == 60
        assert KIND in offered(screen) and POSITION not in offered(screen)
        await pilot.press("t")
        assert heatmap.grid.kind == "update/weight"
        # The session is asked for as many step columns as the panel holds: the whole run fits.
        room = heatmap.room(heatmap.grid.names)
        assert screen.readouts.health_room == room and len(heatmap.grid.steps) <= room

        await pilot.press("8")
        assert screen.query_one(EmbeddingMap).embedding.step == 60

        await pilot.press("9", "j", "greater_than_sign", "c")
        check = screen.query_one(GradCheck)
        await wait_for(pilot, lambda: check.check is not None)
        assert (check.check.param, check.check.row, check.check.col) == ("wpe", 0, 1)
        assert check.check.rel_error < 1e-5 and "relative error" in screen.message
        assert screen.query_one("#train-panels").current == "check"


async def test_z_gives_the_panel_the_chart_s_room_and_back(small_names_path):
    app = make_app(data_path=small_names_path, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        panels = screen.query_one("#train-panels")
        before = panels.size.height
        await pilot.press("z")
        assert not screen.query_one(LossChart).display and panels.size.height > before + 5
        await pilot.press("z")
        assert screen.query_one(LossChart).display and panels.size.height == before


@pytest.mark.parametrize("keys", [("5",), ("6", "down", "down"), ("z", "6", "down", "down"),
                                  ("7",), ("z", "8"), ("9",)],
                         ids=["tokens", "why-lm_head", "why-zoomed", "health", "embed-zoomed",
                              "check-hint"])
def test_snapshot_inspection_panels_80x24(snap_compare, small_names_path, keys):
    names = load_names_from_path(small_names_path).names
    app = make_app(data_path=small_names_path, size=(80, 24))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open_with(names, keys))
