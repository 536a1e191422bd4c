"""Whole numbers in binary: the ways a person finds the bits of 13, and what a register of
8, 16, 32 or 64 bits does with them.

Two hand methods give the same bits. Repeated division by 2: each remainder is the bit that
falls off the right-hand end, so the remainders, read from the last one up, are the number in
binary (13 → 6 r1 → 3 r0 → 1 r1 → 0 r1 → 1101). Subtracting the largest power of two that
still fits: each power taken is a 1 bit (13 − 8 = 5, 5 − 4 = 1, 1 − 1 = 0 → bits 3, 2, 0).

A register of w bits holds a pattern, not a number: read unsigned it is 0 … 2^w − 1, read as
two's complement it is −2^(w−1) … 2^(w−1) − 1. A negative number −x is stored as 2^w − x,
which is what "flip every bit of x and add one" computes; a number that does not fit keeps
its low w bits (it wraps, modulo 2^w), exactly as the hardware's adder does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BITS = 4096  # the largest magnitude accepted, in bits (≈ 1233 decimal digits)
WIDTHS = (8, 16, 32, 64)  # the register widths on offer
PREFIXES = {"0b": 2, "0o": 8, "0x": 16}
# The longest text worth parsing: 4096 binary digits, a sign, a prefix and a separator
# between every pair of digits. Anything longer is refused before int() sees it.
MAX_TEXT = 2 * MAX_BITS + 8
MAX_DECIMAL_DIGITS = len(str(1 << MAX_BITS))
DIGITS = re.compile(r"[0-9A-Za-z]+(?:_[0-9A-Za-z]+)*")  # digits, one `_` between two


def parse_integer(text: str) -> int:
    """A whole number as typed: decimal, 0b…, 0o… or 0x…, `_` between digits, a leading sign,
    surrounding whitespace ignored. ValueError, with a one-line reason, for anything else or
    for a magnitude above MAX_BITS bits."""
    body = text.strip()
    if not body:
        raise ValueError("type a whole number, such as 13, -13, 0b1101 or 0xd")
    shown = body if len(body) <= 24 else body[:21] + "…"
    if len(body) > MAX_TEXT:
        raise ValueError(f"too long: at most {MAX_BITS} bits")
    sign = 1
    if body[0] in "+-":
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    base = PREFIXES.get(body[:2].lower(), 10)
    digits = body[2:] if base != 10 else body
    if base != 10 and digits.startswith("_"):
        digits = digits[1:]  # Python's 0x_ff: one separator may follow the prefix
    # Checked here rather than left to int(), which would also take non-ASCII digits, inner
    # whitespace or a second sign, and counts leading zeros against its own digit limit.
    if not DIGITS.fullmatch(digits):
        raise ValueError(_not_whole(shown, base))
    digits = digits.replace("_", "").lstrip("0") or "0"
    if base == 10 and len(digits) > MAX_DECIMAL_DIGITS:
        raise ValueError(f"too large: {len(digits)} digits, at most {MAX_BITS} bits")
    try:
        magnitude = int(digits, base)
    except ValueError:
        raise ValueError(_not_whole(shown, base)) from None
    if magnitude.bit_length() > MAX_BITS:
        raise ValueError(f"too large: {magnitude.bit_length()} bits, at most {MAX_BITS}")
    return sign * magnitude


def _not_whole(shown: str, base: int) -> str:
    if base != 10:
        return f"{shown!r} is not a base-{base} number"
    return f"{shown!r} is not a whole number: digits, 0b…, 0o… or 0x…"


# -- the two hand methods ---------------------------------------------------------------------


@dataclass(frozen=True)
class DivisionStep:
    """One division by 2: dividend = 2·quotient + remainder; the remainder is bit `bit`."""

    dividend: int
    quotient: int
    remainder: int  # 0 or 1
    bit: int  # which bit this remainder is: 0 is the least significant


def division_steps(value: int) -> list[DivisionStep]:
    """Repeated division of |value| by 2 until the quotient is 0: one step per binary digit
    (0 takes one step, giving the single digit 0)."""
    steps: list[DivisionStep] = []
    dividend = abs(value)
    while True:
        quotient, remainder = divmod(dividend, 2)
        steps.append(DivisionStep(dividend, quotient, remainder, len(steps)))
        if quotient == 0:
            return steps
        dividend = quotient


def read_upward(steps: list[DivisionStep]) -> str:
    """The binary digits the remainders spell, the last remainder first."""
    return "".join(str(step.remainder) for step in reversed(steps))


@dataclass(frozen=True)
class PowerStep:
    """One subtraction of the largest power of two that fits: remaining − 2^power = left."""

    remaining: int
    power: int
    left: int


def power_steps(value: int) -> list[PowerStep]:
    """Take away the largest power of two that still fits from |value| until nothing is left:
    the powers taken are the 1 bits (none for 0)."""
    steps: list[PowerStep] = []
    remaining = abs(value)
    while remaining:
        power = remaining.bit_length() - 1
        steps.append(PowerStep(remaining, power, remaining - (1 << power)))
        remaining -= 1 << power
    return steps


# -- digits in other bases ----------------------------------------------------------------------


def to_base(value: int, base: int) -> str:
    """Digits of |value| in base 2, 8 or 16, lower case, no prefix."""
    return format(abs(value), {2: "b", 8: "o", 16: "x"}[base])


def signed_text(value: int, base: int) -> str:
    """value with Python's prefix: 0b1101, -0xd."""
    prefix = {2: "0b", 8: "0o", 16: "0x"}[base]
    return ("-" if value < 0 else "") + prefix + to_base(value, base)


def digit_groups(bits: str, size: int) -> list[tuple[str, str]]:
    """A bit string cut into groups of `size` bits from the right (left-padded with 0), each
    with its digit: size 4 gives hex (one hex digit is exactly 4 bits), size 3 octal."""
    padded = bits.zfill(-(-len(bits) // size) * size)
    groups = [padded[i:i + size] for i in range(0, len(padded), size)]
    return [(group, format(int(group, 2), "x")) for group in groups]


# -- registers of a fixed width ------------------------------------------------------------------


@dataclass(frozen=True)
class WidthRange:
    """What a register of `width` bits can hold."""

    width: int
    unsigned_min: int
    unsigned_max: int
    signed_min: int
    signed_max: int


def width_range(width: int) -> WidthRange:
    _check_width(width)
    return WidthRange(width, 0, (1 << width) - 1, -(1 << (width - 1)), (1 << (width - 1)) - 1)


def _check_width(width: int) -> None:
    if not 1 <= width <= MAX_BITS:
        raise ValueError(f"a width is 1 to {MAX_BITS} bits, not {width}")


def pattern(value: int, width: int) -> str:
    """The `width` bits a register holds for value: its two's complement, wrapped modulo
    2^width (Python's & on a negative int works on its infinite two's complement)."""
    _check_width(width)
    return format(value & ((1 << width) - 1), f"0{width}b")


def as_signed(bits: str) -> int:
    """A bit pattern read as two's complement: the top bit weighs −2^(w−1)."""
    unsigned = int(bits, 2)
    return unsigned - (1 << len(bits)) if bits[0] == "1" else unsigned


@dataclass(frozen=True)
class Fit:
    """What a register of `width` bits makes of value."""

    value: int
    width: int
    bits: str  # the pattern kept
    unsigned: int  # the pattern read unsigned
    signed: int  # the pattern read as two's complement
    fits_unsigned: bool
    fits_signed: bool
    needed: int  # bits the value needs: unsigned for 0 and up, two's complement below 0
    lost: int  # what wrapping took away: value − the reading that keeps its sign sense

    @property
    def fits(self) -> bool:
        """Whether the value is kept exactly: signed below 0, unsigned or signed above."""
        return self.fits_signed or (self.value >= 0 and self.fits_unsigned)


def fit(value: int, width: int) -> Fit:
    """Whether value fits `width` bits, read unsigned and signed, and what it wraps to."""
    limits = width_range(width)
    bits = pattern(value, width)
    unsigned, signed = int(bits, 2), as_signed(bits)
    # A negative number needs one bit more than its magnitude minus one (−128 fits 8 bits).
    needed = value.bit_length() if value >= 0 else (-value - 1).bit_length() + 1
    kept = unsigned if value >= 0 else signed
    return Fit(value, width, bits, unsigned, signed,
               limits.unsigned_min <= value <= limits.unsigned_max,
               limits.signed_min <= value <= limits.signed_max,
               max(needed, 1), value - kept)


@dataclass(frozen=True)
class TwosComplement:
    """−x in `width` bits by flip-and-add-one: x's bits, every bit flipped, one added."""

    value: int
    width: int
    magnitude_bits: str  # |value| in width bits (its low bits, when it does not fit)
    flipped_bits: str
    result_bits: str  # equals pattern(value, width)
    carries: int  # how many low bits the +1 turned from 1 to 0 before one 0 became 1

    @property
    def kept(self) -> int:
        """|value| mod 2^width: what the register keeps of the magnitude it flips."""
        return int(self.magnitude_bits, 2)

    @property
    def wraps(self) -> bool:
        """Whether |value| ≥ 2^width, so that the flip works on |value| mod 2^width."""
        return abs(self.value) >> self.width != 0

    @property
    def flipped(self) -> int:
        """The flipped pattern read unsigned: 2^width − 1 − kept."""
        return int(self.flipped_bits, 2)

    @property
    def result(self) -> int:
        """The final pattern read unsigned: (2^width − |value|) mod 2^width for value < 0."""
        return int(self.result_bits, 2)


def twos_complement(value: int, width: int) -> TwosComplement:
    """The flip-and-add-one steps for a negative value (for 0 and up there is nothing to do:
    the result is the plain pattern, with no flip). Works modulo 2^width, so a value that
    does not fit shows what it wraps to."""
    _check_width(width)
    mask = (1 << width) - 1
    magnitude = abs(value) & mask
    if value >= 0:
        bits = format(magnitude, f"0{width}b")
        return TwosComplement(value, width, bits, bits, bits, 0)
    flipped = ~magnitude & mask
    result = (flipped + 1) & mask
    carries = (~flipped & (flipped + 1)).bit_length() - 1  # trailing ones of flipped
    return TwosComplement(value, width, format(magnitude, f"0{width}b"),
                          format(flipped, f"0{width}b"), format(result, f"0{width}b"),
                          min(carries, width))


@dataclass(frozen=True)
class Toggle:
    """A register after one bit flipped."""

    width: int
    position: int
    before: str
    after: str
    unsigned: int  # the new pattern read unsigned
    signed: int  # … and as two's complement
    value: int  # the reading the caller asked for (signed or unsigned)
    read_signed: bool = False  # which reading `value` is
    worth: int = 0  # what the flipped bit is worth under that reading


def bit_worth(position: int, width: int, signed: bool) -> int:
    """What bit `position` of a `width`-bit pattern adds when it is 1: 2^position, except the
    top bit read as two's complement, which weighs −2^(width−1)."""
    _check_width(width)
    if not 0 <= position < width:
        raise ValueError(f"bit {position} is not in {width} bits (0 to {width - 1})")
    return -(1 << position) if signed and position == width - 1 else 1 << position


def reads_signed(value: int) -> bool:
    """The reading a register keeps for value: two's complement for a negative number,
    unsigned otherwise."""
    return value < 0


def toggle_bit(value: int, position: int, width: int, signed: bool | None = None) -> Toggle:
    """Flip bit `position` (0 = least significant) of value's `width`-bit pattern. The new
    value is read as two's complement when `signed` (default: when value is negative), so a
    toggle keeps the reading the number had."""
    _check_width(width)
    if not 0 <= position < width:
        raise ValueError(f"bit {position} is not in {width} bits (0 to {width - 1})")
    before = pattern(value, width)
    after = format(int(before, 2) ^ (1 << position), f"0{width}b")
    unsigned, as_twos = int(after, 2), as_signed(after)
    read_signed = reads_signed(value) if signed is None else signed
    return Toggle(width, position, before, after, unsigned, as_twos,
                  as_twos if read_signed else unsigned, read_signed,
                  bit_worth(position, width, read_signed))


# -- the steps the screen and the CLI play -----------------------------------------------------


@dataclass(frozen=True)
class BinaryStep:
    """One step from a number to its register: a division by 2 (its remainder lands in the
    register), then, for a negative number, flipping every bit and adding one."""

    kind: str  # "divide", "flip" or "add one"
    register: str  # the width bits after this step, "·" where no step has said yet
    division: DivisionStep | None = None


def binary_steps(value: int, width: int) -> list[BinaryStep]:
    """Every step that turns value into its `width`-bit register: the divisions of |value|
    fill it from the right (a remainder beyond the top bit falls off: the value wraps), and
    a negative value then takes two more steps, the flip and the +1."""
    _check_width(width)
    register = ["·"] * width
    steps: list[BinaryStep] = []
    divisions = division_steps(value)
    for index, division in enumerate(divisions):
        if division.bit < width:
            register[width - 1 - division.bit] = str(division.remainder)
        if index == len(divisions) - 1:  # the quotient reached 0: every higher bit is 0
            register = ["0" if bit == "·" else bit for bit in register]
        steps.append(BinaryStep("divide", "".join(register), division))
    if value < 0:
        complement = twos_complement(value, width)
        steps.append(BinaryStep("flip", complement.flipped_bits))
        steps.append(BinaryStep("add one", complement.result_bits))
    return steps


@dataclass(frozen=True)
class IntegerReport:
    """Everything about one whole number: what the CLI prints and the screen shows."""

    value: int
    binary: str  # the digits of |value|
    octal: str
    hex: str
    divisions: list[DivisionStep]
    powers: list[PowerStep]
    fits: list[Fit]  # one per width asked for
    complements: list[TwosComplement]


def integer_report(value: int, widths: tuple[int, ...] = WIDTHS) -> IntegerReport:
    return IntegerReport(value, to_base(value, 2), to_base(value, 8), to_base(value, 16),
                         division_steps(value), power_steps(value),
                         [fit(value, w) for w in widths],
                         [twos_complement(value, w) for w in widths])
