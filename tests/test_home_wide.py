"""Home from 120×40: the selected question's short answer and this session's runs; 80×24 as
before, and resizing between the two never breaks."""

from __future__ import annotations

import pytest
from textual.screen import Screen

from microgpt_tui.engine.data import BUNDLED_LABEL
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.registry import QUESTIONS
from microgpt_tui.tui.screens.home import (
    RUNS_SHOWN,
    HomeScreen,
    HomeStatus,
    markdown_preview,
    runs_text,
    short_answer_markdown,
)


@pytest.fixture(autouse=True)
def _no_probe(monkeypatch):
    status = HomeStatus(gpu="", nvrtc="13.0", data=BUNDLED_LABEL)
    monkeypatch.setattr(HomeScreen, "probe", staticmethod(lambda data_path: status))


def screen_text(app) -> str:
    return "\n".join("".join(segment.text for segment in strip)
                     for strip in app.screen._compositor.render_strips())


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: f"q{q.number}")
def test_every_question_has_a_short_answer_without_markdown_marks(question):
    markdown = short_answer_markdown(question.answer_asset)
    assert markdown and "## " not in markdown and "The longer answer" not in markdown
    plain = markdown_preview(markdown).plain
    assert "**" not in plain and "```" not in plain and plain.strip() == plain


def test_markdown_preview_reflows_paragraphs_and_keeps_code_and_bullets():
    preview = markdown_preview("One **bold**\nline `x`.\n\n- a\n- b\n\n```\npi ≈ 4\n```\nEnd")
    assert preview.plain == "One bold line x.\n\n• a\n• b\n\n    pi ≈ 4\nEnd"
    assert any(span.style == "bold" for span in preview.spans)


def test_runs_text_lists_the_newest_first_and_counts_the_rest():
    assert "None yet" in runs_text([]).plain
    runs = [("pi", f"pi: run {i}") for i in range(RUNS_SHOWN + 2)]
    lines = runs_text(runs).plain.splitlines()
    assert lines[0] == "Runs this session"
    assert lines[1] == f"Q3 pi: run {RUNS_SHOWN + 1}" and lines[RUNS_SHOWN] == "Q3 pi: run 2"
    assert lines[-1] == "…and 2 earlier"


async def test_120x40_shows_the_selected_questions_short_answer():
    app = make_app(size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        home = app.screen
        assert home.wide and home.query_one("#home-answer").display
        assert "13 in binary is 1101" in screen_text(app)
        for _ in range(4):  # to "Estimating pi"
            await pilot.press("down")
        await pilot.pause()
        assert "pi ≈ 4 · inside / n" in screen_text(app)
        assert "1101" not in screen_text(app)


async def test_80x24_shows_neither_panel():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        home = app.screen
        assert not home.wide
        assert not home.query_one("#home-answer").display
        assert not home.query_one("#home-runs").display
        assert "short answer" not in screen_text(app)


async def test_runs_recorded_elsewhere_show_on_returning_home_and_a_reset_clears_them():
    app = make_app(size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "None yet" in screen_text(app)
        await app.push_screen(Screen())
        app.record_run("pi", "pi: 1,000 darts, estimate 3.141593")
        app.record_run("training", "training (numpy): 20 steps, loss 2.6542")
        app.pop_screen()
        await pilot.pause()
        text = screen_text(app)
        assert text.index("Q5 training (numpy)") < text.index("Q3 pi: 1,000 darts")
        await app.push_screen(Screen())
        app.reset_everything()  # the next candidate's app: back home, with no runs listed
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert "None yet" in screen_text(app)


async def test_resizing_between_narrow_and_wide_never_breaks():
    app = make_app(size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.record_run("pi", "pi: 10 darts")
        for size in [(120, 40), (80, 24), (130, 33), (110, 34), (60, 20), (120, 40), (109, 40),
                     (200, 60)]:
            await pilot.resize_terminal(*size)
            for _ in range(10):  # until the screen has the new size (a loaded machine is slow)
                await pilot.pause()
                if tuple(app.screen.size) == size:
                    break
            home = app.screen
            wide = size[0] >= 110 and size[1] >= 34
            assert home.wide == wide, size
            if wide:  # filled on becoming wide, with the highlighted question's answer
                assert "Q3 pi: 10 darts" in screen_text(app)
                assert "13 in binary is 1101" in screen_text(app)
