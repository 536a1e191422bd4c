"""What the URL screen keeps between key presses, apart from widgets: the browser it visits
with (kept warm between visits, replaced when the settings change) and a visit being stepped
through (its step generator and cancel flag). No widgets here."""

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
