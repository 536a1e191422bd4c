"""A training session reports unexpected errors as a FAILED snapshot, never silently."""

from __future__ import annotations

import queue

from microgpt_tui.engine.microgpt import session
from microgpt_tui.engine.microgpt.config import Config


def test_unexpected_error_becomes_a_failed_snapshot_with_the_reason(monkeypatch):
    def broken(spec):
        raise RuntimeError("boom")

    monkeypatch.setattr(session, "build_trainer", broken)
    published = []
    spec = session.SessionSpec(config=Config(num_steps=2))
    session.run_session(spec, queue.Queue(), published.append, lambda: False)
    assert [s.state for s in published] == [session.FAILED]
    assert "RuntimeError('boom')" in published[0].message
