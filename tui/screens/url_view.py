"""The URL screen's view-model: the steps of the visit on show, the stepper the playback keys
drive, the settings, which keys work now, and the work the screen hands its jobs. No widgets
here; the words and pictures of each view are url_panels'.

The network work itself is the engine's (engine/nettrace); the functions here that run it
(`visit_work`, `step_work`, …) are what the screen hands its jobs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from ...engine.nettrace.steps import Step, Visit

VIEWS = ("waterfall", "certificate", "http", "coldwarm", "percentiles")
VIEW_TITLES = {"waterfall": "Waterfall", "certificate": "Certificate", "http": "HTTP",
               "coldwarm": "Cold/warm", "percentiles": "p50/p95"}
TIMEOUTS = (1.0, 2.0, 5.0, 10.0, 30.0)  # what `o` walks through; 5 s is the default
REPEATS = (5, 10, 20, 50)  # visits for p50/p95
SERIES_VIEWS = {"coldwarm": "coldwarm", "repeat": "percentiles"}  # the view each series shows


@dataclass(frozen=True)
class Options:
    """What the next visit uses (the screen's settings line shows them)."""

    trust_demo: bool = False
    insecure: bool = False
    timeout: float = 5.0
    repeats: int = 10

    def next_timeout(self) -> Options:
        index = TIMEOUTS.index(self.timeout) if self.timeout in TIMEOUTS else 1
        return replace(self, timeout=TIMEOUTS[(index + 1) % len(TIMEOUTS)])

    def resized(self, delta: int) -> Options:
        index = min(max(REPEATS.index(self.repeats) + delta, 0), len(REPEATS) - 1)
        return replace(self, repeats=REPEATS[index])


class VisitStepper:
    """The steps of one visit as the playback keys see them: `position` steps are shown.

    Stepping forward past the last step run so far runs the next one for real (`advance`,
    a job of the screen's; `busy` until it comes back); stepping back only shows less."""

    def __init__(self, advance: Callable[[], None] | None = None, live: bool = False) -> None:
        """`advance`: runs the next step (step-through mode); `live`: a visit running on its
        own, whose steps arrive by `add`."""
        self.steps: list[Step] = []
        self.position = 0
        self.finished = advance is None and not live
        self.busy = False
        self._advance = advance

    @property
    def length(self) -> int | None:
        return len(self.steps) if self.finished else None

    @property
    def known_length(self) -> int:
        return len(self.steps)

    def seek(self, position: int) -> None:
        if position <= len(self.steps):
            # Never back to nothing: the first step stays in view once it ran.
            self.position = max(position, min(1, len(self.steps)))
        elif not self.finished and not self.busy and self._advance is not None:
            self.busy = True
            self._advance()

    def add(self, step: Step, follow: bool = True) -> None:
        self.steps.append(step)
        self.busy = False
        if follow:
            self.position = len(self.steps)

    def finish(self) -> None:
        self.finished, self.busy = True, False

    @property
    def current(self) -> Step | None:
        return self.steps[self.position - 1] if self.position else None


@dataclass
class Book:
    """Everything measured on this screen: the visit on show, cold/warm and the repeats."""

    visit: Visit | None = None
    compare: list[Visit] = field(default_factory=list)
    repeats: list[Visit] = field(default_factory=list)
    repeats_wanted: int = 0
    visits_done: int = 0


# -- the loopback internet and the browser ---------------------------------------------------


def start_demo():
    """Start the loopback internet (tests replace this with a stand-in)."""
    from ...engine.nettrace.demo import DemoInternet

    return DemoInternet().start()


def demo_work(job):
    """The demo job: the loopback internet, stopped again if the screen went meanwhile (a
    quick R must not leave a whole internet running)."""
    from ..kit.jobs import JobCancelled

    demo = start_demo()
    if job.cancelled:
        demo.stop()
        raise JobCancelled
    return demo


def is_demo_url(typed: str) -> bool:
    from ...engine.nettrace.demo import ZONE
    from ...engine.nettrace.url_parse import parse_url

    try:
        host = parse_url(typed).ascii_host
    except ValueError:
        return False
    return host == ZONE or host.endswith("." + ZONE)


def browser_settings(typed: str, options: Options, demo) -> tuple[tuple, object]:
    """The settings a visit to `typed` uses, and a key that changes when they do: demo hosts
    resolve through the loopback internet; everything else through the OS."""
    from ...engine.nettrace.browser import Settings

    demo_url = demo is not None and is_demo_url(typed)
    key = (demo_url, options.trust_demo and demo_url, options.insecure, options.timeout)
    if demo_url:
        return key, demo.settings(trust_ca=options.trust_demo, insecure=options.insecure,
                                  timeout=options.timeout)
    return key, Settings(timeout=options.timeout, insecure=options.insecure)


def new_browser(settings):
    from ...engine.nettrace.browser import Browser

    return Browser(settings)


# -- the work the jobs run -----------------------------------------------------------------


def visit_work(typed: str, browser) -> Callable:
    """A whole visit, each step reported as it completes; the Visit at the end."""
    from ...engine.nettrace.visit import visit_steps

    def work(job):
        visit = Visit(typed)
        try:
            for step in visit_steps(typed, browser, visit, cancel=job):
                job.report(step)
        finally:
            if job.cancelled:
                browser.close()  # this browser's sockets die with the cancelled visit
        return visit

    return work


def step_iterator(typed: str, browser, cancel) -> tuple[Visit, Iterator[Step]]:
    from ...engine.nettrace.visit import visit_steps

    visit = Visit(typed)
    return visit, visit_steps(typed, browser, visit, cancel=cancel)


def next_step(steps: Iterator[Step]) -> Step | None:
    """Run the next step (None when the visit has ended)."""
    return next(steps, None)


def step_work(steps: Iterator[Step], browser) -> Callable:
    """One step of a visit stepped through; a cancelled step closes its browser's sockets
    from this thread, the one using them."""
    def work(job):
        try:
            return next_step(steps)
        finally:
            if job.cancelled and browser is not None:
                browser.close()

    return work


def cold_warm_work(typed: str, browser) -> Callable:
    from ...engine.nettrace.visit import cold_warm

    def work(job):
        try:
            return cold_warm(typed, browser, cancel=job, on_visit=job.report)
        finally:
            browser.close()

    return work


def repeat_work(typed: str, browser, count: int) -> Callable:
    from ...engine.nettrace.visit import run_visit

    def work(job):
        visits = []
        try:
            for _ in range(count):
                visit = run_visit(typed, browser, cancel=job)
                visits.append(visit)
                job.report(visit)
                if not visit.ok:
                    break
        finally:
            browser.close()
        return visits

    return work


def series_work(name: str, typed: str, browser, repeats: int) -> tuple[str, Callable, int]:
    """Cold/warm (`coldwarm`) or N repeats (`repeat`) with a fresh `browser`: the status
    line's words, the work, and the visits wanted (repeats only)."""
    if name == "coldwarm":
        return "cold, warm, new connection…", cold_warm_work(typed, browser), 0
    return f"{repeats} visits…", repeat_work(typed, browser, repeats), repeats


# -- which keys work now ---------------------------------------------------------------------


def key_allowed(action: str, *, busy: bool, stepper: VisitStepper | None, view: str, demo,
                demo_names: list[str], typed: Callable[[], str]) -> bool | None:
    """Whether the key for `action` does something now (`busy`: a job runs); None when the
    screen's own keys do not decide it."""
    if action == "cancel":
        return busy or (stepper is not None and not stepper.finished)
    if action in ("visit", "step_visit", "cold_warm", "repeat"):
        return not busy or action == "visit"
    if action == "demo":
        return bool(demo_names)
    if action == "trust":
        return demo is not None and is_demo_url(typed())
    if action == "forget":
        return not busy
    if action == "repeats":
        return view == "percentiles" and not busy
    if action.startswith("playback_"):
        return stepper is not None and view == "waterfall"
    return None
