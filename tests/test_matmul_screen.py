"""The Matmul screen: the race (start, progress, stop, estimates), the tiling view stepped
forward and back over the cache model's trace, the Strassen view's depth, the complexity chart,
view switching, keys shown only where they work, themes, resizes, and snapshots.

The clock and the machine are stood in for wherever a number reaches the screen: snapshots and
text checks never depend on a measured time, this machine's BLAS or its caches.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

import pytest
from screen_waits import wait_until
from textual.widgets import ContentSwitcher, Static

from microgpt_tui.engine.matmul.blas import BlasInfo
from microgpt_tui.engine.matmul.cache_model import DEFAULT_L1, DEFAULT_L2
from microgpt_tui.engine.matmul.race import ALGORITHMS, PURE_PYTHON_MAX_N, Result
from microgpt_tui.engine.matmul.strassen import multiplications
from microgpt_tui.tui import registry
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.kit.screen import key_sections
from microgpt_tui.tui.screens import matmul_strassen, matmul_tiles, matmul_view
from microgpt_tui.tui.screens.matmul import MatmulScreen
from microgpt_tui.tui.screens.matmul_chart import ComplexityChart
from microgpt_tui.tui.widgets.explanation import ExplanationPanel
from microgpt_tui.tui.widgets.key_bar import shown_bindings
from microgpt_tui.tui.widgets.tile_grid import TileGrids

DEADLINE = 30.0  # seconds to wait for a job (a worker process starts on first use)
MODULE = "microgpt_tui.tui.screens.matmul:MatmulScreen"
# A pretend machine: each algorithm's time per multiply-add, and its peak.
PER_TERM = {"naive": 4e-8, "ikj": 3e-8, "blocked": 3.5e-8, "tiled": 2e-10, "strassen": 1.2e-11,
            "blas": 1e-11}
PEAK = 200.0
MACHINE = BlasInfo("openblas", "0.3.0", "SkylakeX", 2, "pthreads", None)
REAL_MEASURE = matmul_view.measure


def fake_result(algo: str, n: int, settings: matmul_view.RaceSettings) -> Result:
    seconds = PER_TERM[algo] * n**3
    estimated = ALGORITHMS[algo].pure_python and n > PURE_PYTHON_MAX_N
    rate = 2 * n**3 / seconds / 1e9
    return Result(algo, n, settings.dtype, 2, seconds, rate, rate / PEAK,
                  None if estimated else (0.0 if algo == "blas" else 1.1e-16), estimated)


def fake_measure(job, algo, n, settings, seed, peak, progress):
    progress(0.5)
    return fake_result(algo, n, settings)


@pytest.fixture
def registered(monkeypatch):
    """The matmul row points at this screen (as registry.py will); the machine is a stand-in:
    BLAS info, caches and (unless a test says otherwise) the clock."""
    questions = tuple(
        replace(q, screens=tuple(replace(s, module=MODULE) if s.screen_id == "matmul" else s
                                 for s in q.screens))
        for q in registry.QUESTIONS)
    monkeypatch.setattr(registry, "QUESTIONS", questions)
    monkeypatch.setattr(matmul_view, "machine_blas", lambda: MACHINE)
    monkeypatch.setattr(matmul_view, "peak_gflops", lambda dtype, threads: PEAK)
    monkeypatch.setattr(matmul_view, "measure", fake_measure)
    monkeypatch.setattr(matmul_tiles, "model_levels", lambda: (DEFAULT_L1, DEFAULT_L2))
    return monkeypatch


async def open_matmul(pilot) -> MatmulScreen:
    pilot.app.open_screen("matmul")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, MatmulScreen)
    await wait_until(pilot, lambda: screen.blas is not None, "the BLAS to be read")
    return screen


async def run_race(pilot, screen: MatmulScreen, key: str = "r") -> None:
    await pilot.press(key)
    await wait_until(pilot, lambda: not screen.jobs.running("race"), "the race to end")


async def open_tiling(pilot, screen: MatmulScreen, settings=None) -> None:
    if settings is not None:
        screen.tiling = settings
    await pilot.press("2")
    await wait_until(pilot, lambda: screen.stepper is not None, "the cache model's trace")


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def listed_keys(screen) -> dict[str, str]:
    return {description: key for _, items in key_sections(screen) for key, description in items}


def tiling_state(screen: MatmulScreen):
    grids = screen.query_one("#tiling-grids", TileGrids)
    return ([(g.title, g.rows, g.cols, dict(g.cells)) for g in grids.grids],
            text(screen, "#tiling-counts"), screen.stepper.position)


# --- the race ---------------------------------------------------------------------------------


async def test_race_times_every_algorithm_and_draws_its_bars(registered):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matmul(pilot)
        assert "r times every algorithm at n = 256" in text(screen, "#race-note")
        await run_race(pilot, screen)
        settings = screen.settings
        for algo in ALGORITHMS:
            assert screen.book.at(settings, algo) == fake_result(algo, 256, settings)
        table = text(screen, "#race-table")
        for algorithm in ALGORITHMS.values():
            assert algorithm.label in table
        assert "671.1 ms" in table and "167.8 µs" in table and "100%" in table
        assert "1.1e-16" in table and "█" in table and "▒" not in table
        assert "peak 200.0 GFLOP/s" in text(screen, "#race-machine")
        assert "done: 6 timings" in text(screen, "#matmul-status")
        assert "4,000× the naive loop" in screen.query_one(ExplanationPanel).text
        # m: what the bars measure; the numbers stay.
        for metric in matmul_view.METRICS[1:]:
            await pilot.press("m")
            assert metric in text(screen, "#race-table").splitlines()[0]


async def test_pure_python_beyond_its_feasible_n_is_labelled_estimated(registered):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matmul(pilot)
        await pilot.press("plus")
        assert screen.settings.n == 512
        await run_race(pilot, screen)
        table = text(screen, "#race-table").splitlines()
        naive = next(line for line in table if line.startswith("naive"))
        assert "~5.37 s" in naive and "▒" in naive and "█" not in naive and "—" in naive
        blas = next(line for line in table if line.startswith("BLAS"))
        assert "▒" not in blas and "~" not in blas
        assert "▒ ~ estimated" in text(screen, "#race-note")
        # Back at 256 nothing was measured: the rows wait, the earlier n keeps its results.
        await pilot.press("minus")
        assert text(screen, "#race-table").count("·") == len(ALGORITHMS)


async def test_a_race_can_be_stopped_keeps_what_it_measured_and_keys_answer_meanwhile(
        registered):
    release = threading.Event()

    def slow_measure(job, algo, n, settings, seed, peak, progress):
        if algo != "naive":
            release.wait(DEADLINE)
        return fake_result(algo, n, settings)

    registered.setattr(matmul_view, "measure", slow_measure)
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matmul(pilot)
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.book.at(screen.settings, "naive") is not None,
                         "the first result")
        assert screen.jobs.running("race")
        assert screen.query_one("#race-progress").display
        assert "i-k-j order at n = 256" in text(screen, "#matmul-status")
        keys = listed_keys(screen)
        assert keys["Stop race"] == "c"
        assert "Run race" not in keys and "Larger n" not in keys and "float64 / float32" not in keys
        # Other views answer while it runs.
        await pilot.press("3", "plus")
        assert screen.depth == 2
        await pilot.press("1")
        await pilot.press("c")
        assert not screen.jobs.running("race")
        assert "stopped" in text(screen, "#matmul-status")
        assert not screen.query_one("#race-progress").display
        release.set()
        await asyncio.sleep(0.2)
        await pilot.pause()
        # Nothing of the stopped run arrives afterwards; the first result stays.
        measured = [a for a in ALGORITHMS if screen.book.at(screen.settings, a) is not None]
        assert measured == ["naive"]
        assert "Run race" in listed_keys(screen)


async def test_a_real_race_at_a_tiny_n_measures_every_algorithm(registered):
    """The engine itself (plain Python in a worker process), at n = 16; only the peak is a
    stand-in (measuring it takes a second of BLAS)."""
    registered.setattr(matmul_view, "measure", REAL_MEASURE)
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matmul(pilot)
        await pilot.press(*["minus"] * (matmul_view.SIZES.index(256)))
        assert screen.settings.n == 16
        await run_race(pilot, screen)
        for algo in ALGORITHMS:
            result = screen.book.at(screen.settings, algo)
            assert result is not None and not result.estimated, algo
            assert result.n == 16 and result.seconds > 0
            assert result.error is not None and result.error < 1e-12
            assert result.fraction_of_peak == pytest.approx(result.gflops / PEAK)



async def test_settings_keys_change_n_dtype_and_threads(registered):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matmul(pilot)
        await pilot.press(*["plus"] * 20)
        assert screen.settings.n == matmul_view.SIZES[-1]
        await pilot.press(*["minus"] * 20)
        assert screen.settings.n == matmul_view.SIZES[0]
        await pilot.press("f", "t")
        assert screen.settings.dtype == "f32" and not screen.settings.all_threads
        assert "float32 (f)" in text(screen, "#race-settings")
        assert "1 thread (t)" in text(screen, "#race-settings")
        await run_race(pilot, screen)
        assert screen.book.at(screen.settings, "blas").dtype == "f32"
        await pilot.press("f")  # float64 has no results yet: nothing shown for it
        assert screen.book.at(screen.settings, "blas") is None


# --- the tiling view --------------------------------------------------------------------------


async def test_tiling_steps_forward_and_back_land_on_the_same_state(registered):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matmul(pilot)
        await open_tiling(pilot, screen, matmul_tiles.TilingSettings(64, 16))
        trace = screen.stepper.trace
        assert screen.stepper.length == len(trace.steps) == 64
        start = tiling_state(screen)
        assert start[2] == 0 and "multiply-adds 0" in start[1]
        await pilot.press(*["n"] * 5)
        five = tiling_state(screen)
        assert five[2] == 5
        step = trace.steps[4]
        assert f"multiply-adds {step.multiply_adds:,}" in five[1]
        assert f"{step.naive[0].total_misses:,}" in five[1]
        assert f"{step.blocked[0].total_misses:,}" in five[1]
        assert "C(0,1) += A(0,0)·B(0,1)" in text(screen, "#matmul-status")
        await pilot.press("right", "right", "n", "left", "b", "b")
        assert tiling_state(screen) == five
        await pilot.press("G")
        assert screen.stepper.position == 64
        done = screen.query_one("#tiling-grids", TileGrids).grids[0]
        assert done.title == "C" and len(done.cells) == 16  # every C tile done or cached
        await pilot.press("g")
        assert tiling_state(screen) == start
        await pilot.press("plus", "plus")
        assert screen.playback.speed == 5
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.stepper.position == 64, "play to the end")
        assert not screen.playback.playing


async def test_tile_and_size_keys_retrace_and_leaving_the_view_pauses(registered):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matmul(pilot)
        await open_tiling(pilot, screen, matmul_tiles.TilingSettings(64, 16))
        await pilot.press("t")
        assert screen.tiling == matmul_tiles.TilingSettings(64, 32)
        assert "Play" not in listed_keys(screen)  # no trace yet: nothing to step
        await wait_until(pilot, lambda: screen.stepper is not None, "the new trace")
        assert screen.stepper.length == 8
        assert "Play" in listed_keys(screen)
        await pilot.press("space")
        await pilot.press("4")
        assert not screen.playback.playing
        await pilot.press("2")
        assert screen.stepper.trace.tile == 32  # the same trace: not computed again


# --- Strassen, the chart, views and keys ------------------------------------------------------


async def test_strassen_view_shows_seven_products_and_counts_at_each_depth(registered):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matmul(pilot)
        await pilot.press("3")
        products = text(screen, "#strassen-products").splitlines()
        assert [line.split(" = ")[0] for line in products] == [f"M{i}" for i in range(1, 8)]
        assert "M1 = (A11 + A22)·(B11 + B22)" in products
        assert "M1+M4−M5+M7" in text(screen, "#strassen-box")
        await pilot.press("w")
        assert "Strassen–Winograd" in text(screen, "#strassen-head")
        assert "Winograd shares U2 = M1 + M6" in text(screen, "#strassen-shared")
        await pilot.press(*["plus"] * 20)
        assert screen.depth == matmul_strassen.MAX_DEPTH
        count = multiplications(matmul_strassen.MAX_DEPTH)
        assert f"{count.strassen:,} vs 8^8 = {count.classical:,}" in text(screen,
                                                                         "#strassen-depth")
        await pilot.press(*["minus"] * 20)
        assert screen.depth == 0
        assert "7^0 = 1 vs 8^0 = 1" in text(screen, "#strassen-depth")


async def test_complexity_chart_plots_what_was_measured_with_these_settings(registered):
    app = make_app(seed=3, size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_matmul(pilot)
        await pilot.press("4")
        chart = screen.query_one(ComplexityChart)
        assert chart.series == []
        await run_race(pilot, screen, "s")
        sizes = screen.settings.sweep_sizes()
        assert [len(s.points) for s in chart.series] == [len(sizes)] * len(ALGORITHMS)
        assert [s.mark for s in chart.series] == [str(i) for i in range(1, 7)]
        drawn = "\n".join("".join(ch for ch, _ in row) for row in chart.rows)
        assert "n³" in drawn and "n^2.807" in drawn and "32" in drawn and "256" in drawn
        await pilot.press("t")  # another setting: nothing measured with it yet
        assert chart.series == []


async def test_views_switch_with_1_to_4_and_v_and_show_only_their_keys(registered):
    app = make_app(seed=3, size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_matmul(pilot)
        switcher = screen.query_one("#matmul-views", ContentSwitcher)
        race = {"Run race", "Larger n", "Smaller n", "float64 / float32",
                "BLAS: all threads / 1 thread", "Sweep n for the chart"}
        expected = {
            "race": race | {"Bars: time / GFLOP/s / % of peak / error"},
            "tiling": {"Play", "Next tile step", "Previous tile step", "More tile steps a frame",
                       "Fewer tile steps a frame", "First tile step", "Last tile step",
                       "Tile size (8/16/32)", "Model n (64/96/128)"},
            "strassen": {"Deeper recursion", "Shallower recursion",
                         "Classic Strassen / Winograd"},
            "complexity": race,
        }
        every = set().union(*expected.values()) | {"Stop race"}
        for number, name in enumerate(matmul_view.VIEWS, start=1):
            await pilot.press(str(number))
            if name == "tiling":
                await wait_until(pilot, lambda: screen.stepper is not None, "the trace")
            assert screen.view == name and switcher.current == f"view-{name}"
            keys = set(listed_keys(screen))
            assert keys & every == expected[name], name
            bar = {entry.description for entry in shown_bindings(screen)[0]}
            assert "Next view" in bar
        await pilot.press("v")
        assert screen.view == "race"
        await pilot.press("v", "v")
        assert screen.view == "strassen"


async def test_themes_resizes_and_random_keys_never_break_it(registered):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matmul(pilot)
        await run_race(pilot, screen, "s")
        await open_tiling(pilot, screen, matmul_tiles.TilingSettings(64, 16))
        await pilot.press("n", "n")
        for theme in ("ansi-light", "ansi-dark", "textual-light"):
            app.theme = theme
            for key in "1234":
                await pilot.press(key)
                for size in [(80, 24), (60, 20), (200, 60), (120, 40), (10, 5), (80, 24)]:
                    await pilot.resize_terminal(*size)
                    await pilot.pause()
                    # The kit's own resize handling still runs beside the screen's.
                    assert screen.has_class("-too-small") == (size[0] < 80), size
        await pilot.press(*"1rvvv2nbgGtx3w+-4s", "c", "question_mark", "escape")
        await pilot.pause()


async def test_nothing_is_cut_at_80x24_in_any_view(registered):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matmul(pilot)
        await pilot.press("plus")
        await run_race(pilot, screen)
        await open_tiling(pilot, screen, matmul_tiles.TilingSettings(64, 16))
        await pilot.press("n", "n", "n")
        for view in "1234":
            await pilot.press(view)
            await pilot.pause()
            shown = lines(app)
            assert not [line for line in shown if "…" in line and "n = 32 …" not in line], view
            assert not screen.query_one(ExplanationPanel).show_vertical_scrollbar, view
        await pilot.press("3", "w")
        assert not [line for line in lines(app) if "…" in line]


# --- snapshots (stand-in clock, BLAS and caches) ----------------------------------------------


def _open_and(*keys: str, tiling=None):
    async def run_before(pilot) -> None:
        screen = await open_matmul(pilot)
        if tiling is not None:
            await open_tiling(pilot, screen, tiling)
        for key in keys:
            await pilot.press(key)
            await wait_until(pilot, lambda: not screen.jobs.running("race"), "the race")
        await pilot.pause()

    return run_before


def test_snapshot_race_80x24(registered, snap_compare):
    assert snap_compare(make_app(seed=3, size=(80, 24)), terminal_size=(80, 24),
                        run_before=_open_and("plus", "r"))


def test_snapshot_tiling_120x40(registered, snap_compare):
    assert snap_compare(make_app(seed=3, size=(120, 40)), terminal_size=(120, 40),
                        run_before=_open_and("n", "n", "n", "n", "n", "n",
                                             tiling=matmul_tiles.TilingSettings(128, 16)))


def test_snapshot_strassen_80x24(registered, snap_compare):
    assert snap_compare(make_app(seed=3, size=(80, 24)), terminal_size=(80, 24),
                        run_before=_open_and("3", "w", "plus", "plus"))


def test_snapshot_complexity_120x40(registered, snap_compare):
    assert snap_compare(make_app(seed=3, size=(120, 40)), terminal_size=(120, 40),
                        run_before=_open_and("plus", "plus", "s", "4"))
