"""The Bits screen: 13 on arrival, the divisions stepped forward and back with the register
filling from the right, two's complement steps, widths and wrapping, the bit cursor and
toggling, the float view's formats and the 0.1 + 0.2 preset, bad input shown inline with the
text kept, keys listed only where they work, themes and resizes, nothing cut at 80×24, and
snapshots. Nothing here is measured: every frame is deterministic."""

from __future__ import annotations

from screen_waits import wait_until
from textual.containers import VerticalScroll
from textual.widgets import Static

from microgpt_tui.tui.app import make_app
from microgpt_tui.tui.kit.screen import key_sections
from microgpt_tui.tui.screens.bits import BitsScreen, NumberInput
from microgpt_tui.tui.widgets.explanation import ExplanationPanel


async def open_bits(pilot) -> BitsScreen:
    pilot.app.open_screen("bits")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, BitsScreen)
    await pilot.pause()
    return screen


async def enter(pilot, screen: BitsScreen, text: str) -> None:
    """Type `text` into the number field (e, clear, type, Enter); a long text is pasted."""
    await pilot.press("e")
    field = screen.query_one(NumberInput)
    field.value = "" if len(text) <= 24 else text
    await pilot.press(*(text if len(text) <= 24 else ""), "enter")
    await pilot.pause()


async def leave_field(pilot, screen: BitsScreen) -> None:
    """Esc out of the number field if it has the focus (elsewhere Esc leaves the screen)."""
    if screen.focused is not None:
        await pilot.press("escape")


def shown(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def explained(screen) -> str:
    return screen.query_one(ExplanationPanel).text


def register(screen) -> str:
    """The bits row of the register as drawn (the row after the positions)."""
    lines = shown(screen, "#bits-integer").splitlines()
    row = next(line for line in lines if line.startswith("bits "))
    return row[5:].replace(" ", "")


def listed(screen) -> set[str]:
    return {description for _, items in key_sections(screen) for _, description in items}


def lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


# --- the integer view ---------------------------------------------------------------------


async def test_it_starts_with_13_and_its_answer():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bits(pilot)
        assert screen.focused is None  # the screen's keys work at once
        assert screen.query_one(NumberInput).value == "13"
        assert screen.stepper is not None and screen.stepper.done
        integer = shown(screen, "#bits-integer")
        assert integer.startswith("13 = 0b1101 = 0o15 = 0xd = 8 + 4 + 1")
        assert "13 ÷ 2 = 6" in integer and "1 ÷ 2 = 0  r 1 → bit 3" in integer
        assert register(screen) == "00001101"
        assert "read the remainders upward, 1101" in explained(screen)
        assert "13 − 8 = 5, 5 − 4 = 1, 1 − 1 = 0" in explained(screen)
        assert not screen.query_one("#bits-error").display


async def test_stepping_back_and_forward_fills_the_register_from_the_right():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bits(pilot)
        await pilot.press("g")
        assert screen.stepper.position == 0 and register(screen) == "········"
        assert "Repeated division by 2" in explained(screen)
        await pilot.press("n")
        assert register(screen) == "·······1"
        assert "Step 1 of 4: 13 = 2 × 6 + 1" in explained(screen)
        await pilot.press("n", "n")
        assert register(screen) == "·····101"
        assert "13 in binary, so far: ·101" in shown(screen, "#bits-integer")
        await pilot.press("b")
        assert screen.stepper.position == 2 and register(screen) == "······01"
        await pilot.press("G")
        assert screen.stepper.done and register(screen) == "00001101"
        await pilot.press("space")  # at the end, play starts over and runs to the end
        assert screen.playback.playing
        await wait_until(pilot, lambda: not screen.playback.playing, "the replay")
        assert screen.stepper.done and register(screen) == "00001101"


async def test_a_negative_number_takes_the_twos_complement_steps():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bits(pilot)
        await enter(pilot, screen, "-13")
        assert screen.focused is None  # applied: the field is left
        assert screen.stepper.length == 6 and register(screen) == "11110011"
        assert "−13 fits signed: stored as 2^8 − 13 = 243" in shown(screen, "#bits-integer")
        await pilot.press("b")
        assert register(screen) == "11110010"
        assert "flip every bit" in shown(screen, "#bits-integer")
        assert "Two's complement, step 1" in explained(screen)
        await pilot.press("b")
        assert register(screen) == "00001101"
        await pilot.press("n", "n")
        assert "read signed is −13" in explained(screen)
        assert "2^8 − 13 = 243" in explained(screen)


async def test_a_negative_number_too_big_for_the_width_states_its_modular_arithmetic():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bits(pilot)
        await enter(pilot, screen, "-300")
        assert "(2^8 − 300) mod 2^8 = 212" in explained(screen)
        assert "2^8 − 300 = 212" not in explained(screen).replace("(2^8 − 300) mod", "")
        await pilot.press("b")  # the flip: 8 bits keep 300 mod 256 = 44 to flip
        assert "8 bits keep 300 mod 2^8 = 44" in explained(screen)
        assert "2^8 − 1 − 44 = 211" in explained(screen)
        assert register(screen) == format(211, "08b")


async def test_widths_cycle_and_show_what_wraps():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bits(pilot)
        await enter(pilot, screen, "300")
        assert "300 needs 9 bits: it wraps to 44 (lost 256)" in shown(screen, "#bits-integer")
        assert register(screen) == "00101100"
        await pilot.press("w")
        assert screen.width == 16 and "16 bits (w)" in shown(screen, "#bits-tabs")
        assert "300 fits both ways" in shown(screen, "#bits-integer")
        await pilot.press("w", "w")
        assert screen.width == 64 and register(screen) == format(300, "064b")
        assert "64 bits: unsigned 0 … 2^64 − 1" in shown(screen, "#bits-integer")
        await pilot.press("w")
        assert screen.width == 8
        await pilot.press("W")
        assert screen.width == 64
        await enter(pilot, screen, "255")
        await pilot.press("w")  # 64 → 8
        assert "255 fits unsigned; read signed, the same bits are −1" in shown(
            screen, "#bits-integer")


async def test_the_cursor_and_toggling_bits():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bits(pilot)
        assert screen.cursor == 0
        await pilot.press("t")
        assert screen.query_one(NumberInput).value == "12" and register(screen) == "00001100"
        await pilot.press("left", "left", "h")
        assert screen.cursor == 3
        assert "cursor: bit 3 (worth 2^3) is 1; t → 4" in shown(screen, "#bits-integer")
        await pilot.press("t")
        assert screen.query_one(NumberInput).value == "4"
        await pilot.press("l", "right", "right", "right")  # past bit 0, round to bit 7
        assert screen.cursor == 7
        await pilot.press("t")
        assert screen.query_one(NumberInput).value == "132"  # read unsigned, as 4 was
        # 132 is read unsigned: its top bit is worth +2^7 there (−2^7 only read signed)
        assert "(worth 2^7 read unsigned)" in shown(screen, "#bits-integer")
        assert "worth 2^7 read unsigned (−2^7 read signed" in explained(screen)
        await enter(pilot, screen, "-13")
        assert "(worth −2^7 read signed)" in shown(screen, "#bits-integer")
        await pilot.press("t")  # bit 7 of 11110011: a negative number stays read signed
        assert screen.query_one(NumberInput).value == "115"


async def test_keys_are_listed_only_where_they_work():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bits(pilot)
        keys = listed(screen)
        assert {"Edit", "Play", "Previous step", "First step", "Flip bit", "Width",
                "Float view", "0.1 + 0.2"} <= keys
        assert not keys & {"Next step", "Last step", "Format"}
        await pilot.press("g")
        keys = listed(screen)
        assert {"Next step", "Last step", "Play"} <= keys
        assert not keys & {"Previous step", "First step", "Flip bit"}
        await pilot.press("2")
        keys = listed(screen)
        assert {"Format", "Integer view", "0.1 + 0.2", "Edit"} <= keys
        assert not keys & {"Play", "Next step", "Flip bit", "Width"}
        await pilot.press("e")
        assert "Stop editing the number" in listed(screen)


# --- the float view -----------------------------------------------------------------------


async def test_the_float_view_cycles_half_single_double():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bits(pilot)
        await pilot.press("f")  # from the integer view, f opens the float view as it is
        assert screen.view == "float" and screen.format == "double"
        float_text = shown(screen, "#bits-float")
        assert "13 as a double: 64 bits = 1 sign + 11 exponent + 52 fraction" in float_text
        assert "0 10000000010 1010000" in float_text
        assert "± └exponent─┘ └" in float_text  # the fields read without colour
        assert "stored exactly" in float_text
        for fmt, pattern in [("half", "0 10010 1010000000"),
                             ("single", "0 10000010 10100000000000000000000"),
                             ("double", "0 10000000010 1010")]:
            await pilot.press("f")
            assert screen.format == fmt and pattern in shown(screen, "#bits-float")
            assert f"{fmt} (f)" in shown(screen, "#bits-tabs")
        await pilot.press("F")
        assert screen.format == "single"
        await enter(pilot, screen, "0.1")
        float_text = shown(screen, "#bits-float")
        assert "stored  0.100000001490116119384765625" in float_text
        assert "(relative 1.49e−08)" in float_text
        assert "struct.pack('f') stores the same bits" not in explained(screen)  # no judge
        await pilot.press("1")
        assert "2 shows it as a float" in shown(screen, "#bits-error")


async def test_the_point_one_plus_point_two_preset():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bits(pilot)
        await pilot.press("2", "f")  # single; the preset is in double
        await pilot.press("p")
        assert screen.view == "float" and screen.format == "double"
        assert screen.query_one(NumberInput).value == "0.1 + 0.2"
        float_text = shown(screen, "#bits-float")
        assert float_text.startswith("in double: 0.1 + 0.2 == 0.3 is False")
        assert "tie → even → 0.3000000000000000444089209850062616169452667236328125" \
            in float_text
        assert "0.3        → 0.299999999999999988897769753748434595763683319091796875" \
            in float_text
        assert "= 1 ulp" in float_text
        assert "math.isclose" in explained(screen)
        await pilot.press("f")  # the same sum in half
        assert "in half: 0.1 + 0.2 == 0.3 is" in shown(screen, "#bits-float")
        await pilot.press("1")  # a sum is no whole number: said inline, the 13 kept
        assert screen.query_one("#bits-error").display
        assert "13 = 0b1101" in shown(screen, "#bits-integer")


# --- typing ------------------------------------------------------------------------------


async def test_bad_input_is_shown_inline_and_the_text_kept():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bits(pilot)
        await enter(pilot, screen, "abc")
        field = screen.query_one(NumberInput)
        assert field.value == "abc"  # nothing lost
        assert screen.focused is field  # still editing, to fix it
        error = screen.query_one("#bits-error", Static)
        assert error.display and "'abc' is not a whole number" in shown(screen, "#bits-error")
        assert "13 = 0b1101" in shown(screen, "#bits-integer")  # the last number stays
        await pilot.press("escape")
        assert screen.focused is None and field.value == "abc"
        await pilot.press("2")
        assert "'abc' is not a number" in shown(screen, "#bits-error")
        await enter(pilot, screen, "")
        assert "type a number" in shown(screen, "#bits-error")
        await pilot.press("escape", "1")
        assert "type a whole number" in shown(screen, "#bits-error")
        await enter(pilot, screen, "0x" + "f" * 1025)
        assert "too large: 4100 bits, at most 4096" in shown(screen, "#bits-error")
        await enter(pilot, screen, "7")
        assert not error.display and screen.focused is None
        assert register(screen) == "00000111"


async def test_a_float_refused_as_a_whole_number_leaves_the_field_for_2():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bits(pilot)
        await enter(pilot, screen, "0.1")
        assert "2 shows it as a float" in shown(screen, "#bits-error")
        field = screen.query_one(NumberInput)
        assert screen.focused is None and field.value == "0.1"  # 2 is a key, not a digit
        await pilot.press("2")
        assert screen.view == "float" and field.value == "0.1"
        assert not screen.query_one("#bits-error", Static).display


async def test_a_24_digit_number_fits_80x24_at_every_step():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bits(pilot)
        typed = "123456789012345678901234"
        await enter(pilot, screen, typed)
        problems = []
        for keys in [[], ["g"], ["n"], *[["n"] * 10] * 4, ["G"], ["w"], ["w"], ["w"]]:
            await pilot.press(*keys)
            await pilot.pause()
            problems += [f"{screen.stepper.position}: {p}" for p in views_fit(screen)]
            if screen.stepper.position == 41:  # stepping: the digits found so far, in full
                summary = shown(screen, "#bits-integer").splitlines()[0]
                assert "so far:" in summary and summary.endswith("(41 of 77 digits)")
        assert problems == []
        summary = shown(screen, "#bits-integer").splitlines()[0]
        assert summary.startswith(typed + " = 0b")  # the room is used: every decimal digit
        assert "(lost 123" in shown(screen, "#bits-integer") or screen.width == 64


def test_a_nan_sum_says_nan():
    from microgpt_tui.engine.basics import floats as F
    from microgpt_tui.tui.screens import bits_float_view as view
    text = view.sum_content(F.analyse("inf + -inf"), 78).plain
    assert "exact sum    NaN" in text and "rounds to  → NaN" in text and "—" not in text
    text = view.sum_content(F.analyse("inf + 1"), 78).plain
    assert "exact sum    +infinity" in text


async def test_a_big_number_steps_and_fits_the_screen():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bits(pilot)
        await enter(pilot, screen, str(2**4096 - 1))
        assert screen.stepper.length == 4096
        integer = shown(screen, "#bits-integer")
        assert "(1234 digits)" in integer and "earlier steps" in integer
        assert "→ falls off" in integer
        assert "needs 4096 bits: it wraps" in integer
        await pilot.press("g", "n")
        assert register(screen) == "·······1"


# --- themes, sizes, nothing cut --------------------------------------------------------------

STATES = [["g", "n", "n"], ["w", "w", "w"], ["2", "f"], ["p"]]
TYPED = ["13", "-13", "300", str(2**200 + 12345), "5e-324", "1/3", "-inf", "nan", "65520",
         "0.1 + 0.2", "1e400", "-0"]


def views_fit(screen) -> list[str]:
    """Lines wider than their view, and views taller than their place (a scroll needed)."""
    problems = []
    name = "integer" if screen.view == "integer" else "float"
    static = screen.query_one(f"#bits-{name}", Static)
    scroll = screen.query_one(f"#view-{name}", VerticalScroll)
    for line in str(static.render()).splitlines():
        if len(line) > static.content_region.width:
            problems.append(f"{len(line)} > {static.content_region.width}: {line}")
    if scroll.max_scroll_y:
        problems.append(f"{name} view scrolls by {scroll.max_scroll_y}")
    return problems


async def test_nothing_is_cut_at_80x24():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bits(pilot)
        problems = []
        for typed in TYPED:
            await enter(pilot, screen, typed)
            await leave_field(pilot, screen)
            for keys in [["1"], ["w"], ["w"], ["w"], ["w", "2"], ["f"], ["f"], ["f"]]:
                await pilot.press(*keys)
                await pilot.pause()
                state = f"{typed} {screen.view} {screen.width} {screen.format}"
                problems += [f"{state}: {p}" for p in views_fit(screen)]
                cut = [line for line in lines(app)[:-1] if line.rstrip().endswith("…")]
                problems += [f"{state}: ends in …: {line}" for line in cut]
        assert problems == []


async def test_themes_resizes_and_keys_never_break_it():
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bits(pilot)
        for theme in ("ansi-light", "ansi-dark", "textual-light"):
            app.theme = theme
            for keys in STATES:
                await pilot.press(*keys)
                for size in [(80, 24), (60, 20), (200, 60), (120, 40), (10, 5), (80, 24)]:
                    await pilot.resize_terminal(*size)
                    await pilot.pause()
                    assert screen.has_class("-too-small") == (size[0] < 80), size
                await pilot.press("1", "G")
        await pilot.press(*"1gnnbGhhltwWvv2fFp", "a", "a", "question_mark", "escape")
        await pilot.pause()
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert views_fit(screen) == []


async def test_the_answer_panel_and_reset():
    app = make_app(seed=3, size=(120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_bits(pilot)
        await pilot.press("a")
        await pilot.pause()
        assert screen.answer_shown and views_fit(screen) == []
        await enter(pilot, screen, "99")
        app.reset_screen("bits")
        await pilot.pause()
        fresh = app.screen
        assert isinstance(fresh, BitsScreen) and fresh.query_one(NumberInput).value == "13"


# --- snapshots -------------------------------------------------------------------------------


def _shown(*keys: str, typed: str | None = None):
    async def run_before(pilot) -> None:
        screen = await open_bits(pilot)
        if typed is not None:
            await enter(pilot, screen, typed)
            await leave_field(pilot, screen)
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


def test_snapshot_stepping_13_at_80x24(snap_compare):
    assert snap_compare(make_app(seed=3, size=(80, 24)), terminal_size=(80, 24),
                        run_before=_shown("g", "n", "n"))


def test_snapshot_minus_13_in_16_bits_120x40(snap_compare):
    assert snap_compare(make_app(seed=3, size=(120, 40)), terminal_size=(120, 40),
                        run_before=_shown("w", "left", "left", "left", typed="-13"))


def test_snapshot_point_one_plus_point_two_80x24(snap_compare):
    assert snap_compare(make_app(seed=3, size=(80, 24)), terminal_size=(80, 24),
                        run_before=_shown("p"))


def test_snapshot_half_float_120x40(snap_compare):
    assert snap_compare(make_app(seed=3, size=(120, 40)), terminal_size=(120, 40),
                        run_before=_shown("2", "f", typed="0.1"))


async def test_a_redraw_after_the_screen_is_gone_is_dropped():
    """A resize's queued redraw, or a playback tick, may arrive after Esc or a reset took the
    screen down (found by tests/test_garbage_bytes.py)."""
    app = make_app(seed=3, size=(80, 24))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bits(pilot)
        await pilot.press("g", "space")
        await pilot.resize_terminal(100, 30)
        app.reset_screen("bits")
        await pilot.pause()
        screen._show()  # what a late tick would do
        await pilot.resize_terminal(80, 24)
        await pilot.press("escape")
        await pilot.pause(0.5)
        screen._show()
