"""The home screen's status line: GPU or simulator, NVRTC, the names, found off the UI thread."""

from __future__ import annotations

import threading

from microgpt_tui.engine.data import BUNDLED_LABEL
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.screens import home
from microgpt_tui.tui.screens.home import HomeScreen, HomeStatus, status_text

SIMULATED = HomeStatus(gpu="", nvrtc="13.0", data=BUNDLED_LABEL)


def test_status_text_says_what_runs_the_cuda_screen():
    assert status_text(SIMULATED).plain == (
        "GPU none → simulator · NVRTC 13.0 · bundled makemore names.txt, 32,033 names")
    gpu = HomeStatus(gpu="NVIDIA H200 (sm_90, 132 SMs)", nvrtc="", data="x.txt: 3 names")
    assert status_text(gpu).plain == (
        "GPU NVIDIA H200 (sm_90, 132 SMs) · NVRTC missing · x.txt: 3 names")
    assert "Checking" in status_text(None).plain


def test_data_label_reads_a_given_file(small_names_path, tmp_path):
    assert home.data_label(None) == BUNDLED_LABEL
    assert home.data_label(small_names_path).endswith(" names")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    assert "unusable" in home.data_label(empty)


async def test_first_frame_does_not_wait_for_the_probe(monkeypatch):
    release = threading.Event()

    def slow_probe(data_path):
        release.wait(5)
        return SIMULATED

    monkeypatch.setattr(HomeScreen, "probe", staticmethod(slow_probe))
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        status = app.screen.query_one("#home-status")
        assert "Checking" in str(status.render())
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.status == SIMULATED
        assert "NVRTC 13.0" in str(status.render())


async def test_probe_gets_the_apps_data_path(monkeypatch, small_names_path):
    seen = []
    monkeypatch.setattr(HomeScreen, "probe",
                        staticmethod(lambda path: seen.append(path) or SIMULATED))
    app = make_app(size=(80, 24), data_path=small_names_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert seen == [small_names_path]
