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
                       min_refresh_interval=0.0)
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
