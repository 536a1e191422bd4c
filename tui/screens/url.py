"""Question 4: what happens when you type a URL — every step run for real, timed, explained.

Type a URL (e) or pick one of the loopback internet's demos (d), then Enter visits it: the
waterfall fills in step by step (URL, DNS, the DNS walk from the root, TCP, TLS, HTTP, the DOM),
and the explanation panel says what the step in focus did. `s` starts a visit that runs one
step per `n`; the playback keys step back through what ran. Views: the waterfall with the step's
facts, the certificate chain, the HTTP exchange (HTTP/2 frames), cold vs warm, p50/p95.
The loopback internet starts with the screen (no network needed) and stops with it.
"""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, Input, Static

from ..kit.playback import PLAYBACK_BINDINGS, Playback, PlaybackMixin
from ..kit.screen import QuestionScreen
from ..widgets.explanation import ExplanationPanel
from ..widgets.timeline import Timeline
from . import url_panels as panels
from . import url_view as view
from .url_panels import PLAYBACK_WORDS
from .url_session import JOBS, SteppedVisit, VisitState


class UrlInput(Input):
    """The address bar. Esc leaves it (the screen's keys work again); the text stays."""

    BINDINGS = [Binding("escape", "leave", "Stop editing the URL", show=False)]

    def action_leave(self) -> None:
        self.screen.set_focus(None)


class UrlScreen(PlaybackMixin, QuestionScreen):
    SCREEN_ID = "url"
    CSS_PATH = "url.tcss"
    AUTO_FOCUS = ""  # nothing focused: the screen's keys work at once; `e` edits the URL

    BINDINGS = [
        Binding("enter", "visit", "Visit", key_display="⏎"),
        Binding("s", "step_visit", "Step through"),
        Binding("e", "edit", "Edit URL"),
        Binding("d", "demo(1)", "Next demo"),
        Binding("D", "demo(-1)", "Previous demo", show=False),
        Binding("c", "cancel", "Stop"),
        Binding("v", "next_view", "Next view", show=False),
        Binding("1", "view('waterfall')", "Waterfall view", show=False),
        Binding("2", "view('certificate')", "Certificate view", show=False),
        Binding("3", "view('http')", "HTTP view", show=False),
        Binding("4", "view('coldwarm')", "Cold/warm view", show=False),
        Binding("5", "view('percentiles')", "p50/p95 view", show=False),
        Binding("w", "cold_warm", "Cold vs warm", show=False),
        Binding("p", "repeat", "p50/p95 of N visits", show=False),
        Binding("plus,equals_sign", "repeats(1)", "More visits (N)", key_display="+",
                show=False),
        Binding("minus", "repeats(-1)", "Fewer visits (N)", key_display="-", show=False),
        Binding("t", "trust", "Trust the demo CA / not", show=False),
        Binding("i", "insecure", "Verify certificates / not", show=False),
        Binding("o", "timeout", "Timeout (1/2/5/10/30 s)", show=False),
        Binding("x", "forget", "Cold browser: forget connections and caches", show=False),
        *[replace(b, description=PLAYBACK_WORDS[b.action][0], show=PLAYBACK_WORDS[b.action][1])
          for b in PLAYBACK_BINDINGS if b.action in PLAYBACK_WORDS],
    ]
    HELP_NOTES = panels.HELP_NOTES

    def __init__(self, screen_id: str | None = None) -> None:
        super().__init__(screen_id)
        self.view = "waterfall"
        self.options = view.Options()
        self.state = VisitState()  # the visit on show, the book, the browser, a job's words
        self.demo = None  # the loopback internet, once started
        self.demo_names: list[str] = []
        self.demo_index = 0
        self.playback = Playback(self, self._show_steps, speeds=(1,), per_tick=lambda _: 1,
                                 tick_seconds=0.4)

    @property
    def stepper(self) -> view.VisitStepper | None:
        return self.state.stepper

    @property
    def book(self) -> view.Book:
        return self.state.book

    # -- layout -----------------------------------------------------------------------------

    def compose_main(self) -> ComposeResult:
        with Horizontal(id="url-work"):
            with Vertical(id="url-left"):
                yield UrlInput(placeholder="a URL, a host name, or words to search",
                               id="url-input")
                yield Static(id="url-options")
                yield Static(id="url-tabs")
                with ContentSwitcher(id="url-views", initial="view-waterfall"):
                    with Vertical(id="view-waterfall"):
                        yield Timeline(id="url-waterfall")
                        with VerticalScroll(id="url-detail-scroll"):
                            yield Static(id="url-detail")
                    with VerticalScroll(id="view-certificate"):
                        yield Static(id="url-certificate")
                    with VerticalScroll(id="view-http"):
                        yield Static(id="url-http")
                    with VerticalScroll(id="view-coldwarm"):
                        yield Static(id="url-coldwarm")
                    with VerticalScroll(id="view-percentiles"):
                        yield Static(id="url-percentiles")
                yield Static(id="url-status")
            yield ExplanationPanel(id="url-explain")

    def on_mount(self) -> None:
        self.query_one("#url-explain").border_title = "what happens"
        self.jobs.start("demo", view.demo_work, on_done=self._demo_ready,
                        on_failed=self._demo_failed, expected=(Exception,))
        self._show_all()

    def on_unmount(self) -> None:
        self.state.release(self.jobs)
        if self.demo is not None:
            self.demo.stop()

    def on_screen_suspend(self) -> None:
        self.playback.pause()

    def _demo_ready(self, demo) -> None:
        self.demo = demo
        self.demo_names = list(demo.urls)
        url_input = self.query_one("#url-input", UrlInput)
        if not url_input.value:
            url_input.value = demo.urls[self.demo_names[0]].url
        self._show_all()

    def _demo_failed(self, error: BaseException) -> None:
        self.notify(f"The loopback internet did not start: {error}", severity="warning",
                    timeout=8)

    # -- keys -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        mine = view.key_allowed(
            action, busy=any(self.jobs.running(name) for name in JOBS), stepper=self.stepper,
            view=self.view, demo=self.demo, demo_names=self.demo_names, typed=lambda: self.typed)
        return allowed if mine is None else mine

    def action_edit(self) -> None:
        self.query_one("#url-input", UrlInput).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.set_focus(None)
        self.action_visit()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.refresh_bindings()  # `t` works on demo URLs only
        self._show_options()

    def action_demo(self, delta: int) -> None:
        self.demo_index = (self.demo_index + delta) % len(self.demo_names)
        demo = self.demo.urls[self.demo_names[self.demo_index]]
        self.query_one("#url-input", UrlInput).value = demo.url  # the options line says it

    def action_view(self, name: str) -> None:
        self.view = name
        self.query_one("#url-views", ContentSwitcher).current = f"view-{name}"
        self._redraw()

    def action_next_view(self) -> None:
        self.action_view(view.VIEWS[(view.VIEWS.index(self.view) + 1) % len(view.VIEWS)])

    def action_trust(self) -> None:
        self._set_options(replace(self.options, trust_demo=not self.options.trust_demo))

    def action_insecure(self) -> None:
        self._set_options(replace(self.options, insecure=not self.options.insecure))

    def action_timeout(self) -> None:
        self._set_options(self.options.next_timeout())

    def action_repeats(self, delta: int) -> None:
        self._set_options(self.options.resized(delta))

    def _set_options(self, options: view.Options) -> None:
        self.options = options
        self._show_all()

    def action_forget(self) -> None:
        self.state.browsers.forget()
        self.notify("The browser forgot its connections and caches: the next visit is cold.",
                    timeout=4)

    # -- visits (jobs) ----------------------------------------------------------------------

    @property
    def typed(self) -> str:
        return self.query_one("#url-input", UrlInput).value

    def _browser(self, fresh: bool = False):
        return self.state.browsers.get(self.typed, self.options, self.demo, fresh)

    def action_visit(self) -> None:
        self.state.stop_jobs(self.jobs)
        browser = self._browser()
        self.playback.attach(self.state.begin(view.VisitStepper(live=True),
                                              f"visiting {self.typed}"))
        self.jobs.start("visit", view.visit_work(self.typed, browser),
                        on_progress=self._step_arrived, on_done=self._finish_visit,
                        keep="all")
        self._redraw()

    def _step_arrived(self, step) -> None:
        if self.state.arrived(step):
            self._show_steps()

    def _finish_visit(self, visit) -> None:
        self.state.finish(visit)
        self.app.record_run("url", panels.record_line(visit), ok=visit.ok,
                            total_ms=round(visit.total * 1e3, 3))
        self._redraw()

    def action_step_visit(self) -> None:
        self.state.stop_jobs(self.jobs)
        self.state.stepped = SteppedVisit(self.typed, self._browser())
        stepper = self.state.begin(view.VisitStepper(advance=self._run_next_step))
        self.playback.attach(stepper)
        stepper.seek(1)  # the first step (parse) runs at once
        self._redraw()

    def _run_next_step(self) -> None:
        stepped = self.state.stepped
        if stepped is None or stepped.steps is None:
            return
        self.state.running = "running the next step"
        self.jobs.start("step", view.step_work(stepped.steps, stepped.browser),
                        on_done=self._step_done, on_failed=self._step_failed,
                        expected=(Exception,))
        self.refresh_bindings()
        self._show_status()

    def _step_done(self, step) -> None:
        outcome = self.state.step_done(step)
        if outcome is True:
            self._redraw()
        elif outcome is not False:
            self._finish_visit(outcome)

    def _step_failed(self, error: BaseException) -> None:
        self.state.stopped(stepped_too=True)
        self.notify(f"The step failed: {error}", severity="error", timeout=8)
        self._show_all()

    def action_cold_warm(self) -> None:
        self._start_series("coldwarm")

    def action_repeat(self) -> None:
        self._start_series("repeat")

    def _start_series(self, name: str) -> None:
        """Cold/warm or N repeats: visits arrive one by one (the state keeps them); the view
        that shows them comes forward."""
        self.state.stop_jobs(self.jobs)
        running, work, wanted = view.series_work(name, self.typed, self._browser(fresh=True),
                                                 self.options.repeats)

        def arrived(visit) -> None:
            self.state.series_arrived(name, visit)
            (self._show_compare if name == "coldwarm" else self._show_percentiles)()

        def done(visits) -> None:
            self.state.series_done(name, visits)
            self._redraw()

        self.state.begin_series(name, running, wanted)
        self.jobs.start(name, work, on_progress=arrived, on_done=done, keep="all")
        shown = view.SERIES_VIEWS[name]
        if self.view != shown:
            self.action_view(shown)
        self._redraw()

    def action_cancel(self) -> None:
        self.state.stop_jobs(self.jobs)
        self.state.stopped()
        self.notify("Stopped: what ran so far is kept.", timeout=3)
        self._redraw()

    def show_visit(self, visit) -> None:
        """Show a finished visit, every step (one recorded earlier, or a test's)."""
        self.state.stop_jobs(self.jobs)
        self.playback.attach(self.state.replay(visit))
        self._redraw()

    def _redraw(self) -> None:
        """The keys that work and every panel, after the state changed."""
        self.refresh_bindings()
        self._show_all()

    # -- drawing ----------------------------------------------------------------------------

    def _show_all(self) -> None:
        self.query_one("#url-tabs", Static).update(panels.tabs_line(self.view))
        self._show_options()
        self._show_steps()
        self._show_compare()
        self._show_percentiles()

    def _show_options(self) -> None:
        self.query_one("#url-options", Static).update(
            panels.options_line(self.options, self.demo, self.typed))

    def _show_steps(self) -> None:
        shown = panels.step_views(self.stepper)
        waterfall = self.query_one("#url-waterfall", Timeline)
        waterfall.display = shown.waterfall is not None
        if shown.waterfall is not None:
            waterfall.show(shown.waterfall)
        for selector, text in (("#url-detail", shown.detail), ("#url-certificate",
                               shown.certificate), ("#url-http", shown.http)):
            self.query_one(selector, Static).update(text)
        self._show_status()

    def _show_compare(self) -> None:
        self.query_one("#url-coldwarm", Static).update(
            panels.compare_text(self.book.compare, self.jobs.running("coldwarm")))

    def _show_percentiles(self) -> None:
        wanted = self.book.repeats_wanted or self.options.repeats
        self.query_one("#url-percentiles", Static).update(
            panels.percentiles_text(self.book, self.jobs.running("repeat"), wanted))

    def _show_status(self) -> None:
        self.query_one("#url-status", Static).update(
            panels.status_text(self.stepper, self.book.visit, self.state.running,
                               self.playback.status("step")))
        self.query_one("#url-explain", ExplanationPanel).show(
            panels.explanation(self.stepper, self.view))
