"""A form built from a dataclass: one labelled input per field, typed by the field's type,
holding its default, read back into an instance that the dataclass's own validator checks.

Field metadata may give a `label` (default: the field's name) and a `restrict` pattern for what
may be typed (e.g. a plain file name, never a path). Field types: int, float and str.

`value()` parses every field and builds the instance; a text that does not parse, or a value
the validator refuses (a ValueError whose `field` attribute names the field, as ConfigError
does), marks that field and raises FormError with a one-line reason. A marked field keeps the
text as typed; its label ends in ✗ (readable without colour) and its input takes the error
colour.

A key an input refuses as it is typed (a letter in a number field, a character its `restrict`
pattern keeps out) is never dropped silently: a hint line under the form says why, until the
next accepted edit, and the form posts `DataclassForm.Refused`.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Static

T = TypeVar("T")

InputType = Literal["integer", "number", "text"]
INPUT_TYPES: dict[type, InputType] = {int: "integer", float: "number", str: "text"}
NOUNS = {int: "whole number", float: "number"}
# What an input of each kind takes, for the hint when a key is refused.
TAKES = {int: "a whole number: digits, a leading - or +",
         float: "a number: digits, one . and an exponent as in 3e-4",
         str: "letters, digits and the characters this field allows"}
BAD_MARK = " ✗"


class FormError(ValueError):
    """A field's text does not parse, or its value is refused; `field` names it (or None)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: type  # int, float or str
    default: str  # the text the input starts with
    restrict: str | None = None


def form_fields(schema: type) -> list[FormField]:
    """The form's fields, in the dataclass's order (fields with init=False are left out)."""
    hints = typing.get_type_hints(schema)
    result = []
    for field in dataclasses.fields(schema):
        if not field.init:
            continue
        kind = hints[field.name]
        if kind not in INPUT_TYPES:
            raise TypeError(f"{schema.__name__}.{field.name}: a form field is int, float or "
                            f"str, not {kind!r}")
        if field.default is not dataclasses.MISSING:
            default = str(field.default)
        elif field.default_factory is not dataclasses.MISSING:
            default = str(field.default_factory())
        else:
            default = ""
        result.append(FormField(field.name, field.metadata.get("label", field.name), kind,
                                default, field.metadata.get("restrict")))
    return result


def parse(field: FormField, text: str) -> int | float | str:
    """The field's value from its text; FormError names the field when it does not parse."""
    text = text.strip()
    if field.kind is str:
        return text
    try:
        return field.kind(text)
    except ValueError:
        raise FormError(f"{field.label}: {text!r} is not a {NOUNS[field.kind]}",
                        field.name) from None


def refusal(field: FormField, typed: str) -> str:
    """The hint shown when `typed` is refused in `field` as it is typed."""
    shown = typed if len(typed) <= 12 else typed[:11] + "…"
    return f"{field.label}: {shown!r} refused; it takes {TAKES[field.kind]}"


class FormInput(Input):
    """An Input that remembers the text it was last asked to insert, and on refusing it tells
    its form (instead of only ringing the bell)."""

    typed = ""

    def replace(self, text: str, start: int, end: int) -> None:
        self.typed = text
        super().replace(text, start, end)

    def restricted(self) -> None:
        super().restricted()
        form = next((node for node in self.ancestors if isinstance(node, DataclassForm)), None)
        if form is not None:
            form.refused(self, self.typed)


class DataclassForm(Vertical, Generic[T]):
    """One row per field of `schema`: its label, then an input. `validator` names the method
    of the dataclass that checks an instance and returns it (None: no check)."""

    DEFAULT_CSS = """
    DataclassForm {
        height: auto;
    }
    DataclassForm .form-field {
        height: 1;
    }
    DataclassForm .form-label {
        color: $text-muted;
    }
    DataclassForm .form-label.-bad {
        color: $error;
        text-style: bold;
    }
    DataclassForm .form-input {
        width: 1fr;
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    DataclassForm .form-input:focus {
        background: $primary 40%;
    }
    DataclassForm .form-input.-bad {
        background: $error 40%;
    }
    DataclassForm .form-hint {
        height: auto;
        color: $error;
        display: none;
    }
    DataclassForm .form-hint.-shown {
        display: block;
    }
    """

    class Refused(Message):
        """A key was refused in field `name`; `hint` says why (as the form shows it)."""

        def __init__(self, name: str, typed: str, hint: str) -> None:
            super().__init__()
            self.name, self.typed, self.hint = name, typed, hint

    def __init__(self, schema: type[T], *, validator: str | None = "validated",
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.schema = schema
        self.validator = validator
        self.fields = {field.name: field for field in form_fields(schema)}

    def _field_id(self, name: str) -> str:
        return f"{self.id or 'form'}-{name}"

    def compose(self) -> ComposeResult:
        label_width = max((len(f.label) for f in self.fields.values()), default=0) + len(BAD_MARK)
        for field in self.fields.values():
            input_id = self._field_id(field.name)
            with Horizontal(classes="form-field"):
                label = Static(field.label, id=f"{input_id}-label", classes="form-label",
                               markup=False)
                label.styles.width = label_width
                yield label
                yield FormInput(field.default, type=INPUT_TYPES[field.kind], id=input_id,
                                classes="form-input", select_on_focus=False,
                                restrict=field.restrict)
        yield Static(id=f"{self.id or 'form'}-hint", classes="form-hint", markup=False)

    def on_mount(self) -> None:
        if self.app.is_headless:  # a blinking cursor would make screenshots differ
            for field in self.query(Input):
                field.cursor_blink = False

    @property
    def hint(self) -> str:
        """The hint line's text ("" when hidden)."""
        line = self.query_one(".form-hint", Static)
        return str(line.render()) if line.has_class("-shown") else ""

    def _show_hint(self, text: str) -> None:
        line = self.query_one(".form-hint", Static)
        line.update(text)
        line.set_class(bool(text), "-shown")

    def refused(self, field_input: Input, typed: str) -> None:
        """Say why `typed` was refused in `field_input` (called by FormInput)."""
        name = next((n for n in self.fields if self._field_id(n) == field_input.id), None)
        if name is None:
            return
        hint = refusal(self.fields[name], typed)
        self._show_hint(hint)
        self.post_message(self.Refused(name, typed, hint))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input in self.query(FormInput):
            self._show_hint("")  # an accepted edit: the hint has been read

    def input(self, name: str) -> Input:
        return self.query_one(f"#{self._field_id(name)}", Input)

    def text(self, name: str) -> str:
        return self.input(name).value

    def set_text(self, name: str, text: str) -> None:
        self.input(name).value = text

    def fill(self, values: Mapping[str, Any]) -> None:
        """Show these values in their fields (names the form lacks are ignored)."""
        for name, value in values.items():
            if name in self.fields:
                self.set_text(name, str(value))

    def mark(self, name: str, bad: bool = True) -> None:
        """Mark a field as refused (or clear the mark), keeping its text."""
        field = self.fields[name]
        label = self.query_one(f"#{self._field_id(name)}-label", Static)
        label.update(field.label + BAD_MARK if bad else field.label)
        label.set_class(bad, "-bad")
        self.input(name).set_class(bad, "-bad")

    def is_marked(self, name: str) -> bool:
        return self.input(name).has_class("-bad")

    def clear_marks(self) -> None:
        for name in self.fields:
            self.mark(name, bad=False)

    def value(self) -> T:
        """The form as a checked instance of the dataclass; FormError after marking the field
        at fault (the first one that does not parse, else the one the validator names)."""
        self.clear_marks()
        values = {}
        for field in self.fields.values():
            try:
                values[field.name] = parse(field, self.text(field.name))
            except FormError:
                self.mark(field.name)
                raise
        try:
            instance = self.schema(**values)
            if self.validator is not None:
                instance = getattr(instance, self.validator)()
        except ValueError as error:
            name = getattr(error, "field", None)
            name = name if name in self.fields else None
            if name is not None:
                self.mark(name)
            raise FormError(str(error), name) from error
        return instance
