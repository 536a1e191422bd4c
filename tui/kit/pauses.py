"""Short pauses on the UI thread: two process-wide settings that a key would otherwise wait on.

**The garbage collector.** CPython's full collection (generation 2) walks every tracked object,
and a Textual app holds 100,000–300,000 of them: widgets, styles, cached lines, a screen's data.
On a 2-core box one full collection held the UI thread for 30–190 ms, and one ran about every
second while objects kept surviving their first collections (a modal opening and closing, a
replay playing). A key pressed then waited for it: most of the key-to-frame p95 of `bench
responsiveness`. Nearly all of those objects live as long as the screen that made them, so once
a screen has drawn its first frame, `settle_garbage()` collects everything (one pause, when the
screen has just appeared) and freezes what survives (`gc.freeze`): later collections skip those
objects and take milliseconds. The next screen's call unfreezes first, so a cycle that died in
between (a reset screen's widgets) is collected then, one screen later, and never kept for good.

A full collection still runs by itself when enough objects reach the oldest generation, and
after the first one CPython measures "enough" against what that collection kept, the few
unfrozen objects, so one came every ten collections of the middle generation (about every fifth
`?` under a Pi burst), each holding the UI thread 5–8 ms. FULL_COLLECTION_EVERY makes them ten
times rarer; what they would collect is cyclic garbage made since the screen appeared, which
waits a little longer (the next screen's settle collects it too).

**The GIL's switch interval.** A thread that wants the GIL waits up to the switch interval
(5 ms by default) before the holder is asked to let go. The UI thread, Textual's input thread
(a key) and its output thread (a frame's bytes) take turns with each other and with the jobs'
Python code many times per key, so the wait adds up: a frame reached the terminal 3.5–7.7 ms
(median) after Textual queued it while a replay or the Pi animation ran, 0.3–1.4 ms with
SWITCH_INTERVAL. Threads that never wait (numpy releases the GIL) lose nothing.

Neither applies to a headless app (tests, snapshots): nobody waits on its keys, and a test
process's heap, holding what earlier tests left, made each full collection cost ~0.4 s.
"""

from __future__ import annotations

import gc
import sys

from textual.app import App

SWITCH_INTERVAL = 0.001  # seconds
FULL_COLLECTION_EVERY = 100  # middle-generation collections (CPython's default: 10)


def keep_pauses_short(app: App) -> None:
    """Apply both settings (not headless); called when a screen has drawn its first frame."""
    if app.is_headless:
        return
    sys.setswitchinterval(SWITCH_INTERVAL)
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
    settle_garbage()


def settle_garbage() -> None:
    """Collect all garbage, then leave every surviving object out of later collections."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
