"""The URL screen: visits to the loopback internet drawn step by step, stepping forward (each
step run for real) and back, failures shown at their step, cold vs warm, p50/p95, the views,
keys shown only where they work, bad input, themes and resizes, and snapshots.

Visits go only to the loopback internet (a DemoInternet started once for the module); the
snapshots use a recorded visit with fixed times and a stand-in demo with fixed ports.
"""

from __future__ import annotations

import threading

import pytest
from screen_waits import DEADLINE, wait_until
from textual.widgets import Static
from url_samples import StillDemo, recorded_visit

from microgpt_tui.engine.nettrace.demo import DemoInternet
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.kit.screen import key_sections
from microgpt_tui.tui.screens import url_view
from microgpt_tui.tui.screens.url import UrlInput, UrlScreen
from microgpt_tui.tui.widgets.explanation import ExplanationPanel
from microgpt_tui.tui.widgets.timeline import Timeline


class SharedDemo:
    """The module's loopback internet, handed to each screen; the screen's stop() is a no-op."""

    def __init__(self, net: DemoInternet) -> None:
        self.net = net
        self.urls = net.urls

    def settings(self, **kwargs):
        return self.net.settings(**kwargs)

    def stop(self) -> None:
        pass


@pytest.fixture(scope="module")
def loopback():
    with DemoInternet(timeout=1.0) as net:
        yield net


@pytest.fixture
def live(monkeypatch, loopback):
    monkeypatch.setattr(url_view, "start_demo", lambda: SharedDemo(loopback))
    return loopback


@pytest.fixture
def still(monkeypatch):
    monkeypatch.setattr(url_view, "start_demo", StillDemo)


async def open_url(pilot) -> UrlScreen:
    pilot.app.open_screen("url")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, UrlScreen)
    await wait_until(pilot, lambda: screen.demo is not None, "the loopback internet")
    return screen


def idle(screen: UrlScreen) -> bool:
    return not any(screen.jobs.running(name) for name in ("visit", "step", "coldwarm",
                                                           "repeat"))


async def visit(pilot, screen: UrlScreen, url: str | None = None) -> None:
    if url is not None:
        screen.query_one(UrlInput).value = url
    await pilot.press("enter")
    await wait_until(pilot, lambda: idle(screen), "the visit to end")


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def listed(screen) -> set[str]:
    return {description for _, items in key_sections(screen) for _, description in items}


def lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


# --- visits ---------------------------------------------------------------------------------


async def test_a_trusted_visit_fills_the_waterfall_and_every_view(live):
    app = make_app(seed=3, size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_url(pilot)
        assert screen.query_one(UrlInput).value == live.urls["home"].url  # the default
        assert screen.focused is None  # the screen's keys work at once
        await pilot.press("t")
        assert "CA trusted" in text(screen, "#url-options")
        await visit(pilot, screen)
        phases = [step.phase for step in screen.stepper.steps]
        assert phases == ["parse", "dns", "walk", "tcp", "tls", "http", "render"]
        assert screen.book.visit.ok and screen.stepper.finished
        model = screen.query_one(Timeline).model
        assert [row.label for row in model.rows] == ["URL", "DNS", "DNS walk", "TCP", "TLS",
                                                     "HTTP", "Render"]
        assert model.selected == 6  # the last step is the one explained
        assert "DOM of" in text(screen, "#url-detail")
        assert "✓" in text(screen, "#url-status")
        assert "Here: Render" in screen.query_one(ExplanationPanel).text
        await pilot.press("2")
        certificate = text(screen, "#url-certificate")
        assert "verified chain" in certificate and "2. root" in certificate
        await pilot.press("3")
        assert "HTTP/2 frames" in text(screen, "#url-http")
        assert "← DATA" in text(screen, "#url-http")


async def test_an_untrusted_ca_fails_at_tls_then_trusting_it_succeeds(live):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_url(pilot)
        await visit(pilot, screen)
        failed = screen.book.visit
        assert failed.failed_phase == "tls"
        assert "unable to get local issuer certificate" in failed.error
        assert "✗" in text(screen, "#url-status")
        assert "as offered" in text(screen, "#url-detail")  # the refused chain is shown
        await pilot.press("t")
        await visit(pilot, screen)
        assert screen.book.visit.ok


async def test_each_failure_is_shown_at_its_step(live):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_url(pilot)
        await pilot.press("t")
        for name, phase, words in [("nxdomain", "dns", "NXDOMAIN"),
                                   ("refused", "tcp", "refused"),
                                   ("expired", "tls", "expired"),
                                   ("wrong-host", "tls", "Hostname mismatch"),
                                   ("not-found", "http", "404")]:
            await visit(pilot, screen, live.urls[name].url)
            result = screen.book.visit
            assert result.failed_phase == phase, name
            assert words in result.error, name
            assert screen.stepper.current.phase in (phase, "render"), name


async def test_stepping_runs_one_step_per_key_and_steps_back(live):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_url(pilot)
        await pilot.press("t", "s")
        await wait_until(pilot, lambda: screen.stepper.steps, "the first step")
        assert [s.phase for s in screen.stepper.steps] == ["parse"]
        assert not screen.stepper.finished
        for count in (2, 3):
            await pilot.press("n")
            await wait_until(pilot, lambda count=count: len(screen.stepper.steps) == count,
                             f"step {count}")
        assert screen.stepper.current.phase == "walk"
        await pilot.press("b", "b")
        assert screen.stepper.position == 1 and len(screen.stepper.steps) == 3
        assert "Here: URL" in screen.query_one(ExplanationPanel).text
        assert len(screen.query_one(Timeline).model.rows) == 1
        await pilot.press("G")  # the last step run so far; nothing new runs
        assert screen.stepper.position == 3
        while not screen.stepper.finished:
            await pilot.press("n")
            await wait_until(pilot, lambda: not screen.stepper.busy, "a step")
        assert [s.phase for s in screen.stepper.steps][-1] == "render"
        assert screen.book.visit.ok
        # Time spent waiting for the key is not the visit's: the steps stay packed.
        assert screen.book.visit.total < 5.0


async def test_cancel_stops_a_visit_and_keeps_what_ran(live):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_url(pilot)
        screen.query_one(UrlInput).value = live.urls["timeout"].url
        await pilot.press("t", "enter")
        await wait_until(pilot, lambda: any(s.phase == "tcp" for s in screen.stepper.steps),
                         "the connection")
        assert "c stops" in text(screen, "#url-status")
        await pilot.press("c")
        assert idle(screen) and screen.stepper.finished
        assert "tcp" in [s.phase for s in screen.stepper.steps]
        assert "stopped" in text(screen, "#url-status")  # not an earlier visit's verdict
        await pilot.press("question_mark")  # keys still answer
        await pilot.press("escape")


async def test_cold_warm_and_percentiles(live):
    app = make_app(seed=3, size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_url(pilot)
        await pilot.press("t", "w")
        await wait_until(pilot, lambda: idle(screen), "cold, warm, new connection")
        assert screen.view == "coldwarm"
        cold, warm, fresh = screen.book.compare
        assert all(v.ok for v in (cold, warm, fresh))
        table = text(screen, "#url-coldwarm")
        assert "skipped" in table and "↺" in table
        assert any(s.phase == "tls" and s.detail.get("session_reused") for s in fresh.steps)
        await pilot.press("5", "minus")  # N = 5, in the p50/p95 view
        assert screen.options.repeats == 5
        await pilot.press("p")
        await wait_until(pilot, lambda: idle(screen), "the repeats")
        assert screen.view == "percentiles" and len(screen.book.repeats) == 5
        table = text(screen, "#url-percentiles")
        assert "p50" in table and "p95" in table and "total" in table
        assert "skipped in 4" in table  # the warm visits reuse the connection


async def test_bad_input_is_refused_and_the_url_kept(live):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_url(pilot)
        await pilot.press("e")
        assert isinstance(screen.focused, UrlInput)
        field = screen.query_one(UrlInput)
        field.value = ""
        await pilot.press(*"ftp://files.demo.test", "enter")
        await wait_until(pilot, lambda: idle(screen) and screen.book.visit, "the visit")
        assert field.value == "ftp://files.demo.test"  # nothing lost
        # The failure is shown at its step, the URL step, with the reason.
        assert screen.book.visit.failed_phase == "parse"
        assert "only http:// and https://" in screen.book.visit.error
        assert [s.phase for s in screen.stepper.steps] == ["parse"]
        assert "the real network" in text(screen, "#url-options")
        await pilot.press("e", "escape")
        assert screen.focused is None
        await pilot.press("d")  # a demo replaces it on purpose, and the line says which
        assert field.value == live.urls[screen.demo_names[1]].url
        assert f"demo {screen.demo_names[1]}" in text(screen, "#url-options")


async def test_keys_are_listed_only_where_they_work(still):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_url(pilot)
        keys = listed(screen)
        assert {"Visit", "Step through", "Edit URL", "Next demo"} <= keys
        assert "Stop" not in keys and "Next step (runs it)" not in keys
        assert "More visits (N)" not in keys
        await pilot.press("5")
        assert "More visits (N)" in listed(screen)
        await pilot.press("1")
        screen.show_visit(recorded_visit())
        await pilot.pause()
        keys = listed(screen)
        assert {"Previous step", "First step", "Next step (runs it)"} <= keys


async def test_the_loopback_internet_stops_with_the_screen(still):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_url(pilot)
        demo = screen.demo
        app.reset_screen("url")
        await pilot.pause()
        assert demo.stopped


async def test_themes_resizes_and_keys_never_break_it(still):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_url(pilot)
        screen.show_visit(recorded_visit())
        for theme in ("ansi-light", "ansi-dark", "textual-light"):
            app.theme = theme
            for key in "12345":
                await pilot.press(key)
                for size in [(80, 24), (60, 20), (200, 60), (120, 40), (10, 5), (80, 24)]:
                    await pilot.resize_terminal(*size)
                    await pilot.pause()
                    assert screen.has_class("-too-small") == (size[0] < 80), size
        await pilot.press(*"1bbngGvvvvvtiox+-", "question_mark", "escape")
        await pilot.pause()


async def test_nothing_is_cut_at_80x24_in_any_view(still):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_url(pilot)
        screen.show_visit(recorded_visit())
        for key in "12345":
            await pilot.press(key)
            await pilot.pause()
            cut = [line for line in lines(app)[:-1] if line.rstrip().endswith("…")]
            assert not cut, (key, cut)


# --- snapshots (a recorded visit, a stand-in demo) -----------------------------------------


def _shown(*keys: str, tls_ok: bool = True):
    async def run_before(pilot) -> None:
        screen = await open_url(pilot)
        screen.show_visit(recorded_visit(tls_ok))
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


def test_snapshot_waterfall_80x24(still, snap_compare):
    assert snap_compare(make_app(seed=3, size=(80, 24)), terminal_size=(80, 24),
                        run_before=_shown("b", "b", "b"))


def test_snapshot_failed_tls_120x40(still, snap_compare):
    assert snap_compare(make_app(seed=3, size=(120, 40)), terminal_size=(120, 40),
                        run_before=_shown(tls_ok=False))


def test_snapshot_certificate_120x40(still, snap_compare):
    assert snap_compare(make_app(seed=3, size=(120, 40)), terminal_size=(120, 40),
                        run_before=_shown("2"))


def test_snapshot_http2_frames_80x24(still, snap_compare):
    assert snap_compare(make_app(seed=3, size=(80, 24)), terminal_size=(80, 24),
                        run_before=_shown("3"))



async def test_another_job_ends_a_visit_being_stepped_through(live):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_url(pilot)
        await pilot.press("t", "s")
        await wait_until(pilot, lambda: screen.stepper.steps, "the first step")
        await pilot.press("w")
        await wait_until(pilot, lambda: idle(screen), "cold and warm")
        await pilot.press("1")
        assert screen.stepper.finished  # n has nothing left to run, and says so
        assert "n runs the next step" not in text(screen, "#url-status")
        assert "Next step (runs it)" in listed(screen)  # stepping back still works
        await pilot.press("g")
        assert screen.stepper.position == 1  # the first step, never nothing


async def test_a_screen_closed_while_its_internet_starts_stops_it(monkeypatch):
    entered, release = threading.Event(), threading.Event()
    started: list[StillDemo] = []

    def slow_demo() -> StillDemo:
        entered.set()
        release.wait(DEADLINE)  # the screen goes away meanwhile
        started.append(StillDemo())
        return started[-1]

    monkeypatch.setattr(url_view, "start_demo", slow_demo)
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_screen("url")
        await wait_until(pilot, entered.is_set, "the first internet to start")
        app.reset_screen("url")
        await pilot.pause()
        release.set()
        await wait_until(pilot, lambda: len(started) == 2 and app.screen.demo is not None,
                         "both internets")
        # The two starts overlap: which one finishes first is the scheduler's choice. The
        # one whose screen was reset is stopped; the one on show runs.
        assert sorted(demo.stopped for demo in started) == [False, True]
        assert not app.screen.demo.stopped
