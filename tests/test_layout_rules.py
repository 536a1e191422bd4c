"""Rules every screen meets, checked on the rendered terminal: nothing cut at 80×24, the written
answer never wrecks the demo, and no screen's stylesheet changes another screen's layout."""

from __future__ import annotations

import re

import pytest

from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.registry import all_screens

SCREEN_IDS = [spec.screen_id for _, spec in all_screens()]
BUILT_SCREEN_IDS = [spec.screen_id for _, spec in all_screens() if spec.module is not None]
GENERATED_ID = re.compile(r"^-|-\d{6,}$")  # Textual's own ids (Markdown headings, scrollbars)

# Text seen cut at 80 columns before: a word or a legend stopped at the edge of its panel.
KNOWN_CUTS = [
    re.compile(r"\bCanc\b"),  # "c Cancel burst" cut in the Footer
    re.compile(r"register_blocke\b"),  # a kernel name wrapped or cut
    re.compile(r"\(one dart at a time(?!\))"),  # Pi's mode line without its ")"
    re.compile(r"┄\s*[│┃▕▎]?\s*$"),  # a legend ending in its bare line sample
    re.compile(r"checkpoints/?\s*[│┃]?\s*$"),  # a save path cut before the file name
]

# Keys that bring each screen to a state worth checking, after its first frame.
STATES = {
    "pi": [[], ["9"], ["m", "m"]],
    "backprop": [[], ["n", "n", "n"]],
    "training": [[]],
    "cuda": [[]],
    "matmul": [[], ["2"], ["3", "w"], ["4"]],
    "url": [[], ["2"], ["3"], ["4"], ["5"]],
    "bits": [[], ["g", "n", "n"], ["w", "w", "w"], ["2"], ["2", "f"], ["p"]],
    "light": [[], ["d", "d", "d"], ["2"], ["2", "x"], ["3", "j", "j"]],
    "sort": [[], ["s", "s", "n", "n", "n"], ["o", "G"], ["2"]],
}


def screen_lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def cut_words(lines: list[str]) -> list[str]:
    return [f"{pattern.pattern!r} in {line.rstrip()!r}" for line in lines
            for pattern in KNOWN_CUTS if pattern.search(line)]


async def open_and_settle(app, pilot, screen_id: str) -> None:
    app.open_screen(screen_id)
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("answer", [False, True], ids=["demo", "answer"])
@pytest.mark.parametrize("screen_id", SCREEN_IDS)
async def test_nothing_is_cut_at_80x24(screen_id, answer):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_and_settle(app, pilot, screen_id)
        problems = []
        for keys in STATES.get(screen_id, [[]]):
            await pilot.press(*keys)
            await pilot.pause(0.2)
            if answer and not app.screen.answer_shown:
                await pilot.press("a")
                await pilot.pause()
            problems += cut_words(screen_lines(app))
            if "9" in keys:
                await pilot.press("c")
            await app.workers.wait_for_complete()
        assert problems == []


@pytest.mark.parametrize("screen_id", BUILT_SCREEN_IDS)
async def test_the_answer_leaves_the_demo_usable_or_takes_the_whole_width(screen_id):
    """With the answer shown, the demo keeps at least 76 columns (120×40) or steps aside for
    the answer (80×24): it is never squeezed into a strip."""
    for size in [(80, 24), (120, 40)]:
        app = make_app(seed=3, size=size)
        async with app.run_test(size=size) as pilot:
            await open_and_settle(app, pilot, screen_id)
            if not app.screen.answer_shown:
                await pilot.press("a")
                await pilot.pause()
            main = app.screen.query_one("#question-main")
            answer = app.screen.query_one("#answer")
            assert answer.region.width >= 40
            if main.display:
                assert main.region.width >= 76, (size, main.region)
            else:
                assert answer.region.width >= size[0] - 1


async def _layout(app, pilot, screen_id: str) -> dict[str, tuple[int, int, int, int]]:
    await open_and_settle(app, pilot, screen_id)
    if not app.screen.answer_shown:
        await pilot.press("a")
        await pilot.pause()
    return {f"#{w.id}": tuple(w.region) for w in app.screen.query("*")
            if w.id and w.display and not GENERATED_ID.search(w.id)}


@pytest.mark.parametrize("screen_id", SCREEN_IDS)
async def test_visiting_other_screens_never_changes_a_layout(screen_id):
    """Textual loads a screen's CSS app-wide: an unscoped rule would leak (e.g. `#answer`
    from one screen's .tcss resizing another screen's answer panel)."""
    size = (140, 40)
    app = make_app(seed=3, size=size)
    async with app.run_test(size=size) as pilot:
        alone = await _layout(app, pilot, screen_id)
    app = make_app(seed=3, size=size)
    async with app.run_test(size=size) as pilot:
        for other in SCREEN_IDS:
            await open_and_settle(app, pilot, other)
        app.reset_everything()
        await pilot.pause()
        after = await _layout(app, pilot, screen_id)
    assert after == alone
