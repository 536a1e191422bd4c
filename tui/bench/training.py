"""MicroGPT training in the app vs the same training headless (issue 16: ≥ 90%).

Ours: the app in an 80×24 pty (the probe app, started as `microgpt-tui` is), its Training
screen training 10^6 steps of the default model on the NumPy engine at full speed; the rate is
the steps its screen reports over a window, read through the state probe. Peer: the same
configuration and data trained headless in this process, as `microgpt-tui train` trains
(`Trainer.train_step` in a loop). While one is measured the other is idle (the app's run is
paused), so neither takes the other's core; the windows alternate, round by round.

The probe reports the screen's step every 50 ms and the app applies snapshots every 0.1 s:
over a WINDOW-second window those lags move the rate by about 2% either way, and they cancel
on average. Keys during training are measured by `bench responsiveness` (its training load).
"""

from __future__ import annotations

import time

from ...engine.data import load_names
from ...engine.microgpt.config import Config
from ...engine.microgpt.trainer import Trainer
from .responsiveness import Load, Session, probe_session
from .runner import Benchmark, Comparison, Goal, side_by_side

STEPS = 1_000_000
WINDOW = 8.0  # seconds per sample, both sides
SETTLE = 1.0  # seconds after resuming before the window opens
GOAL = Goal(0.9, "in-app ≥ 90% of headless")
LOAD = Load("training", "", "TrainingScreen", ("5", "]"), fields=(("steps", str(STEPS)),))


def headless_rate(trainer: Trainer) -> float:
    """Steps per second of `trainer.train_step()` over one window."""
    start = time.perf_counter()
    steps = 0
    while time.perf_counter() - start < WINDOW:
        trainer.train_step()
        steps += 1
    return steps / (time.perf_counter() - start)


class InApp:
    """The app training in its pty; `rate()` resumes it, measures a window and pauses it."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def state(self, key: str):
        return self.session.state().get(key)

    def start(self) -> None:
        self.session.app.press("s")
        self.session.expect(lambda s: s.get("train_state") == "running" and s.get("step", 0) > 0,
                            "training did not start")
        self.pause()

    def pause(self) -> None:
        self.session.app.press("p")
        self.session.expect(lambda s: s.get("train_state") == "paused", "training did not pause")

    def rate(self) -> float:
        self.session.app.press("p")
        self.session.expect(lambda s: s.get("train_state") == "running", "training did not resume")
        self.session.app.read_for(SETTLE)
        first, start = self.state("step"), time.perf_counter()
        self.session.app.read_for(WINDOW)
        last, end = self.state("step"), time.perf_counter()
        self.pause()
        return (last - first) / (end - start)


def run(rounds: int) -> list[Comparison]:
    config = Config(num_steps=STEPS)  # the Training screen's defaults but for the steps
    comparison = Comparison(
        label="NumPy engine, default model",
        ours="the app in an 80×24 pty, full speed (steps/s its screen shows advancing)",
        peer="the same run headless (Trainer.train_step in a loop, this process)",
        unit="steps/s",
        goal=GOAL,
    )
    trainer = Trainer(load_names(None).names, config)
    with probe_session(LOAD) as session:
        in_app = InApp(session)
        in_app.start()
        side_by_side(comparison, in_app.rate, lambda: headless_rate(trainer), rounds)
    return [comparison]


BENCHMARK = Benchmark(name="training", default_rounds=5, run=run)
