"""The Bits screen's view-model: what was typed, read as a whole number; the integer view's
words and pictures; and the lines around both views (the float view is bits_float_view.py).
No widgets here; colours are theme variables, and every picture reads without colour too
(labels, brackets, reverse).

Every number comes from the engine (engine/basics/bits.py, floats.py, bits_layout.py); here
they are laid out to fit the columns and rows the screen has.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.content import Content

from ...engine.basics import bits as B
from ...engine.basics import floats as F
from ...engine.basics.bits_layout import (
    LABEL,
    DivisionStepper,
    clip,
    minus,
    number,
    power,
    register_layout,
    share,
)
from ..kit.tabs import tabs_line as views_line

VIEWS = ("integer", "float")
VIEW_TITLES = {"integer": "Integer", "float": "Float"}
START = "13"  # the question's number
FORMAT_NAMES = ("half", "single", "double")
ONE, ZERO, UNKNOWN, CURSOR = "bold", "$text-muted", "$text-muted", "bold reverse"


# -- reading what was typed ---------------------------------------------------------------------


def read_integer(text: str) -> tuple[int | None, str]:
    """The whole number typed, or None and why not (in one line, with a hint where the float
    view would take it)."""
    try:
        return B.parse_integer(text), ""
    except ValueError as error:
        message = str(error)
    try:
        F.analyse(text)
    except ValueError:
        return None, message
    return None, message.split(":")[0] + ": 2 shows it as a float"


# -- the integer view ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IntegerScene:
    """What the integer view shows: the number, its register, the step and the cursor."""

    stepper: DivisionStepper
    cursor: int

    @property
    def value(self) -> int:
        return self.stepper.value

    @property
    def width(self) -> int:
        return self.stepper.width


def summary_line(scene: IntegerScene, columns: int) -> Content:
    value, stepper = scene.value, scene.stepper
    if not stepper.done:
        known = B.read_upward(stepper.divisions_done) if stepper.divisions_done else ""
        total = len(B.division_steps(value))
        known = "·" * (total - len(known)) + known
        middle, suffix = " in binary, so far: ", f"  ({len(stepper.divisions_done)} of " \
            f"{total} digits)"
        # The whole line is budgeted: the name shrinks first, down to where the digits
        # found so far keep at least a dozen columns.
        name, room = "", 0
        for name_room in range(max(min(len(str(value)), 40), 5), 4, -1):
            name = number(value, name_room) if value >= 0 else f"|{number(-value, name_room)}|"
            room = columns - len(name) - len(middle) - len(suffix)
            if room >= min(len(known), 12):
                break
        line = Content.assemble((name, "bold"), middle, (clip(known, max(room, 1)), "bold"),
                                suffix)
        return line if line.cell_length <= columns else line.truncate(columns, ellipsis=True)
    sign = "−" if value < 0 else ""
    forms = [f"{sign}0b{B.to_base(value, 2)}", f"{sign}0o{B.to_base(value, 8)}",
             f"{sign}0x{B.to_base(value, 16)}"]
    steps = B.power_steps(value)
    if 0 < len(steps) <= 12:  # more powers than that never fit on the line
        powers = " + ".join(str(1 << step.power) for step in steps)
        full = " = ".join([number(value, 1000), *forms]) + (f" = {sign}({powers})" if sign
                                                            else f" = {powers}")
        if len(full) <= columns:
            return Content.styled(full, "bold")
    # The decimal first (it is what was typed), whole where it leaves the three forms ten
    # columns each; the forms share the rest, a short one giving its spare room to the others.
    room = columns - 9
    name = number(value, max(min(len(number(value, 1000)), room - 30), 10))
    rooms = share([len(form) for form in forms], room - len(name))
    return Content.styled(" = ".join([name, *(clip(form, width) for form, width
                                              in zip(forms, rooms, strict=True))]), "bold")


def division_rows(scene: IntegerScene, columns: int, rows: int) -> list[Content]:
    """The steps taken so far, the latest last (▶ marks it), as many as `rows` allow."""
    stepper = scene.stepper
    if stepper.position == 0:
        return [Content.styled(f"Divide {number(scene.value, 30)} by 2 again and again: "
                               "n steps, Space plays.", "$text-muted")]
    taken = stepper.steps[:stepper.position]
    window = taken[-max(rows, 1):]
    hidden = len(taken) - len(window)
    if hidden:
        window = window[1:]
        hidden += 1
    widest = max((len(number(s.division.dividend, columns // 3)) for s in window
                  if s.division), default=1)
    lines = []
    if hidden:
        lines.append(Content.styled(f"  … {hidden} earlier step{'s' * (hidden != 1)}",
                                    "$text-muted"))
    for index, step in enumerate(window):
        current = index == len(window) - 1
        mark = ("▶ ", "bold") if current else "  "
        if step.division is not None:
            division = step.division
            body = (f"{number(division.dividend, columns // 3):>{widest}} ÷ 2 = "
                    f"{number(division.quotient, columns // 3):<{widest}} r {division.remainder}")
            falls = " → bit " + str(division.bit) if division.bit < scene.width else \
                " → falls off"
            text = body + falls
        else:
            register = step.register
            if len(register) > columns - 20:  # the register below shows every bit
                register = "0x" + "".join(digit for _, digit in B.digit_groups(register, 4))
            text = f"{'flip every bit' if step.kind == 'flip' else 'add one':<16}{register}"
        lines.append(Content.assemble(mark, (clip(text, columns - 2),
                                             "bold" if current else "")))
    return lines


def register_rows(bits: str, cursor: int, columns: int, cursor_shown: bool = True
                  ) -> list[Content]:
    """Three rows per line of bits: positions (the cursor's reversed), the bits (1 bold, 0
    muted, · not known yet, the cursor reversed), and the hex digit of each nibble."""
    width = len(bits)
    cell, group, per_row = register_layout(width, columns)
    lines: list[Content] = []
    for start in range(0, width, per_row):
        chunk = range(start, min(start + per_row, width))  # indices into bits, left to right
        labels: list[str | tuple[str, str]] = [" " * LABEL if start else "pos".ljust(LABEL)]
        row: list[str | tuple[str, str]] = ["bits".ljust(LABEL) if not start else " " * LABEL]
        hexes: list[str | tuple[str, str]] = ["hex".ljust(LABEL) if not start else " " * LABEL]
        pending_label = ""
        for index in chunk:
            position = width - 1 - index
            gap = " " if index != chunk[0] and (index - start) % group == 0 else ""
            char = bits[index]
            at_cursor = cursor_shown and position == cursor
            style = CURSOR if at_cursor else ONE if char == "1" else ZERO
            row += [gap, (char.rjust(cell) if cell < 3 else f" {char} ", style)]
            if cell >= 2:
                labels += [gap, (str(position).rjust(cell) if cell == 2 else
                                 f"{position:^3}", CURSOR if at_cursor else "$text-muted")]
            else:
                # One column per bit: label each byte's top bit and the cursor, where room.
                if at_cursor or (position + 1) % 8 == 0:
                    pending_label = str(position)
                if pending_label:
                    labels += [gap, (pending_label[0], CURSOR if at_cursor else "$text-muted")]
                    pending_label = pending_label[1:]
                else:
                    labels += [gap, " "]
            if (position % 4) == 0:
                nibble = bits[index - 3:index + 1] if index >= 3 else bits[:index + 1]
                digit = "·" if "·" in nibble else B.digit_groups(nibble, 4)[0][1]
                hexes += [gap, (digit.rjust(cell) if cell < 3 else f" {digit} ", "bold")]
            else:
                hexes += [gap, " " * cell]
        lines += [Content.assemble(*labels), Content.assemble(*row), Content.assemble(*hexes)]
    return lines


def range_line(width: int, columns: int) -> Content:
    limits = B.width_range(width)
    plain = (f"{width} bits: unsigned 0 … {limits.unsigned_max:,}, signed "
             f"{minus(f'{limits.signed_min:,}')} … {limits.signed_max:,}")
    if len(plain) > columns:
        plain = (f"{width} bits: unsigned 0 … {power(width)} − 1, signed −{power(width - 1)} "
                 f"… {power(width - 1)} − 1")
    return Content.styled(plain, "$text-muted")


def fit_line(scene: IntegerScene, columns: int) -> Content:
    """Whether the number fits the width, read unsigned and signed, and what it wraps to."""
    fit = B.fit(scene.value, scene.width)
    value, width = scene.value, scene.width
    line = Content()
    # The numbers shrink one column at a time until the whole line fits: as many digits as
    # the columns allow.
    longest = max(min(len(str(value)), 40), 5)
    rooms = [(longest, room) for room in range(longest, 4, -1)] + \
        [(room, room) for room in range(longest, 4, -1)]
    for name_room, room in rooms:
        name = number(value, name_room)
        if fit.fits_unsigned and fit.fits_signed:
            verdict: list[str | tuple[str, str]] = [(f"{name} fits both ways", "bold")]
        elif fit.fits_unsigned:
            verdict = [(f"{name} fits unsigned", "bold"),
                       f"; read signed, the same bits are {number(fit.signed, room)}"]
        elif fit.fits_signed:
            verdict = [(f"{name} fits signed", "bold"),
                       f": stored as {power(width)} − {number(-value, room)} = "
                       f"{number(fit.unsigned, room)}"]
        else:
            kept = fit.unsigned if value >= 0 else fit.signed
            verdict = [(f"{name} needs {fit.needed} bits: it wraps", "bold $warning"),
                       f" to {number(kept, room)} (lost {number(fit.lost, room)})"]
        line = Content.assemble(*verdict)
        if line.cell_length <= columns:
            return line
    return line.truncate(columns, ellipsis=True)


def cursor_line(scene: IntegerScene, columns: int) -> Content:
    if not scene.stepper.done:
        return Content.styled("the register fills in as the steps run; G jumps to the end",
                              "$text-muted")
    toggle = B.toggle_bit(scene.value, scene.cursor, scene.width)
    bit = toggle.before[scene.width - 1 - scene.cursor]
    head = f"cursor: bit {scene.cursor} (worth {worth_words(toggle)}) is {bit}; "
    tail = ""
    for room in range(22, 4, -1):
        tail = (f"t → {number(toggle.value, room)} (unsigned {number(toggle.unsigned, room)}, "
                f"signed {number(toggle.signed, room)})")
        if len(head) + len(tail) <= columns:
            break
    if len(head) + len(tail) > columns:
        tail = f"t → {number(toggle.value, max(columns - len(head) - 5, 5))}"
    line = Content.assemble(head, ("t", "bold"), tail[1:])
    return line if line.cell_length <= columns else line.truncate(columns, ellipsis=True)


def worth_words(toggle: B.Toggle) -> str:
    """The bit's worth under the reading in use; the top bit names the reading, since the
    other one gives it the other sign."""
    worth = minus(f"-{power(toggle.position)}") if toggle.worth < 0 else power(toggle.position)
    if toggle.position != toggle.width - 1:
        return worth
    return f"{worth} read {'signed' if toggle.read_signed else 'unsigned'}"


def integer_content(scene: IntegerScene, columns: int, rows: int) -> Content:
    """The integer view in `columns` × about `rows`: the answer line, the division steps, the
    register with the cursor, its range, whether the number fits, and what t would do."""
    fixed = [range_line(scene.width, columns), fit_line(scene, columns),
             cursor_line(scene, columns)]
    register = register_rows(scene.stepper.steps[scene.stepper.position - 1].register
                             if scene.stepper.position else "·" * scene.width,
                             scene.cursor, columns)
    table_rows = max(rows - 1 - len(register) - len(fixed), 2)
    lines = [summary_line(scene, columns), *division_rows(scene, columns, table_rows),
             *register, *fixed]
    return Content("\n").join(lines)


def integer_explanation(scene: IntegerScene) -> Text:
    """What the step on show did, in words and its numbers; then the cursor and the width."""
    stepper, value, width = scene.stepper, scene.value, scene.width
    step = stepper.current
    text = Text()
    magnitude = abs(value)
    if step is None:
        text.append("Repeated division by 2. ", style="bold")
        text.append(f"Divide {number(magnitude)} by 2, keep the remainder, and divide the "
                    "quotient again until it is 0. Each remainder is the bit that falls off "
                    "the right-hand end. n steps, Space plays.")
    elif step.division is not None:
        division = step.division
        count = len(B.division_steps(value))
        if division.quotient == 0:
            binary = B.to_base(value, 2)
            text.append("The quotient is 0: ", style="bold")
            text.append(f"read the remainders upward, {clip(binary, 72)}. One hex digit is 4 "
                        f"bits: 0x{clip(B.to_base(value, 16), 40)}.")
            powers = B.power_steps(value)
            if len(powers) <= 8:
                taken = ", ".join(f"{number(p.remaining)} − {number(1 << p.power)} = "
                                  f"{number(p.left)}" for p in powers)
                places = ", ".join(str(p.power) for p in powers)
                text.append(f"\n\nThe other way: take away the largest power of two that "
                            f"fits: {taken}. Bits {places} are 1." if powers else
                            "\n\n0 has no powers of two to take away: every bit is 0.")
            text.append("\n\n")
        text.append(f"Step {division.bit + 1} of {count}: ", style="bold")
        text.append(f"{number(division.dividend)} = 2 × {number(division.quotient)} + "
                    f"{division.remainder}. The remainder is bit {division.bit}, worth "
                    f"{power(division.bit)}. Halving shifts every bit one place right; the "
                    "remainder is the bit shifted out.")
        if division.bit >= width:
            text.append(f" It falls outside {width} bits: the register cannot keep it.")
    elif step.kind == "flip":
        complement = B.twos_complement(value, width)
        kept = number(complement.kept)
        text.append("Two's complement, step 1: ", style="bold")
        if complement.wraps:  # the register holds only |value| mod 2^w to flip
            text.append(f"{width} bits keep {number(magnitude)} mod {power(width)} = {kept} "
                        f"of {number(magnitude)}; flip every bit of that.")
        else:
            text.append(f"flip every bit of {kept} in {width} bits.")
        text.append(f" The flipped pattern is {power(width)} − 1 − {kept} = "
                    f"{number(complement.flipped)}.")
    else:
        complement = B.twos_complement(value, width)
        text.append("Two's complement, step 2: ", style="bold")
        carry = (f"the carry ripples through {complement.carries} trailing 1s"
                 if complement.carries else "no carry: the flipped pattern ends in 0")
        stored = (f"({power(width)} − {number(magnitude)}) mod {power(width)}"
                  if complement.wraps else f"{power(width)} − {number(magnitude)}")
        text.append(f"add one ({carry}). Now the pattern is {stored} = "
                    f"{number(complement.result)}, which read signed is "
                    f"{number(B.as_signed(complement.result_bits))}. The same adder serves "
                    "signed and unsigned numbers.")
    if stepper.done:
        fit = B.fit(value, width)
        if not fit.fits:
            text.append(f"\n\n{number(value)} needs {fit.needed} bits; {width} keep only its "
                        f"low bits, so it wraps modulo 2^{width}: "
                        f"{number(fit.unsigned)} unsigned, {number(fit.signed)} signed.")
        toggle = B.toggle_bit(value, scene.cursor, width)
        other = B.bit_worth(scene.cursor, width, not toggle.read_signed)
        text.append(f"\n\nBit {scene.cursor} is worth {worth_words(toggle)}")
        if other != toggle.worth:
            text.append(f" ({'−' * (other < 0)}{power(scene.cursor)} read "
                        f"{'unsigned' if toggle.read_signed else 'signed'}: the top bit "
                        "counts negative when read signed)")
        else:
            text.append(" (only the top bit counts negative, and only read signed)")
        text.append(f". t flips it: {clip(toggle.before, 64)} → {clip(toggle.after, 64)}.")
    return text


# -- lines around the views -------------------------------------------------------------------


def tabs_line(view: str, width: int, fmt: str) -> Content:
    line = views_line([VIEW_TITLES[name] for name in VIEWS], VIEWS.index(view), "v next")
    setting = f"   {width} bits (w)" if view == "integer" else f"   {fmt} (f)"
    return Content.assemble(line, (setting, "$text-muted"))


def status_line(view: str, playback: Text, stepper: DivisionStepper | None) -> Text:
    if view == "float":
        return Text("e types a number or a sum (0.1 + 0.2) · f format · p the 0.1 + 0.2 "
                    "preset", style="dim")
    if stepper is None:
        return Text("e types a whole number: 13, -13, 0b1101, 0xd", style="dim")
    text = playback.copy()
    if not stepper.done:
        text.append("  n next · b back · G end")
    else:
        text.append("  ←/→ cursor · t flip · w width · Space replays")
    return text
