"""Layout arithmetic for the Bits screen: the playback stepper over binary_steps, and the
digit budgets that fit numbers, registers and brackets into a number of columns. Plain strings
and numbers only; the screen's view-model (tui/screens/bits_view.py) styles them.
"""

from __future__ import annotations

from fractions import Fraction

from . import bits as B
from . import floats as F

LABEL = 5  # the register's label column: "bit", "bits", "hex"


def next_in(choices: tuple, current, delta: int = 1):
    return choices[(choices.index(current) + delta) % len(choices)]


class DivisionStepper:
    """The playback keys' view of binary_steps: `position` steps have been taken (0: none).
    A new number starts at the end (its answer on show); Space replays it from the start."""

    def __init__(self, value: int, width: int, position: int | None = None) -> None:
        self.value, self.width = value, width
        self.steps = B.binary_steps(value, width)
        self.position = len(self.steps) if position is None else min(position, len(self.steps))

    @property
    def length(self) -> int:
        return len(self.steps)

    def seek(self, position: int) -> None:
        self.position = max(0, min(position, len(self.steps)))

    @property
    def current(self) -> B.BinaryStep | None:
        return self.steps[self.position - 1] if self.position else None

    @property
    def done(self) -> bool:
        return self.position == len(self.steps)

    @property
    def divisions_done(self) -> list[B.DivisionStep]:
        return [step.division for step in self.steps[:self.position] if step.division]

    def resized(self, width: int) -> DivisionStepper:
        """The same number at another width, at the same step (the end stays the end)."""
        return DivisionStepper(self.value, width, None if self.done else self.position)


def clip(text: str, room: int) -> str:
    """text, its middle left out (…) when longer than room."""
    if len(text) <= room:
        return text
    if room < 3:
        return text[:room]
    left = (room - 1) // 2
    return text[:left] + "…" + text[len(text) - (room - 1 - left):]


def minus(text: str) -> str:
    return text.replace("-", "−")


def number(value: int, room: int = 40) -> str:
    """A whole number, a long one shortened with its digit count."""
    text = minus(str(value))
    if len(text) <= room:
        return text
    digits = len(str(abs(value)))
    return clip(text, max(room - len(f" ({digits} digits)"), 5)) + f" ({digits} digits)"


def decimal(value: Fraction | None, room: int) -> str:
    """A stored value exactly (every float has a finite decimal expansion); when it is longer
    than `room`, its leading digits in e-notation, marked ≈, with the count of digits."""
    if value is None:
        return "—"
    exact = F.exact_decimal(value)
    if exact is not None and len(exact) <= room:
        return minus(exact)
    if exact is not None:
        significant = len(exact.lstrip("-").replace(".", "").strip("0"))
        tail = f" ({significant} digits)"
    else:
        tail = " (never ends)"
    digits = max(room - len(tail) - 8, 3)
    return "≈" + minus(F.scientific(value, digits)) + tail


def signed_exact(value: Fraction | None, room: int) -> str:
    """An error or a difference: every digit in e-notation when it fits, else rounded (≈)."""
    if value is None:
        return "—"
    exact = F.exact_scientific(value)
    sign = "+" if value > 0 else ""
    if exact is not None and len(exact) + 1 <= room:
        return minus(sign + exact)
    return "≈" + minus(sign + F.scientific(value, max(min(room - 8, 17), 3)))


def power(exponent: int) -> str:
    return "2^" + minus(str(exponent))


def share(lengths: list[int], room: int) -> list[int]:
    """Columns for texts of these lengths within `room`: each its whole length where that is
    no more than an equal share, the rest split equally among the longer ones (at least 5)."""
    rooms = [0] * len(lengths)
    left, pending = room, sorted(range(len(lengths)), key=lambda i: lengths[i])
    while pending:
        equal = left // len(pending)
        index = pending[0]
        if lengths[index] <= equal:
            rooms[index] = lengths[index]
            left -= lengths[index]
            pending.pop(0)
            continue
        for index in pending:
            rooms[index] = max(equal, 5)
        break
    return rooms


def register_layout(width: int, columns: int) -> tuple[int, int, int]:
    """(cell width, bits per gap, bits per row) for a register drawn in `columns`."""
    room = columns - LABEL
    for cell, group in ((3, 4), (2, 4), (1, 8), (1, 4)):
        if width * cell + width // group - 1 <= room:
            return cell, group, width
    per_row = width
    while per_row > 8 and per_row + per_row // 8 - 1 > room:
        per_row //= 2
    return 1, 8, per_row


def bracket(label: str, size: int) -> str:
    """└─label─┘ spanning `size` columns (a shorter label, or none, when narrow)."""
    if size <= 1:
        return "±"[:size]
    for word in (label, label.split(" ")[0], label[:3]):
        if len(word) + 2 <= size:
            inner = size - 2 - len(word)
            return "└" + "─" * (inner // 2) + word + "─" * (inner - inner // 2) + "┘"
    return "└" + "─" * (size - 2) + "┘"
