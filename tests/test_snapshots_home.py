"""Snapshots of the shell: home at 80×24 and 120×40, help, a placeholder, the too-small notice."""

from __future__ import annotations

import pytest

from microgpt_tui.engine.data import BUNDLED_LABEL
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.screens.home import HomeScreen, HomeStatus


@pytest.fixture(autouse=True)
def _no_gpu_here(monkeypatch):
    """The status line as on a machine without a GPU, whatever this one has."""
    status = HomeStatus(gpu="", nvrtc="13.0", data=BUNDLED_LABEL)
    monkeypatch.setattr(HomeScreen, "probe", staticmethod(lambda data_path: status))


async def _status_shown(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_home_80x24(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_status_shown)


def test_home_120x40(snap_compare):
    assert snap_compare(make_app(size=(120, 40)), terminal_size=(120, 40), run_before=_status_shown)


def test_home_help_80x24(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), press=["question_mark"],
                        run_before=_status_shown)


def test_home_second_row_highlighted(snap_compare):
    assert snap_compare(make_app(), terminal_size=(80, 24), press=["down", "j"],
                        run_before=_status_shown)


def test_too_small_notice(snap_compare):
    assert snap_compare(make_app(), terminal_size=(60, 20))
