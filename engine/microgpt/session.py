"""A live training session: the loop a UI runs off its own thread, driven by commands.

`run_session` owns a Trainer. It trains step by step, checks its command queue between steps
(pause, resume, stop, temperature, pace, which name's attention, which weight to inspect, save),
and publishes `Snapshot`s — plain, picklable data — at most every `publish_interval` seconds,
plus whenever something the user asked for is ready. A pace (steps per second) slows training
down for narration; commands are still answered while it waits. The same loop runs in a thread
(`ThreadSession`, for tests and tools) or in a child process (`ProcessSession`, which the app
uses for both engines: a training thread would share the UI's GIL, slowing both the steps and
the keys); `ProcessSession` starts and reliably ends such a child.
"""

from __future__ import annotations

import math
import multiprocessing
import multiprocessing.queues
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from ..data import DatasetError, load_names
from .adam import AdamView
from .checkpoint import CheckpointError, load_checkpoint, resume_trainer, save_checkpoint
from .config import Config, ConfigError
from .embedding_map import embedding_pca
from .grad_health import KINDS as HEALTH_GRID_KINDS
from .grad_health import HealthHistory
from .gradcheck import grad_check
from .readouts import EmbeddingMap, GradCheck, HealthGrid, TokenStrip, WhyChain
from .token_losses import name_tokens, token_labels, token_strip
from .trainer import ParamRow, Trainer, TrainingDiverged
from .why import explain

# Session states, in the order a run usually passes through them.
STARTING, RUNNING, PAUSED, FINISHED, STOPPED, FAILED = (
    "starting", "running", "paused", "finished", "stopped", "failed")
PACED_REFRESH_SECONDS = 1.0  # a paced run refreshes its samples at least this often
HELDOUT_SHOWN = 8  # held-out names offered beside the samples (attention, token losses, why)
HEALTH_KINDS = HEALTH_GRID_KINDS  # the order of Snapshot.health's two grids
# At full speed the heatmap's columns average hundreds of steps each, and recording a step
# costs ~5% of one (three passes over the weights): every HEALTH_STRIDE-th step is recorded
# then; a paced run records every step.
HEALTH_STRIDE = 4


@dataclass(frozen=True)
class SessionSpec:
    """What to train: a fresh run from `config`, or the checkpoint at `checkpoint_path`."""

    config: Config
    engine: str = "numpy"
    data_path: str | None = None
    checkpoint_path: str | None = None
    sample_every: int = 25  # steps between refreshes of samples, held-out loss and attention
    min_refresh_interval: float = 0.5  # seconds: a fast engine skips refreshes nobody could read
    sample_count: int = 8
    heldout_limit: int = 500  # held-out names scored at each refresh (all of them at the end)
    heldout_interval: float = 2.0  # seconds between held-out scorings (~14 ms each) while running
    command_poll: float = 0.002  # seconds between looks at the command queue at full speed
    publish_interval: float = 0.1  # seconds
    pace: float | None = None  # steps per second; None = as fast as the engine goes


@dataclass(frozen=True)
class AttentionView:
    name: str
    labels: list[str]
    maps: np.ndarray  # (n_layer, n_head, T, T), row = query position


@dataclass
class Snapshot:
    """What changed since the last snapshot; None fields are unchanged."""

    state: str
    step: int = 0
    num_steps: int = 0
    losses: list[tuple[int, float]] = field(default_factory=list)  # new (step, loss) points
    steps_per_second: float | None = None
    config: Config | None = None  # sent once the trainer exists (a loaded checkpoint's config)
    engine: str | None = None
    vocab_size: int | None = None
    heldout: tuple[int, float] | None = None  # (step, nats per held-out token)
    samples: list[str] | None = None
    temperature: float | None = None
    attention: AttentionView | None = None
    params: list[ParamRow] | None = None
    adam: tuple[str, int, int, AdamView] | None = None  # (matrix, row, col, view)
    message: str | None = None
    heldout_names: list[str] | None = None  # the held-out names offered after the samples
    token_strip: TokenStrip | None = None  # the focused name, position by position
    why: WhyChain | None = None  # the focused name's selected position taken apart
    health: tuple[HealthGrid, HealthGrid] | None = None  # by HEALTH_KINDS
    gradcheck: GradCheck | None = None  # the inspected weight, when asked
    embedding: EmbeddingMap | None = None


Publish = Callable[[Snapshot], None]


def build_trainer(spec: SessionSpec) -> tuple[Trainer, str | None]:
    """The spec's trainer and the data source's notice (e.g. the bundled corpus in use)."""
    dataset = load_names(spec.data_path)
    if spec.checkpoint_path is None:
        return Trainer(dataset.names, spec.config, spec.engine), dataset.notice
    checkpoint = load_checkpoint(spec.checkpoint_path)
    return resume_trainer(checkpoint, dataset.names, spec.engine), dataset.notice


class _Loop:
    def __init__(self, spec: SessionSpec, trainer: Trainer, publish: Publish) -> None:
        self.spec, self.trainer, self.publish_fn = spec, trainer, publish
        self.temperature = trainer.config.temperature  # a loaded checkpoint brings its own
        self.attend_index = 0
        self.inspect = ("wte", 0, 0)
        self.samples: list[str] = []
        self.state = PAUSED if spec.checkpoint_path else RUNNING
        self.pending = Snapshot(state=self.state)
        self.last_publish = time.monotonic()
        self.window_start, self.window_steps = time.monotonic(), 0
        self.steps_ended_at: float | None = None  # when the last step of a finished run ended
        self.last_refresh = -math.inf
        self.last_heldout = -math.inf
        self.pace = spec.pace
        self.heldout_names = list(trainer.corpus.heldout[:HELDOUT_SHOWN])
        self.why_position = 0  # the focused name's position "why" explains
        self.health = HealthHistory(list(trainer.layout.offsets()))
        self.health_width = 60  # columns the UI's heatmap has room for
        self.embedding: EmbeddingMap | None = None
        self.next_due = 0.0  # monotonic time the next step may start (paced runs)

    # Publishing.

    def flush(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_publish < self.spec.publish_interval:
            return
        t = self.trainer
        snap = self.pending
        snap.state, snap.step, snap.num_steps = self.state, t.step, t.config.num_steps
        # A finished run's last window ends with its last step, not after the full held-out
        # scoring that follows it (which would show the engine at a fraction of its speed).
        elapsed = (self.steps_ended_at or now) - self.window_start
        if self.window_steps and elapsed > 0:
            snap.steps_per_second = self.window_steps / elapsed
            # Only a window that held steps ends here: a forced flush between two paced steps
            # (a key's answer) would otherwise halve the next window and double the rate.
            self.window_start, self.window_steps = now, 0
        snap.params = t.param_table()
        name, row, col = self.inspect
        snap.adam = (name, row, col, t.adam_view(name, row, col))
        if len(self.health):
            snap.health = (self.health.grid(HEALTH_KINDS[0], self.health_width),
                           self.health.grid(HEALTH_KINDS[1], self.health_width))
        self.publish_fn(snap)
        self.pending = Snapshot(state=self.state)
        self.last_publish = now

    def refresh_samples(self, heldout_limit: int | None) -> None:
        self.last_refresh = time.monotonic()
        t = self.trainer
        t.check_finite_outputs()  # overflowing weights would sample NaN probabilities
        self.samples = t.preview_samples(self.spec.sample_count, self.temperature)
        self.pending.samples, self.pending.temperature = list(self.samples), self.temperature
        # Scoring the held-out names costs ~50 steps: at most once a heldout_interval while
        # training, and always in full (limit None) when the run stops or finishes.
        now = time.monotonic()
        if heldout_limit is None or now - self.last_heldout >= self.spec.heldout_interval:
            self.last_heldout = now
            heldout = t.heldout_loss(heldout_limit)
            if heldout is not None:
                self.pending.heldout = (t.step, heldout)
        self.refresh_attention()
        self.refresh_embedding()

    def focus_names(self) -> list[tuple[str, str]]:
        """(name, source) the user can focus: the samples, then some held-out names."""
        return ([(n, "sampled") for n in self.samples]
                + [(n, "held-out") for n in self.heldout_names])

    def refresh_attention(self) -> None:
        """The focused name's attention, token losses and "why": whatever focus changed."""
        names = self.focus_names()
        if not names:
            return
        name, source = names[self.attend_index % len(names)]
        t = self.trainer
        labels, maps = t.attention(name)
        self.pending.attention = AttentionView(name, labels, maps)
        strip = token_strip(t.numpy_model(), t.tokenizer, name, source, t.step)
        self.pending.token_strip = strip
        self.why_position = min(self.why_position, len(strip.tokens) - 1)
        self.refresh_why(name)

    def refresh_why(self, name: str) -> None:
        """The focused name's selected position taken apart (all a ← → key changes)."""
        t = self.trainer
        self.pending.why = explain(t.numpy_model(), t.tokenizer, name, self.why_position,
                                   self.temperature, t.step)

    def refresh_embedding(self) -> None:
        t = self.trainer
        wte = t.numpy_model().w["wte"]
        self.embedding = embedding_pca(wte, token_labels(t.tokenizer), t.step, self.embedding)
        self.pending.embedding = self.embedding

    def check_gradient(self) -> None:
        self.trainer.check_finite_outputs()  # overflowed outputs: "diverged", not a crash
        name, row, col = self.inspect
        try:
            self.pending.gradcheck = grad_check(self.trainer, name, row, col)
        except ValueError as error:
            self.pending.message = f"Gradient check: {error}"

    # Commands.

    def handle(self, command: tuple) -> bool:
        """Apply one command; False means quit."""
        kind = command[0]
        if kind == "quit":
            return False
        if kind == "pause" and self.state == RUNNING:
            self.state = PAUSED
        elif kind == "resume" and self.state == PAUSED:
            self.state = RUNNING if not self.trainer.done else FINISHED
            self.window_start, self.window_steps = time.monotonic(), 0
        elif kind == "stop" and self.state in (RUNNING, PAUSED):
            self.state = STOPPED
            self.refresh_samples(None)
        elif kind == "temperature":
            self.temperature = float(command[1])
            self.refresh_samples(self.spec.heldout_limit)
        elif kind == "attend":
            self.attend_index = int(command[1])
            self.refresh_attention()
        elif kind == "inspect":
            name, row, col = str(command[1]), int(command[2]), int(command[3])
            rows, cols = self.trainer.layout.shapes.get(name, (0, 0))
            if 0 <= row < rows and 0 <= col < cols:  # a stale choice from another model: ignore
                self.inspect = (name, row, col)
        elif kind == "save":
            self.save(str(command[1]))
        elif kind == "why":
            names = self.focus_names()
            if names:
                self.trainer.check_finite_outputs()
                name, _ = names[self.attend_index % len(names)]
                last = len(name_tokens(self.trainer.tokenizer, name,
                                       self.trainer.config.block_size)) - 2
                self.why_position = min(max(0, int(command[1])), last)
                self.refresh_why(name)
        elif kind == "gradcheck":
            self.check_gradient()
        elif kind == "health_width":
            self.health_width = max(8, min(400, int(command[1])))
        elif kind == "pace":
            self.pace = None if command[1] is None else float(command[1])
            if self.pace is not None:  # sooner if faster; never a step on the key press itself
                self.next_due = min(self.next_due, time.monotonic() + 1.0 / self.pace)
            self.window_start, self.window_steps = time.monotonic(), 0
        self.flush(force=True)
        return True

    def refresh_due(self, step: int) -> bool:
        """Samples are refreshed every K steps (at most every min_refresh_interval seconds),
        and at least once a second while a pace slows training down for narration."""
        since = time.monotonic() - self.last_refresh
        if step % self.spec.sample_every == 0:
            return since >= self.spec.min_refresh_interval
        return self.pace is not None and since >= PACED_REFRESH_SECONDS

    def save(self, path: str) -> None:
        try:
            written = save_checkpoint(path, self.trainer)
            # The file name first: a narrow panel wraps or cuts the end of a long folder.
            self.pending.message = (
                f"Saved step {self.trainer.step} as {written.name} in {written.parent}")
        except CheckpointError as error:
            self.pending.message = f"Save failed: {error}"

    # Training.

    def wait_before_step(self) -> float:
        """Seconds until the next step may start: 0 at full speed, else what the pace asks."""
        if self.pace is None:
            return 0.0
        return max(0.0, self.next_due - time.monotonic())

    def train_one(self) -> None:
        if self.pace is not None:
            # Due 1/pace after this step starts: no burst to catch up after a slow step.
            self.next_due = max(self.next_due, time.monotonic()) + 1.0 / self.pace
        event = self.trainer.train_step()
        if self.pace is not None or event.step % HEALTH_STRIDE == 0 or self.trainer.done:
            self.health.record(self.trainer)
        self.window_steps += 1
        self.pending.losses.append((event.step, event.loss))
        if self.trainer.done:
            self.steps_ended_at = time.monotonic()
            self.state = FINISHED
            self.refresh_samples(None)
            self.flush(force=True)
        elif self.refresh_due(event.step):
            self.refresh_samples(self.spec.heldout_limit)
            self.flush(force=True)
        else:
            self.flush()


def run_session(spec: SessionSpec, commands, publish: Publish,
                should_stop: Callable[[], bool]) -> None:
    """Train per `spec`, obeying `commands` (a queue of tuples), until told to quit or stop.

    Publishes a first snapshot with the config and samples as soon as the trainer exists;
    a spec that cannot be built publishes one FAILED snapshot with the reason, and so does
    any unexpected error while training (both engines: a bug reaches the UI as a message).
    """
    try:
        _run_session(spec, commands, publish, should_stop)
    except (ConfigError, CheckpointError, DatasetError, TrainingDiverged) as error:
        publish(Snapshot(state=FAILED, message=str(error)))
    except Exception as error:
        publish(Snapshot(state=FAILED, message=f"training failed: {error!r}"))


def _run_session(spec: SessionSpec, commands, publish: Publish,
                 should_stop: Callable[[], bool]) -> None:
    trainer, notice = build_trainer(spec)
    loop = _Loop(spec, trainer, publish)
    history = [(trainer.history_start + i + 1, loss)
               for i, loss in enumerate(trainer.loss_history)]  # a loaded checkpoint's
    message = "\n".join(m for m in (notice, trainer.restore_note) if m) or None
    loop.pending = replace(loop.pending, config=trainer.config, engine=trainer.engine,
                           vocab_size=trainer.vocab_size, message=message, losses=history,
                           heldout_names=list(loop.heldout_names))
    if trainer.done:
        loop.state = FINISHED
    loop.refresh_samples(spec.heldout_limit)
    loop.flush(force=True)
    last_poll = 0.0
    while not should_stop():
        wait = loop.wait_before_step() if loop.state == RUNNING else None
        if wait == 0.0:
            # A multiprocessing queue costs ~6 µs a look: at full speed look every
            # command_poll seconds, not every step (a key waits at most that much longer).
            now = time.monotonic()
            if now - last_poll < spec.command_poll:
                loop.train_one()
                continue
            last_poll = now
            try:
                command = commands.get_nowait()
            except queue.Empty:
                loop.train_one()
                continue
        elif wait is not None:  # paced: commands are answered while waiting for the step
            try:
                command = commands.get(timeout=min(wait, 0.1))
            except queue.Empty:
                if loop.pending.losses:  # the last step's point, once publish_interval passed
                    loop.flush()
                continue
        else:
            try:
                command = commands.get(timeout=0.1)
            except queue.Empty:
                continue
        if not loop.handle(command):
            return


# --- the scalar engine's child process -------------------------------------------------------

def _process_main(spec: SessionSpec, commands, outbox) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C belongs to the app, not to us
    # The child shares the app's terminal: nothing it prints may reach the screen.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    parent = os.getppid()
    run_session(spec, commands, outbox.put, lambda: os.getppid() != parent)


@contextmanager
def _real_stdio():
    """Undo a UI's stdio capture while starting a child: multiprocessing passes the
    resource tracker sys.stderr.fileno(), which a capture object (Textual's) reports as -1."""
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.__stdout__ or saved[0]
    sys.stderr = sys.__stderr__ or saved[1]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


class _SnapshotQueue(Protocol):
    """What reading needs of a queue.Queue or a multiprocessing queue."""

    def get(self, block: bool = True, timeout: float | None = None) -> Snapshot: ...

    def get_nowait(self) -> Snapshot: ...


class _Outbox:
    """Reading a session's snapshots: at once (`poll`), blocking a while (`wait`), or as a
    stream (`snapshots`). Subclasses set `outbox`, `EMPTY` and `alive`."""

    outbox: _SnapshotQueue
    EMPTY: tuple[type[BaseException], ...] = (queue.Empty,)

    @property
    def alive(self) -> bool:
        raise NotImplementedError

    def poll(self) -> list[Snapshot]:
        """Everything published and not yet read, without blocking."""
        snapshots = []
        while True:
            try:
                snapshots.append(self.outbox.get_nowait())
            except self.EMPTY:
                return snapshots

    def wait(self, timeout: float) -> list[Snapshot]:
        """Block up to `timeout` seconds for the next snapshot; it and all waiting behind it,
        or [] when none came."""
        try:
            first = self.outbox.get(timeout=timeout)
        except self.EMPTY:
            return []
        return [first, *self.poll()]

    def snapshots(self, stop: Callable[[], bool], timeout: float = 0.1) -> Iterator[Snapshot]:
        """Every snapshot in order, until the session has ended and all it published was read,
        or `stop()` (checked at least every `timeout` seconds) says to stop."""
        while not stop():
            batch = self.wait(timeout)
            if not batch and not self.alive:
                yield from self.poll()  # published just before the end
                return
            yield from batch


class ProcessSession(_Outbox):
    """`run_session` in a child process; `poll()` / `wait()` / `snapshots()` return what it
    published, `close()` ends it.

    The child is a daemon (multiprocessing ends it if the app exits), and it also quits by
    itself when its parent disappears, so no training process outlives the app.
    """

    # A dead process's queue can also raise OSError/EOFError/ValueError: nothing more comes.
    EMPTY = (queue.Empty, OSError, EOFError, ValueError)

    def __init__(self, spec: SessionSpec) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a threaded UI process
        with _real_stdio():
            self.commands = context.Queue()
            self.outbox: multiprocessing.queues.Queue[Snapshot] = context.Queue()
            self.process = context.Process(target=_process_main, name="microgpt-training",
                                           args=(spec, self.commands, self.outbox), daemon=True)
            self.process.start()

    def send(self, command: tuple) -> None:
        if self.process.is_alive():
            self.commands.put(command)

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def close(self, wait: bool = False) -> None:
        """Ask the child to quit, then make sure it is gone (in the background unless wait)."""
        self.send(("quit",))
        self.commands.cancel_join_thread()
        self.outbox.cancel_join_thread()
        if wait:
            _reap(self.process, grace=0.2)
        else:
            threading.Thread(target=_reap, args=(self.process, 0.5), daemon=True).start()


def _reap(process, grace: float) -> None:
    process.join(grace)
    if process.is_alive():
        process.terminate()
        process.join(2.0)
    if process.is_alive():
        process.kill()
        process.join(2.0)


class ThreadSession(_Outbox):
    """`run_session` on a thread the caller provides (a UI worker); same interface."""

    def __init__(self, spec: SessionSpec) -> None:
        self.spec = spec
        self.commands: queue.Queue = queue.Queue()
        self.outbox: queue.Queue[Snapshot] = queue.Queue()
        self.stopped = threading.Event()

    def run(self, cancelled: Callable[[], bool] = lambda: False) -> None:
        """The thread's body: returns when closed or cancelled."""
        try:
            run_session(self.spec, self.commands, self.outbox.put,
                        lambda: self.stopped.is_set() or cancelled())
        finally:
            self.stopped.set()

    def send(self, command: tuple) -> None:
        self.commands.put(command)

    @property
    def alive(self) -> bool:
        return not self.stopped.is_set()

    def close(self, wait: bool = False) -> None:
        self.stopped.set()
