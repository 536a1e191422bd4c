"""Question 1, part two: the speed of light — a calculator, city pairs and the latency ladder.

Views: 1 the calculator (type a distance such as "5570 km" or "30 cm", or a frequency such as
"3 GHz": light's times in vacuum and fibre, or its distance per clock cycle), 2 city pairs (pick
two cities from the list, or type "Tokyo to Sydney": the great circle between them and the fibre
round-trip floor), 3 the latency ladder (L1 to the far side of the Earth on a log scale, each
rung beside the distance light covers in its time). Every number comes from the engine
(engine/basics/light_table.py); nothing here is measured, so nothing runs in the background.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Input, OptionList, Static

from ...engine.basics import light_table as light
from ...engine.basics.cities import CITIES
from ..kit.screen import QuestionScreen
from ..widgets.explanation import ExplanationPanel
from . import light_view as view

INPUT_VIEWS = ("calculator", "cities")  # the views that take typed text


class LightInput(Input):
    """The field for a distance, a frequency or two cities. Esc leaves it; the text stays."""

    BINDINGS = [Binding("escape", "leave", "Stop typing", show=False)]

    def action_leave(self) -> None:
        self.screen.set_focus(None)


class LadderChart(Widget):
    """The latency ladder, drawn at whatever width the widget has (it redraws on a resize)."""

    DEFAULT_CSS = "LadderChart { height: auto; }"
    selected: reactive[int] = reactive(0)

    def render(self):
        return view.ladder_text(self.content_size.width, self.selected)


class LightScreen(QuestionScreen):
    SCREEN_ID = "light"
    CSS_PATH = "light.tcss"
    AUTO_FOCUS = ""  # nothing focused: the screen's keys work at once; `e` types a value

    BINDINGS = [
        Binding("e", "edit", "Edit"),
        Binding("d", "example(1)", "Example"),
        Binding("D", "example(-1)", "Previous example", show=False),
        Binding("down,j", "move(1)", "Next city in the list", key_display="↓/j", show=False),
        Binding("up,k", "move(-1)", "Previous city in the list", key_display="↑/k", show=False),
        Binding("enter", "pick", "Pick city", key_display="⏎"),
        Binding("f", "pick('from')", "From: this city", show=False),
        Binding("t", "pick('to')", "To: this city", show=False),
        Binding("x", "swap", "Swap from and to", show=False),
        Binding("down,j", "rung(1)", "Next rung", key_display="↓/j"),
        Binding("up,k", "rung(-1)", "Previous rung", key_display="↑/k", show=False),
        Binding("v", "next_view", "Next view"),
        Binding("1", "view('calculator')", "Calculator view", show=False),
        Binding("2", "view('cities')", "City pairs view", show=False),
        Binding("3", "view('ladder')", "Ladder view", show=False),
    ]
    HELP_NOTES = (
        "1 calculator: e (or /) types a distance (5570 km, 30 cm, 384400km; a bare number is "
        "km; mm ≠ Mm) or a frequency (3 GHz), Enter works it out, Esc leaves the field; d/D "
        "walk through examples. 2 city pairs: ↑/↓ (j/k) move in the list, Enter picks the city "
        "for the end marked ▸ (from first, then to), f/t pick from/to directly, x swaps; or "
        "type 'Tokyo to Sydney' after e. 3 the ladder: ↑/↓ pick a rung. v next view. Typical "
        "pings are a rule of thumb: this screen measures nothing."
    )

    def __init__(self, screen_id: str | None = None) -> None:
        super().__init__(screen_id)
        self.view = "calculator"
        self.example = 0
        self.typed = {"calculator": view.EXAMPLES[0],
                      "cities": " to ".join(view.DEFAULT_PAIR)}
        self.errors = {name: "" for name in INPUT_VIEWS}
        self.result: light.LightTimes | light.ClockCycle = light.calculate(view.EXAMPLES[0])
        self.origin, self.destination = (light.find_city(name) for name in view.DEFAULT_PAIR)
        # The cursor starts on the 'from' city with 'from' armed: a first Enter keeps the pair
        # (never London to London); moving first, then Enter, changes where the trip starts.
        self.cursor = CITIES.index(self.origin)
        self.picking = "from"  # the end the next Enter sets
        self.rung = 0

    # -- layout -----------------------------------------------------------------------------

    def compose_main(self) -> ComposeResult:
        with Horizontal(id="light-work"):
            with Vertical(id="light-left"):
                yield LightInput(value=self.typed["calculator"],
                                 placeholder=view.PLACEHOLDERS["calculator"], id="light-input")
                yield Static(id="light-message")
                yield Static(id="light-tabs")
                with ContentSwitcher(id="light-views", initial="view-calculator"):
                    with VerticalScroll(id="view-calculator"):
                        yield Static(id="light-calculator")
                    with Horizontal(id="view-cities"):
                        cities = OptionList(*self._city_prompts(), id="light-cities")
                        cities.can_focus = False  # the screen's ↑/↓ drive it
                        yield cities
                        with VerticalScroll(id="light-pair-scroll"):
                            yield Static(id="light-pair")
                    with VerticalScroll(id="view-ladder"):
                        yield LadderChart(id="light-ladder")
                yield Static(id="light-keys")
            yield ExplanationPanel(id="light-explain")

    def on_mount(self) -> None:
        self.query_one("#light-explain").border_title = "what it means"
        self.query_one("#light-cities", OptionList).highlighted = self.cursor
        self._show_all()

    # -- keys -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        if action == "edit":  # not while typing: there `e` is a letter
            return self.view in INPUT_VIEWS and not self.query_one("#light-input").has_focus
        if action == "example":
            return self.view == "calculator"
        if action in ("move", "pick", "swap"):
            return self.view == "cities"
        if action == "rung":
            return self.view == "ladder"
        return allowed

    def action_view(self, name: str) -> None:
        self.view = name
        self.query_one("#light-views", ContentSwitcher).current = f"view-{name}"
        field = self.query_one("#light-input", LightInput)
        has_input = name in INPUT_VIEWS
        field.display = has_input
        self.query_one("#light-message").display = has_input
        if has_input:
            field.value = self.typed[name]
            field.placeholder = view.PLACEHOLDERS[name]
        elif field.has_focus:
            self.set_focus(None)
        self.refresh_bindings()
        self._show_all()

    def action_next_view(self) -> None:
        self.action_view(view.VIEWS[(view.VIEWS.index(self.view) + 1) % len(view.VIEWS)])

    def action_edit(self) -> None:
        self.query_one("#light-input", LightInput).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.view in INPUT_VIEWS:
            self.typed[self.view] = event.value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.view == "calculator":
            self._calculate(event.value)
        elif self.view == "cities":
            self._set_pair_from_text(event.value)
        if not self.errors.get(self.view):
            self.set_focus(None)  # applied: the screen's keys work again
        self._show_all()

    def _calculate(self, text: str) -> None:
        try:
            self.result = light.calculate(text)
        except ValueError as error:
            self.errors["calculator"] = str(error)  # the text stays in the field
            return
        self.errors["calculator"] = ""
        self.app.record_run("light", f"light: {text.strip()}")

    def _set_pair_from_text(self, text: str) -> None:
        try:
            self.origin, self.destination = light.parse_city_pair(text)
        except ValueError as error:
            self.errors["cities"] = str(error)
            return
        self.errors["cities"] = ""
        self.cursor = CITIES.index(self.destination)
        self._pair_changed(rewrite=False)

    def action_example(self, delta: int) -> None:
        self.example = (self.example + delta) % len(view.EXAMPLES)
        text = view.EXAMPLES[self.example]
        self.typed["calculator"] = text
        self.query_one("#light-input", LightInput).value = text
        self._calculate(text)
        self._show_all()

    def action_move(self, delta: int) -> None:
        self.cursor = (self.cursor + delta) % len(CITIES)
        self.query_one("#light-cities", OptionList).highlighted = self.cursor

    def action_pick(self, role: str | None = None) -> None:
        role = role or self.picking
        city = CITIES[self.cursor]
        if role == "from":
            self.origin = city
        else:
            self.destination = city
        self.picking = "to" if role == "from" else "from"
        self.errors["cities"] = ""
        self._pair_changed()

    def action_swap(self) -> None:
        self.origin, self.destination = self.destination, self.origin
        self._pair_changed()

    def _pair_changed(self, rewrite: bool = True) -> None:
        """The pair changed: the list's marks, and (after a pick) the field's text follow it."""
        if rewrite:  # a deliberate pick replaces what was typed, as a demo key would
            self.typed["cities"] = f"{self.origin.name} to {self.destination.name}"
            if self.view == "cities":
                self.query_one("#light-input", LightInput).value = self.typed["cities"]
        cities = self.query_one("#light-cities", OptionList)
        for index, prompt in enumerate(self._city_prompts()):
            cities.replace_option_prompt_at_index(index, prompt)
        cities.highlighted = self.cursor
        self._show_all()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click on a city picks it for the end marked ▸."""
        event.stop()
        self.cursor = event.option_index
        self.action_pick()

    def action_rung(self, delta: int) -> None:
        self.rung = (self.rung + delta) % len(light.LADDER)
        self._show_all()

    # -- drawing ----------------------------------------------------------------------------

    def _city_prompts(self):
        for city in CITIES:
            role = ("both" if city == self.origin == self.destination else
                    "from" if city == self.origin else "to" if city == self.destination else "")
            yield view.city_prompt(city, role)

    @property
    def pair(self) -> light.CityPair:
        return light.city_pair(self.origin, self.destination)

    def _show_all(self) -> None:
        pair = self.pair
        self.query_one("#light-tabs", Static).update(view.tabs_line(self.view))
        self.query_one("#light-message", Static).update(
            view.message_line(self.view, self.errors.get(self.view, "")))
        self.query_one("#light-calculator", Static).update(view.calculator_text(self.result))
        self.query_one("#light-pair", Static).update(view.pair_text(pair, self.picking))
        self.query_one("#light-ladder", LadderChart).selected = self.rung
        self.query_one("#light-keys", Static).update(view.keys_line(self.view, self.picking))
        if self.view == "calculator":
            words = view.calculator_explanation(self.result)
        elif self.view == "cities":
            words = view.pair_explanation(pair)
        else:
            words = view.ladder_explanation(self.rung)
        self.query_one("#light-explain", ExplanationPanel).show(words)
