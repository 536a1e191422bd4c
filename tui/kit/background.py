"""Background work kept out of the UI's way: job threads with a lower CPU priority, and worker
processes for work that holds the GIL.

A job's thread (`jobs.Jobs.start`) runs JOB_NICENESS nicer than the UI thread, and so do the
threads it starts (Linux: a thread has its own nice value and passes it on), so on a busy
machine the scheduler serves the UI first: a burst on every core no longer takes the core the
UI needs. Work that holds the GIL, a plain-Python loop, runs in `process_pool()`'s worker
processes instead (`JobContext.in_process`, or an engine function that takes an executor).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import resource_tracker
from typing import Any, TypeVar

Result = TypeVar("Result")

JOB_NICENESS = 10  # job threads and worker processes run this much "nicer" than the UI


def lower_thread_priority() -> int | None:
    """Make the calling thread JOB_NICENESS nicer (Linux only: there a thread has its own nice
    value, and threads it starts inherit it); its previous value, None where unsupported."""
    if not sys.platform.startswith("linux"):
        return None  # elsewhere PRIO_PROCESS with a thread id would name a process
    thread = threading.get_native_id()
    try:
        before = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(before + JOB_NICENESS, 19))
    except OSError:
        return None
    return before


def restore_thread_priority(before: int | None) -> None:
    """Give the calling thread back its nice value (job threads are pooled and reused).
    Raising a priority may need a privilege: without it the thread stays nice, which only
    other jobs' work (nice anyway) ever runs on."""
    if before is None:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), before)
    except OSError:
        pass


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def process_pool() -> Executor:
    """The app's worker processes, started on first use (up to one per core, each
    JOB_NICENESS nicer than the UI): for work that holds the GIL. Engine code that takes an
    executor (a plain-Python burst's pieces) can be handed this; jobs use
    `JobContext.in_process`."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _start_resource_tracker()
            # spawn: a fork of this many-threaded process could copy a lock held mid-update.
            _pool = ProcessPoolExecutor(max_workers=_cores(),
                                        mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_start_worker_process,
                                        initargs=(_worker_niceness(),))
        return _pool


def _cores() -> int:
    """The cores this process's work may use (fewer when served: engine/cores.py)."""
    from ...engine.cores import usable_cores

    return usable_cores()


def submit_to_process(function: Callable[..., Result], *args: Any) -> Future[Result]:
    """`process_pool().submit(...)`; a pool broken by a lost worker process is replaced."""
    global _pool
    try:
        return process_pool().submit(function, *args)
    except BrokenProcessPool:
        with _pool_lock:
            broken, _pool = _pool, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)
        return process_pool().submit(function, *args)


def _start_resource_tracker() -> None:
    """multiprocessing starts a resource tracker with the first pool, handing it
    sys.stderr's file descriptor; a Textual app replaces sys.stderr with an object that has
    none, so the tracker is started here with /dev/null instead (it only ever warns)."""
    with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):
        resource_tracker.ensure_running()


def _worker_niceness() -> int | None:
    """The nice value for worker processes: the UI's + JOB_NICENESS (on Linux the process id
    names the main thread, the UI's, wherever this is called from)."""
    if not hasattr(os, "getpriority"):
        return None
    return min(os.getpriority(os.PRIO_PROCESS, os.getpid()) + JOB_NICENESS, 19)


def _start_worker_process(niceness: int | None) -> None:
    if niceness is not None:
        # Absolute, not os.nice(): a process started from a job thread inherits its niceness.
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    # The terminal belongs to the UI: a worker must not draw on it or read its keys.
    devnull = os.open(os.devnull, os.O_RDWR)
    for stream in (0, 1, 2):
        os.dup2(devnull, stream)
