"""The Pi screen: frames, start/pause, bursts and their cancel, modes, the seed dialog, snapshots.

Every count the screen shows is checked against the engine counting the same darts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual import events
from textual.widgets import Input, ProgressBar

from microgpt_tui.engine.montecarlo import MAX_SEED, Mode, Tally, count_inside
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.screens.pi import (
    DEFAULT_SPEED,
    FRAME_COUNTER_ENV,
    SPEEDS,
    PiScreen,
    dart_seed,
)
from microgpt_tui.tui.widgets.convergence_chart import ConvergenceChart
from microgpt_tui.tui.widgets.dart_canvas import DartCanvas

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


def engine_tally(screen: PiScreen) -> Tally:
    darts = screen.tally.darts
    return Tally(darts, count_inside(darts, seed=screen.seed, mode=screen.mode))


async def test_frames_speed_start_pause_and_leaving():
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        assert screen.seed == SEED and screen.tally == Tally(0, 0)
        # Steps: one frame of darts each, counted exactly as the engine counts them.
        for _ in range(3):
            await pilot.press("full_stop")
            await settle(pilot)
        assert screen.tally.darts == 3 * DEFAULT_SPEED
        assert screen.tally == engine_tally(screen)
        assert f"darts      {3 * DEFAULT_SPEED}" in stats_text(screen)
        assert f"{screen.tally.estimate:.9f}" in stats_text(screen)
        assert len(screen.points) == 3
        assert screen.query_one(DartCanvas).frame == 3
        # Speed: +/- walk 1, 2, 5, 10, … and stop at 1 and 10^6.
        await pilot.press("plus")
        assert SPEEDS[screen.speed_index] == 20
        await pilot.press("minus", "minus", "minus", "minus", "minus", "minus")
        assert SPEEDS[screen.speed_index] == 1
        screen.speed_index = len(SPEEDS) - 1
        await pilot.press("plus")
        assert SPEEDS[screen.speed_index] == 1_000_000
        await pilot.press("full_stop")
        await settle(pilot)
        assert screen.tally.darts == 3 * DEFAULT_SPEED + 1_000_000
        assert screen.tally == engine_tally(screen)
        # Space starts and pauses; paused means nothing more is thrown.
        screen.speed_index = SPEEDS.index(DEFAULT_SPEED)
        before = screen.tally.darts
        await pilot.press("space")
        assert screen.running
        await wait_until(lambda: screen.tally.darts >= before + 2 * DEFAULT_SPEED,
                         "two animated frames")
        await pilot.press("space")
        assert not screen.running
        await settle(pilot)  # returns only once the animation worker has stopped
        thrown = screen.tally.darts
        assert thrown > before and (thrown - before) % DEFAULT_SPEED == 0
        assert screen.tally == engine_tally(screen)
        await pilot.pause()
        assert screen.tally.darts == thrown
        # Leaving pauses the animation; coming back finds the same tally.
        await pilot.press("space")
        await wait_until(lambda: screen.tally.darts > thrown, "a frame after restarting")
        await pilot.press("escape")
        await settle(pilot)
        assert not screen.running
        thrown = screen.tally.darts
        assert await open_pi(pilot) is screen and screen.tally.darts == thrown


async def test_bursts_cancel_modes_and_reset():
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        # A burst continues the same stream: frame, burst to 10^5, frame.
        await pilot.press("full_stop")
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert screen.tally.darts == 10**5
        assert screen.tally == engine_tally(screen)
        assert not screen.query_one(ProgressBar).display
        await pilot.press("3")  # already past 10^3: nothing happens
        await settle(pilot)
        assert screen.tally.darts == 10**5
        await pilot.press("full_stop")
        await settle(pilot)
        assert screen.tally.darts == 10**5 + DEFAULT_SPEED
        assert screen.tally == engine_tally(screen)
        # Modes start over, each with its own darts.
        await pilot.press("m")
        assert screen.mode is Mode.QUASI and screen.tally == Tally(0, 0) and screen.points == []
        assert screen.query_one(ConvergenceChart).show_linear_guide
        await pilot.press("5")
        await settle(pilot)
        assert screen.tally == Tally(10**5, count_inside(10**5, mode="quasi"))
        assert "none: points not random" in stats_text(screen)
        await pilot.press("m")
        assert screen.mode is Mode.PYTHON and screen.tally == Tally(0, 0)
        await pilot.press("full_stop")
        await settle(pilot)
        assert screen.tally == engine_tally(screen)
        # Cancel keeps the darts counted before it (an exact prefix of the stream). The plain
        # Python loop would need minutes for 10^9 darts, so the cancel surely comes first.
        await send_keys(pilot, "9")
        await wait_until(lambda: screen.burst_target == 10**9, "the burst to start")
        assert screen.query_one(ProgressBar).display
        speed = screen.speed_index
        await send_keys(pilot, "space", "5", "plus")  # keys stay safe while the burst runs
        # Keys are handled in order: once "plus" has changed the speed, all three were seen.
        await wait_until(lambda: screen.speed_index == speed + 1, "the keys sent in a burst")
        assert not screen.running and screen.burst_target == 10**9
        await send_keys(pilot, "c")
        await wait_until(lambda: screen.burst_target is None, "the burst to be cancelled")
        await settle(pilot)
        assert not screen.query_one(ProgressBar).display
        assert DEFAULT_SPEED <= screen.tally.darts < 10**9
        assert screen.tally == engine_tally(screen)
        await pilot.press("r")
        assert screen.tally == Tally(0, 0) and screen.mode is Mode.PYTHON
        assert screen.query_one(DartCanvas).frame == 0
        await pilot.press("m")
        assert screen.mode is Mode.PSEUDO


async def test_seed_dialog_validates_and_keeps_what_was_typed():
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pi(pilot)
        await pilot.press("full_stop")
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()
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
        assert app.screen is screen and screen.seed == SEED and screen.tally.darts > 0
        await pilot.press("s")
        await pilot.pause()
        app.screen.query_one(Input).value = "77"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen and screen.seed == 77 and screen.tally == Tally(0, 0)
        await pilot.press("full_stop")
        await settle(pilot)
        assert screen.tally == Tally(DEFAULT_SPEED, count_inside(DEFAULT_SPEED, seed=77))


async def run_steps(pilot, steps: int, keys: tuple[str, ...] = ()) -> None:
    await open_pi(pilot)
    for key in keys:
        await pilot.press(key)
        await settle(pilot)
    for _ in range(steps):
        await pilot.press("full_stop")
        await settle(pilot)


def test_snapshot_after_three_frames(snap_compare):
    async def run_before(pilot) -> None:
        await run_steps(pilot, 3, keys=("plus", "plus", "plus"))

    assert snap_compare(make_app(seed=SEED), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_quasi_mode(snap_compare):
    async def run_before(pilot) -> None:
        await run_steps(pilot, 4, keys=("m", "plus", "plus", "plus", "plus", "plus", "plus"))

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


async def test_any_app_seed_gives_darts_instead_of_a_crash():
    for app_seed, expected in [(-1, MAX_SEED), (10**30, 10**30 % 2**64), (SEED, SEED)]:
        assert dart_seed(app_seed) == expected
        app = make_app(seed=app_seed)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_pi(pilot)
            assert screen.seed == expected
            await pilot.press("space")
            await wait_until(lambda: screen.tally.darts > 0, "a frame")  # noqa: B023
            await pilot.press("space")
            await settle(pilot)
            assert screen.tally == engine_tally(screen)
            assert f"seed {expected} (s)" in stats_text(screen)


async def test_the_bench_frame_counter_is_replaced_whole(tmp_path, monkeypatch):
    counter = tmp_path / "frames"
    monkeypatch.setenv(FRAME_COUNTER_ENV, str(counter))
    app = make_app(seed=SEED)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pi(pilot)
        for frame in range(1, 4):
            await pilot.press("full_stop")
            await settle(pilot)
            assert counter.read_text() == str(frame)
    assert [path.name for path in tmp_path.iterdir()] == ["frames"]  # no temp file left over
