"""The serve bench's measuring parts, run briefly against a real server (no speed asserted)."""

from __future__ import annotations

import asyncio
import random
import shutil

import pytest

from microgpt_tui.tui.bench import serve


def test_p95_is_the_nearest_rank():
    assert serve.p95([0.01] * 19 + [1.0]) == 0.01
    assert serve.p95([0.01] * 18 + [1.0, 1.0]) == 1.0


@pytest.mark.slow
def test_a_session_navigates_and_every_key_is_timed():
    with serve.running_server(max_sessions=2) as server:
        (times,) = asyncio.run(serve.navigate_level(server, 1, 3.0, random.Random(0)))
    assert times and all(0 < t < serve.WAIT for t in times)


@pytest.mark.slow
def test_a_spectator_receives_the_animation():
    with serve.running_server(pair=True) as server:
        assert asyncio.run(serve.spectator_bytes_per_second(server)) > 0


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("ssh") is None, reason="no OpenSSH client here")
def test_openssh_reaches_the_first_frame():
    with serve.running_server() as server:
        assert 0 < serve.ssh_first_frame(server) < serve.WAIT
