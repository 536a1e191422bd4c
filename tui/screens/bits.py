"""Question 1, first part: 13 in binary — and what a register and a float do with a number.

Type a number (e, Enter applies it). The integer view divides it by 2 step by step, the
remainders filling an 8/16/32/64-bit register from the right (the playback keys step forward
and back; a negative number then takes the two's complement steps, flip and add one); w
changes the width, showing what overflows and what it wraps to; ←/→ move a cursor over the
bits and t flips the bit under it. The float view shows how the number is stored as an
IEEE-754 half, single or double (f cycles them): the sign, exponent and fraction fields, the
exact value stored, the rounding error and the neighbours; p shows why 0.1 + 0.2 != 0.3.
Everything is computed by engine/basics (bits.py, floats.py); this module binds keys and draws.
"""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.events import Resize
from textual.widgets import ContentSwitcher, Input, Static

from ...engine.basics import bits as B
from ...engine.basics import floats as F
from ...engine.basics.bits_layout import DivisionStepper, next_in
from ..kit.playback import PLAYBACK_BINDINGS, Playback, PlaybackMixin
from ..kit.screen import QuestionScreen
from ..widgets.explanation import ExplanationPanel
from . import bits_float_view as float_view
from . import bits_view as view

PLAYBACK_WORDS = {  # the kit's playback keys in this screen's words and keys (←/→ move the
    # bit cursor here, so stepping keeps n and b only)
    "playback_toggle": ("Play", True, "space"),
    "playback_step(1)": ("Next step", False, "n"),
    "playback_step(-1)": ("Previous step", False, "b"),
    "playback_jump(0)": ("First step", False, "g,home"),
    "playback_jump(1)": ("Last step", False, "G,end"),
    "playback_speed(1)": ("Play faster", False, "plus,equals_sign"),
    "playback_speed(-1)": ("Play slower", False, "minus"),
}
SPEEDS = (1, 2, 5, 25, 100)  # steps per tick: a 4096-bit number has 4096 divisions


class NumberInput(Input):
    """The number field. Esc leaves it (the screen's keys work again); the text stays."""

    BINDINGS = [Binding("escape", "leave", "Stop editing the number", show=False)]

    def action_leave(self) -> None:
        self.screen.set_focus(None)


class BitsScreen(PlaybackMixin, QuestionScreen):
    SCREEN_ID = "bits"
    CSS_PATH = "bits.tcss"
    AUTO_FOCUS = ""  # nothing focused: the screen's keys work at once; `e` edits the number

    BINDINGS = [
        Binding("e", "edit", "Edit"),
        # f: half/single/double in the float view; elsewhere the binding below opens that view
        Binding("f", "format(1)", "Format"),
        Binding("F", "format(-1)", "Previous float format", show=False),
        Binding("v", "next_view", "Next view", show=False),
        Binding("1", "view('integer')", "Integer view", show=False),
        Binding("2,f", "view('float')", "Float view", key_display="2/f", show=False),
        *[replace(b, key=PLAYBACK_WORDS[b.action][2], description=PLAYBACK_WORDS[b.action][0],
                  show=PLAYBACK_WORDS[b.action][1]) for b in PLAYBACK_BINDINGS],
        Binding("left,h", "cursor(1)", "Bit cursor left (a higher bit)", key_display="←",
                show=False),
        Binding("right,l", "cursor(-1)", "Bit cursor right (a lower bit)", key_display="→",
                show=False),
        Binding("t", "toggle_bit", "Flip bit"),
        Binding("w", "width(1)", "Width"),
        Binding("W", "width(-1)", "Previous width", show=False),
        Binding("p", "preset", "0.1 + 0.2"),
    ]
    HELP_NOTES = (
        "e edits the number (Enter applies it, Esc leaves the field): a whole number in "
        "decimal, 0b, 0o or 0x, with _ between digits; in the float view also 0.1, 6.02e23, "
        "1/3, inf, nan or a sum such as 0.1 + 0.2. 1 integer view: n/b step through the "
        "divisions by 2 (Space plays, g/G first/last), w the width, ←/→ (h/l) the bit cursor, "
        "t flips that bit. 2 float view: f half/single/double, p the 0.1 + 0.2 preset."
    )

    def __init__(self, screen_id: str | None = None) -> None:
        super().__init__(screen_id)
        self.view = "integer"
        self.text = view.START  # the text last applied
        self.width = 8
        self.cursor = 0
        self.format = "double"
        self.shown_float: F.FloatLayout | F.FloatSum | None = None
        self.integer_error = ""
        self.float_error = ""
        self.playback = Playback(self, self._show, speeds=SPEEDS, tick_seconds=0.35)

    @property
    def stepper(self) -> DivisionStepper | None:
        """The number's steps, once a whole number has been applied."""
        return self.playback.stepper  # type: ignore[return-value]

    # -- layout -----------------------------------------------------------------------------

    def compose_main(self) -> ComposeResult:
        with Horizontal(id="bits-work"):
            with Vertical(id="bits-left"):
                yield NumberInput(view.START, placeholder="a number: 13, -13, 0xff, 0.1, "
                                  "0.1 + 0.2", id="bits-input")
                yield Static(id="bits-error")
                yield Static(id="bits-tabs")
                with ContentSwitcher(id="bits-views", initial="view-integer"):
                    with VerticalScroll(id="view-integer"):
                        yield Static(id="bits-integer")
                    with VerticalScroll(id="view-float"):
                        yield Static(id="bits-float")
                yield Static(id="bits-status")
            yield ExplanationPanel(id="bits-explain")

    def on_mount(self) -> None:
        self.query_one("#bits-explain").border_title = "what happens"
        self._apply(view.START)
        self.call_after_refresh(self._show)  # laid out: the views know their size now

    def on_screen_suspend(self) -> None:
        self.playback.pause()

    def on_unmount(self) -> None:
        self.playback.pause()

    def on_resize(self, event: Resize) -> None:
        self.call_after_refresh(self._show)  # the views are laid out for the new size

    # -- keys -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        stepper = self.stepper
        integer = self.view == "integer" and stepper is not None
        if action.startswith("playback_"):
            if not integer or stepper is None:
                return False
            if action in ("playback_step", "playback_jump"):  # (1,) forward or to the end
                forward = parameters[:1] == (1,)
                return stepper.position < stepper.length if forward else stepper.position > 0
            return True
        if action in ("cursor", "toggle_bit"):
            return integer and stepper is not None and stepper.done
        if action == "width":
            return integer
        if action == "format":
            return self.view == "float"
        return allowed

    def action_edit(self) -> None:
        self.query_one("#bits-input", NumberInput).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        # Taken: leave the field. Refused by the integer view but read by the float view: the
        # error says "2 shows it as a float", so leave the field for 2 to do that (the text
        # stays, e edits it again). Otherwise stay in the field to fix it.
        taken = self._apply(event.value)
        if taken or (self.view == "integer" and not self.float_error):
            self.set_focus(None)

    def action_view(self, name: str) -> None:
        self.view = name
        self.query_one("#bits-views", ContentSwitcher).current = f"view-{name}"
        if name != "integer":
            self.playback.pause()
        self._show()
        self.call_after_refresh(self._show)  # laid out for the view now on show

    def action_next_view(self) -> None:
        self.action_view(next_in(view.VIEWS, self.view))

    def action_cursor(self, delta: int) -> None:
        self.cursor = (self.cursor + delta) % self.width
        self._show()

    def action_toggle_bit(self) -> None:
        stepper = self.stepper
        if stepper is None:
            return
        toggle = B.toggle_bit(stepper.value, self.cursor, self.width)
        self._set_text(str(toggle.value))
        self._apply(str(toggle.value))

    def action_width(self, delta: int) -> None:
        self.width = next_in(B.WIDTHS, self.width, delta)
        self.cursor = min(self.cursor, self.width - 1)
        if self.stepper is not None:
            self.playback.attach(self.stepper.resized(self.width))
        self._show()

    def action_format(self, delta: int) -> None:
        self.format = next_in(view.FORMAT_NAMES, self.format, delta)
        self._read_float(self.text)
        self._show()

    def action_preset(self) -> None:
        self.format = "double"
        self._set_text(F.POINT_ONE_PLUS_POINT_TWO)
        self._apply(F.POINT_ONE_PLUS_POINT_TWO)
        self.action_view("float")

    # -- applying what was typed --------------------------------------------------------------

    def _set_text(self, text: str) -> None:
        self.query_one("#bits-input", NumberInput).value = text

    def _apply(self, text: str) -> bool:
        """Read `text` for both views; a view that cannot take it says why and keeps what it
        showed. True when the view on show took it."""
        self.text = text
        value, self.integer_error = view.read_integer(text)
        if value is not None:
            self.cursor = min(self.cursor, self.width - 1)
            self.playback.attach(DivisionStepper(value, self.width))
        self._read_float(text)
        self._show()
        return not (self.integer_error if self.view == "integer" else self.float_error)

    def _read_float(self, text: str) -> None:
        shown, self.float_error = float_view.read_float(text, self.format)
        if shown is not None:
            self.shown_float = shown

    # -- drawing ----------------------------------------------------------------------------

    @staticmethod
    def _columns(scroll: VerticalScroll) -> int:
        """The columns a view's lines may take: its width less a vertical scrollbar's, so that
        a line fits whether or not the bar is shown."""
        return max(scroll.size.width - scroll.styles.scrollbar_size_vertical, 40)

    def _show(self) -> None:
        # A redraw queued by a resize or the playback timer may come after the screen has
        # been taken down (Esc, a reset): nothing left to draw on.
        if not self.is_mounted or not self.query("#bits-error"):
            return
        self.refresh_bindings()  # the step keys that work change with every move
        error = self.integer_error if self.view == "integer" else self.float_error
        message = self.query_one("#bits-error", Static)
        message.display = bool(error)
        # The inline error as every Q1 part shows it: a bold ✗, then the reason.
        message.update(Content.assemble(("✗ ", "bold $error"), (error, "$error")) if error
                       else "")
        self.query_one("#bits-tabs", Static).update(
            view.tabs_line(self.view, self.width, self.format))
        explain = self.query_one("#bits-explain", ExplanationPanel)
        if self.view == "integer":
            scroll = self.query_one("#view-integer", VerticalScroll)
            columns, rows = self._columns(scroll), max(scroll.size.height, 8)
            if self.stepper is not None:
                scene = view.IntegerScene(self.stepper, self.cursor)
                self.query_one("#bits-integer", Static).update(
                    view.integer_content(scene, columns, rows))
                explain.show(view.integer_explanation(scene))
        else:
            scroll = self.query_one("#view-float", VerticalScroll)
            columns = self._columns(scroll)
            shown = self.shown_float
            if isinstance(shown, F.FloatSum):
                self.query_one("#bits-float", Static).update(float_view.sum_content(shown, columns))
                explain.show(float_view.sum_explanation(shown))
            elif shown is not None:
                self.query_one("#bits-float", Static).update(
                    float_view.float_content(shown, columns))
                explain.show(float_view.float_explanation(shown))
        self.query_one("#bits-status", Static).update(
            view.status_line(self.view, self.playback.status("step"), self.stepper))
