"""Pilot tests of the app shell: navigation, palette, help, answers, sizes."""

from __future__ import annotations

import pytest
from textual.widgets import Markdown, OptionList

from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.modals.help import HelpScreen
from microgpt_tui.tui.registry import QUESTIONS, all_screens
from microgpt_tui.tui.screens.home import HomeScreen


async def test_home_lists_the_six_questions():
    app = make_app()
    async with app.run_test(size=app.preferred_size) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        options = app.screen.query_one(OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        for question in QUESTIONS:
            assert any(question.title in prompt for prompt in prompts)
        assert options.option_count == len(all_screens())


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: f"q{q.number}")
async def test_number_keys_open_each_question_and_escape_returns(question):
    app = make_app()
    async with app.run_test(size=app.preferred_size) as pilot:
        await pilot.press(str(question.number))
        await pilot.pause()
        assert app.screen.name == question.screens[0].screen_id
        assert app.screen.title.startswith(f"Q{question.number} ")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_enter_opens_every_screen_including_second_parts():
    app = make_app()
    async with app.run_test(size=app.preferred_size) as pilot:
        for index, (_, spec) in enumerate(all_screens()):
            option_list = app.screen.query_one(OptionList)
            option_list.highlighted = index
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen.name == spec.screen_id
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)


async def test_brackets_move_between_parts_of_question_five():
    app = make_app()
    async with app.run_test(size=app.preferred_size) as pilot:
        await pilot.press("5")
        await pilot.pause()
        first, second = (s.screen_id for s in QUESTIONS[4].screens)
        assert app.screen.name == first
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert app.screen.name == second
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.screen.name == first
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)  # parts replace each other: one Esc to home


async def test_palette_jumps_to_a_screen():
    app = make_app()
    async with app.run_test(size=app.preferred_size) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Q3 Monte")
        await pilot.pause(0.3)
        await pilot.press("down", "enter")
        await pilot.pause(0.3)
        assert app.screen.name == "pi"


async def test_question_mark_lists_the_screens_keys():
    app = make_app()
    async with app.run_test(size=app.preferred_size) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = dict((description, key) for key, description in app.screen.keys)
        assert "Select" in listed and "Quit" in listed and "Show keys" in listed
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("3", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        descriptions = {description for _, description in app.screen.keys}
        assert {"Answer", "Back"} <= descriptions
        assert "Next part" not in descriptions  # question 3 has one part: no [ / ]
        await pilot.press("escape", "escape", "5", "question_mark")
        await pilot.pause()
        descriptions = {description for _, description in app.screen.keys}
        assert {"Answer", "Back", "Previous part", "Next part"} <= descriptions


async def test_answer_panel_toggles_and_shows_project_markdown():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("1")
        await pilot.pause()
        answer = app.screen.query_one("#answer")
        shown_before = answer.display
        await pilot.press("a")
        await pilot.pause()
        assert answer.display is not shown_before
        await pilot.press("a")
        await pilot.pause()
        assert answer.display is shown_before
        markdown = answer.query_one(Markdown)
        assert markdown.source.startswith("# ")
        assert len(markdown.source.splitlines()) > 20


async def test_below_80x24_says_so_and_resizing_never_crashes():
    app = make_app()
    async with app.run_test(size=app.preferred_size) as pilot:
        for key in ("", "5", "question_mark"):
            if key:
                await pilot.press(key)
            for size in [(79, 24), (80, 23), (40, 12), (10, 5), (200, 60), (80, 24)]:
                await pilot.resize_terminal(*size)
                await pilot.pause()
                small = size[0] < 80 or size[1] < 24
                base = next(s for s in reversed(app.screen_stack) if hasattr(s, "compose_body"))
                assert base.has_class("-too-small") is small
                notice = base.query_one("#too-small")
                assert notice.display is small
                if small:
                    assert "at least 80×24" in str(notice.render())


async def test_screens_keep_their_state_between_visits():
    app = make_app()
    async with app.run_test(size=app.preferred_size) as pilot:
        await pilot.press("2")
        await pilot.pause()
        first = app.screen
        await pilot.press("escape", "2")
        await pilot.pause()
        assert app.screen is first


async def test_q_quits():
    app = make_app()
    async with app.run_test(size=app.preferred_size) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_paging_the_palette_before_it_fills_does_not_crash():
    """Regression: OptionList raised KeyError on PageUp before its lines were laid out."""
    app = make_app()
    async with app.run_test(size=app.preferred_size) as pilot:
        await pilot.press("ctrl+p", "pageup", "pagedown", "x", "pageup")
        await pilot.pause()
        assert app._exception is None


async def test_a_second_dismiss_of_a_closed_modal_is_ignored():
    """Regression: two queued Escs on the help screen popped the screen beneath it too."""
    app = make_app()
    async with app.run_test(size=app.preferred_size) as pilot:
        await pilot.press("3", "question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        help_screen.dismiss()
        help_screen.dismiss()
        await pilot.pause()
        assert app.screen.name == "pi"
