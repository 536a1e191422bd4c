"""Backprop: the MicroGPT-token preset (the real model's graph, ~5.5k nodes and ~18k edges)
from its key to the screen.

Measured in the app, headless at 80×24 (Textual's test driver: the same screen, jobs and
compositor, no terminal): from pressing `7` to the first frame that answers it (the progress
line of the job that builds and lays out the graph; goal ≤ 1 s), and to the graph on show.
The same build + layout without the app is the engine's share of the second.
"""

from __future__ import annotations

import asyncio
import time

from ...engine.backprop_presets import find_preset
from ...engine.backprop_stepper import GraphStepper
from ...engine.graph_layout import STYLES, layout_graph
from .runner import Benchmark, Measurement

SIZE = (80, 24)
POLL_SECONDS = 0.005
PROGRESS_WORDS = ("building", "numbering", "laying out")


async def _press_token_preset() -> tuple[float, float]:
    """Seconds from pressing 7 to the first frame with the job's progress line, and to the
    graph on show.

    The key is posted, not pressed through the Pilot: its press waits for the process to go
    idle, which a running job never lets it. The screen counts as drawn once the status line
    reads the job's progress and the screen has had its next refresh."""
    from textual import events
    from textual.widgets import Static

    from ..app import make_app

    app = make_app(size=SIZE)
    async with app.run_test(size=SIZE) as pilot:
        app.open_screen("backprop")
        screen = app.screen
        while screen.busy or screen.loaded is None:
            await pilot.pause(POLL_SECONDS)
        status = screen.query_one("#bp-status", Static)
        start = time.perf_counter()
        app.post_message(events.Key("7", "7"))
        first = None
        while True:
            await asyncio.sleep(POLL_SECONDS)
            shown = str(status.render())
            if first is None and any(word in shown for word in PROGRESS_WORDS):
                await asyncio.sleep(1 / 60)  # the refresh that draws it
                first = time.perf_counter() - start
            loaded = screen.loaded
            if not screen.busy and loaded is not None and loaded.title.startswith("7"):
                break
        whole = time.perf_counter() - start
        return (first if first is not None else whole), whole


def _engine_layout() -> float:
    start = time.perf_counter()
    built = find_preset("7").build()
    stepper = GraphStepper(built.root)
    layout_graph(stepper.children, STYLES[0])
    return time.perf_counter() - start


def run(rounds: int) -> list[Measurement]:
    first = Measurement(
        label="preset 7: key to first frame",
        what="pressing 7 to the frame with the build/layout job's progress line (80×24)",
        unit="s",
        limit=1.0,
        at_most=True,
    )
    whole = Measurement(
        label="preset 7: key to graph on show",
        what="pressing 7 to the laid-out graph drawn, the job's progress shown meanwhile",
        unit="s",
        limit=3.0,
        at_most=True,
        note="keys answer meanwhile: the work runs in a kit job",
    )
    engine = Measurement(
        label="preset 7: build + number + layout",
        what="the engine's share, without the app (detail zoom)",
        unit="s",
        limit=3.0,
        at_most=True,
    )
    built = find_preset("7").build()
    stepper = GraphStepper(built.root)
    engine.note = f"{len(stepper.order):,} nodes, {stepper.edge_total:,} edges"
    for _ in range(max(rounds, 1)):
        to_first, to_graph = asyncio.run(_press_token_preset())
        first.samples.append(to_first)
        whole.samples.append(to_graph)
        engine.samples.append(_engine_layout())
    return [first, whole, engine]


BENCHMARK = Benchmark(
    name="backprop",
    default_rounds=3,
    run=run,
)
