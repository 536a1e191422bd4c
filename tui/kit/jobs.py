"""One way to run engine work off the UI thread: a job per name, tagged with a generation.

A screen starts work with `self.jobs.start(name, work, on_done=..., on_progress=...)`. The work
runs in a Textual thread worker and talks back only through typed messages posted to the
screen (`JobProgress`, `JobDone`, `JobFailed`); `Jobs.deliver` is the one place that drops what
is stale:

* a result of an older run of the same job (a newer `start` or a `cancel` bumped the
  generation), or of a screen that has gone;
* progress after the job ended.

Progress is coalesced: `report()` only replaces the pending value until the UI thread has taken
the previous one, so a fast producer never floods the message queue and the screen draws at
its own pace, never waiting on a timer tick (`keep="all"` hands over every value instead, for
streams such as training snapshots where none may be lost).

An exception that the screen did not expect (anything but `expected`) becomes a visible note
(`notify`, severity error) instead of taking the app down.

Work stays out of the way of the keys (`background.py`). A job's thread runs at a lower CPU
priority than the UI thread (Linux; the threads it starts inherit it, e.g. a burst on every
core), so on a busy machine the scheduler serves the UI first. Work that holds the GIL (a
plain-Python loop) goes to a worker process with `context.in_process(function, *args)` (or,
for engine code that takes an executor, `background.process_pool()`): on a thread it would
take the GIL back after every switch interval, and the UI thread hands the GIL over dozens of
times per key (measured: a plain-Python Pi animation held `?` → frame at p95 173 ms; from a
worker process, ~50 ms).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import wait as wait_for_futures
from dataclasses import dataclass, field
from typing import Any, Literal

from textual.message import Message
from textual.worker import Worker, get_current_worker

from .background import (
    Result,
    lower_thread_priority,
    restore_thread_priority,
    submit_to_process,
)

PROCESS_POLL_SECONDS = 0.05  # how often a job waiting on a worker process checks for a cancel


class JobCancelled(Exception):
    """Raised by `JobContext.check()` inside work whose job was cancelled or superseded."""


class JobContext:
    """What the work function receives: cancellation and progress reporting."""

    def __init__(self, jobs: Jobs, name: str, generation: int, keep: str) -> None:
        self._jobs = jobs
        self.name = name
        self.generation = generation
        self._keep = keep
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pending: list[Any] = []
        self._posted = False
        self.worker: Worker | None = None

    @property
    def cancelled(self) -> bool:
        """True once the job was cancelled, superseded, or its screen went away."""
        worker = self.worker
        return self._stop.is_set() or (worker is not None and worker.is_cancelled)

    def is_set(self) -> bool:
        """`cancelled`, spelt as a threading.Event: engine loops take `cancel=context`."""
        return self.cancelled

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking early on cancel; True when cancelled."""
        return self._stop.wait(seconds) or self.cancelled

    def check(self) -> None:
        """Raise JobCancelled when cancelled (a convenient exit from deep loops)."""
        if self.cancelled:
            raise JobCancelled

    def in_process(self, function: Callable[..., Result], /, *args: Any) -> Result:
        """`function(*args)` in a worker process (`background.process_pool()`), off this
        process's GIL;
        its result. Both must pickle (a module-level function, plain data). On a cancel this
        stops waiting (JobCancelled); a call already running finishes in its process."""
        future = submit_to_process(function, *args)
        while not wait_for_futures([future], timeout=PROCESS_POLL_SECONDS).done:
            if self.cancelled:
                future.cancel()
                raise JobCancelled
        return future.result()

    def report(self, value: Any) -> None:
        """Hand `value` to the screen's on_progress (coalesced; see the module docstring)."""
        if self.cancelled:
            return
        with self._lock:
            if self._keep == "all":
                self._pending.append(value)
            else:
                self._pending = [value]
            if self._posted:
                return
            self._posted = True
        self._jobs.post(JobProgress(self.name, self.generation))

    def take(self) -> list[Any]:
        """The values reported since the last take (UI thread)."""
        with self._lock:
            values, self._pending, self._posted = self._pending, [], False
        return values


class JobMessage(Message):
    """From job `name`'s run `generation`; Jobs.deliver drops it when that run is stale."""

    def __init__(self, name: str, generation: int) -> None:
        super().__init__()
        self.name = name
        self.generation = generation


class JobProgress(JobMessage):
    """New progress (the values wait in the run's context, coalesced)."""


class JobDone(JobMessage):
    def __init__(self, name: str, generation: int, result: Any) -> None:
        super().__init__(name, generation)
        self.result = result


class JobFailed(JobMessage):
    def __init__(self, name: str, generation: int, error: BaseException) -> None:
        super().__init__(name, generation)
        self.error = error


@dataclass
class _Run:
    context: JobContext
    on_done: Callable[[Any], None] | None
    on_progress: Callable[[Any], None] | None
    on_failed: Callable[[BaseException], None] | None
    expected: tuple[type[BaseException], ...]
    keep: str
    worker: Worker | None = field(default=None)


class Jobs:
    """The jobs of one screen (or modal). Messages go to `owner`, which must route its
    `on_job_progress` / `on_job_done` / `on_job_failed` handlers to `deliver` (the kit's
    screens do)."""

    def __init__(self, owner) -> None:
        self.owner = owner
        self._runs: dict[str, _Run] = {}
        self._generations: dict[str, int] = {}

    def start(
        self,
        name: str,
        work: Callable[[JobContext], Any],
        *,
        on_done: Callable[[Any], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
        on_failed: Callable[[BaseException], None] | None = None,
        expected: tuple[type[BaseException], ...] = (),
        keep: Literal["latest", "all"] = "latest",
    ) -> JobContext:
        """Run `work(context)` in a thread; any earlier run of `name` is cancelled and its
        results dropped. on_progress gets each reported value (`keep="all"`: each one, in
        order); on_done the return value; on_failed an `expected` exception. Callbacks run on
        the UI thread, only for the newest run, only while the owner is attached."""
        self.cancel(name)
        generation = self._generations.get(name, 0) + 1
        self._generations[name] = generation
        context = JobContext(self, name, generation, keep)
        run = _Run(context, on_done, on_progress, on_failed, expected, keep)
        self._runs[name] = run

        def body() -> None:
            context.worker = get_current_worker()
            priority = lower_thread_priority()
            try:
                result = work(context)
            except JobCancelled:
                return
            except BaseException as error:  # noqa: BLE001 - every failure becomes a message
                if not context.cancelled:
                    self.post(JobFailed(name, generation, error))
                return
            finally:
                restore_thread_priority(priority)
            if not context.cancelled:
                self.post(JobDone(name, generation, result))

        run.worker = self.owner.run_worker(
            body, name=f"job:{name}", group=f"job:{name}", thread=True, exit_on_error=False
        )
        return context

    def running(self, name: str) -> bool:
        return name in self._runs

    def cancel(self, name: str) -> None:
        """Stop job `name` (if running); nothing it sends afterwards reaches the screen."""
        run = self._runs.pop(name, None)
        if run is None:
            return
        run.context._stop.set()
        if run.worker is not None:
            run.worker.cancel()

    def cancel_all(self) -> None:
        for name in list(self._runs):
            self.cancel(name)

    def post(self, message: Message) -> None:
        """From any thread: queue a message for the owner (dropped if it has closed)."""
        self.owner.post_message(message)

    def deliver(self, message: JobProgress | JobDone | JobFailed) -> None:
        """Route one job message to its callback, or drop it when stale (UI thread)."""
        message.stop()
        run = self._runs.get(message.name)
        if run is None or run.context.generation != message.generation:
            return
        if not self.owner.is_attached:
            return
        # Waiting progress is older than any result: it is handed over first. The context
        # holds only the newest value unless the job keeps them all.
        values = run.context.take()  # taken even unread, so nothing piles up
        if run.on_progress is not None:
            for value in values:
                run.on_progress(value)
        if isinstance(message, JobProgress):
            return
        del self._runs[message.name]
        if isinstance(message, JobDone):
            if run.on_done is not None:
                run.on_done(message.result)
            return
        assert isinstance(message, JobFailed)
        error = message.error
        if run.on_failed is not None and isinstance(error, run.expected):
            run.on_failed(error)
        else:
            self.owner.notify(unexpected_note(message.name, error), severity="error",
                              timeout=8)


def unexpected_note(name: str, error: BaseException) -> str:
    """One line for an error nobody planned for: the job, the type, the first line."""
    lines = str(error).strip().splitlines()
    detail = f": {lines[0]}" if lines else ""
    return f"{name} failed — {type(error).__name__}{detail}"


class JobsMixin:
    """Gives a Screen (or ModalScreen) `self.jobs` and routes the job messages to it; every job
    is cancelled when the screen is removed."""

    @property
    def jobs(self) -> Jobs:
        jobs = self.__dict__.get("_jobs")
        if jobs is None:
            jobs = self.__dict__["_jobs"] = Jobs(self)
        return jobs

    def on_job_progress(self, message: JobProgress) -> None:
        self.jobs.deliver(message)

    def on_job_done(self, message: JobDone) -> None:
        self.jobs.deliver(message)

    def on_job_failed(self, message: JobFailed) -> None:
        self.jobs.deliver(message)

    def on_unmount(self) -> None:
        self.jobs.cancel_all()
