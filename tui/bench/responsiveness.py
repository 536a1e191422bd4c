"""Responsiveness: key-to-frame latency in an 80×24 pty while each screen's heaviest work runs.

What is timed is what a user sees. The bench writes `?` to the pty and stops the clock when the
bytes of the frame that shows the help arrive back on the pty: the help's title, "Keys — …",
one styled run of text, so it arrives as contiguous bytes of the frame that draws the modal.
The time includes everything between a finger and an eye except the terminal's own drawing:
Textual's input thread, the key's trip through the message queue, the modal's compose, layout
and render, and the write to the terminal, all while the load competes for the UI thread, the
GIL and the two cores. (Timestamps taken inside the app would miss the input thread and the
write, which are where a busy GIL shows.)

Then Esc closes the help (not timed) and the next press waits until the probe app
(`probe_app.py`) reports the help gone and the load running again: a burst, training run or
replay that ended, or a Pi animation paused by the modal covering it, is started again with
that load's own keys. Presses are spaced by a random 0.1–0.3 s so they do not lock to the
animations' 12 frames a second. Each load runs in a fresh app (a screen's work goes on after
leaving it), and its first press is a warm-up that imports the help modal, not counted.

Loads: idle on home; Pi animating at 10^6 darts a frame (numpy) and in plain-Python mode; a Pi
burst to 10^9 darts on every core; MicroGPT training on the NumPy engine; a CUDA kernel replay
playing. Goal (issue 10): p95 ≤ 50 ms under every load.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .probe_app import PROBE_APP_CODE, STATE_PROBE_ENV, read_state
from .pty_app import PtyApp
from .runner import Benchmark, Measurement

HELP_KEY = "?"
HELP_TITLE = "Keys —".encode()  # the first words of the help's title, as the pty carries them
HELP_SCREEN = "HelpScreen"
ESCAPE, TAB, ENTER = "\x1b", "\t", "\r"
CLEAR_INPUT = "\x01\x0b"  # ctrl+a (to the start), ctrl+k (delete to the end)
FOCUS_TRIES = 40  # Tab presses to reach a field before giving up
LIMIT_SECONDS = 0.050  # issue 10: p95 ≤ 50 ms
FRAME_TIMEOUT = 10.0  # a press whose frame takes longer than this is reported as a failure
START_TIMEOUT = 30.0  # opening a screen, loading a kernel, starting the work
START_TRIES = 3  # the start keys are pressed again if the work has not started in 10 s
MAX_SPEED = "+" * 25  # more presses than any speed list is long: + stops at the fastest


@dataclass(frozen=True)
class Load:
    """A screen's work to measure under: how to open it and how to (re)start the work."""

    name: str  # short: the report's label column is narrow
    described: str  # the load in full, for the report's details line
    screen: str  # the screen class the probe app must report once it is open
    open_keys: tuple[str, ...] = ()  # from home; the app settles after each
    setup_keys: tuple[str, ...] = ()  # on the screen, before the work starts
    start_keys: tuple[str, ...] = ()  # start the work again whenever it is not running
    fields: tuple[tuple[str, str], ...] = ()  # (part of an Input's id, text to type) first


LOADS = (
    Load("idle", "home screen, nothing running", "HomeScreen"),
    Load("Pi animating", "Pi animating at 10^6 darts a frame (numpy, every core)", "PiScreen",
         ("3",), (MAX_SPEED,), (" ",)),
    Load("Pi plain Python", "Pi animating at 10^6 darts a frame in plain-Python mode",
         "PiScreen", ("3",), ("mm", MAX_SPEED), (" ",)),
    # A burst to 10^9 ends within seconds; R (reset this screen) brings the tally back to 0.
    Load("Pi burst", "Pi burst to 10^9 darts on every core", "PiScreen", ("3",), (),
         ("R", "9")),
    # Its default 1,000 steps last a third of a second: a million outlast the measurement.
    Load("training", "MicroGPT training on the NumPy engine, 10^6 steps", "TrainingScreen",
         ("5", "]"), (), ("s",), fields=(("steps", "1000000"),)),
    Load("CUDA replay", "CUDA kernel replay playing at its fastest speed", "CudaScreen",
         ("6",), (MAX_SPEED,), (" ",)),
    # p50/p95 of 50 visits to the loopback internet, whose servers run in the app's process:
    # TLS handshakes, HTTP/2 and DNS on both ends, started again whenever they end.
    Load("URL visits", "URL screen: 50 visits to the loopback internet (client and servers "
         "in the app)", "UrlScreen", ("4",), ("t", "5", "+", "+"), ("p",)),
)


def key_to_frame(app: PtyApp, key: str, marker: bytes, timeout: float = FRAME_TIMEOUT) -> float:
    """Seconds from writing `key` to the pty until the output carrying `marker` arrives."""
    sent = time.perf_counter()
    app.press(key)
    return app.read_until(marker, timeout) - sent


class Session:
    """The probe app in an 80×24 pty, and what its state probe last reported."""

    def __init__(self, app: PtyApp, state_file: Path) -> None:
        self.app = app
        self.state_file = state_file

    def state(self) -> dict:
        return read_state(self.state_file) or {}

    def wait_for(self, condition, timeout: float) -> bool:
        """Drain the pty until the probe's state satisfies `condition` (False: time ran out)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state()
            if state and condition(state):
                return True
            self.app.read_for(0.02)
        return False

    def expect(self, condition, what: str, timeout: float = START_TIMEOUT) -> None:
        """wait_for, or a RuntimeError saying `what` went wrong and what the app shows."""
        if not self.wait_for(condition, timeout):
            raise self.failure(what)

    def failure(self, what: str) -> RuntimeError:
        """An error saying `what` went wrong, with what the app reports and last wrote."""
        return RuntimeError(
            f"{what} (the app reports {self.state() or 'nothing'}; "
            f"its last output: {self.app.last_words()})"
        )

    def press_each(self, keys: tuple[str, ...], settle: bool) -> None:
        for group in keys:
            self.app.press(group)
            if settle:
                self.app.settle(quiet=0.3, limit=START_TIMEOUT)
            else:
                self.app.read_for(0.1)


def running(state: dict) -> bool:
    """The screen's work runs: its playback plays or a worker computes."""
    return bool(state.get("playing")) or state.get("workers", 0) > 0


def prepare(session: Session, load: Load) -> None:
    session.expect(lambda s: s["screen"] == "HomeScreen", "the app did not start")
    session.press_each(load.open_keys, settle=True)
    session.expect(lambda s: s["screen"] == load.screen and not s["workers"],
                   f"{load.screen} did not open, or its loading never finished")
    for id_part, text in load.fields:
        fill_field(session, id_part, text)
    session.press_each(load.setup_keys, settle=True)


def fill_field(session: Session, id_part: str, text: str) -> None:
    """Tab to the Input whose id holds `id_part`, replace its text, and press Enter."""
    for _ in range(FOCUS_TRIES):
        if id_part in (session.state().get("focused") or ""):
            break
        session.app.press(TAB)
        session.app.read_for(0.1)
    else:
        raise RuntimeError(f"Tab never reached a field named like {id_part!r}")
    session.press_each((CLEAR_INPUT, text, ENTER), settle=True)


def keep_running(session: Session, load: Load) -> None:
    """Start the load's work again if it has stopped, and wait until it runs."""
    if not load.start_keys or running(session.state()):
        return
    # Pressed again only after a pause: a toggle pressed twice would stop what it started.
    for _ in range(START_TRIES):
        session.press_each(load.start_keys, settle=False)
        if session.wait_for(lambda s: s["screen"] == load.screen and running(s),
                            START_TIMEOUT / START_TRIES):
            return
    keys = " then ".join(repr(k) for k in load.start_keys)
    raise session.failure(f"no work started after {keys}, pressed {START_TRIES} times")


def one_press(session: Session, load: Load, rng: random.Random) -> float:
    keep_running(session, load)
    session.app.read_for(rng.uniform(0.1, 0.3))
    seconds = key_to_frame(session.app, HELP_KEY, HELP_TITLE)
    session.expect(lambda s: s["screen"] == HELP_SCREEN, "the help did not open")
    session.app.press(ESCAPE)
    session.expect(lambda s: s["screen"] == load.screen, "Esc did not close the help")
    return seconds


@contextmanager
def probe_session(load: Load) -> Iterator[Session]:
    """The probe app in its pty with `load`'s screen open and prepared; closed on exit."""
    shared_memory = Path("/dev/shm")  # the probe's writes stay off the disk where it can
    with tempfile.TemporaryDirectory(dir=shared_memory if shared_memory.is_dir() else None) as tmp:
        state_file = Path(tmp) / "state"
        app = PtyApp(PROBE_APP_CODE, env={STATE_PROBE_ENV: str(state_file)})
        try:
            session = Session(app, state_file)
            prepare(session, load)
            yield session
        finally:
            app.close()


def measure_load(load: Load, presses: int, seed: int = 0) -> list[float]:
    """Seconds from `?` to the help's frame, `presses` times, with `load` running."""
    rng = random.Random(seed)
    with probe_session(load) as session:
        one_press(session, load, rng)  # warm-up: the first `?` imports the help modal
        return [one_press(session, load, rng) for _ in range(presses)]


def run(rounds: int) -> list[Measurement]:
    results = []
    for load in LOADS:
        measurement = Measurement(
            label=load.name,
            what=f"key to frame: `?` to the help's frame in an 80×24 pty; {load.described}",
            unit="s",
            limit=LIMIT_SECONDS,
            at_most=True,
            percentile=95,
        )
        try:
            measurement.samples = measure_load(load, rounds)
        except (RuntimeError, TimeoutError) as error:
            measurement.note = f"not measured: {load.name}: {error}"
        results.append(measurement)
    return results


BENCHMARK = Benchmark(name="responsiveness", default_rounds=20, run=run)
