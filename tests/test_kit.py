"""The screen kit on its own: jobs (one contract for background work) and playback."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

import pytest
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from microgpt_tui.tui.kit import screen as kit_screen
from microgpt_tui.tui.kit.background import (
    JOB_NICENESS,
    lower_thread_priority,
    restore_thread_priority,
)
from microgpt_tui.tui.kit.jobs import JobsMixin
from microgpt_tui.tui.kit.pauses import (
    FULL_COLLECTION_EVERY,
    SWITCH_INTERVAL,
    keep_pauses_short,
    settle_garbage,
)
from microgpt_tui.tui.kit.playback import Playback, Stepper
from microgpt_tui.tui.kit.screen import BaseScreen

DEADLINE = 10.0


class JobScreen(JobsMixin, Screen):
    def compose(self) -> ComposeResult:
        yield Static("jobs")


class KitApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []

    def get_default_screen(self) -> Screen:
        return JobScreen()

    def notify(self, message: str, **kwargs) -> None:  # type: ignore[override]
        self.errors.append(message)


async def until(pilot, condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)
    await pilot.pause()


async def test_a_job_result_reaches_on_done_on_the_ui_thread():
    app = KitApp()
    async with app.run_test() as pilot:
        screen = app.screen
        got: list[tuple[int, bool]] = []
        ui_thread = threading.get_ident()
        screen.jobs.start("sum", lambda _: sum(range(10)),
                          on_done=lambda r: got.append((r, threading.get_ident() == ui_thread)))
        await until(pilot, lambda: got, "the result")
        assert got == [(45, True)]
        assert not screen.jobs.running("sum")


async def test_a_newer_run_supersedes_the_older_one():
    app = KitApp()
    async with app.run_test() as pilot:
        screen = app.screen
        release = threading.Event()
        results: list[str] = []

        def slow(_context) -> str:
            release.wait(DEADLINE)
            return "old"

        screen.jobs.start("work", slow, on_done=results.append)
        screen.jobs.start("work", lambda _: "new", on_done=results.append)
        await until(pilot, lambda: results, "the newer result")
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert results == ["new"]  # the old run's result was dropped


async def test_progress_is_coalesced_to_the_newest_value():
    app = KitApp()
    async with app.run_test() as pilot:
        screen = app.screen
        seen: list[int] = []
        done: list[bool] = []

        def work(context) -> None:
            for value in range(1, 2001):
                context.report(value)

        screen.jobs.start("count", work, on_progress=seen.append,
                          on_done=lambda _: done.append(True))
        await until(pilot, lambda: done, "the end")
        assert seen[-1] == 2000
        assert seen == sorted(seen)
        assert len(seen) < 2000  # far fewer deliveries than reports: none queued up


async def test_progress_keep_all_hands_over_every_value_in_order():
    app = KitApp()
    async with app.run_test() as pilot:
        screen = app.screen
        seen: list[int] = []
        done: list[bool] = []

        def work(context) -> None:
            for value in range(500):
                context.report(value)

        screen.jobs.start("all", work, on_progress=seen.append, keep="all",
                          on_done=lambda _: done.append(True))
        await until(pilot, lambda: done, "the end")
        assert seen == list(range(500))


async def test_expected_errors_reach_on_failed_and_others_become_a_note():
    app = KitApp()
    async with app.run_test() as pilot:
        screen = app.screen
        failures: list[BaseException] = []

        def bad_value(_context):
            raise ValueError("bad input at 1:2")

        def surprise(_context):
            raise KeyError("nobody planned for this")

        screen.jobs.start("parse", bad_value, on_failed=failures.append, expected=(ValueError,))
        await until(pilot, lambda: failures, "the expected failure")
        assert str(failures[0]) == "bad input at 1:2"
        assert app.errors == []
        screen.jobs.start("other", surprise, on_failed=failures.append, expected=(ValueError,))
        await until(pilot, lambda: app.errors, "the note")
        assert len(failures) == 1
        assert app.errors[0].startswith("other failed — KeyError")
        assert app._exception is None


async def test_cancel_stops_the_work_and_drops_its_result():
    app = KitApp()
    async with app.run_test() as pilot:
        screen = app.screen
        results: list[str] = []
        started, stopped = threading.Event(), threading.Event()

        def loop(context) -> str:
            started.set()
            while not context.wait(0.01):
                pass
            stopped.set()
            return "finished"

        screen.jobs.start("loop", loop, on_done=results.append)
        await until(pilot, started.is_set, "the loop to start")
        screen.jobs.cancel("loop")
        await until(pilot, stopped.is_set, "the loop to see the cancel")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert results == []
        assert not screen.jobs.running("loop")


async def test_results_for_a_screen_that_has_gone_are_dropped():
    app = KitApp()
    async with app.run_test() as pilot:
        home = app.screen
        other = JobScreen()
        await app.push_screen(other)
        release = threading.Event()
        results: list[str] = []
        contexts = []

        def work(context) -> str:
            contexts.append(context)
            release.wait(DEADLINE)
            return "late"

        other.jobs.start("late", work, on_done=results.append)
        await until(pilot, lambda: contexts, "the job to start")
        await app.pop_screen()
        await pilot.pause()
        assert contexts[0].cancelled  # unmounting cancelled it
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert results == []
        assert app.screen is home
        assert app._exception is None


needs_linux = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                 reason="per-thread nice values are a Linux feature")


def nice_of_this_thread() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@needs_linux
async def test_a_job_and_the_threads_it_starts_run_nicer_than_the_ui():
    """The scheduler serves the UI thread first: a job's thread, and a pool it starts (a burst
    on every core), run JOB_NICENESS nicer."""
    app = KitApp()
    async with app.run_test() as pilot:
        screen = app.screen
        ui = nice_of_this_thread()
        seen: list[tuple[int, int]] = []

        def work(_context) -> tuple[int, int]:
            with ThreadPoolExecutor(max_workers=1) as pool:
                started = pool.submit(nice_of_this_thread).result()
            return nice_of_this_thread(), started

        screen.jobs.start("nice", work, on_done=seen.append)
        await until(pilot, lambda: seen, "the job")
        expected = min(ui + JOB_NICENESS, 19)
        assert seen == [(expected, expected)]
        assert nice_of_this_thread() == ui


@needs_linux
def test_a_pooled_thread_gets_its_priority_back_where_allowed():
    outcome: list[tuple[int, int, int]] = []

    def thread() -> None:
        before = lower_thread_priority()
        lowered = nice_of_this_thread()
        restore_thread_priority(before)
        outcome.append((before, lowered, nice_of_this_thread()))

    worker = threading.Thread(target=thread)
    worker.start()
    worker.join()
    (before, lowered, after), = outcome
    assert lowered == min(before + JOB_NICENESS, 19)
    # Raising a priority back needs CAP_SYS_NICE or RLIMIT_NICE room; without either the
    # thread stays nice (only jobs run on it).
    assert after in (before, lowered)
    if os.geteuid() == 0:
        assert after == before


async def test_in_process_runs_the_work_in_a_nicer_worker_process():
    app = KitApp()
    async with app.run_test() as pilot:
        screen = app.screen
        got: list[tuple[int, int]] = []

        def work(context) -> tuple[int, int]:
            return (context.in_process(os.getpid),
                    context.in_process(os.getpriority, os.PRIO_PROCESS, 0))

        screen.jobs.start("process", work, on_done=got.append)
        await until(pilot, lambda: got, "the worker process")
        (pid, nice), = got
        assert pid != os.getpid()
        ui = os.getpriority(os.PRIO_PROCESS, os.getpid())
        assert nice == min(ui + JOB_NICENESS, 19)


async def test_in_process_stops_waiting_when_the_job_is_cancelled():
    app = KitApp()
    async with app.run_test() as pilot:
        screen = app.screen
        results: list[object] = []
        waiting = threading.Event()
        ended: list[float] = []

        def work(context) -> object:
            waiting.set()
            try:
                return context.in_process(time.sleep, 3)
            finally:
                ended.append(time.monotonic())

        screen.jobs.start("sleep", work, on_done=results.append)
        await until(pilot, waiting.is_set, "the job to wait on its process")
        cancelled = time.monotonic()
        screen.jobs.cancel("sleep")
        await until(pilot, lambda: ended, "the job to stop waiting")
        assert ended[0] - cancelled < 1  # not the 3 s the process still sleeps
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert results == [] and not app.errors


def test_settling_frees_what_died_since_and_leaves_the_rest_out_of_collections():
    class Node:
        pass

    kept, dropped = Node(), Node()
    kept.me, dropped.me = kept, dropped  # cycles: only the collector can free them
    gone = weakref.ref(dropped)
    try:
        settle_garbage()
        assert gc.get_freeze_count() > 0
        del dropped
        gc.collect()
        assert gone() is not None  # frozen: full collections skip it, and so their pauses
        settle_garbage()
        assert gone() is None  # the next screen's settle collects it
    finally:
        gc.unfreeze()


def test_pauses_are_kept_short_process_wide_unless_headless():
    class FakeApp:
        def __init__(self, headless: bool) -> None:
            self.is_headless = headless

    default, thresholds = sys.getswitchinterval(), gc.get_threshold()
    gc.unfreeze()
    try:
        keep_pauses_short(FakeApp(headless=True))
        assert sys.getswitchinterval() == default and gc.get_freeze_count() == 0
        assert gc.get_threshold() == thresholds
        keep_pauses_short(FakeApp(headless=False))
        assert sys.getswitchinterval() == SWITCH_INTERVAL
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (*thresholds[:2], FULL_COLLECTION_EVERY)
    finally:
        sys.setswitchinterval(default)
        gc.set_threshold(*thresholds)
        gc.unfreeze()


class BodyScreen(BaseScreen):
    def compose_body(self) -> ComposeResult:
        yield Static("body")


async def test_each_screen_keeps_pauses_short_once_it_has_drawn(monkeypatch):
    settled: list[str] = []
    monkeypatch.setattr(kit_screen, "keep_pauses_short",
                        lambda app: settled.append(type(app.screen).__name__))
    app = KitApp()
    async with app.run_test() as pilot:
        await app.push_screen(BodyScreen())
        await pilot.pause()
        await pilot.pause()
        assert settled == ["BodyScreen"]  # a BaseScreen settles; the plain JobScreen did not


class ListStepper:
    """Positions 0 … len(items); seeks are recorded."""

    def __init__(self, length: int | None, busy: bool = False) -> None:
        self._length = length
        self.position = 0
        self.busy = busy
        self.seeks: list[int] = []

    @property
    def length(self) -> int | None:
        return self._length

    def seek(self, position: int) -> None:
        self.seeks.append(position)
        self.position = position


class TimerOwner:
    """Stands in for a screen: the timer is never started (ticks are called by hand)."""

    def __init__(self) -> None:
        self.timer = None

    def set_interval(self, seconds, callback):
        class Timer:
            def pause(self) -> None:
                pass

            def resume(self) -> None:
                pass

        self.timer = Timer()
        return self.timer


def make_playback(stepper, **options) -> tuple[Playback, list[int]]:
    changes: list[int] = []
    playback = Playback(TimerOwner(), lambda: changes.append(1), **options)
    playback.attach(stepper)
    return playback, changes


def test_a_list_stepper_meets_the_protocol():
    assert isinstance(ListStepper(3), Stepper)


def test_step_forward_and_back_are_clamped_to_the_ends():
    stepper = ListStepper(3)
    playback, _ = make_playback(stepper)
    playback.step(-1)
    assert stepper.position == 0 and stepper.seeks == []
    for _ in range(5):
        playback.step(1)
    assert stepper.position == 3
    playback.step(-1)
    assert stepper.position == 2
    playback.jump(False)
    assert stepper.position == 0
    playback.jump(True)
    assert stepper.position == 3


def test_play_advances_by_the_speed_and_stops_at_the_end():
    stepper = ListStepper(10)
    playback, _ = make_playback(stepper, speeds=(1, 4), speed=4)
    playback.toggle()
    assert playback.playing
    playback._tick()
    assert stepper.position == 4
    playback._tick()
    playback._tick()
    assert stepper.position == 10
    assert not playback.playing
    playback.toggle()  # at the end, play starts over
    assert stepper.position == 0 and playback.playing


def test_speed_changes_are_clamped():
    playback, _ = make_playback(ListStepper(5), speeds=(1, 2, 5))
    playback.change_speed(-1)
    assert playback.speed == 1
    playback.change_speed(5)
    assert playback.speed == 5


def test_a_busy_stepper_skips_ticks_and_keys():
    stepper = ListStepper(None, busy=True)
    playback, _ = make_playback(stepper, per_tick=lambda _: 1)
    playback.step(1)
    assert stepper.position == 0
    stepper.busy = False
    playback.toggle()
    stepper.busy = True
    playback._tick()
    assert stepper.position == 0
    stepper.busy = False
    playback._tick()
    assert stepper.position == 1  # per_tick: one step whatever the speed


def test_an_endless_stepper_has_no_last_step():
    stepper = ListStepper(None)
    playback, _ = make_playback(stepper)
    playback.jump(True)
    assert stepper.position == 0
    playback.step(1)
    assert stepper.position == 1


def test_a_growing_stepper_jumps_to_how_far_it_has_got():
    stepper = ListStepper(None)
    stepper.known_length = 4  # four steps run so far, more to come
    playback, _ = make_playback(stepper)
    playback.jump(True)
    assert stepper.position == 4
    playback.jump(False)
    assert stepper.position == 0


@pytest.mark.parametrize("playing", [False, True])
def test_status_shows_state_position_and_speed(playing):
    stepper = ListStepper(12)
    playback, _ = make_playback(stepper, speeds=(1, 5), speed=5)
    playback.step(1)
    if playing:
        playback.toggle()
    text = playback.status("edge").plain
    assert text.startswith("▶" if playing else "⏸")
    assert "edge 1/12" in text and "×5" in text


async def test_a_redraw_queued_when_the_screen_is_reset_is_dropped_not_crashing():
    """A screen reset (R) or popped with a redraw still queued (call_after_refresh, as the
    Matmul screen's progress does) has no widgets left: the redraw must be dropped. The
    garbage-byte test found the app crashing here with NoMatches."""
    from microgpt_tui.tui.app import make_app

    app = make_app(size=(80, 24))
    ran: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_screen("matmul")
        await pilot.pause()
        old = app.screen

        def redraw() -> None:
            old.query_one("#matmul-tabs")  # NoMatches once the screen's widgets are gone
            ran.append("drawn")

        old.call_after_refresh(redraw)
        app.reset_screen("matmul")  # in the same tick: the redraw is still queued
        await pilot.pause()
        await pilot.pause()
        assert app.screen is not old and app.is_running
        old_alive = old.is_attached and not (old._closing or old._pruning)
        assert ran == (["drawn"] if old_alive else [])
        new = app.screen
        new.call_after_refresh(lambda: ran.append("new screen drawn"))
        await pilot.pause()
        assert ran[-1] == "new screen drawn"  # a live screen's callbacks still run
