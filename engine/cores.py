"""How many cores this process's heavy work may use: the ones it may run on, or fewer when the
interview server caps each served app's share (so one user's burst cannot starve the rest)."""

from __future__ import annotations

import os

MAX_CORES_ENV = "MICROGPT_TUI_MAX_CORES"  # set by `microgpt-tui serve` for the apps it runs


def usable_cores() -> int:
    """The cores this process may run on, at most MICROGPT_TUI_MAX_CORES when that is set."""
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    cap = os.environ.get(MAX_CORES_ENV, "")
    if cap.isdigit() and int(cap) >= 1:
        cores = min(cores, int(cap))
    return max(cores, 1)
