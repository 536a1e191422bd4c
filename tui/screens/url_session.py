"""What the URL screen keeps between key presses, apart from widgets: the browser it visits
with (kept warm between visits, replaced when the settings change), a visit being stepped
through (its step generator and cancel flag), and the visit on show with what the screen
measured (`VisitState`, with its transitions). No widgets here."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from ...engine.nettrace.steps import Step, Visit
from . import url_view as view


class BrowserSlot:
    """The screen's browser. A job still using it closes it itself when cancelled (two threads
    must never share its sockets): `drop` only lets go of it."""

    def __init__(self) -> None:
        self.browser = None
        self.key: tuple | None = None

    def get(self, typed: str, options: view.Options, demo, fresh: bool = False):
        """The browser for `typed`: the demo's settings for a demo.test host; `fresh` gives a
        new one that is not kept (cold/warm and repeats start cold)."""
        key, settings = view.browser_settings(typed, options, demo)
        if fresh:
            return view.new_browser(settings)
        if self.browser is None or self.key != key:
            self.close()
            self.browser, self.key = view.new_browser(settings), key
        return self.browser

    def drop(self) -> None:
        self.browser, self.key = None, None

    def forget(self) -> None:
        """A cold browser next time: connections, sessions and caches forgotten."""
        if self.browser is not None:
            self.browser.forget_everything()
        self.drop()

    def close(self) -> None:
        if self.browser is not None:
            self.browser.close()


class SteppedVisit:
    """A visit run one step per key: the generator, its cancel flag and the Visit it fills."""

    def __init__(self, typed: str, browser) -> None:
        self.cancel = threading.Event()
        self.visit: Visit
        self.steps: Iterator[Step] | None
        self.visit, self.steps = view.step_iterator(typed, browser, self.cancel)
        self.browser = browser

    @property
    def running(self) -> bool:
        return self.steps is not None

    def stop(self) -> None:
        self.cancel.set()
        self.steps = None


JOBS = ("visit", "step", "coldwarm", "repeat")
BROWSER_JOBS = ("visit", "step")  # the jobs that use the screen's own browser
SERIES_FIELDS = {"coldwarm": "compare", "repeat": "repeats"}  # where the Book keeps each


class VisitState:
    """The visit on show and what the screen measured: the stepper the playback keys drive,
    the book, a visit stepped through one step per `n`, the browser, and what a job is doing
    (the status line's words)."""

    def __init__(self) -> None:
        self.book = view.Book()
        self.browsers = BrowserSlot()
        self.stepper: view.VisitStepper | None = None
        self.stepped: SteppedVisit | None = None
        self.running = ""

    def stop_jobs(self, jobs) -> None:
        """Cancel every job of the screen's; a visit stepped through ends here (nothing more to
        run). A job using the screen's browser closes it itself: it is only let go of here."""
        for name in JOBS:
            if jobs.running(name):
                jobs.cancel(name)
                if name in BROWSER_JOBS:
                    self.browsers.drop()
        if self.stepped is not None:
            if self.stepped.running and self.stepper is not None:
                self.stepper.finish()
            self.stepped.stop()
            self.stepped = None

    def release(self, jobs) -> None:
        """The screen goes: every job cancelled; an idle browser closed here (a job still
        reading from its sockets closes them itself: two threads never share a connection)."""
        owner_busy = any(jobs.running(name) for name in BROWSER_JOBS)
        jobs.cancel_all()
        if not owner_busy:
            self.browsers.close()

    def begin(self, stepper: view.VisitStepper, running: str | None = None) -> view.VisitStepper:
        """A new visit on show, its steps still to come (`running`: the status line's words)."""
        self.book.visit, self.stepper = None, stepper
        if running is not None:
            self.running = running
        return stepper

    def replay(self, visit: Visit) -> view.VisitStepper:
        """A finished visit on show, every step."""
        self.stepper = view.VisitStepper()
        for step in visit.steps:
            self.stepper.add(step)
        self.book.visit = visit
        return self.stepper

    def arrived(self, step: Step) -> bool:
        """A step of a live visit came (True: it is on show)."""
        if self.stepper is None:
            return False
        self.stepper.add(step)
        return True

    def finish(self, visit: Visit) -> None:
        self.running = ""
        self.book.visit = visit
        self.book.visits_done += 1
        if self.stepper is not None:
            self.stepper.finish()

    def step_done(self, step: Step | None) -> Visit | bool:
        """The next step of a visit stepped through came back: True when it joined the steps
        shown (after a failed step, the next `n` ends the visit), the Visit when the visit
        ended (to record), False when there is nothing to show."""
        self.running = ""
        if self.stepper is None:
            return False
        if step is not None:
            self.stepper.add(step)
            return True
        self.stepper.finish()
        if self.stepped is None:
            return False
        visit, self.stepped = self.stepped.visit, None
        return visit

    def stopped(self, stepped_too: bool = False) -> None:
        """Nothing runs any more (stopped, or a step failed); what ran so far is kept."""
        self.running = ""
        if stepped_too:
            self.stepped = None
        if self.stepper is not None:
            self.stepper.finish()

    def begin_series(self, name: str, running: str, wanted: int = 0) -> None:
        """Cold/warm (`coldwarm`) or N repeats (`repeat`) starts: its visits so far, none."""
        self.running = running
        if name == "coldwarm":
            self.book.compare = []
        else:
            self.book.repeats, self.book.repeats_wanted = [], wanted

    def series_arrived(self, name: str, visit: Visit) -> None:
        if name == "coldwarm":
            self.book.compare.append(visit)
        else:
            self.book.repeats.append(visit)
            self.running = f"visit {len(self.book.repeats)}/{self.book.repeats_wanted}"

    def series_done(self, name: str, visits: list[Visit]) -> None:
        self.running = ""
        setattr(self.book, SERIES_FIELDS[name], list(visits))
