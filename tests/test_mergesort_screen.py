"""The merge sort screen: stepping forward and back keeps the counters and the picture exact,
n and order changes, the large-n counting job (progress, cancel, keys answering meanwhile),
keys listed only where they work, themes, resizes, nothing cut at 80×24, and snapshots.

The large view's sizes are made small here (the screen's own are 10³ … 10⁶); no measured time
reaches the screen, so the snapshots hold only counts, which are exact.
"""

from __future__ import annotations

import pytest
from screen_waits import wait_until
from textual.widgets import ProgressBar, Static

from microgpt_tui.engine.basics import mergesort as ms
from microgpt_tui.engine.basics.mergesort import Compare
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.kit.screen import key_sections
from microgpt_tui.tui.screens import mergesort_large_view as large
from microgpt_tui.tui.screens import mergesort_view as view
from microgpt_tui.tui.screens.mergesort import MergeSortScreen
from microgpt_tui.tui.widgets.explanation import ExplanationPanel
from microgpt_tui.tui.widgets.key_bar import shown_bindings
from microgpt_tui.tui.widgets.split_tree import SplitTree

SEED = 3
SMALL_SIZES = (10**2, 10**3)


@pytest.fixture
def small_sizes(monkeypatch):
    monkeypatch.setattr(large, "LARGE_SIZES", SMALL_SIZES)


async def open_sort(pilot) -> MergeSortScreen:
    pilot.app.open_screen("sort")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, MergeSortScreen)
    return screen


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def listed(screen) -> set[str]:
    return {description for _, items in key_sections(screen) for _, description in items}


def lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def fresh_picture(screen: MergeSortScreen, position: int):
    """The picture at `position` of a stepper that only ever went forward, straight there."""
    stepper = view.EventStepper(screen.stepper.run)
    stepper.seek(position)
    return view.picture(stepper)


# --- stepping ---------------------------------------------------------------------------------


async def test_stepping_forward_and_back_keeps_the_counters_exact():
    app = make_app(seed=SEED, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_sort(pilot)
        run = screen.stepper.run
        assert screen.settings == view.SortSettings(16, "random", SEED)
        assert list(run.items) == ms.make_values(16, "random", SEED)
        assert "comparisons 0 of" in text(screen, "#sort-counters")
        await pilot.press(*["n"] * 40, *["b"] * 15, "right", "left", "left")
        assert screen.stepper.position == 24
        compares = sum(isinstance(e, Compare) for e in run.events[:24])
        assert screen.stepper.comparisons == compares == run.events[23].comparisons
        assert f"comparisons {compares} of {run.comparisons}" in text(screen, "#sort-counters")
        assert screen.query_one(SplitTree).model == fresh_picture(screen, 24)
        assert view.event_line(run.events[23]) in text(screen, "#sort-status")
        await pilot.press("G")
        assert screen.stepper.position == len(run.events)
        assert list(screen.stepper.array) == sorted(run.items)
        assert f"comparisons {run.comparisons} of {run.comparisons}" in text(
            screen, "#sort-counters")
        assert f"worst {ms.worst_case_comparisons(16)} =" in text(screen, "#sort-counters")
        assert "Sorted with" in screen.query_one(ExplanationPanel).text
        await pilot.press("g")
        assert screen.stepper.position == 0
        assert screen.query_one(SplitTree).model == fresh_picture(screen, 0)
        await pilot.press("end")  # the aliases ? names: home/end, →/←
        assert screen.stepper.position == len(run.events)
        await pilot.press("home", "right", "right", "left")
        assert screen.stepper.position == 1


async def test_the_bounds_are_written_with_log2_and_come_from_the_engine():
    app = make_app(seed=SEED, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_sort(pilot)
        counters = text(screen, "#sort-counters")
        assert "n⌈log₂ n⌉−2^⌈log₂ n⌉+1" in counters and "lg" not in counters
        assert "lg" not in screen.query_one(ExplanationPanel).text
        await pilot.press("G")
        run = screen.stepper.run
        assert screen.stepper.level_comparisons() == ms.comparisons_per_level(run.events, 16)
        words = screen.query_one(ExplanationPanel).text
        assert f"n·log₂ n − 1.25n = {ms.average_comparisons(16):.0f}" in words
        await pilot.press("o", "G")  # sorted: (n/2)·log₂ n = 32, and exactly that many here
        words = screen.query_one(ExplanationPanel).text
        assert "(n/2)·log₂ n = 32" in words and "Sorted with 32 comparisons" in words


async def test_the_picture_marks_the_heads_and_brackets_the_node_at_work():
    app = make_app(seed=SEED, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_sort(pilot)
        events = screen.stepper.run.events
        first_compare = next(i for i, e in enumerate(events) if isinstance(e, Compare))
        await pilot.press(*["n"] * (first_compare + 1))
        event = screen.stepper.current
        model = screen.query_one(SplitTree).model
        assert model.marks[event.left_index] == "L" and model.marks[event.right_index] == "R"
        current = [node for level in model.levels for node in level if node.state == "current"]
        assert [(node.lo, node.hi) for node in current] == [event.node]
        shown = lines(app)
        assert any("[" in line and "]" in line for line in shown)  # brackets: no colour needed
        assert any(" L " in line or line.startswith("L") for line in shown)


async def test_play_and_speed():
    app = make_app(seed=SEED, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_sort(pilot)
        await pilot.press("plus", "equals_sign")  # = is + unshifted
        assert screen.playback.speed == 5
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.stepper.position >= 10, "playing")
        await pilot.press("space")
        assert not screen.playback.playing
        stopped = screen.stepper.position
        await pilot.pause(0.3)
        assert screen.stepper.position == stopped
        await pilot.press("minus")
        assert screen.playback.speed == 2


async def test_size_order_and_new_arrays():
    app = make_app(seed=SEED, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_sort(pilot)
        await pilot.press("n", "n")
        sizes = []
        for _ in range(4):
            await pilot.press("s")
            sizes.append(screen.settings.n)
        assert sizes == [32, 64, 8, 16]
        assert screen.stepper.position == 0  # a new array starts at its first step
        await pilot.press("S")
        assert screen.settings.n == 8 and screen.stepper.run.n == 8
        before = screen.stepper.run.items
        await pilot.press("r")
        assert screen.settings.seed == SEED + 1
        assert screen.stepper.run.items != before
        assert screen.stepper.run.items == tuple(ms.make_values(8, "random", SEED + 1))
        await pilot.press("o")
        assert screen.settings.order == "sorted"
        assert screen.stepper.run.items == tuple(range(1, 9))
        assert "New random array" not in listed(screen)
        await pilot.press("r")  # does nothing in sorted order
        assert screen.settings.seed == SEED + 1
        await pilot.press("o")
        assert screen.stepper.run.items == tuple(range(8, 0, -1))
        await pilot.press("G")
        assert screen.stepper.comparisons == 12  # reversed: each merge takes its right run
        await pilot.press("o")
        assert screen.settings.order == "random"


# --- the large-n view -------------------------------------------------------------------------


async def test_the_large_view_counts_every_n_and_order(small_sizes):
    app = make_app(seed=SEED, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_sort(pilot)
        await pilot.press("2")
        assert screen.view == "large"
        assert "Count n = 10³…10⁶" in listed(screen) and "Stop counting" not in listed(screen)
        await pilot.press("enter")  # small sizes: done at once (the progress bar: below)
        await wait_until(pilot, lambda: not screen.jobs.running("large"), "the counts")
        book = screen.book
        assert len(book.counts) == len(large.large_tasks(SMALL_SIZES)) == 12
        for (n, order, algorithm), count in book.counts.items():
            values = ms.make_values(n, order, SEED)
            counter = ms.count_merge_sort if algorithm == "merge" else ms.count_timsort
            assert count.comparisons == counter(values)
        assert book.counts[(1000, "sorted", "timsort")].comparisons == 999
        table = text(screen, "#large-table")
        assert "n = 10²" in table and "n = 10³" in table
        assert f"{book.fit('random', 'merge'):.3f}" in table
        assert "done: 12 counts" in text(screen, "#sort-status")
        assert not screen.query_one(ProgressBar).display
        assert "Timsort on 1,000 sorted items compared 999 times" in screen.query_one(
            ExplanationPanel).text


def slow_work(sizes, seed):
    """One real count, then a count that waits until it is stopped."""
    def work(job):
        job.report(("running", (sizes[0], "random", "merge")))
        job.report(ms.count_comparisons(sizes[0], "random", seed, "merge"))
        job.report(("running", (sizes[0], "random", "timsort")))
        job.wait(60)
        job.check()
        return 1

    return work


async def test_counting_can_be_stopped_and_keys_answer_meanwhile(small_sizes, monkeypatch):
    monkeypatch.setattr(large, "large_work", slow_work)
    app = make_app(seed=SEED, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_sort(pilot)
        await pilot.press("2", "r")
        await wait_until(pilot, lambda: len(screen.book.counts) == 1, "the first count")
        assert screen.book.running == (100, "random", "timsort")
        assert "counting" in text(screen, "#large-table")
        assert "counting Timsort, 10² random items" in text(screen, "#sort-status")
        assert "Stop counting" in [entry.description for entry in shown_bindings(screen)[0]]
        status = screen.query_one("#sort-status", Static)
        longest = large.LargeBook(running=(10**6, "reversed", "timsort"))
        assert large.large_status(longest, True).cell_length <= status.size.width  # 80×24: no …
        assert "Stop counting" in listed(screen) and "Count n = 10³…10⁶" not in listed(screen)
        assert screen.query_one(ProgressBar).display
        assert screen.query_one(ProgressBar).progress > 0
        await pilot.press("1", "n", "n", "s")  # the other view works while it counts
        assert screen.settings.n == 32 and screen.stepper.position == 0
        assert "Stop counting" in listed(screen)
        await pilot.press("2", "c")
        assert not screen.jobs.running("large")
        assert len(screen.book.counts) == 1  # what was counted stays
        assert "stopped: 1 count kept" in text(screen, "#sort-status")
        assert "Count n = 10³…10⁶" in listed(screen)


def on_bar(screen) -> set[str]:
    return {entry.description for entry in shown_bindings(screen)[0]}


def help_keys(screen) -> set[tuple[str, str]]:
    return {item for _, items in key_sections(screen) for item in items}


async def test_keys_are_listed_only_where_they_work():
    app = make_app(seed=SEED, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_sort(pilot)
        keys = listed(screen)
        assert {"Play", "Step", "Last step", "Faster", "Slower", "More items (n)",
                "Fewer items (n)", "Order: random/sorted/reversed", "New random array",
                "Next view", "Previous part", "Next part"} <= keys
        assert not keys & {"Step back", "First step"}  # at step 0 there is no going back
        assert "Count n = 10³…10⁶" not in keys and "Stop counting" not in keys
        assert {("n/→", "Step"), ("G/end", "Last step"), ("+/=", "Faster"),
                ("-", "Slower")} <= help_keys(screen)  # every key that works, named
        assert "Step" in on_bar(screen)
        await pilot.press("n")
        assert {"Step back", "First step", "Step", "Last step"} <= listed(screen)
        await pilot.press("G")  # the end: no stepping forward
        keys = listed(screen)
        assert not keys & {"Step", "Last step"} and "Step" not in on_bar(screen)
        assert {("b/←", "Step back"), ("g/home", "First step")} <= help_keys(screen)
        await pilot.press("g")
        await pilot.press("2")
        keys = listed(screen)
        assert "Count n = 10³…10⁶" in keys and ("r/⏎", "Count n = 10³…10⁶") in help_keys(screen)
        assert not keys & {"Play", "Step", "More items (n)", "New random array", "Stop counting"}
        await pilot.press("n", "space", "s", "o")  # nothing of the other view happens here
        assert screen.stepper.position == 0 and screen.settings.n == 16
        assert not screen.playback.playing


async def test_the_part_keys_lead_to_the_other_parts_of_question_1(monkeypatch):
    app = make_app(seed=SEED, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_sort(pilot)
        opened: list[str] = []
        monkeypatch.setattr(app, "open_screen", opened.append)  # the other parts not drawn
        await pilot.press("left_square_bracket", "right_square_bracket")
        assert opened == ["light", "bits"]


# --- themes, sizes, nothing cut -------------------------------------------------------------


async def test_themes_resizes_and_keys_never_break_it(small_sizes):
    app = make_app(seed=SEED, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_sort(pilot)
        await pilot.press("s", "s", *["n"] * 30)
        for theme in ("ansi-light", "ansi-dark", "textual-light"):
            app.theme = theme
            for key in "12":
                await pilot.press(key)
                for size in [(80, 24), (60, 20), (200, 60), (120, 40), (10, 5), (80, 24)]:
                    await pilot.resize_terminal(*size)
                    await pilot.pause()
                    assert screen.has_class("-too-small") == (size[0] < 80), size
        await pilot.press("1", *"bbngGsSoorv+-", "question_mark", "escape", "a", "a")
        await pilot.pause()


@pytest.mark.parametrize("answer", [False, True], ids=["demo", "answer"])
async def test_nothing_is_cut_at_80x24(answer):
    app = make_app(seed=SEED, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_sort(pilot)
        if answer:
            await pilot.press("a")
        for keys in ([], ["n"] * 14, ["s", "s", "G"], ["o", "G"], ["o", "o"], ["2"]):
            await pilot.press(*keys)
            await pilot.pause()
            cut = [line for line in lines(app)[:-1] if line.rstrip().endswith("…")]
            assert not cut, (keys, cut)


# --- snapshots ------------------------------------------------------------------------------


def _shown(*keys: str, count: bool = False):
    async def run_before(pilot) -> None:
        screen = await open_sort(pilot)
        await pilot.press(*keys)
        if count:
            await pilot.press("enter")
            await wait_until(pilot, lambda: not screen.jobs.running("large"), "the counts")
        await pilot.pause()

    return run_before


def test_snapshot_a_comparison_80x24(snap_compare):
    assert snap_compare(make_app(seed=SEED, size=(80, 24)), terminal_size=(80, 24),
                        run_before=_shown(*["n"] * 14))


def test_snapshot_64_items_120x40(snap_compare):
    assert snap_compare(make_app(seed=SEED, size=(120, 40)), terminal_size=(120, 40),
                        run_before=_shown("s", "s", *["n"] * 60))


def test_snapshot_sorted_input_at_the_end_80x24(snap_compare):
    assert snap_compare(make_app(seed=SEED, size=(80, 24)), terminal_size=(80, 24),
                        run_before=_shown("S", "o", "G"))


def test_snapshot_large_view_80x24(small_sizes, snap_compare):
    assert snap_compare(make_app(seed=SEED, size=(80, 24)), terminal_size=(80, 24),
                        run_before=_shown("2", count=True))
