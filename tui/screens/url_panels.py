"""The URL screen's panels in words and pictures: the tabs and settings lines, the waterfall,
the step's facts, the certificate and HTTP views, cold/warm, p50/p95, the explanation and the
status line. No widgets here; colours are theme variables. The state they draw is url_view's.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.content import Content

from ...engine.nettrace import report
from ...engine.nettrace.steps import PHASE_TITLES, Step, Visit
from ..kit.tabs import tabs_line as views_line
from ..widgets.timeline import Span, TimelineModel, TimelineRow
from .url_view import VIEW_TITLES, VIEWS, Book, Options, VisitStepper, is_demo_url

PLAYBACK_WORDS = {  # the kit's playback keys in this screen's words: (description, shown)
    "playback_toggle": ("Play the steps", False),
    "playback_step(1)": ("Next step (runs it)", True),
    "playback_step(-1)": ("Previous step", False),
    "playback_jump(0)": ("First step", False),
    "playback_jump(1)": ("Last step", False),
}
HELP_NOTES = (
    "e edits the URL (Enter visits it, Esc leaves the field); d/D pick a demo of the "
    "loopback internet (no network needed). Enter visits: every step runs for real. s "
    "starts a visit that runs one step per n (→); b/← steps back, g/G first/last, Space "
    "plays. Views: 1 waterfall (the step's facts), 2 certificate chain, 3 HTTP (the bytes "
    "sent, the headers, HTTP/2 frames), 4 cold vs warm (w runs it), 5 p50/p95 (p runs N "
    "visits, +/- N). t trusts the demo CA, i skips verification, o the timeout, x forgets "
    "what the browser kept (the next visit is cold). c stops."
)


def record_line(visit: Visit) -> str:
    """The run log's line for a finished visit."""
    return f"url: {visit.typed} — " + (
        f"{visit.total * 1e3:.1f} ms" if visit.ok else visit.error)


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
