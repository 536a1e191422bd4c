"""The URL screen's view-model: the steps of the visit on show, the stepper the playback keys
drive, and the words and pictures of each view. No widgets here; colours are theme variables.

The network work itself is the engine's (engine/nettrace); the functions here that run it
(`visit_work`, `step_work`, …) are what the screen hands its jobs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from rich.text import Text
from textual.content import Content

from ...engine.nettrace import report
from ...engine.nettrace.steps import PHASE_TITLES, Step, Visit
from ..kit.tabs import tabs_line as views_line
from ..widgets.timeline import Span, TimelineModel, TimelineRow

VIEWS = ("waterfall", "certificate", "http", "coldwarm", "percentiles")
VIEW_TITLES = {"waterfall": "Waterfall", "certificate": "Certificate", "http": "HTTP",
               "coldwarm": "Cold/warm", "percentiles": "p50/p95"}
TIMEOUTS = (1.0, 2.0, 5.0, 10.0, 30.0)  # what `o` walks through; 5 s is the default
REPEATS = (5, 10, 20, 50)  # visits for p50/p95


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


# -- drawing ---------------------------------------------------------------------------------


def tabs_line(current: str) -> Content:
    return views_line([VIEW_TITLES[name] for name in VIEWS], VIEWS.index(current), "v next")


def options_line(options: Options, demo, typed: str) -> Content:
    """What the next visit will use, in one line: the demo it is (and what it shows), or the
    real network."""
    parts: list[str | tuple[str, str]] = []
    named = next((u for u in demo.urls.values() if u.url == typed), None) if demo else None
    if demo is not None and is_demo_url(typed):
        parts.append((f"demo {named.name}" if named else "demo internet", "bold"))
        parts.append(" · CA " + ("trusted" if options.trust_demo else "not trusted") + " (t)")
        if named is not None:
            parts.append((f" · {named.shows}", "$text-muted"))
    elif demo is None:
        parts.append(("starting the demo internet…", "$text-muted"))
    else:
        parts.append(("the real network", "bold"))
    if options.insecure:
        parts.append((" · NOT verifying certificates (i)", "$warning"))
    parts.append(f" · timeout {options.timeout:g} s (o)")
    return Content.assemble(*parts)


def _label(step: Step) -> str:
    return (f"{step.hop}·" if step.hop else "") + PHASE_TITLES[step.phase]


def waterfall_model(stepper: VisitStepper) -> TimelineModel | None:
    """One row per step run so far; the steps after `position` are not shown (stepped back)."""
    shown = stepper.steps[:stepper.position]
    if not shown:
        return None
    end = max(step.end for step in stepper.steps)  # stepping back keeps the scale
    rows = []
    for index, step in enumerate(shown):
        state = "skip" if step.skipped else ("✗" if not step.ok else report.ms(step.elapsed))
        # A skipped step takes no time: a zero-width span still gets one column, at its start.
        rows.append(TimelineRow(_label(step), [Span(step.started, step.end, state, key=index)]))
    caption = f"{report.ms(end)} · step {stepper.position}/{len(stepper.steps)}"
    return TimelineModel(rows, max(end, 1e-6), selected=stepper.position - 1, caption=caption)


@dataclass(frozen=True)
class StepViews:
    """What the steps run so far show: the waterfall, the focused step's facts, the last
    certificate chain and the last HTTP exchange."""

    waterfall: TimelineModel | None
    detail: Text
    certificate: Text
    http: Text


def step_views(stepper: VisitStepper | None) -> StepViews:
    shown = stepper.steps[:stepper.position] if stepper is not None else []
    current = stepper.current if stepper is not None else None
    return StepViews(
        waterfall_model(stepper) if stepper is not None else None,
        detail_text(current, "Enter visits the URL above; s steps through it; d picks a demo."),
        certificate_text(shown), http_text(shown))


def detail_text(step: Step | None, hint: str) -> Text:
    if step is None:
        return Text(hint, style="dim")
    text = Text()
    text.append(report.headline(step).strip() + "\n", style="bold")
    lines = report.step_lines(step)
    text.append("\n".join(lines))
    return text


def last_step(visit_steps: list[Step], phase: str) -> Step | None:
    return next((s for s in reversed(visit_steps) if s.phase == phase and not s.skipped), None)


def certificate_text(steps: list[Step]) -> Text:
    step = last_step(steps, "tls")
    if step is None:
        return Text("No TLS handshake yet: visit an https:// URL (Enter).", style="dim")
    d = step.detail
    text = Text()
    text.append(report.headline(step).strip() + "\n", style="bold")
    for line in report.step_lines(step):
        text.append(line + "\n")
    if not d.get("chain"):
        text.append("The server showed no certificate.", style="dim")
    return text


def http_text(steps: list[Step]) -> Text:
    step = last_step(steps, "http")
    if step is None:
        return Text("No HTTP exchange yet: visit a URL (Enter).", style="dim")
    text = Text()
    text.append(report.headline(step).strip() + "\n", style="bold")
    text.append("\n".join(report.step_lines(step)))
    return text


def compare_text(visits: list[Visit], running: bool) -> Text:
    from ...engine.nettrace.visit import COLD_WARM

    if not visits:
        return Text("w visits the URL three times with one browser: cold; warm (the open "
                    "connection reused); a new connection (DNS cached, TLS resumed).",
                    style="dim")
    text = Text("\n".join(report.compare_lines(visits, COLD_WARM[:len(visits)])) + "\n")
    text.append("↺ TLS session resumed" + (" · running…" if running else ""), style="dim")
    failed = next((v for v in visits if not v.ok), None)
    if failed is not None:
        text.append(f"\nstopped: {failed.error or 'cancelled'}", style="bold")
    return text


def percentiles_text(book: Book, running: bool, wanted: int) -> Text:
    visits = book.repeats
    if not visits:
        return Text(f"p visits the URL N = {wanted} times with one browser (the first cold) "
                    "and gives p50/p95 per phase; +/- sets N.", style="dim")
    rows = report.phase_percentiles(visits)
    text = Text("\n".join(report.percentile_lines(rows)) + "\n")
    done = f"{len(visits)}/{book.repeats_wanted} visits"
    text.append(done + (" · running…" if running else " · nearest rank"), style="dim")
    failed = next((v for v in visits if not v.ok), None)
    if failed is not None:
        text.append(f"\nstopped: {failed.error or 'cancelled'}", style="bold")
    return text


def explanation(stepper: VisitStepper | None, view: str) -> str:
    step = stepper.current if stepper is not None else None
    if view == "certificate":
        return report.WHAT_IT_DOES["tls"]
    if view == "http":
        return report.WHAT_IT_DOES["http"]
    if view == "coldwarm":
        return ("A second visit is faster because of what the browser kept: the open "
                "connection (no DNS, TCP or TLS at all), the DNS answer (for its TTL), and the "
                "TLS session (a resumed handshake sends no certificate). ↺ marks a resumption.")
    if view == "percentiles":
        return ("The same URL visited N times: p50 is the typical visit, p95 the slow one "
                "(nearest rank: always a time that was measured). Phases skipped on warm "
                "visits are counted apart.")
    if step is None:
        return ("Enter visits the URL: every step runs for real and is timed. s steps through "
                "a new visit one step at a time (n runs the next, b goes back).\n\n"
                + report.WHAT_IT_DOES["parse"])
    state = "skipped" if step.skipped else ("failed" if not step.ok else report.ms(step.elapsed))
    here = [f"{PHASE_TITLES[step.phase]} ({state}): {step.error or step.title}"]
    here += report.light_lines(step.detail)
    return report.WHAT_IT_DOES[step.phase] + "\n\nHere: " + "\n".join(here)


def status_text(stepper: VisitStepper | None, visit: Visit | None, running: str,
                playback: Text) -> Text:
    if running:
        return Text.assemble(("● ", "bold"), running, "  (c stops)")
    if stepper is None:
        return Text("Enter: visit · s: step through · e: edit the URL · d: next demo",
                    style="dim")
    text = playback.copy()
    if visit is None and stepper.finished:
        text.append("  ✗ stopped")
    elif visit is not None and stepper.finished:
        failed = PHASE_TITLES.get(visit.failed_phase, "the visit")
        verdict = (f"✓ {report.ms(visit.total)}" if visit.ok else
                   "✗ stopped" if visit.cancelled else f"✗ {failed} failed")
        text.append("  " + verdict)
    elif not stepper.finished:
        text.append("  n runs the next step")
    return text
