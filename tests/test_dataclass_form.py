"""The form built from a dataclass: fields, labels, types and defaults from the dataclass; values
checked by its own validator; bad input marks the field and keeps the text. And the Training
screen's dataclass, TrainingForm, mapped to Config."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Static

from microgpt_tui.engine.microgpt.config import Config, ConfigError
from microgpt_tui.tui.screens.training_view import TrainingForm, config_values
from microgpt_tui.tui.widgets.dataclass_form import DataclassForm, FormError, form_fields


class RecipeError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Recipe:
    servings: int = field(default=4, metadata={"label": "serves"})
    oven: float = 180.0
    name: str = field(default="bread", metadata={"restrict": r"[a-z]*"})

    def checked(self) -> Recipe:
        if self.servings > 12:
            raise RecipeError(f"serves at most 12, got {self.servings}", "servings")
        return self


class FormApp(App):
    def __init__(self, schema: type, validator: str | None) -> None:
        super().__init__()
        self.schema, self.validator = schema, validator
        self.refusals: list[DataclassForm.Refused] = []

    def compose(self) -> ComposeResult:
        yield DataclassForm(self.schema, validator=self.validator, id="recipe")

    def on_dataclass_form_refused(self, message: DataclassForm.Refused) -> None:
        self.refusals.append(message)


def test_fields_come_from_the_dataclass():
    fields = form_fields(Recipe)
    assert [(f.name, f.label, f.kind, f.default) for f in fields] == [
        ("servings", "serves", int, "4"), ("oven", "oven", float, "180.0"),
        ("name", "name", str, "bread")]
    assert fields[2].restrict == r"[a-z]*"

    @dataclass
    class Unsupported:
        flags: list[str] = field(default_factory=list)

    with pytest.raises(TypeError, match="int, float or str"):
        form_fields(Unsupported)


async def test_inputs_are_typed_filled_with_defaults_and_read_back():
    app = FormApp(Recipe, "checked")
    async with app.run_test() as pilot:
        form = app.query_one(DataclassForm)
        assert [form.input(n).type for n in ("servings", "oven", "name")] == [
            "integer", "number", "text"]
        assert [form.text(n) for n in ("servings", "oven", "name")] == ["4", "180.0", "bread"]
        assert str(app.query_one("#recipe-servings-label", Static).render()) == "serves"
        assert form.value() == Recipe()
        form.fill({"servings": 6, "oven": 200.5, "unknown": 1})
        assert form.value() == Recipe(servings=6, oven=200.5)
        form.input("name").focus()
        await pilot.press("end", "slash", "x")  # the pattern lets only a-z through
        assert form.text("name") == "breadx"


async def test_bad_input_marks_the_field_and_keeps_the_text():
    app = FormApp(Recipe, "checked")
    async with app.run_test():
        form = app.query_one(DataclassForm)
        form.set_text("oven", "hot")
        with pytest.raises(FormError, match="oven: 'hot' is not a number") as caught:
            form.value()
        assert caught.value.field == "oven" and form.is_marked("oven")
        assert form.text("oven") == "hot"
        label = str(app.query_one("#recipe-oven-label", Static).render())
        assert label.endswith("✗")  # readable without colour
        # The validator's refusal marks the field it names; the previous mark is cleared.
        form.set_text("oven", "180")
        form.set_text("servings", "20")
        with pytest.raises(FormError, match="serves at most 12") as caught:
            form.value()
        assert caught.value.field == "servings" and form.is_marked("servings")
        assert not form.is_marked("oven") and form.text("servings") == "20"
        form.set_text("servings", "1.5")
        with pytest.raises(FormError, match="serves: '1.5' is not a whole number"):
            form.value()
        form.set_text("servings", "2")
        assert form.value() == Recipe(servings=2, oven=180.0)
        assert not any(form.is_marked(name) for name in form.fields)


async def test_a_refused_key_says_why_until_the_next_accepted_edit():
    app = FormApp(Recipe, "checked")
    async with app.run_test() as pilot:
        form = app.query_one(DataclassForm)
        hint = app.query_one("#recipe-hint", Static)
        assert form.hint == "" and not hint.display  # no room taken until something is refused
        form.input("servings").focus()
        await pilot.press("end", "x")
        await pilot.pause()
        assert form.text("servings") == "4"  # still refused, but no longer silently
        assert form.hint == "serves: 'x' refused; it takes a whole number: digits, a leading - or +"
        assert hint.display and hint.region.height >= 1
        assert [(m.name, m.typed) for m in app.refusals] == [("servings", "x")]
        await pilot.press("2")
        assert form.text("servings") == "42" and form.hint == ""
        form.input("oven").focus()
        await pilot.press("end", "e")  # an exponent needs a digit before it: "180.0e" is fine
        await pilot.press("e")
        assert form.text("oven") == "180.0e"
        assert form.hint.startswith("oven: 'e' refused; it takes a number")
        form.input("name").focus()
        await pilot.press("end", "slash")
        assert form.text("name") == "bread" and form.hint.startswith("name: '/' refused")
        form.input("servings").post_message(events.Paste("12 eggs"))  # a paste says too
        await pilot.pause()
        assert form.text("servings") == "42" and form.hint.startswith("serves: '12 eggs' refused")


def test_the_training_form_is_config_plus_two_fields():
    form = TrainingForm()
    assert form.config() == Config(num_steps=1000)
    assert TrainingForm(**config_values(Config(n_embed=8, n_head=2))).config() == Config(
        n_embed=8, n_head=2)
    with pytest.raises(ConfigError) as caught:
        TrainingForm(n_head=5).validated()
    assert caught.value.field == "n_head"
    with pytest.raises(ConfigError) as caught:
        TrainingForm(sample_every=0).validated()
    assert caught.value.field == "sample_every"
    assert TrainingForm(checkpoint="..").validated()  # the name is checked on save / load
    spec = TrainingForm(sample_every=7).session_spec("scalar", None)
    assert (spec.engine, spec.sample_every, spec.config.num_steps) == ("scalar", 7, 1000)
