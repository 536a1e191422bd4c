"""The Pi screen: frames, play/pause, speed, stepping back, bursts (to 10^15) and their cancel
and time estimates, modes that keep their runs, resets, the seed dialog, the density-shaded
square, the chart's legend, small terminals, themes, and snapshots.

Every count the screen shows is checked against the engine counting the same darts.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

import numpy as np
import pytest
from textual import events
from textual.widgets import Input, ProgressBar

from microgpt_tui.engine.montecarlo import MAX_SEED, Mode, Progress, Tally, count_inside
from microgpt_tui.engine.seeds import parse_seed, seed_in_range
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.kit.jobs import JobContext
from microgpt_tui.tui.kit.screen import key_sections
from microgpt_tui.tui.screens.pi import PiScreen
from microgpt_tui.tui.screens.pi_canvas import DartCanvas, density_levels
from microgpt_tui.tui.screens.pi_view import (
    DEFAULT_SPEED,
    MODE_NAMES,
    NO_DARTS,
    SPEEDS,
    BurstResult,
    DartRun,
    burst_note,
    duration_words,
    next_burst_power,
    rate_words,
)
from microgpt_tui.tui.widgets.convergence_chart import ConvergenceChart

SEED = 5
DEADLINE = 10.0  # seconds to wait for something the screen does in the background


async def open_pi(pilot) -> PiScreen:
    pilot.app.open_screen("pi")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, PiScreen)
    return screen


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def press(pilot, *keys: str) -> None:
    """Each key, then whatever job it started has finished and been applied."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll every 50 ms until `condition()` holds; fail after DEADLINE seconds."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {DEADLINE} s waiting for {what}"
        await asyncio.sleep(0.05)


async def send_keys(pilot, *keys: str) -> None:
    """Keys as a typist sends them while a burst keeps the CPU busy.

    Pilot.press waits for the CPU to go idle after every key, which a burst on every core
    postpones for seconds; these keys are queued to the driver and handled in order.
    """
    for key in keys:
        event = events.Key(key, {"space": " ", "plus": "+"}.get(key, key))
        event.set_sender(pilot.app)
        pilot.app._driver.send_message(event)
    await asyncio.sleep(0.1)


def stats_text(screen: PiScreen) -> str:
    panel = screen.query_one("#pi-stats")
    return "\n".join("".join(ch for ch, _ in row) for row in panel.rows)


def screen_text(app) -> list[str]:
    return ["".join(segment.text for segment in strip)
            for strip in app.screen._compositor.render_strips()]


def engine_tally(screen: PiScreen) -> Tally:
    """What the engine counts for the darts the screen says it has thrown (0 … darts−1)."""
    darts, run = screen.run.tally.darts, screen.run
    return Tally(darts, count_inside(darts, seed=run.seed, mode=run.mode) if darts else 0)


def canvas_rows(screen: PiScreen) -> list:
    return list(screen.query_one(DartCanvas).rows)


async def test_frames_speed_play_pause_and_leaving():
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        assert screen.run.seed == SEED and screen.run.tally == Tally(0, 0)
        # Steps: one frame of darts each (n and → alike), counted as the engine counts them.
        await press(pilot, "n", "right", "n")
        assert screen.run.tally.darts == 3 * DEFAULT_SPEED
        assert screen.run.tally == engine_tally(screen)
        assert screen.frames_shown == 3 and screen.run.steps == 3
        assert f"darts      {3 * DEFAULT_SPEED}" in stats_text(screen)
        assert f"{screen.run.tally.estimate:.9f}" in stats_text(screen)
        assert len(screen.run.points) == 3
        assert screen.query_one(DartCanvas).frame == 3
        assert "frame 3" in str(screen.query_one("#pi-status").render())
        # Speed = darts per frame: +/- walk 1, 2, 5, 10, … and stop at 1 and 10^6.
        await pilot.press("plus")
        assert screen.playback.speed == 20
        await pilot.press(*["minus"] * 6)
        assert screen.playback.speed == 1
        await pilot.press(*["plus"] * (len(SPEEDS) + 1))
        assert screen.playback.speed == 1_000_000
        assert "×1,000,000 darts/frame" in str(screen.query_one("#pi-status").render())
        await press(pilot, "n")
        assert screen.run.tally.darts == 3 * DEFAULT_SPEED + 1_000_000
        assert screen.run.tally == engine_tally(screen)
        # Space plays and pauses; paused means nothing more is thrown.
        await pilot.press(*["minus"] * (len(SPEEDS) - SPEEDS.index(DEFAULT_SPEED) - 1))
        assert screen.playback.speed == DEFAULT_SPEED
        before = screen.run.tally.darts
        await pilot.press("space")
        assert screen.playback.playing
        await wait_until(lambda: screen.run.tally.darts >= before + 2 * DEFAULT_SPEED,
                         "two animated frames")
        await pilot.press("space")
        assert not screen.playback.playing
        await settle(pilot)
        thrown = screen.run.tally.darts
        assert thrown > before and (thrown - before) % DEFAULT_SPEED == 0
        assert screen.run.tally == engine_tally(screen)
        await asyncio.sleep(0.3)  # a few timer ticks: none may throw while paused
        await pilot.pause()
        assert screen.run.tally.darts == thrown
        # Leaving pauses the animation; coming back finds the same tally.
        await pilot.press("space")
        await wait_until(lambda: screen.run.tally.darts > thrown, "a frame after restarting")
        await pilot.press("escape")
        await settle(pilot)
        assert not screen.playback.playing
        thrown = screen.run.tally.darts
        assert await open_pi(pilot) is screen and screen.run.tally.darts == thrown


async def test_stepping_back_undoes_frames_and_a_burst_as_one_step():
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        await press(pilot, "n", "plus", "n")
        two_frames = (screen.run.tally, list(screen.run.points), canvas_rows(screen))
        await press(pilot, "plus", "n")
        assert screen.run.steps == 3
        # b takes the last frame back: the tally, the chart and the drawing as after two.
        await press(pilot, "b")
        assert screen.run.steps == 2 and screen.query_one(DartCanvas).frame == 2
        assert (screen.run.tally, screen.run.points, canvas_rows(screen)) == two_frames
        assert screen.run.tally == engine_tally(screen)
        # A burst is one step: ← after it goes back to the two frames before it.
        await press(pilot, "4")
        assert screen.run.tally.darts == 10**4 and screen.run.steps == 3
        assert screen.run.tally == engine_tally(screen)
        await press(pilot, "left")
        assert (screen.run.tally, screen.run.points, canvas_rows(screen)) == two_frames
        # Back to the first frame, then past it: 0 darts and an empty square.
        await press(pilot, "b")
        assert screen.run.tally == Tally(DEFAULT_SPEED, engine_tally(screen).inside)
        assert screen.run.tally == engine_tally(screen)
        await press(pilot, "b")
        assert screen.run.tally == Tally(0, 0) and screen.run.points == []
        empty = canvas_rows(screen)
        await press(pilot, "b")  # nothing left to take back: nothing happens
        assert screen.run.tally == Tally(0, 0) and canvas_rows(screen) == empty
        # g (and Home) go back to 0 darts in one key.
        await press(pilot, "n", "n", "g")
        assert screen.run.tally == Tally(0, 0) and screen.run.steps == 0
        assert canvas_rows(screen) == empty
        await press(pilot, "n", "home")
        assert screen.run.tally == Tally(0, 0) and canvas_rows(screen) == empty


async def test_bursts_cancel_modes_and_reset():
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        # A burst continues the same stream: frame, burst to 10^5, frame.
        await press(pilot, "n", "5")
        assert screen.run.tally.darts == 10**5
        assert screen.run.tally == engine_tally(screen)
        assert not screen.query_one(ProgressBar).display
        await press(pilot, "3")  # already past 10^3: nothing happens
        assert screen.run.tally.darts == 10**5
        await press(pilot, "n")
        assert screen.run.tally.darts == 10**5 + DEFAULT_SPEED
        assert screen.run.tally == engine_tally(screen)
        # Each mode has its own darts (a mode first shown has none).
        await press(pilot, "m")
        assert screen.run.mode is Mode.QUASI and screen.run.tally == Tally(0, 0)
        assert screen.run.points == []
        assert screen.query_one(ConvergenceChart).show_linear_guide
        await press(pilot, "5")
        assert screen.run.tally == Tally(10**5, count_inside(10**5, mode="quasi"))
        assert "none (points not random)" in stats_text(screen)
        await press(pilot, "m")
        assert screen.run.mode is Mode.PYTHON and screen.run.tally == Tally(0, 0)
        await press(pilot, "n")
        assert screen.run.tally == engine_tally(screen)
        # Cancel keeps the darts counted before it (an exact prefix of the stream). The plain
        # Python loop would need minutes for 10^9 darts, so the cancel surely comes first.
        before = screen.run.tally.darts
        await send_keys(pilot, "9")
        await wait_until(lambda: screen.burst_power == 9, "the burst to start")
        assert screen.query_one(ProgressBar).display
        speed = screen.playback.speed
        # While it runs, only +/- and the restarts work: Space, steps and bursts wait.
        await send_keys(pilot, "space", "n", "b", "5", "plus")
        await wait_until(lambda: screen.playback.speed > speed, "the keys sent in a burst")
        assert not screen.playback.playing and screen.burst_power == 9
        # Cancelled once it has counted some darts (on a busy machine the first piece can take
        # a while): a burst that counted none would leave no step to take back.
        await wait_until(lambda: screen.run.tally.darts > before, "the burst's first darts")
        await send_keys(pilot, "c")
        await wait_until(lambda: screen.burst_power is None, "the burst to be cancelled")
        await settle(pilot)
        assert not screen.query_one(ProgressBar).display
        assert DEFAULT_SPEED <= screen.run.tally.darts < 10**9
        assert screen.run.tally == engine_tally(screen)
        assert screen.run.steps == 2  # the frame, and the cancelled burst as one step
        await press(pilot, "b")
        assert screen.run.tally == Tally(DEFAULT_SPEED, engine_tally(screen).inside)
        await press(pilot, "r")
        assert screen.run.tally == Tally(0, 0) and screen.run.mode is Mode.PYTHON
        assert screen.query_one(DartCanvas).frame == 0
        await press(pilot, "m")  # r reset only this mode: pseudo-random kept its run
        assert screen.run.mode is Mode.PSEUDO
        assert screen.run.tally.darts == 10**5 + DEFAULT_SPEED


async def test_plain_python_darts_are_thrown_in_a_worker_process(monkeypatch):
    """Its loop holds the GIL: on a thread it would hold up every key and frame."""
    in_process: list[str] = []
    real = JobContext.in_process

    def spy(context, function, /, *args):
        in_process.append(function.__name__)
        return real(context, function, *args)

    monkeypatch.setattr(JobContext, "in_process", spy)
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        await press(pilot, "n", "b")  # numpy: on the job's thread
        assert in_process == []
        await press(pilot, "m", "m", "n", "n", "b")
        assert screen.run.mode is Mode.PYTHON
        assert in_process == ["thrown_frame", "thrown_frame", "taken_back"]
        assert screen.run.tally == engine_tally(screen)


async def test_a_frame_repaints_without_a_layout_pass(monkeypatch):
    """At 12 frames a second a layout pass per frame is wasted UI time: only a status whose
    words change length (a new digit) can wrap differently and needs one."""
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        await press(pilot, "n")
        layouts: list[bool] = []
        real_layout = screen._refresh_layout
        monkeypatch.setattr(screen, "_refresh_layout",
                            lambda *args, **kwargs: (layouts.append(True),
                                                     real_layout(*args, **kwargs))[1])
        await press(pilot, "n", "n")  # frames 2 and 3: same digits
        assert layouts == []
        await press(pilot, *["n"] * 7)  # frame 10: one more digit
        assert layouts
        assert "frame 10" in str(screen.query_one("#pi-status").render())


async def test_r_resets_the_darts_and_capital_r_the_whole_screen():
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        await press(pilot, "m", "plus", "n", "n")
        await press(pilot, "r")  # 0 darts; mode and speed stay
        assert screen.run.tally == Tally(0, 0) and screen.run.steps == 0
        assert screen.run.mode is Mode.QUASI and screen.playback.speed == 20
        await press(pilot, "n", "5")
        await press(pilot, "R")  # the screen as a new candidate finds it
        fresh = app.screen
        assert isinstance(fresh, PiScreen) and fresh is not screen
        assert fresh.run.tally == Tally(0, 0) and fresh.run.mode is Mode.PSEUDO
        assert fresh.playback.speed == DEFAULT_SPEED and fresh.frames_shown == 0
        assert "darts      0" in stats_text(fresh)
        await press(pilot, "n")
        assert fresh.run.tally == engine_tally(fresh)


async def test_a_reset_drops_the_frame_in_flight():
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        await send_keys(pilot, "n", "r")
        await settle(pilot)
        assert screen.run.tally == Tally(0, 0) and screen.query_one(DartCanvas).frame == 0


async def test_the_help_lists_the_keys_that_work_now(monkeypatch):
    # The burst runs until cancelled: 10^9 darts take about a second on two cores, and a
    # loaded machine could pause longer than that between the start and the check.
    def burst_until_cancelled(run, start, count, cancel, report, executor=None) -> BurstResult:
        while not cancel.is_set():
            time.sleep(0.01)
        return BurstResult(None, NO_DARTS)

    monkeypatch.setattr(DartRun, "burst", burst_until_cancelled)
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        keys = dict((description, key) for _, section in key_sections(screen)
                    for key, description in section)
        for description in ("Play", "Throw one frame", "Take back the last frame",
                            "More darts per frame", "Fewer darts per frame", "Back to 0 darts",
                            "Burst", "Reset to 0 darts", "Set the seed", "Reset this screen"):
            assert description in keys
        assert keys["Burst"] == "1…9"
        assert "Last step" not in keys  # darts never end
        assert "Cancel burst" not in keys  # only while a burst runs
        screen.action_burst(9)
        await pilot.pause()
        keys = {description for _, section in key_sections(screen) for _, description in section}
        assert "Cancel burst" in keys and "Play" not in keys and "Burst" not in keys
        assert "More darts per frame" in keys
        screen.action_cancel_burst()
        await settle(pilot)


@pytest.mark.parametrize("mode_presses", [0, 1, 2])
async def test_nothing_is_cut_at_80_columns(mode_presses):
    app = make_app(seed=MAX_SEED)  # the longest seed there is
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        await press(pilot, *["m"] * mode_presses, *["plus"] * len(SPEEDS), "n")
        text = "\n".join(screen_text(app))
        mode = screen.run.mode
        assert f"{MODE_NAMES[mode]} (m)" in text
        if mode is not Mode.QUASI:
            assert f"seed {MAX_SEED} (s)" in text
            assert "95% CI     " in text and "…" in text
        assert "×1,000,000 darts/frame" in text
        status = screen.query_one("#pi-status")
        assert len(str(status.render())) <= status.region.width
        assert "inside ↙ arc ↗ outside" in text
        footer = screen_text(app)[-1]
        for shown in ("? Show keys", "^n Notes", "a Answer", "space Play", "1…9 Burst",
                      "q Quit", "^p palette"):
            assert shown in footer
        await send_keys(pilot, "9")
        await wait_until(lambda: screen.burst_power == 9, "the burst to start")
        await pilot.pause(0.2)
        assert "c Cancel burst" in screen_text(app)[-1]
        await wait_until(lambda: "darts/s" in str(screen.query_one("#pi-status").render()),
                         "a progress report")
        await wait_until(lambda: "left" in str(status.render()), "the time left")
        lines = str(status.render()).split("\n")
        assert lines[0].startswith("burst to 10^9 · ") and lines[0].endswith(" darts/s")
        assert lines[1].startswith("about ") and lines[1].endswith(" left")
        # Two lines, neither wrapped nor cut.
        assert status.region.height == 2
        assert all(len(line) <= status.region.width for line in lines)
        await send_keys(pilot, "c")
        await wait_until(lambda: screen.burst_power is None, "the burst to end")
        await settle(pilot)


async def test_the_answer_beside_the_demo_keeps_the_statistics_at_120_columns():
    app = make_app(seed=SEED)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pi(pilot)
        await press(pilot, "n", "a")
        stats = screen.query_one("#pi-stats")
        assert screen.query_one("#answer").display and stats.region.width >= 36
        text = "\n".join(screen_text(app))
        assert f"{MODE_NAMES[Mode.PSEUDO]} (m)" in text
        assert f"estimate   {screen.run.tally.estimate:.9f}" in text
        assert "95% CI     " in text and "frame 1  ×10 darts/frame" in text


@pytest.mark.parametrize("size", [(79, 24), (80, 23), (10, 5)])
async def test_small_terminals_while_animating_do_not_crash(size):
    """Regression: darts drawn before the canvas had a size went into a 0×0 grid
    (IndexError), opening the screen below 80×24 or resizing down while animating."""
    app = make_app(seed=SEED)
    async with app.run_test(size=size) as pilot:
        screen = await open_pi(pilot)
        await pilot.press("space")
        await wait_until(lambda: screen.frames_shown >= 2, "frames in a small terminal")
        await pilot.resize_terminal(80, 24)
        await wait_until(lambda: screen.frames_shown >= 4, "frames at 80×24")
        await pilot.resize_terminal(*size)
        await wait_until(lambda: screen.frames_shown >= 6, "frames after shrinking again")
        await pilot.press("space")
        await settle(pilot)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert screen.run.tally == engine_tally(screen)
        assert screen.query_one(DartCanvas).frame == screen.run.steps
    assert app._exception is None


@pytest.mark.parametrize("theme", ["ansi-light", "textual-light"])
async def test_the_square_follows_the_theme(theme):
    """The dart area used a hard-coded grey11 background: a black box on light themes."""
    app = make_app(seed=SEED, theme=theme)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        await press(pilot, "plus", "plus", "n", "n")
        canvas = screen.query_one(DartCanvas)

        def backgrounds() -> set:
            return {segment.style.bgcolor for piece in canvas.children
                    for y in range(canvas.size.height) for segment in piece.render_line(y)}

        assert backgrounds() == {canvas.rich_style.bgcolor}
        app.theme = "textual-dark" if theme == "textual-light" else "ansi-dark"
        await pilot.pause(0.1)
        await pilot.pause()
        assert backgrounds() == {canvas.rich_style.bgcolor}
        # Newest darts stay told apart without colour: they are bold.
        assert any(style.bold for row in canvas.rows for _, style in row)


async def test_seed_dialog_validates_and_keeps_what_was_typed():
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        await press(pilot, "n", "s")
        dialog = app.screen
        field = dialog.query_one(Input)
        field.value = ""
        await pilot.press("1", "x", "enter")
        await pilot.pause()
        assert app.screen is dialog and field.value == "1x"
        assert "not a whole number" in str(dialog.query_one("#seed-message").render())
        field.value = str(2**64)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog and "between 0 and 2^64−1" in str(
            dialog.query_one("#seed-message").render()
        )
        await pilot.press("escape")  # keeps the seed, and the darts
        await pilot.pause()
        assert app.screen is screen and screen.run.seed == SEED and screen.run.tally.darts > 0
        await pilot.press("s")
        await pilot.pause()
        app.screen.query_one(Input).value = "77"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen and screen.run.seed == 77 and screen.run.tally == Tally(0, 0)
        await press(pilot, "n")
        assert screen.run.tally == Tally(DEFAULT_SPEED, count_inside(DEFAULT_SPEED, seed=77))


async def test_each_mode_keeps_its_run_and_a_new_seed_starts_all_over():
    """Switching mode silently threw the run away: switching back showed 0 darts."""
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        await press(pilot, "plus", "n", "n", "n")
        pseudo = (screen.run.tally, list(screen.run.points), canvas_rows(screen))
        await press(pilot, "m", "4")
        assert screen.run.mode is Mode.QUASI and screen.run.tally.darts == 10**4
        quasi = (screen.run.tally, list(screen.run.points), canvas_rows(screen))
        await press(pilot, "m")
        assert screen.run.mode is Mode.PYTHON and screen.run.tally == Tally(0, 0)
        await press(pilot, "m")  # back to pseudo-random: its tally, chart and square
        assert screen.run.mode is Mode.PSEUDO and screen.run.steps == 3
        assert (screen.run.tally, screen.run.points, canvas_rows(screen)) == pseudo
        assert screen.query_one(DartCanvas).frame == 3
        assert f"darts      {pseudo[0].darts}" in stats_text(screen)
        await press(pilot, "n", "b", "b")  # and it goes on (and back) from where it was
        assert screen.run.tally == engine_tally(screen) and screen.run.steps == 2
        await press(pilot, "m")
        assert (screen.run.tally, screen.run.points, canvas_rows(screen)) == quasi
        assert screen.query_one(ConvergenceChart).show_linear_guide
        await press(pilot, "r")  # r: this mode only
        assert screen.run.tally == Tally(0, 0)
        await press(pilot, "m", "m")
        assert screen.run.mode is Mode.PSEUDO and screen.run.steps == 2
        screen.restart(seed=77)  # as the seed dialog does: every mode starts over
        await press(pilot, "m")
        assert screen.run.mode is Mode.QUASI and screen.run.tally == Tally(0, 0)
        await press(pilot, "m", "m")
        assert screen.run.seed == 77 and screen.run.tally == Tally(0, 0)


async def test_mode_waits_while_a_burst_runs(monkeypatch):
    def burst_until_cancelled(run, start, count, cancel, report, executor=None) -> BurstResult:
        while not cancel.is_set():
            time.sleep(0.01)
        return BurstResult(None, NO_DARTS)

    monkeypatch.setattr(DartRun, "burst", burst_until_cancelled)
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        screen.action_burst(9)
        await pilot.pause()
        assert screen.check_action("cycle_mode", ()) is False
        assert screen.check_action("burst_next", ()) is False
        screen.action_cancel_burst()
        await settle(pilot)
        assert screen.check_action("cycle_mode", ()) and screen.check_action("burst_next", ())


def instant_burst(run, start, count, cancel, report, executor=None) -> BurstResult:
    """A burst counted at 2·10^9 darts/s, finished at once (a stand-in for hours of work)."""
    progress = Progress(Tally(count, round(count * 0.785398)), count, count / 2e9)
    return BurstResult(progress, NO_DARTS)


async def test_bursts_go_to_10_15_and_say_how_long_they_take(monkeypatch):
    """Bursts stopped at 10^9 in the app (the CLI goes to 10^15), with no time estimate."""
    monkeypatch.setattr(DartRun, "burst", instant_burst)
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        keys = {description: key for _, section in key_sections(screen)
                for key, description in section}
        assert keys["Burst to the next power of ten (to 10^15)"] == "x"
        await press(pilot, "x")  # no speed measured yet: the note says the time comes later
        assert screen.run.tally.darts == 10
        notes = [note.message for note in app._notifications]
        assert any("time left shows once the speed is measured" in note for note in notes)
        await press(pilot, "9")
        for power in range(10, 16):
            app.clear_notifications()
            await press(pilot, "x")
            assert screen.run.tally.darts == 10**power
            count = 10**power - 10 ** (power - 1)
            notes = [note.message for note in app._notifications]
            assert burst_note(power, count, 2e9) in notes
        assert "Burst to 10^15: about 5.2 days at 2.0e9 darts/s. c cancels." in notes
        assert not screen.check_action("burst_next", ())  # 10^15 is as far as bursts go
        assert screen.run.steps == 8  # each burst one step
        await press(pilot, "b")
        assert screen.run.tally.darts == 10**14


async def test_a_running_burst_shows_the_time_left_and_cancel_keeps_its_prefix(monkeypatch):
    def half_then_wait(run, start, count, cancel, report, executor=None) -> BurstResult:
        half = Progress(Tally(count // 2, 3), count, count / 2 / 5e8)
        report(half)
        while not cancel.is_set():
            time.sleep(0.01)
        return BurstResult(half, NO_DARTS)

    monkeypatch.setattr(DartRun, "burst", instant_burst)
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        await press(pilot, "9")  # measures 2·10^9 darts/s
        monkeypatch.setattr(DartRun, "burst", half_then_wait)
        await send_keys(pilot, "x")
        status = screen.query_one("#pi-status")
        await wait_until(lambda: "left" in str(status.render()), "the time left")
        assert str(status.render()) == "burst to 10^10 · 5.0e8 darts/s\nabout 9 s left"
        await send_keys(pilot, "c")
        await wait_until(lambda: screen.burst_power is None, "the cancel")
        await settle(pilot)
        assert screen.run.tally.darts == 10**9 + (10**10 - 10**9) // 2


def test_burst_words():
    assert [next_burst_power(n) for n in (0, 9, 10, 999, 10**9, 10**15 - 1)] == [
        1, 1, 2, 3, 10, 15]
    assert [duration_words(s) for s in (0.2, 40, 840, 9000, 450_000)] == [
        "<1 s", "40 s", "14 min", "2.5 h", "5.2 days"]
    assert [rate_words(r) for r in (950, 1.234e7, 2e9)] == ["950", "1.2e7", "2.0e9"]


async def test_a_crowded_square_is_shaded_by_density_not_a_solid_block():
    """After ~50,000 darts every dot was lit: the square was one solid block."""
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        await press(pilot, *["plus"] * (SPEEDS.index(5000) - SPEEDS.index(DEFAULT_SPEED)))
        await press(pilot, *["n"] * 13)  # 4,000 darts drawn a frame: 52,000 on the square
        canvas = screen.query_one(DartCanvas)
        glyphs = [ch for row in canvas.rows for ch, _ in row]
        assert glyphs.count("⣿") < len(glyphs) // 10
        assert len(set(glyphs)) >= 4  # cells of several densities, and the arc


def test_denser_cells_get_denser_glyphs():
    hits = np.array([[0, 1, 5, 10, 20, 40]])
    levels = density_levels(hits, np.ones(hits.shape, dtype=bool))  # mean 12.67
    assert levels.tolist() == [[0, 1, 2, 3, 6, 8]]
    assert np.all(np.diff(levels) >= 0)


async def test_the_chart_says_what_each_line_is():
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pi(pilot)
        text = "\n".join(screen_text(app))
        assert "━ |error|  ╌ 1.64/√n" in text and "4/n" not in text
        await press(pilot, "m")
        assert "━ |error|  ╌ 1.64/√n  ╌ 4/n" in "\n".join(screen_text(app))


def test_seeds_wrap_into_a_generators_range_and_typed_seeds_are_checked():
    assert seed_in_range(-1, 64) == MAX_SEED and seed_in_range(-1, 32) == 2**32 - 1
    assert seed_in_range(10**30, 64) == 10**30 % 2**64 and seed_in_range(SEED, 32) == SEED
    assert parse_seed(" 1_000 ") == 1000 and parse_seed(str(MAX_SEED)) == MAX_SEED
    for text, message in [("", "type a whole number"), ("1.5", "not a whole number"),
                          ("-1", "between 0 and 2^64−1"), (str(2**32), "between 0 and 2^32−1")]:
        with pytest.raises(ValueError, match=re.escape(message)):
            parse_seed(text, bits=32 if text == str(2**32) else 64)


def test_a_run_logs_steps_and_undoes_them_exactly():
    run = DartRun(seed=SEED, mode=Mode.PSEUDO)
    frame, _ = run.throw_frame(0, 100)
    run.add(frame)
    after_one = (run.tally, list(run.points))
    run.begin_step()  # a burst, shown in two pieces, logged as one step
    run.step_progress(Tally(500, count_inside(500, seed=SEED, start=100)))
    run.step_progress(Tally(900, count_inside(900, seed=SEED, start=100)))
    burst = run.end_step()
    assert burst is not None and (burst.start, burst.count) == (100, 900)
    assert run.tally == Tally(1000, count_inside(1000, seed=SEED)) and run.steps == 2
    assert run.undo() == burst and (run.tally, run.points) == after_one
    assert run.drawn(frame).x.size == 100 and run.undo() == frame and run.undo() is None


async def test_any_app_seed_gives_darts_instead_of_a_crash():
    for app_seed, expected in [(-1, MAX_SEED), (10**30, 10**30 % 2**64), (SEED, SEED)]:
        app = make_app(seed=app_seed)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_pi(pilot)
            assert screen.run.seed == expected
            await press(pilot, "n")
            assert screen.run.tally == engine_tally(screen)
            assert f"seed {expected} (s)" in stats_text(screen)


async def run_steps(pilot, steps: int, keys: tuple[str, ...] = ()) -> None:
    await open_pi(pilot)
    await press(pilot, *keys, *["n"] * steps)


def test_snapshot_after_three_frames(snap_compare):
    async def run_before(pilot) -> None:
        await run_steps(pilot, 3, keys=("plus", "plus", "plus"))

    assert snap_compare(make_app(seed=SEED), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_quasi_mode(snap_compare):
    async def run_before(pilot) -> None:
        await run_steps(pilot, 4, keys=("m", "plus", "plus", "plus", "plus", "plus", "plus"))

    assert snap_compare(make_app(seed=SEED), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_crowded_square_shaded_by_density(snap_compare):
    async def run_before(pilot) -> None:
        await run_steps(pilot, 13, keys=("plus",) * 8)

    assert snap_compare(make_app(seed=SEED), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_seed_dialog_with_an_error(snap_compare):
    async def run_before(pilot) -> None:
        await open_pi(pilot)
        await pilot.press("s")
        await pilot.pause()
        pilot.app.screen.query_one(Input).value = "12a"
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(make_app(seed=SEED), terminal_size=(80, 24), run_before=run_before)
