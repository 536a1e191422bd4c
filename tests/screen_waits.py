"""Waiting in Pilot tests for a screen's job to get somewhere (no wall-clock assertions: the
deadline only bounds a test that would otherwise hang)."""

from __future__ import annotations

import asyncio
import time

DEADLINE = 30.0  # seconds (a worker process starts on first use; CI machines are slow)


async def wait_until(pilot, condition, what: str, deadline: float = DEADLINE) -> None:
    give_up = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < give_up, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)
        await pilot.pause()
    await pilot.pause()
