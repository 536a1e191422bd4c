"""The CUDA screen: a labelled simulator when there is no GPU, a replay that steps and plays
through the kit's playback, kernel, size and tab switching, theme-following colours, and
snapshots at 80×24 and 120×40."""

from __future__ import annotations

import pytest
from screen_waits import wait_until

from microgpt_tui.kernels.runtime import device_status
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.screens.cuda import KERNEL_NAMES
from microgpt_tui.tui.widgets.tile_grid import TileGrids
from microgpt_tui.tui.widgets.timeline import Timeline

RUN_DEADLINE = 120.0  # a hang guard only: on a GPU box the first run also creates the context


async def _wait_for_run(pilot, screen) -> None:
    """Wait until the newest run's job has ended (it runs in a thread): on its state, not on a
    clock, so a GPU box's first run (context creation, the peers' start-up) is waited for."""
    await wait_until(pilot, lambda: not screen.jobs.running("run"), "the kernel run",
                     deadline=RUN_DEADLINE)
    assert not screen.jobs.running("run")


async def _settle(pilot, screen) -> None:
    """Wait until the newest run has been shown."""
    await _wait_for_run(pilot, screen)
    assert screen.loaded is not None


def _runs_fail_with(monkeypatch, error: Exception) -> None:
    from microgpt_tui.kernels import execute

    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(execute, "execute", failing)


async def _open(pilot, app):
    app.open_screen("cuda")
    await pilot.pause()
    screen = app.screen
    await _settle(pilot, screen)
    return screen


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def test_opens_with_a_simulated_label_and_a_checked_replay():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        assert screen.loaded.problem.kernel == "matmul_tiled"
        if not device_status().available:
            assert "SIMULATED — no" in _text(screen, "#cuda-device")
        assert "✓" in _text(screen, "#cuda-results")
        tile = screen.loaded.execution.defines["TILE"]  # the catalog's, whatever it is now
        tiles = screen.loaded.problem.n // tile
        assert len(screen.loaded.replay) == tiles * tiles * tiles  # blocks × k-tiles
        smem = 2 * tile * tile * 4  # one A and one B tile of fp32
        launch = _text(screen, "#cuda-launch")
        assert f"smem {smem:,} B" in launch
        assert f"tiles TILE={tile}" in launch and "fixed at compile time" in launch
        assert f"SRAM: {smem / 1024:.1f}KiB" in _text(screen, "#cuda-sram")


async def test_step_keys_move_through_tiles_and_clamp():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("n", "n", "right")
        assert screen.cursor.index == 3
        assert "step 4/512" in _text(screen, "#cuda-status")
        await pilot.press("b", "b", "b", "b", "left")
        assert screen.cursor.index == 0
        assert "step 1/512" in _text(screen, "#cuda-status")
        await pilot.press("G")
        assert screen.cursor.index == 511
        await pilot.press("n")
        assert screen.cursor.index == 511
        await pilot.press("g")
        assert screen.cursor.index == 0


async def test_space_plays_at_the_chosen_speed_and_pauses():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("plus", "plus", "plus")  # 10 steps per frame
        assert "×10" in _text(screen, "#cuda-status")
        await pilot.press("space")
        assert screen.playback.playing
        await pilot.pause(0.5)
        await pilot.press("space")
        assert not screen.playback.playing
        stopped = screen.cursor.index
        assert stopped >= 10 and stopped % 10 == 0
        await pilot.pause(0.3)
        assert screen.cursor.index == stopped
        await pilot.press("minus", "minus", "minus", "minus", "minus", "minus", "minus")
        assert screen.playback.speed == 1


async def test_flash_attention_shows_running_max_and_sum_per_row():
    app = make_app(size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("down", "down", "down")
        await _settle(pilot, screen)
        assert screen.loaded.problem.kernel == "flash_attention_fwd"
        assert screen.loaded.problem.n == 256
        await pilot.press("n")
        sram = _text(screen, "#cuda-sram")
        assert "row     m      l     α" in sram
        assert "Q[" in sram and "K,V[" in sram  # K and V tiles cover the same rows
        grids = screen.query_one("#cuda-grids").grids
        assert [g.title for g in grids] == ["Q", "K", "V", "O", "Q·Kᵀ tiles"]
        await pilot.press("c")
        await _settle(pilot, screen)
        assert screen.loaded.problem.causal
        pairs = screen.query_one("#cuda-grids").grids[-1]
        assert pairs.cells[(0, 7)] == "skip"  # above the diagonal: never loaded
        await pilot.press("4")
        memory = _text(screen, "#cuda-memory")
        assert "attention_naive" in memory and "flash_attention_fwd" in memory
        assert "fewer bytes" in memory


async def test_pinned_flash_block_shows_its_own_m_l_and_alpha_at_each_tile():
    import numpy as np

    from microgpt_tui.kernels.sim import flash_block_steps, make_inputs

    app = make_app(size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("down", "down", "down")
        await _settle(pilot, screen)
        replay = screen.loaded.replay
        defines = screen.loaded.execution.defines
        await pilot.press("tab", "tab", "tab")  # pin the 3rd block after the current one
        key = screen.pinned
        assert key == replay.blocks[(replay.blocks.index((0, replay.records[0].block)) + 2)]
        assert replay.lanes and len({lane.sm for lane in replay.lanes}) == 2
        expected = {step: state for step, state, _ in flash_block_steps(
            screen.loaded.problem, defines, make_inputs(screen.loaded.problem), key[1])}
        seen = set()
        for _ in range(len(replay)):
            await pilot.press("n")
            index = replay.block_step_at(key, screen.cursor.index)
            record = replay.records[index]
            assert (record.launch, record.block) == key
            state = replay.flash_state(index)
            np.testing.assert_allclose(state.m, expected[record.step].m)
            np.testing.assert_allclose(state.l, expected[record.step].l)
            np.testing.assert_allclose(state.alpha, expected[record.step].alpha)
            sram = _text(screen, "#cuda-sram")
            first = key[1][0] * defines["BR"]
            line = next(x for x in sram.splitlines() if x.startswith(f"{first:<4}"))
            assert line.split()[1:] == [f"{state.m[0]:.2f}", f"{state.l[0]:.2f}",
                                        f"{state.alpha[0]:.2f}"]
            seen.add(record.step)
            if len(seen) == len(expected):
                break
        assert seen == set(expected)  # every K/V tile of the pinned block was shown
        assert "pinned" in _text(screen, "#cuda-sram")
        await pilot.press("p")
        assert screen.pinned is None


async def test_lanes_show_waves_of_blocks_and_the_clock_advances():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        replay = screen.loaded.replay  # 256×256, TILE 32: 64 blocks, 2 SMs × 4 slots
        assert len(replay.lanes) == 8
        assert all(len(lane.blocks) == 8 for lane in replay.lanes)  # eight waves
        for lane in replay.lanes:
            spans = [replay.spans[key] for key in lane.blocks]
            assert all(a.end_ns <= b.start_ns for a, b in zip(spans, spans[1:], strict=False))
        lanes = screen.query_one("#cuda-lanes")
        shown = str(lanes.render())
        assert "SM0·0" in shown and " 8 " in shown  # block numbers on their lane
        await pilot.press("G")
        assert replay.time_at(screen.cursor.index) > replay.time_at(0)
        assert "t = 0.00" not in _text(screen, "#cuda-status")
        grid = screen.query_one("#cuda-grids")
        assert len(str(grid.render()).splitlines()) >= 10  # 8 tile rows + title + legend


async def test_a_replay_step_repaints_only_what_changed(monkeypatch):
    """At top speed a tick must stay cheap: no layout pass, and the tile grids and the lanes
    repaint only the lines whose cells changed."""
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("n")
        await pilot.pause()
        repaints: dict[str, list[tuple]] = {"TileGrids": [], "Timeline": []}
        for widget in (TileGrids, Timeline):
            def spy(self, *regions, _real=widget.refresh, _name=widget.__name__, **options):
                repaints[_name].append(regions)  # SmLanes is a Timeline
                return _real(self, *regions, **options)

            monkeypatch.setattr(widget, "refresh", spy)
        layouts: list[bool] = []
        real_layout = screen._refresh_layout
        monkeypatch.setattr(screen, "_refresh_layout",
                            lambda *args, **kwargs: (layouts.append(True),
                                                     real_layout(*args, **kwargs))[1])
        await pilot.press("n")
        await pilot.pause()
        assert layouts == []
        for widget, calls in repaints.items():
            assert calls, f"{widget} did not repaint"
            regions = [region for call in calls for region in call]
            assert all(call for call in calls), f"{widget} repainted whole"
            assert all(region.height == 1 for region in regions)
            assert len({region.y for region in regions}) < screen.query_one(widget).size.height


async def test_size_key_reloads_with_partial_tiles_and_tabs_show_source_and_ptx():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("x")  # 256 → 64
        await _settle(pilot, screen)
        assert screen.loaded.problem.n == 64
        await pilot.press("x")  # → 100
        await _settle(pilot, screen)
        assert screen.loaded.problem.n == 100
        tiles = -(-100 // screen.loaded.execution.defines["TILE"])  # the last tiles partial
        assert len(screen.loaded.replay) == tiles * tiles * tiles
        assert "✓" in _text(screen, "#cuda-results")
        await pilot.press("2")
        assert "__shared__ float As[TILE][TILE]" in screen.loaded.source
        await pilot.press("3")
        assert ".visible .entry matmul_tiled" in screen.loaded.compiled.ptx
        assert ".entry" in _text(screen, "#cuda-ptx")


async def test_keys_during_work_and_switching_kernels_fast_never_break():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_screen("cuda")
        await pilot.pause()
        screen = app.screen
        await pilot.press("space", "n", "b", "x", "down", "space", "up", "up", "d", "c", "r", "s")
        await _settle(pilot, screen)
        assert screen.loaded.replay is not None
        await pilot.press("space", "n")


@pytest.mark.skipif(device_status().available, reason="the snapshot shows the SIMULATED label")
def test_snapshot_80x24(snap_compare):
    async def ready(pilot):
        app = pilot.app
        await _open(pilot, app)
        await pilot.press("n", "n", "n")

    assert snap_compare(make_app(size=(80, 24)), terminal_size=(80, 24), run_before=ready)


@pytest.mark.skipif(device_status().available, reason="the snapshot shows the SIMULATED label")
def test_snapshot_flash_120x40(snap_compare):
    async def ready(pilot):
        app = pilot.app
        screen = await _open(pilot, app)
        await pilot.press("down", "down", "down")
        await _settle(pilot, screen)
        await pilot.press(*["n"] * 12)

    assert snap_compare(make_app(size=(120, 40)), terminal_size=(120, 40), run_before=ready)


async def test_text_tabs_take_the_keys_so_they_scroll_and_1_gives_them_back():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        for key, pane in (("2", "#source-scroll"), ("3", "#ptx-scroll")):
            await pilot.press(key)
            scroll = screen.query_one(pane)
            assert screen.focused is scroll
            await pilot.press("pagedown")
            assert scroll.scroll_y > 0
            await pilot.press("down", "down", "up")
            assert screen.kernel == "matmul_tiled"  # ↑/↓ scroll the text, not the kernel list
        await pilot.press("4")
        assert screen.focused is screen.query_one("#memory-scroll")
        await pilot.press("1")
        assert screen.focused is screen.query_one("#cuda-kernels")
        await pilot.press("down")
        await _settle(pilot, screen)
        assert screen.kernel == "matmul_register_blocked"


async def test_negative_app_seed_still_runs():
    app = make_app(seed=-1, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        assert screen.loaded.execution is not None
        assert "✓" in _text(screen, "#cuda-results")


async def test_an_unexpected_error_in_the_run_is_the_kits_note_not_a_crash(monkeypatch):
    _runs_fail_with(monkeypatch, RuntimeError("device fell over\nsecond line"))
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_screen("cuda")
        await pilot.pause()
        screen = app.screen
        await _wait_for_run(pilot, screen)
        assert screen.loaded is None
        notes = [note.message for note in app._notifications]
        assert any("RuntimeError: device fell over" in note for note in notes), notes
        assert not any("second line" in note for note in notes)
        assert "the run failed" in _text(screen, "#cuda-status")
        await pilot.press("n", "space", "tab", "4")  # keys on a screen with no run stay safe
        assert app.is_running


async def test_an_expected_kernel_error_is_a_note_on_the_panel(monkeypatch):
    from microgpt_tui.kernels.catalog import ProblemError

    _runs_fail_with(monkeypatch, ProblemError("the simulator takes n up to 512"))
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        assert screen.loaded.execution is None
        assert "n up to 512" in _text(screen, "#cuda-results")
        assert "n up to 512" in _text(screen, "#cuda-status")
        assert not list(app._notifications)


async def test_playback_keys_are_the_kits_bound_once_and_all_reach_help_and_palette():
    from microgpt_tui.tui.kit.playback import PLAYBACK_BINDINGS
    from microgpt_tui.tui.kit.screen import key_sections

    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        keys = [key for binding in screen.BINDINGS for key in binding.key.split(",")]
        assert len(keys) == len(set(keys))
        assert {b.action for b in PLAYBACK_BINDINGS} <= {b.action for b in screen.BINDINGS}
        listed = {description for _, keys in key_sections(screen) for _, description in keys}
        assert {"Play/pause", "Step back", "Faster", "Pin block", "Next size"} <= listed


async def test_source_view_follows_a_light_theme():
    from rich.syntax import Syntax

    def shown_theme(screen) -> dict:
        return screen.query_one("#cuda-source").content._theme.style_map

    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        assert shown_theme(screen) == Syntax.get_theme("ansi_dark").style_map
        app.theme = "textual-light"
        await pilot.pause()
        assert shown_theme(screen) == Syntax.get_theme("ansi_light").style_map
        app.theme = "textual-dark"
        await pilot.pause()
        assert shown_theme(screen) == Syntax.get_theme("ansi_dark").style_map


async def test_tile_states_read_without_colour_and_the_legend_keeps_whole_items():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("n", "n", "n")
        lines = _text(screen, "#cuda-grids").splitlines()
        legend = " ".join(lines[-2:])
        tiles = "".join(lines[1:-2])
        assert "█" in tiles and "▓" in tiles and "·" in tiles  # SRAM, other blocks, idle
        for words in ("█ in SRAM", "▓ other block", "▒ in HBM", "· idle"):
            assert words in legend
        assert not any(line.rstrip().endswith(("█", "▓", "▒", "·", "┄")) for line in lines[-2:])
        replay = screen.cursor.replay
        record = replay.records[screen.cursor.index]
        number = replay.block_number((record.launch, record.block))
        lanes = _text(screen, "#cuda-lanes")
        assert f"[{number}]" in lanes.replace(" ", "")  # the selected block, in brackets


async def test_kernel_names_and_the_footer_are_whole_at_80_columns():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        for _ in KERNEL_NAMES:
            lines = [strip.text for strip in screen._compositor.render_strips()]
            side = "\n".join(line[:24] for line in lines)
            assert "register_blocke\n" not in side and "matmul_register_blocked" not in side
            footer = lines[-1].split("▏")[0].rstrip()
            assert footer.endswith(("Quit", "Play/pause")), footer
            await pilot.press("down")
            await _settle(pilot, screen)


async def test_the_answer_at_120x40_leaves_the_legend_whole():
    app = make_app(size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("a")
        await pilot.pause()
        grids = screen.query_one("#cuda-grids")
        assert grids.region.width >= 26
        legend = [line for line in _text(screen, "#cuda-grids").splitlines() if " idle" in line
                  or " in SRAM" in line]
        assert 1 <= len(legend) <= 2  # whole items on one or two lines, not a 3-column strip


async def test_status_and_lanes_fit_80_columns_with_a_pinned_block_of_a_three_launch_kernel():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("down", "down")  # naive attention: three launches
        await _settle(pilot, screen)
        await pilot.press("tab", "G", *["plus"] * 5)
        status = screen.query_one("#cuda-status")
        text = _text(screen, "#cuda-status")
        assert "×100" in text and "📌 (" in text and text.rstrip().endswith(")")
        assert len(text) + 1 <= status.size.width  # 📌 is two cells wide
        caption = _text(screen, "#cuda-lanes").splitlines()[-1]
        assert caption.endswith(")") and len(caption) <= screen.query_one("#cuda-lanes").size.width


def _screen_lines(screen) -> list[str]:
    return [strip.text for strip in screen._compositor.render_strips()]


async def test_the_title_names_the_problem_replayed_n_d_and_causal():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        assert "matmul tiled · N=256" in _screen_lines(screen)[0]
        await pilot.press("down", "down", "down")
        await _settle(pilot, screen)
        assert "flash attention · N=256 d=64 not causal" in _screen_lines(screen)[0]
        await pilot.press("c")
        await _settle(pilot, screen)
        await pilot.press("d", "2")  # the title stays on every tab
        await _settle(pilot, screen)
        assert "flash attention · N=256 d=128 causal" in _screen_lines(screen)[0]


async def test_r_says_what_it_did():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("n", "n")
        assert not list(app._notifications)
        await pilot.press("r")
        await _settle(pilot, screen)
        notes = [note.message for note in app._notifications]
        assert len(notes) == 1, notes
        assert notes[0].startswith("r: matmul tiled · N=256")
        assert "re-ran on the simulator" in notes[0] or "re-ran on the GPU" in notes[0]
        assert "NVRTC" in notes[0] or "not compiled" in notes[0]
        assert "replay back at step 1" in notes[0] and screen.cursor.index == 0
        await pilot.press("x")  # another size is not `r`: no second notice
        await _settle(pilot, screen)
        assert len(list(app._notifications)) == 1


async def test_one_step_counter_the_side_panel_names_the_tile_instead():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("n", "n", "n")
        everything = "\n".join(_screen_lines(screen))
        assert everything.count("step") == 1  # "step 4/512" on the status line only
        assert "step 4/512" in _text(screen, "#cuda-status")
        assert "k-tile 1 of 8, " in _text(screen, "#cuda-sram")
        await pilot.press("down", "down", "down")
        await _settle(pilot, screen)
        await pilot.press("n")
        assert "K/V tile 1 of " in _text(screen, "#cuda-sram")
        assert "step" not in _text(screen, "#cuda-sram")


async def test_all_sm_lanes_and_the_whole_tile_grid_fit_80x24_also_after_the_answer():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        for _ in range(2):
            lines = _screen_lines(screen)
            text = "\n".join(lines)
            for lane in ("SM0·0", "SM0·3", "SM1·0", "SM1·3"):
                assert lane in text
            assert "lanes ·" not in text  # no "+2 lanes" note: nothing hidden
            grids = _text(screen, "#cuda-grids").splitlines()
            assert sum(line.startswith(("·", "█", "▓")) and " in " not in line
                       for line in grids) == 8  # 8×8 tiles
            assert "step 1/512" in lines[-2]  # the status line is on screen
            await pilot.press("a")
            await pilot.pause()
            assert screen.answer_shown
            await pilot.press("a")
            await pilot.pause()


async def test_the_source_view_wraps_so_no_line_is_cut_at_80x24():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("2")
        await pilot.pause()
        scroll = screen.query_one("#source-scroll")
        left, right = scroll.region.x, scroll.region.right
        seen: list[str] = []
        for _ in range(40):
            seen += [line[left:right] for line in _screen_lines(screen)[2:-1]]
            if scroll.scroll_y >= scroll.max_scroll_y:
                break
            await pilot.press("pagedown")
            await pilot.pause()
        shown = " ".join(" ".join(seen).split())
        for line in screen.loaded.source.splitlines():
            words = line.split()
            if words:
                assert words[-1] in shown, line  # the end of every line is on screen


async def test_the_tile_sizes_and_why_fit_the_side_panel_at_80x24():
    """The launch panel says why the tiles are that size; at 80×24 all of it, and the results
    below it, are on screen for every kernel (nothing cut off)."""
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, app)
        for kernel in KERNEL_NAMES:
            screen.query_one("#cuda-kernels").highlighted = KERNEL_NAMES.index(kernel)
            await pilot.pause()
            await _settle(pilot, screen)
            text = "\n".join(line[:25] for line in _screen_lines(screen)).replace("\u00a0", " ")
            defines = screen.loaded.execution.defines
            if "BR" in defines:
                assert f"tiles BR={defines['BR']} BC={defines['BC']}" in text
                assert "no GPU: defaults that" in text and "fit any GPU's 48 KiB" in text
            elif "TILE" in defines or "BM" in defines:
                assert "tiles " in text and "fit any GPU's 48 KiB" in text
            assert "model clock" in text  # the results' last line is still on screen
            side = screen.query_one("#cuda-side")
            assert side.max_scroll_y == 0  # nothing scrolled out of view either


def test_on_a_gpu_the_flash_tiles_reason_is_the_budget_line():
    from types import SimpleNamespace

    from microgpt_tui.kernels.catalog import Problem, defines_for, tile_reason
    from microgpt_tui.tui.screens import cuda_view as view

    problem = Problem("flash_attention_fwd", 256, 64)
    run = SimpleNamespace(defines=defines_for(problem), simulated=False)
    loaded = view.Loaded(problem, "", None, "", run, "", None)
    assert view.tile_lines(loaded) == ("", tile_reason(problem, None))
    # a run with hand-set tiles the budget did not choose: the plain words instead
    run.defines = {**run.defines, "BR": 16, "BC": 16}
    assert view.tile_lines(loaded) == ("tiles BR=16 BC=16",
                                       "defaults that fit any GPU's 48\u00a0KiB")
    run.simulated = True
    naive = view.Loaded(Problem("matmul_naive", 64), "", None, "", run, "", None)
    run.defines = {}
    assert view.tile_lines(naive) is None  # no tiles, no line
