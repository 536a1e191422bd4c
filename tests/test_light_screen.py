"""The Light screen: the calculator (distances with units, frequencies), city pairs picked with
keys, a click or typed, the latency ladder, bad input inline with the text kept, keys listed only
where they work, themes and resizes, nothing cut at 80×24, and snapshots.

Nothing on this screen is measured, so every snapshot is deterministic as it stands.
"""

from __future__ import annotations

import pytest
from textual.widgets import OptionList, Static

from microgpt_tui.engine.basics import light_table as light
from microgpt_tui.engine.basics.cities import CITIES
from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.kit.screen import key_sections
from microgpt_tui.tui.screens.light import LadderChart, LightInput, LightScreen
from microgpt_tui.tui.widgets.explanation import ExplanationPanel


async def open_light(pilot) -> LightScreen:
    pilot.app.open_screen("light")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, LightScreen)
    return screen


async def type_in(pilot, screen: LightScreen, text: str) -> None:
    """`e`, a cleared field, the text typed key by key, Enter."""
    await pilot.press("e")
    assert isinstance(screen.focused, LightInput)
    screen.query_one(LightInput).value = ""
    await pilot.press(*["space" if char == " " else char for char in text], "enter")
    await pilot.pause()


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def ladder(screen) -> list[str]:
    return str(screen.query_one(LadderChart).render()).splitlines()


def explained(screen) -> str:
    return screen.query_one(ExplanationPanel).text


def listed(screen) -> set[str]:
    return {description for _, items in key_sections(screen) for _, description in items}


def lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def index_of(name: str) -> int:
    return next(i for i, city in enumerate(CITIES) if city.name == name)


# --- the calculator ------------------------------------------------------------------------


async def test_the_calculator_starts_at_london_new_york_and_reads_units():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_light(pilot)
        assert screen.focused is None  # the screen's keys work at once
        assert screen.query_one(LightInput).value == "5570 km"
        shown = text(screen, "#light-calculator")
        assert "5,570 km" in shown and "18.58 ms" in shown and "54.62 ms" in shown
        assert "55.74 million cycles of a 3 GHz clock" in shown
        await type_in(pilot, screen, "30 cm")
        assert screen.result.distance_km == pytest.approx(0.0003)
        assert screen.focused is None  # applied: the keys work again
        assert "1.001 ns" in text(screen, "#light-calculator")
        await type_in(pilot, screen, "384400km")
        assert "1.282 s" in text(screen, "#light-calculator")  # the Moon, one way
        await type_in(pilot, screen, "3 GHz")
        shown = text(screen, "#light-calculator")
        assert "3 GHz: one cycle lasts 333.3 ps" in shown and "9.993 cm per cycle" in shown
        assert explained(screen).startswith("At 3 GHz a cycle lasts 333.3 ps")


async def test_bad_input_shows_inline_and_the_text_is_kept():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_light(pilot)
        before = screen.result
        field = screen.query_one(LightInput)
        for typed, words in [("5 parsecs", "unknown unit 'parsecs'"), ("-3 km", "from 0 to"),
                             ("", "type a distance"), ("1,5 km", "commas only")]:
            await type_in(pilot, screen, typed)
            assert field.value == typed  # nothing lost
            assert words in text(screen, "#light-message"), typed
            assert "✗" in text(screen, "#light-message")
            assert screen.result == before  # the last good answer stays on show
            assert screen.focused is field  # still typing, to fix it
        await pilot.press("escape")
        assert screen.focused is None and field.value == "1,5 km"
        await type_in(pilot, screen, "1,500 km")
        assert "✗" not in text(screen, "#light-message")
        assert screen.result == light.light_times(1500)


async def test_case_underscores_and_extremes_in_the_calculator():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_light(pilot)
        for typed, words in [("5 mhz", "could be mHz (millihertz) or MHz (megahertz)"),
                             ("1__0 km", "an underscore goes only between two digits")]:
            await type_in(pilot, screen, typed)
            assert words in text(screen, "#light-message") and "✗" in text(screen, "#light-message")
        await type_in(pilot, screen, "5 mHz")
        assert "5 mHz: one cycle lasts 3.333 min" in text(screen, "#light-calculator")
        await type_in(pilot, screen, "1 Mm")
        assert screen.result == light.light_times(1000)
        await type_in(pilot, screen, "1e-45 km")
        shown = text(screen, "#light-calculator")
        assert "1×10⁻⁴² m" in shown and "3.336×10⁻⁵¹ s" in shown and "e-" not in shown
        await type_in(pilot, screen, "299792458 km")
        assert "16.67 min" in text(screen, "#light-calculator")


async def test_examples_walk_forward_and_back():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_light(pilot)
        field = screen.query_one(LightInput)
        await pilot.press("d")
        assert field.value == "30 cm" and screen.result == light.calculate("30 cm")
        await pilot.press("d", "d")
        assert field.value == "3 GHz" and isinstance(screen.result, light.ClockCycle)
        await pilot.press("D", "D", "D")
        assert field.value == "5570 km"
        await pilot.press("D")
        assert field.value == "100 MHz"  # round to the last example


# --- city pairs ----------------------------------------------------------------------------


async def test_city_pairs_are_picked_with_keys():
    app = make_app(seed=3, size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_light(pilot)
        await pilot.press("2")
        cities = screen.query_one("#light-cities", OptionList)
        assert screen.view == "cities" and cities.highlighted == index_of("London")
        assert "5,570 km" in text(screen, "#light-pair")
        await pilot.press(*["j"] * index_of("Tokyo"), "f")
        assert screen.origin.name == "Tokyo" and screen.picking == "to"
        await pilot.press(*["down"] * (index_of("San Francisco") - index_of("Tokyo")), "enter")
        assert screen.destination.name == "San Francisco" and screen.picking == "from"
        pair = text(screen, "#light-pair")
        assert "Tokyo, Japan" in pair and "San Francisco, United States" in pair
        assert "8,271 km" in pair and "81.11 ms round trip" in pair
        assert "not measured here" in pair
        assert screen.query_one(LightInput).value == "Tokyo to San Francisco"
        assert "from" in str(cities.get_option_at_index(index_of("Tokyo")).prompt)
        assert "to" in str(cities.get_option_at_index(index_of("San Francisco")).prompt)
        assert "this screen measures no ping" in explained(screen)
        await pilot.press("x")
        assert (screen.origin.name, screen.destination.name) == ("San Francisco", "Tokyo")
        await pilot.press("k", "t")  # up one from San Francisco: Honolulu
        assert screen.destination.name == "Honolulu"
        await pilot.press(*["up"] * 40)  # round the top of the list, never off it
        assert 0 <= cities.highlighted < len(CITIES)


async def test_a_click_on_a_city_picks_it():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_light(pilot)
        await pilot.press("2")
        await pilot.click("#light-cities", offset=(2, index_of("Frankfurt")))
        await pilot.pause()
        assert screen.origin.name == "Frankfurt"  # 'from' is armed first
        await pilot.click("#light-cities", offset=(2, index_of("London")))
        await pilot.pause()
        assert screen.destination.name == "London"
        assert "Frankfurt to London" in explained(screen)


async def test_the_first_enter_keeps_a_sensible_pair_and_one_city_twice_is_said():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_light(pilot)
        await pilot.press("2", "enter")
        assert (screen.origin.name, screen.destination.name) == ("London", "New York")
        assert screen.picking == "to" and "same city" not in text(screen, "#light-pair")
        await pilot.press("enter")  # the cursor still on London, now for 'to'
        assert screen.origin == screen.destination
        assert "Both ends are the same city" in text(screen, "#light-pair")
        assert explained(screen).startswith("From London to itself")


async def test_city_pairs_are_typed_and_bad_names_are_shown_inline():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_light(pilot)
        await pilot.press("2")
        await type_in(pilot, screen, "sydney to lond")
        assert (screen.origin.name, screen.destination.name) == ("Sydney", "London")
        assert screen.pair.distance_km == pytest.approx(16_990, rel=0.005)
        assert screen.focused is None
        field = screen.query_one(LightInput)
        for typed, words in [("Atlantis to London", "no city called 'Atlantis'"),
                             ("lo to paris", "could be London or Los Angeles"),
                             ("Paris", "type two cities")]:
            await type_in(pilot, screen, typed)
            assert field.value == typed and words in text(screen, "#light-message"), typed
            assert screen.origin.name == "Sydney"  # the pair on show stays
        await pilot.press("escape", "t")  # a pick replaces the text on purpose
        assert field.value.startswith("Sydney to ") and "✗" not in text(screen, "#light-message")


async def test_each_view_keeps_its_own_text():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_light(pilot)
        field = screen.query_one(LightInput)
        await pilot.press("e", "end", "backspace", "backspace", "backspace", "escape")
        assert field.value == "5570"
        await pilot.press("2")
        assert field.value == "London to New York"
        await pilot.press("3")
        assert not field.display and screen.focused is None
        await pilot.press("1")
        assert field.value == "5570" and field.display


# --- the ladder ----------------------------------------------------------------------------


async def test_the_ladder_is_a_log_scale_chart_of_orders_of_magnitude():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_light(pilot)
        await pilot.press("3")
        chart = ladder(screen)
        assert "orders of magnitude" in chart[0] and "log scale" in chart[1]
        rows = chart[2:2 + len(light.LADDER)]
        for row, rung in zip(rows, light.LADDER, strict=True):
            assert rung.name in row and light.format_distance(rung.vacuum_m) in row
        bars = [row.count("█") for row in rows]
        assert bars == sorted(bars) and bars[0] >= 1
        assert bars[-1] / bars[0] == pytest.approx(light.LADDER[-1].decades, rel=0.15)
        assert "1 ns" in chart[-2] and "1 s" in chart[-2]
        assert rows[0].startswith("▸ L1 cache hit")
        await pilot.press("down", "j")
        assert screen.rung == 2 and ladder(screen)[4].startswith("▸ DRAM read")
        words = explained(screen)
        assert "DRAM read: ~100 ns" in words and "29.98 m in vacuum" in words
        assert "Source: 'latency numbers' lists" in words and "hardware moves it" in words
        await pilot.press("j", "j", "j")  # across a continent: a fibre floor, not hardware's
        words = explained(screen)
        assert "A floor, not a typical ping" in words and "4,000 km" in words
        assert "hardware moves it" not in words
        await pilot.press(*["k"] * 5, "up")
        assert screen.rung == len(light.LADDER) - 1  # round to the top rung


async def test_the_ladder_redraws_at_the_width_it_gets():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_light(pilot)
        await pilot.press("3")
        narrow = max(row.count("█") for row in ladder(screen))
        await pilot.resize_terminal(200, 50)
        await pilot.pause()
        assert max(row.count("█") for row in ladder(screen)) > narrow


# --- keys, themes, sizes -------------------------------------------------------------------


async def test_keys_are_listed_only_where_they_work():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_light(pilot)
        keys_shown = {key for _, items in key_sections(screen) for key, _ in items}
        assert {"e", "d", "D", "v", "1", "2", "3"} <= keys_shown
        assert "v Next view" in " ".join(lines(app)[-1].split())  # in the key bar too
        city_keys = {"Pick city", "From: this city", "To: this city", "Swap from and to",
                     "Next city in the list", "Previous city in the list"}
        rung_keys = {"Next rung", "Previous rung"}
        keys = listed(screen)
        assert {"Edit", "Example", "Previous example", "Next view"} <= keys
        assert not keys & (city_keys | rung_keys)
        await pilot.press("2")
        keys = listed(screen)
        assert city_keys | {"Edit"} <= keys
        shown_keys = {key for _, items in key_sections(screen) for key, _ in items}
        assert {"↓/j", "↑/k", "⏎", "f", "t", "x"} <= shown_keys
        assert "v Next view" in " ".join(lines(app)[-1].split())
        assert not keys & (rung_keys | {"Example"})
        await pilot.press("3")
        keys = listed(screen)
        assert rung_keys <= keys
        assert not keys & (city_keys | {"Edit", "Example"})
        await pilot.press("e", "d", "f", "enter")  # keys that do nothing here change nothing
        assert screen.view == "ladder" and screen.focused is None
        assert screen.destination.name == "New York"


async def test_themes_resizes_and_keys_never_break_it():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_light(pilot)
        for theme in ("ansi-light", "ansi-dark", "textual-light"):
            app.theme = theme
            for key in "123":
                await pilot.press(key)
                for size in [(80, 24), (60, 20), (200, 60), (120, 40), (10, 5), (80, 24)]:
                    await pilot.resize_terminal(*size)
                    await pilot.pause()
                    assert screen.has_class("-too-small") == (size[0] < 80), size
        await pilot.press(*"1dDd2jjkfttxx3jjkkvvv", "a", "a", "question_mark", "escape")
        await pilot.pause()
        assert app.screen is screen


@pytest.mark.parametrize("answer", [False, True], ids=["demo", "answer"])
async def test_nothing_is_cut_at_80x24_in_any_view(answer):
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_light(pilot)
        if answer:
            await pilot.press("a")
        for keys in (["1"], ["1", "d", "d", "d"], ["2"], ["2", "e", "x", "enter"], ["3"]):
            await pilot.press(*keys)
            await pilot.pause()
            shown = lines(app)
            cut = [line for line in shown[:-1] if line.rstrip().endswith("…")]
            assert not cut, (keys, cut)
            assert len(shown) == 24


# --- snapshots -----------------------------------------------------------------------------


def _shown(*keys: str, typed: str | None = None):
    async def run_before(pilot) -> None:
        screen = await open_light(pilot)
        await pilot.press(*keys)
        if typed is not None:
            await type_in(pilot, screen, typed)
        await pilot.pause()

    return run_before


def test_snapshot_calculator_80x24(snap_compare):
    assert snap_compare(make_app(seed=3, size=(80, 24)), terminal_size=(80, 24),
                        run_before=_shown())


def test_snapshot_bad_input_kept_80x24(snap_compare):
    assert snap_compare(make_app(seed=3, size=(80, 24)), terminal_size=(80, 24),
                        run_before=_shown(typed="5 parsecs"))


def test_snapshot_city_pair_120x40(snap_compare):
    keys = ["2", *["j"] * index_of("Tokyo"), "f",
            *["j"] * (index_of("San Francisco") - index_of("Tokyo")), "t"]
    assert snap_compare(make_app(seed=3, size=(120, 40)), terminal_size=(120, 40),
                        run_before=_shown(*keys))


def test_snapshot_ladder_80x24(snap_compare):
    assert snap_compare(make_app(seed=3, size=(80, 24)), terminal_size=(80, 24),
                        run_before=_shown("3", "j", "j"))
