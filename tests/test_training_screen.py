"""The Training screen: live training updates the chart and panels, the form refuses bad input,
pause/stop/save/load work, the scalar engine's process never outlives the app, snapshots."""

from __future__ import annotations

import asyncio
import math
import time

import pytest
from textual import events
from textual.widgets import Input, Static

from microgpt_tui.engine.data import load_names_from_path
from microgpt_tui.engine.microgpt.config import Config
from microgpt_tui.engine.microgpt.session import (
    FINISHED,
    PAUSED,
    RUNNING,
    STOPPED,
    AttentionView,
    ProcessSession,
    Snapshot,
)
from microgpt_tui.engine.microgpt.trainer import Trainer
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.screens.training import TrainingScreen, checkpoint_dir, format_eta
from microgpt_tui.tui.widgets.adam_inspector import AdamInspector
from microgpt_tui.tui.widgets.attention_map import AttentionMap
from microgpt_tui.tui.widgets.loss_chart import LossChart
from microgpt_tui.tui.widgets.param_table import ParamTable


async def wait_for(pilot, condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the training screen")
        await asyncio.sleep(0.05)  # the app runs meanwhile: Pilot.pause would wait for idle


def send_keys(app, *keys: str) -> None:
    """Post key events without Pilot's wait for an idle app (never idle while training)."""
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        app._driver.send_message(event)


async def open_training(pilot) -> TrainingScreen:
    pilot.app.open_screen("training")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, TrainingScreen)
    return screen


def set_fields(screen: TrainingScreen, **values: str) -> None:
    for field_id, value in values.items():
        screen.query_one(f"#field-{field_id}", Input).value = value


def text_of(screen: TrainingScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_training_updates_chart_samples_and_panels(small_names_path):
    app = make_app(data_path=small_names_path, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        chart = screen.query_one(LossChart)
        assert chart.point_count == 0 and "press s to start" in str(chart.render())
        set_fields(screen, steps="60", every="20", embed="8", heads="2")
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == FINISHED)
        assert screen.step == 60 and chart.point_count == 60
        assert chart.baseline == pytest.approx(math.log(27))  # the bundled corpus: a-z + BOS
        assert chart.heldout and chart.heldout[-1][0] == 60
        assert len(screen.samples) == 8
        samples_text = text_of(screen, "#samples")
        assert screen.samples[0] in samples_text and "held-out loss" in samples_text
        assert "step 60/60" in text_of(screen, "#train-status")
        assert "━" in str(chart.render()) or "⠀" in str(chart.render())

        before = list(screen.samples)
        await pilot.press("plus")
        await wait_for(pilot, lambda: "temperature 0.6" in text_of(screen, "#samples"))
        assert screen.query_one("#field-temp", Input).value == "0.6"
        assert screen.samples != before  # re-sampled at the new temperature

        await pilot.press("2")
        attention = screen.query_one(AttentionMap)
        assert attention.maps is not None and attention.maps.shape[:2] == (1, 2)
        await pilot.press("h")
        assert attention.head_index == 1
        await pilot.press("n")
        await wait_for(pilot, lambda: attention.name_shown == screen.samples[1])

        await pilot.press("3")
        table = screen.query_one(ParamTable)
        assert [row.name for row in table.param_rows][:3] == ["wte", "wpe", "lm_head"]
        assert all(row.grad_norm > 0 for row in table.param_rows)
        await pilot.press("j", "greater_than_sign")
        inspector = screen.query_one(AdamInspector)
        await wait_for(pilot, lambda: inspector.target_weight == ("wpe", 0, 1))
        assert screen.query_one("#train-panels").current == "adam"
        assert "m̂" in str(inspector.render())


async def test_bad_config_is_refused_and_kept(small_names_path):
    app = make_app(data_path=small_names_path, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        set_fields(screen, heads="5")
        await pilot.press("s")
        assert screen.state == "idle" and screen.session is None
        assert "multiple of n_head" in screen.message
        heads = screen.query_one("#field-heads", Input)
        assert heads.value == "5" and heads.has_class("-bad")
        set_fields(screen, heads="4", lr="")
        await pilot.press("s")
        assert "lr: '' is not a number" in screen.message
        assert not heads.has_class("-bad")


async def test_pause_resume_stop_and_keys_while_training(small_names_path):
    app = make_app(data_path=small_names_path, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        set_fields(screen, steps="1000000", embed="8", heads="2")
        send_keys(app, "s")
        await wait_for(pilot, lambda: screen.state == RUNNING and screen.step > 5)
        send_keys(app, "p")
        await wait_for(pilot, lambda: screen.state == PAUSED)
        paused_at = screen.step
        await asyncio.sleep(0.3)
        assert screen.step == paused_at
        # Every key the screen knows, plus start again and engine switches mid-run: no effect
        # beyond a message, nothing raised.
        await pilot.press("s", "e", "1", "2", "3", "4", "n", "h", "l", "j", "k", "less_than_sign",
                          "greater_than_sign", "minus", "plus", "tab", "enter", "x")
        await wait_for(pilot, lambda: screen.state == STOPPED)
        assert screen.engine == "numpy"
        send_keys(app, "s")
        await wait_for(pilot, lambda: screen.state == RUNNING)
        send_keys(app, "space")
        await wait_for(pilot, lambda: screen.state == PAUSED)
        send_keys(app, "space")
        await wait_for(pilot, lambda: screen.state == RUNNING)
        send_keys(app, "3", "j", "2", "h", "plus", "x")
        await wait_for(pilot, lambda: screen.state == STOPPED)
    assert app._exception is None


async def test_save_and_load_a_checkpoint(small_names_path):
    app = make_app(data_path=small_names_path, size=(80, 24))
    path = checkpoint_dir() / "screen.npz"  # under the test's own cache folder (conftest)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        await pilot.press("ctrl+s")
        assert "Nothing to save yet" in screen.message
        set_fields(screen, steps="30", embed="8", heads="2", path="screen.npz")
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == FINISHED)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.message.startswith("Saved step 30"))
        assert path.is_file()
        set_fields(screen, steps="999", embed="16", heads="4")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: screen.state == FINISHED and screen.step == 30)
        # The form now shows the checkpoint's configuration.
        assert screen.query_one("#field-embed", Input).value == "8"
        assert screen.query_one("#field-steps", Input).value == "30"
        set_fields(screen, path="missing.npz")
        await pilot.press("ctrl+o")
        assert "no checkpoint missing.npz in" in screen.message
        set_fields(screen, path="..")
        await pilot.press("ctrl+s")
        assert "type a file name" in screen.message and not path.with_name("..").is_file()
        await pilot.press("shift+tab", "home", "slash", "ctrl+s")  # a path cannot be typed
        assert screen.query_one("#field-path", Input).value == ".."


async def test_scalar_engine_runs_in_a_process_that_dies_with_the_app(small_names_path):
    app = make_app(data_path=small_names_path, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        set_fields(screen, steps="100", embed="8", heads="2", block="8")
        await pilot.press("e", "s")
        assert isinstance(screen.session, ProcessSession)
        process = screen.session.process
        await wait_for(pilot, lambda: screen.step >= 2, timeout=90)
        assert screen.state == RUNNING and screen.engine == "scalar"
        assert screen.query_one(LossChart).point_count >= 2
        await pilot.press("3", "4", "plus", "2")  # keys answer while the child trains
    # The app has exited mid-training: the child must be gone.
    process.join(5)
    assert not process.is_alive()


def _trained_snapshot(names: list[str]) -> tuple[Snapshot, Snapshot]:
    """Deterministic snapshots from a real 40-step run, for the screen to render."""
    trainer = Trainer(names, Config(num_steps=40))
    first = Snapshot(state=RUNNING, config=trainer.config, engine="numpy",
                     vocab_size=trainer.vocab_size, num_steps=40)
    losses = [(e.step, e.loss) for e in trainer.run()]
    samples = trainer.preview_samples(8, 0.5)
    labels, maps = trainer.attention(samples[0])
    second = Snapshot(
        state=FINISHED, step=40, num_steps=40, losses=losses, steps_per_second=950.0,
        heldout=(40, trainer.heldout_loss()), samples=samples, temperature=0.5,
        attention=AttentionView(samples[0], labels, maps), params=trainer.param_table(),
        adam=("wte", 0, 0, trainer.adam_view("wte", 0, 0)),
    )
    return first, second


def _open_with(names: list[str] | None, keys: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        screen = await open_training(pilot)
        if names is not None:
            for snapshot in _trained_snapshot(names):
                screen._apply(snapshot)
            screen._render_status()
        for key in keys:
            await pilot.press(key)
        await pilot.pause()

    return run_before


def test_snapshot_idle_80x24(snap_compare, small_names_path):
    app = make_app(data_path=small_names_path, size=(80, 24))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open_with(None))


def test_snapshot_idle_120x40(snap_compare, small_names_path):
    app = make_app(data_path=small_names_path, size=(120, 40))
    assert snap_compare(app, terminal_size=(120, 40), run_before=_open_with(None))


def test_snapshot_trained_80x24(snap_compare, small_names_path):
    names = load_names_from_path(small_names_path).names
    app = make_app(data_path=small_names_path, size=(80, 24))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open_with(names))


def test_snapshot_trained_attention_120x40(snap_compare, small_names_path):
    names = load_names_from_path(small_names_path).names
    app = make_app(data_path=small_names_path, size=(120, 40))
    assert snap_compare(app, terminal_size=(120, 40), run_before=_open_with(names, ("2",)))


def test_loss_chart_draws_at_any_size():
    chart = LossChart()
    chart.reset(100, math.log(27), "ln(27) uniform")
    chart.add_points([(i, 3.3 - i * 0.01 + (i % 3) * 0.05) for i in range(1, 101)])
    chart.add_heldout(50, 2.9)
    for width, height in [(1, 1), (5, 2), (8, 4), (40, 10), (200, 60)]:
        text = chart._draw(width, height)
        assert text.plain
    big = chart._draw(60, 12).plain
    assert "held-out 2.900" in big and "ln(27) uniform 3.30" in big and "100" in big
    assert any(0x2800 < ord(c) <= 0x28FF for c in big)


def test_format_eta():
    assert format_eta(65) == "1:05" and format_eta(3725) == "1:02:05"
    assert format_eta(float("inf")) == "—"
