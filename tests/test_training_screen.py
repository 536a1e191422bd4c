"""The Training screen: live training updates the chart and panels, the form refuses bad input,
pause/stop/save/load work, the keys shown are the keys that work, the scalar engine's process
never outlives the app, nothing is cut at 80×24, snapshots."""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from textual import events
from textual.widgets import Static

from microgpt_tui.engine.data import load_names_from_path
from microgpt_tui.engine.microgpt.checkpoint import checkpoint_dir
from microgpt_tui.engine.microgpt.config import Config
from microgpt_tui.engine.microgpt.embedding_map import embedding_pca
from microgpt_tui.engine.microgpt.grad_health import HealthHistory
from microgpt_tui.engine.microgpt.session import (
    FINISHED,
    PAUSED,
    RUNNING,
    STOPPED,
    AttentionView,
    ProcessSession,
    Snapshot,
)
from microgpt_tui.engine.microgpt.token_losses import token_labels, token_strip
from microgpt_tui.engine.microgpt.trainer import Trainer
from microgpt_tui.engine.microgpt.why import explain
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.commands import binding_commands
from microgpt_tui.tui.kit.screen import key_sections
from microgpt_tui.tui.screens.training import TrainingScreen
from microgpt_tui.tui.screens.training_view import format_eta
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
    """Type into the form's fields, named as TrainingForm's fields."""
    for name, value in values.items():
        screen.form.input(name).value = value


def text_of(screen: TrainingScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def chart_text(chart: LossChart) -> str:
    return "\n".join("".join(ch for ch, _ in row) for row in chart.rows)


async def test_training_updates_chart_samples_and_panels(small_names_path):
    app = make_app(data_path=small_names_path, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        chart = screen.query_one(LossChart)
        assert chart.point_count == 0 and "press s to start" in chart_text(chart)
        set_fields(screen, num_steps="60", sample_every="20", n_embed="8", n_head="2")
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.run.state == FINISHED)
        assert screen.run.step == 60 and chart.point_count == 60
        assert chart.baseline == pytest.approx(math.log(27))  # the bundled corpus: a-z + BOS
        assert chart.heldout and chart.heldout[-1][0] == 60
        assert len(screen.run.samples) == 8
        samples_text = text_of(screen, "#samples")
        assert screen.run.samples[0] in samples_text and "held-out loss" in samples_text
        assert "step 60/60" in text_of(screen, "#train-status")
        await pilot.pause()
        assert "smoothed" in chart_text(chart)
        assert any(0x2800 < ord(c) <= 0x28FF for c in chart_text(chart))

        before = list(screen.run.samples)
        await pilot.press("plus")
        await wait_for(pilot, lambda: "temperature 0.6" in text_of(screen, "#samples"))
        assert screen.form.text("temperature") == "0.6"
        assert screen.run.samples != before  # re-sampled at the new temperature

        await pilot.press("2")
        attention = screen.query_one(AttentionMap)
        assert attention.maps is not None and attention.maps.shape[:2] == (1, 2)
        await pilot.press("h")
        assert attention.head_index == 1
        await pilot.press("n")
        await wait_for(pilot, lambda: attention.name_shown == screen.run.samples[1])

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
        set_fields(screen, n_head="5")
        await pilot.press("s")
        assert screen.run.state == "idle" and screen.session is None
        assert "multiple of n_head" in screen.message
        heads = screen.form.input("n_head")
        assert heads.value == "5" and screen.form.is_marked("n_head")
        set_fields(screen, n_head="4", learning_rate="")
        await pilot.press("s")
        assert "lr: '' is not a number" in screen.message
        assert screen.form.is_marked("learning_rate") and not screen.form.is_marked("n_head")
        set_fields(screen, learning_rate="0.01", sample_every="0")
        await pilot.press("s")
        assert "sample K must be between 1 and 1,000,000" in screen.message
        assert screen.form.is_marked("sample_every") and screen.session is None


async def test_pause_resume_stop_and_keys_while_training(small_names_path):
    app = make_app(data_path=small_names_path, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        set_fields(screen, num_steps="1000000", n_embed="8", n_head="2")
        send_keys(app, "s")
        await wait_for(pilot, lambda: screen.run.state == RUNNING and screen.run.step > 5)
        send_keys(app, "p")
        await wait_for(pilot, lambda: screen.run.state == PAUSED)
        paused_at = screen.run.step
        await asyncio.sleep(0.3)
        assert screen.run.step == paused_at
        # Every key the screen knows, start and engine switches mid-run included: nothing
        # raised, and s / e do nothing while training (they are not offered then).
        await pilot.press("s", "e", "1", "2", "3", "4", "n", "h", "l", "j", "k", "less_than_sign",
                          "greater_than_sign", "minus", "plus", "tab", "enter", "x")
        await wait_for(pilot, lambda: screen.run.state == STOPPED)
        assert screen.run.engine == "numpy"
        send_keys(app, "s")
        await wait_for(pilot, lambda: screen.run.state == RUNNING)
        send_keys(app, "space")
        await wait_for(pilot, lambda: screen.run.state == PAUSED)
        send_keys(app, "space")
        await wait_for(pilot, lambda: screen.run.state == RUNNING)
        send_keys(app, "3", "j", "2", "h", "plus", "x")
        await wait_for(pilot, lambda: screen.run.state == STOPPED)
    assert app._exception is None


async def test_save_and_load_a_checkpoint(small_names_path):
    app = make_app(data_path=small_names_path, size=(80, 24))
    path = checkpoint_dir() / "screen.npz"  # under the test's own cache folder (conftest)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        await pilot.press("ctrl+s")
        assert "Nothing to save yet" in screen.message
        set_fields(screen, num_steps="30", n_embed="8", n_head="2", checkpoint="screen.npz")
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.run.state == FINISHED)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.message.startswith("Saved step 30"))
        assert path.is_file()
        set_fields(screen, num_steps="999", n_embed="16", n_head="4")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: screen.run.state == FINISHED and screen.run.step == 30)
        # The form now shows the checkpoint's configuration, the chart its whole loss curve
        # and the Adam panel the real last update (issue 16: it was empty and zeros).
        assert screen.form.text("n_embed") == "8" and screen.form.text("num_steps") == "30"
        assert screen.query_one(LossChart).point_count == 30
        assert screen.query_one(AdamInspector).adam_view.update != 0.0
        set_fields(screen, checkpoint="missing.npz")
        await pilot.press("ctrl+o")
        assert "no checkpoint missing.npz in" in screen.message
        set_fields(screen, checkpoint="..")
        await pilot.press("ctrl+s")
        assert screen.message == (
            "ckpt: '..' is a path; type a file name such as run1.npz (no / or ..)")
        assert screen.form.is_marked("checkpoint")
        # A path is typed as typed, then refused with the reason: never silently rewritten.
        await pilot.press("shift+tab", "home", "slash", "ctrl+s")
        assert screen.form.text("checkpoint") == "/.." and "is a path" in screen.message
        for typed, reason in (("../up.npz", "is a path"), ("sub\\x.npz", "is a path"),
                              (".hidden", "would be hidden"), ("my run?.npz", "' ?' cannot be"),
                              ("  ", "type a file name")):
            set_fields(screen, checkpoint=typed)
            await pilot.press("ctrl+o")
            assert reason in screen.message and screen.form.text("checkpoint") == typed
            assert screen.form.is_marked("checkpoint") and screen.run.step == 30
        assert sorted(p.name for p in checkpoint_dir().iterdir()) == ["screen.npz"]


async def test_saving_over_a_checkpoint_asks_first(small_names_path):
    app = make_app(data_path=small_names_path, size=(80, 24))
    path = checkpoint_dir() / "again.npz"
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        set_fields(screen, num_steps="20", n_embed="8", n_head="2", checkpoint="again.npz")
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.run.state == FINISHED)
        assert "Keep existing checkpoint" not in offered_keys(screen)
        await pilot.press("ctrl+s")  # a new file: saved at once
        await wait_for(pilot, lambda: screen.message.startswith("Saved step 20"))
        path.write_bytes(path.read_bytes())  # a marker: the file is only rewritten on purpose
        marker = path.stat().st_mtime_ns
        await pilot.press("ctrl+s")
        assert screen.message == "again.npz exists: Ctrl+S again overwrites it, Esc keeps it."
        assert "Keep existing checkpoint" in offered_keys(screen)
        await pilot.press("escape")  # keeps the file, and the screen (Esc is not Back now)
        assert app.screen is screen and screen.message == "Kept again.npz: nothing saved."
        assert "Keep existing checkpoint" not in offered_keys(screen)
        await pilot.press("ctrl+s")  # asks again
        assert "exists" in screen.message
        set_fields(screen, checkpoint="other.npz")  # another name: the question is dropped
        set_fields(screen, checkpoint="again.npz")
        await pilot.press("ctrl+s")
        assert "exists" in screen.message and screen.overwrite == path
        await pilot.press("ctrl+s")  # asked and confirmed: overwritten
        await wait_for(pilot, lambda: screen.message.startswith("Saved step 20"))
        assert screen.overwrite is None and path.stat().st_mtime_ns != marker
        await pilot.press("escape")  # nothing pending: Esc is Back again
        assert app.screen is not screen


def offered_keys(screen: TrainingScreen) -> set[str]:
    return {description for _, section in key_sections(screen) for _, description in section}


async def test_only_the_keys_that_work_are_offered(small_names_path):
    """Footer, `?` and the palette follow the state: s / e while idle, p / x while training;
    every binding is described, so every action reaches `?` and the palette."""
    app = make_app(data_path=small_names_path, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        assert all(binding.description for binding in TrainingScreen.BINDINGS)

        def offered() -> set[str]:
            keys = {description for _, section in key_sections(screen)
                    for _, description in section}
            palette = {name.split(": ", 1)[1] for name, _, _ in binding_commands(screen)}
            assert keys - {"Command palette"} <= palette
            return keys

        idle = offered()
        assert {"Start", "Switch engine", "Save checkpoint", "Temperature up (re-sample)",
                "Next weight"} <= idle
        assert not {"Pause/resume", "Stop"} & idle
        set_fields(screen, num_steps="1000000", n_embed="8", n_head="2")
        send_keys(app, "s")
        await wait_for(pilot, lambda: screen.run.state == RUNNING)
        assert screen.jobs.running("snapshots") and screen.session.process.is_alive()
        send_keys(app, "p")
        await wait_for(pilot, lambda: screen.run.state == PAUSED)
        busy = offered()
        assert {"Pause/resume", "Stop"} <= busy and not {"Start", "Switch engine"} & busy
        send_keys(app, "x")
        await wait_for(pilot, lambda: screen.run.state == STOPPED)
        assert "Start" in offered()


async def test_the_save_message_is_not_cut_at_80x24(small_names_path, monkeypatch):
    """The file name comes first and the whole message fits its area (it wraps).

    The folder is as long as a user's usual one (/home/alice/.cache/microgpt-tui), whatever
    the length of pytest's own temporary folders."""
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        cache = Path(tmp) / ("c" * max(1, 30 - len(tmp)))
        monkeypatch.setenv("MICROGPT_TUI_CACHE", str(cache))
        await _save_message_fits(small_names_path)


async def _save_message_fits(small_names_path) -> None:
    app = make_app(data_path=small_names_path, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        set_fields(screen, num_steps="20", n_embed="8", n_head="2", checkpoint="run1.npz")
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.run.state == FINISHED)
        screen.run.measured_rates["scalar"] = 3.0  # both engines' rates shown: the least room
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.message.startswith("Saved step 20"))
        await pilot.pause()
        folder = str(checkpoint_dir())
        assert screen.message == f"Saved step 20 as run1.npz in {folder}"
        assert_message_shown(screen)
        await pilot.press("ctrl+s")  # the question to overwrite fits too
        assert screen.message.startswith("run1.npz exists:") and screen.overwrite is not None
        await pilot.pause()
        assert_message_shown(screen)
        # A refused key's hint under the form fits beside it, and the form is not pushed off.
        screen.form.input("num_steps").focus()
        await pilot.press("end", "a")
        await pilot.pause()
        hint = screen.query_one("#train-form-hint", Static)
        assert screen.form.hint.startswith("steps: 'a' refused; it takes a whole number")
        lines = hint.render_lines(hint.region.reset_offset)
        assert "".join(line.text for line in lines).replace(" ", "") == \
            screen.form.hint.replace(" ", "")
        assert screen.query_one("#train-left").region.contains_region(hint.region)


def assert_message_shown(screen: TrainingScreen) -> None:
    message = screen.query_one("#train-message", Static)
    lines = message.render_lines(message.region.reset_offset)
    shown = "".join(line.text for line in lines).replace(" ", "")
    assert screen.message.replace(" ", "") in shown


async def test_the_chart_stays_usable_beside_the_answer_at_120x40(small_names_path):
    names = load_names_from_path(small_names_path).names
    app = make_app(data_path=small_names_path, size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_training(pilot)
        for snapshot in _trained_snapshot(names):
            screen._apply(snapshot)
        await pilot.press("a")
        await pilot.pause()
        chart = screen.query_one(LossChart)
        assert screen.answer_shown and chart.size.width >= 40 and chart.size.height >= 12
        shown = chart_text(chart)
        for entry in ("smoothed 2.484", "step loss", "held-out 2.524", "ln(27) uniform 3.30"):
            assert entry in shown  # the legend wraps instead of running under the answer


async def test_scalar_engine_runs_in_a_process_that_dies_with_the_app(small_names_path):
    app = make_app(data_path=small_names_path, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_training(pilot)
        set_fields(screen, num_steps="100", n_embed="8", n_head="2", block_size="8")
        await pilot.press("e", "s")
        assert isinstance(screen.session, ProcessSession)
        process = screen.session.process
        await wait_for(pilot, lambda: screen.run.step >= 2, timeout=90)
        assert screen.run.state == RUNNING and screen.run.engine == "scalar"
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
    model, tokenizer = trainer.numpy_model(), trainer.tokenizer
    history = HealthHistory(list(trainer.layout.offsets()))
    for step, _ in losses:  # stand-in numbers: the heatmap's drawing, not the run's health
        history.add(step, np.full(len(history.names), 0.01 * step), np.full(
            len(history.names), 1e-3 / step))
    second = Snapshot(
        state=FINISHED, step=40, num_steps=40, losses=losses, steps_per_second=950.0,
        heldout=(40, trainer.heldout_loss()), samples=samples, temperature=0.5,
        attention=AttentionView(samples[0], labels, maps), params=trainer.param_table(),
        adam=("wte", 0, 0, trainer.adam_view("wte", 0, 0)),
        heldout_names=list(trainer.corpus.heldout[:8]),
        token_strip=token_strip(model, tokenizer, samples[0], "sampled", 40),
        why=explain(model, tokenizer, samples[0], 1, 0.5, 40),
        health=(history.grid("grad norm", 30), history.grid("update/weight", 30)),
        embedding=embedding_pca(model.w["wte"], token_labels(tokenizer), 40),
    )
    return first, second


def _open_with(names: list[str] | None, keys: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        screen = await open_training(pilot)
        if names is not None:
            for snapshot in _trained_snapshot(names):
                screen._apply(snapshot)
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


def test_format_eta():
    assert format_eta(65) == "1:05" and format_eta(3725) == "1:02:05"
    assert format_eta(float("inf")) == "—"
