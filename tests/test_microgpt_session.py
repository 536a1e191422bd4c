"""The live session loop behind the Training screen, without any UI: commands and snapshots."""

from __future__ import annotations

import queue
import threading
import time

from microgpt_tui.engine.microgpt.checkpoint import load_checkpoint
from microgpt_tui.engine.microgpt.config import Config
from microgpt_tui.engine.microgpt.session import (
    FAILED,
    FINISHED,
    PAUSED,
    ProcessSession,
    SessionSpec,
    Snapshot,
    ThreadSession,
    run_session,
)

SMALL = Config(n_embed=8, n_head=2, block_size=8, num_steps=40)
PAUSE_DEADLINE = 30.0  # seconds: generous for 2 shared cores, but a hang still fails


def test_a_full_run_publishes_every_step_then_answers_commands(small_names_path, tmp_path):
    commands: queue.Queue = queue.Queue()
    sent: list[bool] = []
    published: list[Snapshot] = []

    def publish(snapshot: Snapshot) -> None:
        published.append(snapshot)
        if snapshot.state == FINISHED and commands.empty() and not sent:
            sent.append(True)
            commands.put(("temperature", 1.5))
            commands.put(("attend", 3))
            commands.put(("inspect", "wpe", 1, 2))
            commands.put(("inspect", "blocks.9.attn.wq", 0, 0))  # not in this model: ignored
            commands.put(("inspect", "wpe", 99, 0))
            commands.put(("save", str(tmp_path / "s.npz")))
            commands.put(("quit",))

    spec = SessionSpec(SMALL, "numpy", str(small_names_path), sample_every=10,
                       min_refresh_interval=0.0, heldout_interval=0.0)
    run_session(spec, commands, publish, lambda: False)
    first = published[0]
    assert first.config == SMALL and first.vocab_size == 27 and first.samples
    steps = [step for snap in published for step, _ in snap.losses]
    assert steps == list(range(1, 41))
    assert [s.heldout[0] for s in published if s.heldout] == [0, 10, 20, 30, 40, 40]
    resampled = [s for s in published if s.samples is not None][-1]
    assert resampled.temperature == 1.5
    attended = [s.attention for s in published if s.attention is not None][-1]
    assert attended.name == resampled.samples[3] and attended.labels[0] == "⟨bos⟩"
    assert published[-1].adam[:3] == ("wpe", 1, 2)
    assert published[-1].message.startswith("Saved step 40")
    assert load_checkpoint(tmp_path / "s.npz").step == 40


def test_pause_holds_and_a_bad_spec_fails_with_its_reason(small_names_path, tmp_path):
    session = ThreadSession(SessionSpec(Config(n_embed=8, n_head=2, num_steps=10**6), "numpy",
                                        str(small_names_path)))
    session.send(("pause",))
    thread = threading.Thread(target=session.run)
    thread.start()
    try:
        snapshots: list[Snapshot] = []
        deadline = time.monotonic() + PAUSE_DEADLINE
        while not any(s.state == PAUSED for s in snapshots):
            assert time.monotonic() < deadline, (
                f"no PAUSED snapshot within {PAUSE_DEADLINE} s; states seen: "
                f"{[s.state for s in snapshots]}")
            time.sleep(0.02)
            snapshots += session.poll()
        paused_step = [s for s in snapshots if s.state == PAUSED][-1].step
        assert paused_step <= 1  # the pause arrived before (or right after) the first step
    finally:
        session.close()
        thread.join(5)
    assert not thread.is_alive() and not session.alive

    published: list[Snapshot] = []
    run_session(SessionSpec(SMALL, "numpy", str(tmp_path / "missing.txt")), queue.Queue(),
                published.append, lambda: False)
    assert [s.state for s in published] == [FAILED]
    assert "no such file" in published[0].message


def test_a_loaded_checkpoint_samples_at_its_own_temperature(small_names_path, tmp_path):
    from microgpt_tui.engine.data import load_names
    from microgpt_tui.engine.microgpt.checkpoint import save_checkpoint
    from microgpt_tui.engine.microgpt.trainer import Trainer

    trainer = Trainer(load_names(small_names_path).names,
                      Config(n_embed=8, n_head=2, block_size=8, num_steps=3, temperature=1.3))
    list(trainer.run())
    save_checkpoint(tmp_path / "hot.npz", trainer)
    commands: queue.Queue = queue.Queue()
    published: list[Snapshot] = []

    def publish(snapshot: Snapshot) -> None:
        published.append(snapshot)
        if snapshot.state == FINISHED:
            commands.put(("quit",))

    spec = SessionSpec(Config(), "numpy", str(small_names_path),
                       checkpoint_path=str(tmp_path / "hot.npz"), min_refresh_interval=0.0)
    run_session(spec, commands, publish, lambda: False)
    sampled = [s.temperature for s in published if s.samples is not None]
    assert sampled and set(sampled) == {1.3}


def test_wait_blocks_until_a_snapshot_and_the_stream_ends_with_the_session(small_names_path):
    """`wait` returns [] after its timeout when nothing came; `snapshots()` yields every
    snapshot in order and ends once the session has ended and everything was read."""
    spec = SessionSpec(SMALL, "numpy", str(small_names_path), sample_every=10,
                       min_refresh_interval=0.0)
    session = ThreadSession(spec)
    assert session.wait(0.01) == []  # not started: nothing comes
    thread = threading.Thread(target=session.run)
    thread.start()
    states: list[str] = []
    steps: list[int] = []
    try:
        for snapshot in session.snapshots(lambda: False, timeout=0.05):
            states.append(snapshot.state)
            steps += [step for step, _ in snapshot.losses]
            if snapshot.state == FINISHED:
                session.close()  # the stream drains what is left, then ends
    finally:
        session.close()
        thread.join(5)
    assert steps == list(range(1, 41)) and states[-1] == FINISHED
    assert not session.alive and not thread.is_alive()


def test_the_stream_stops_when_asked(small_names_path):
    session = ThreadSession(SessionSpec(Config(n_embed=8, n_head=2, num_steps=10**6), "numpy",
                                        str(small_names_path)))
    thread = threading.Thread(target=session.run)
    thread.start()
    seen: list[Snapshot] = []
    try:
        for snapshot in session.snapshots(lambda: len(seen) >= 3, timeout=0.05):
            seen.append(snapshot)
    finally:
        session.close()
        thread.join(5)
    assert len(seen) == 3 and not thread.is_alive()


def test_a_process_session_streams_and_leaves_no_process(small_names_path):
    spec = SessionSpec(Config(n_embed=8, n_head=2, block_size=8, num_steps=3), "scalar",
                       str(small_names_path), min_refresh_interval=0.0)
    session = ProcessSession(spec)
    try:
        deadline = time.monotonic() + 90
        states = []
        for snapshot in session.snapshots(lambda: time.monotonic() > deadline):
            states.append(snapshot.state)
            if snapshot.state == FINISHED:
                break
        assert states[-1] == FINISHED
    finally:
        session.close(wait=True)
    assert not session.process.is_alive()
    assert list(session.snapshots(lambda: False)) == []  # ended: the stream is empty at once


def _run_until(spec: SessionSpec, react) -> list[Snapshot]:
    """run_session in this thread; `react(snapshot, commands)` may queue commands."""
    commands: queue.Queue = queue.Queue()
    published: list[Snapshot] = []

    def publish(snapshot: Snapshot) -> None:
        published.append(snapshot)
        react(snapshot, commands)

    deadline = time.monotonic() + PAUSE_DEADLINE  # a hang fails the test instead
    run_session(spec, commands, publish, lambda: time.monotonic() > deadline)
    assert time.monotonic() <= deadline, "the session never quit"
    return published


def test_a_paced_run_answers_commands_while_it_waits_and_full_speed_finishes_it(
        small_names_path):
    """At one step per 1,000 s the run waits after its first step; a pause is answered at
    once, and switching to full speed (pace None) trains the remaining steps."""
    sent: list[str] = []

    def react(snapshot: Snapshot, commands: queue.Queue) -> None:
        stepped = any(step for step, _ in snapshot.losses)
        if stepped and not sent:
            sent.append("pause")
            commands.put(("pause",))
        elif snapshot.state == PAUSED and sent == ["pause"]:
            sent.append("full speed")
            commands.put(("pace", None))
            commands.put(("resume",))
        elif snapshot.state == FINISHED:
            commands.put(("quit",))

    spec = SessionSpec(SMALL, "numpy", str(small_names_path), pace=0.001,
                       min_refresh_interval=0.0)
    published = _run_until(spec, react)
    paused = [s for s in published if s.state == PAUSED]
    assert paused and paused[0].step == 1  # the pace held the run at its first step
    assert [step for s in published for step, _ in s.losses] == list(range(1, 41))
    assert published[-1].state == FINISHED


def test_the_readouts_come_with_the_samples_and_answer_their_commands(small_names_path):
    from microgpt_tui.engine.microgpt.session import HEALTH_KINDS

    sent: list[bool] = []

    def react(snapshot: Snapshot, commands: queue.Queue) -> None:
        if snapshot.state == FINISHED and not sent:
            sent.append(True)
            first_heldout = len([s for s in published if s.samples][-1].samples)
            commands.put(("attend", first_heldout))  # the first held-out name
            commands.put(("why", 2))
            commands.put(("inspect", "lm_head", 3, 4))
            commands.put(("gradcheck",))
            commands.put(("quit",))

    published: list[Snapshot] = []
    spec = SessionSpec(SMALL, "numpy", str(small_names_path), sample_every=10,
                       min_refresh_interval=0.0)

    def keep(snapshot: Snapshot, commands: queue.Queue) -> None:
        published.append(snapshot)
        react(snapshot, commands)

    _run_until(spec, keep)
    first = published[0]
    assert first.heldout_names and first.token_strip and first.embedding is not None
    assert first.token_strip.source == "sampled" and first.why.position == 0
    health = [s.health for s in published if s.health is not None][-1]
    assert [grid.kind for grid in health] == list(HEALTH_KINDS)
    assert health[0].steps[-1] == 40 and len(health[0].names) == len(health[0].values)
    strip = [s.token_strip for s in published if s.token_strip is not None][-1]
    assert strip.source == "held-out" and strip.name == first.heldout_names[0]
    why = [s.why for s in published if s.why is not None][-1]
    assert why.name == strip.name and why.position == min(2, len(strip.tokens) - 1)
    check = [s.gradcheck for s in published if s.gradcheck is not None][-1]
    assert (check.param, check.row, check.col, check.step) == ("lm_head", 3, 4, 40)
    assert check.rel_error < 1e-5
    assert [s.embedding.step for s in published if s.embedding is not None][-1] == 40


def test_a_loaded_checkpoint_brings_its_loss_history(small_names_path, tmp_path):
    from microgpt_tui.engine.data import load_names
    from microgpt_tui.engine.microgpt.checkpoint import save_checkpoint
    from microgpt_tui.engine.microgpt.trainer import Trainer

    trainer = Trainer(load_names(small_names_path).names, SMALL)
    losses = [event.loss for event in trainer.run(12)]
    save_checkpoint(tmp_path / "half.npz", trainer)

    def react(snapshot: Snapshot, commands: queue.Queue) -> None:
        commands.put(("quit",))

    spec = SessionSpec(Config(), "numpy", str(small_names_path),
                       checkpoint_path=str(tmp_path / "half.npz"))
    published = _run_until(spec, react)
    assert published[0].losses == list(enumerate(losses, start=1))
    assert published[0].adam[3].update != 0.0  # the real last update, not zeros


def test_a_finished_run_s_rate_ends_with_its_last_step(small_names_path, monkeypatch):
    """The final held-out scoring (all names) comes after the last step: the rate of the
    last window must not count it."""
    from microgpt_tui.engine.microgpt import session as session_module
    from microgpt_tui.engine.microgpt.trainer import Trainer

    slow = Trainer.heldout_loss

    def heldout_taking_a_while(self, limit=None):
        if limit is None:  # the final scoring: pretend it takes 5 s of the clock
            clock[0] += 5.0
        return slow(self, limit)

    clock = [1000.0]

    def fake_monotonic() -> float:
        clock[0] += 0.001  # every look at the clock: 1 ms passes
        return clock[0]

    monkeypatch.setattr(session_module.time, "monotonic", fake_monotonic)
    monkeypatch.setattr(Trainer, "heldout_loss", heldout_taking_a_while)

    def react(snapshot: Snapshot, commands: queue.Queue) -> None:
        if snapshot.state == FINISHED:
            commands.put(("quit",))

    spec = SessionSpec(SMALL, "numpy", str(small_names_path))
    commands: queue.Queue = queue.Queue()
    published: list[Snapshot] = []

    def publish(snapshot: Snapshot) -> None:
        published.append(snapshot)
        react(snapshot, commands)

    run_session(spec, commands, publish, lambda: False)
    last_rate = [s.steps_per_second for s in published if s.steps_per_second][-1]
    assert last_rate > 50  # ~1 ms a look at the clock per step: far above the 5-s stall's rate
