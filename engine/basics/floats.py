"""How a number typed in decimal is stored as an IEEE-754 float: half (16 bits), single (32)
or double (64), and why 0.1 + 0.2 != 0.3.

A float is three fields: a sign bit, a biased exponent and a fraction. A normal number is
(−1)^s × 1.f × 2^(e − bias); an exponent field of 0 holds the subnormals, (−1)^s × 0.f ×
2^(1 − bias), which fill the gap between the smallest normal number and 0 evenly; an exponent
field of all ones holds infinity (fraction 0) and NaN (any other fraction).

The typed text is read exactly (as a Fraction, never through a float) and rounded once to the
format the way the hardware rounds: to the nearest representable value, a tie to the one whose
last fraction bit is 0. Rounding through a double first (what `struct.pack('f', float(text))`
does) can round twice and land on the wrong side of a tie; struct is the cross-check where
the typed number is itself a double.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from fractions import Fraction

from .bits import PREFIXES, parse_integer

MAX_DIGITS = 2000  # digits in a typed decimal (a 4096-bit integer has 1234)
MAX_EXPONENT = 1000  # |e| in 1e…: far beyond every format's range, still cheap to hold exactly
# [0-9], not \d: \d also takes other scripts' digits ('٣'), which parse_integer refuses too.
DECIMAL = re.compile(
    r"(?P<whole>[0-9]+(?:_[0-9]+)*)?(?:\.(?P<part>[0-9]+(?:_[0-9]+)*)?)?"
    r"(?:e(?P<exp>[+-]?[0-9]+))?")
SPECIALS = {"inf": "inf", "infinity": "inf", "nan": "nan"}


@dataclass(frozen=True)
class FloatFormat:
    """One IEEE-754 binary format: 1 sign bit, `exponent_bits`, `fraction_bits`."""

    name: str
    exponent_bits: int
    fraction_bits: int
    struct_code: str  # struct's letter for it: 'e', 'f', 'd'

    @property
    def bits(self) -> int:
        return 1 + self.exponent_bits + self.fraction_bits

    @property
    def bias(self) -> int:
        return (1 << (self.exponent_bits - 1)) - 1

    @property
    def min_exponent(self) -> int:
        """The exponent of the smallest normal number (and of every subnormal)."""
        return 1 - self.bias

    @property
    def max_exponent(self) -> int:
        return self.bias

    @property
    def all_ones(self) -> int:
        """The exponent field of infinity and NaN."""
        return (1 << self.exponent_bits) - 1

    @property
    def max_finite(self) -> Fraction:
        return (2 - Fraction(1, 1 << self.fraction_bits)) * _power_of_two(self.max_exponent)

    @property
    def min_normal(self) -> Fraction:
        return _power_of_two(self.min_exponent)

    @property
    def min_subnormal(self) -> Fraction:
        return _power_of_two(self.min_exponent - self.fraction_bits)


HALF = FloatFormat("half", 5, 10, "e")
SINGLE = FloatFormat("single", 8, 23, "f")
DOUBLE = FloatFormat("double", 11, 52, "d")
FORMATS = {fmt.name: fmt for fmt in (HALF, SINGLE, DOUBLE)}


def _power_of_two(exponent: int) -> Fraction:
    return Fraction(1 << exponent) if exponent >= 0 else Fraction(1, 1 << -exponent)


# -- reading what was typed ---------------------------------------------------------------------


@dataclass(frozen=True)
class Real:
    """A number as typed: exactly (a Fraction), or infinity or NaN; `negative` keeps the sign
    of −0, −inf and −nan."""

    text: str
    exact: Fraction | None  # None for inf and nan
    negative: bool
    special: str = ""  # "", "inf" or "nan"


def parse_real(text: str) -> Real:
    """A number as typed: a decimal (1.5, -.25, 6.02e23, 1_000), a whole number in any base
    parse_integer takes, a fraction of two decimals (1/3), inf, infinity or nan with an
    optional sign. ValueError, with a one-line reason, for anything else."""
    body = text.strip()
    if not body:
        raise ValueError("type a number, such as 0.1, -2.5e-3, 1/3, inf or nan")
    shown = body if len(body) <= 24 else body[:21] + "…"
    if len(body) > MAX_DIGITS + 16:
        raise ValueError(f"too long: at most {MAX_DIGITS} digits")
    negative = body[0] == "-"
    unsigned = body[1:] if body[0] in "+-" else body
    special = SPECIALS.get(unsigned.lower())
    if special:
        return Real(body, None, negative, special)
    if unsigned[:2].lower() in PREFIXES:
        return Real(body, Fraction(parse_integer(body)), negative)
    if "/" in unsigned:
        top, _, bottom = unsigned.partition("/")
        denominator = _decimal(bottom.strip(), shown)
        if denominator == 0:
            raise ValueError(f"{shown!r} divides by zero")
        value = _decimal(top.strip(), shown) / denominator
    else:
        value = _decimal(unsigned, shown)
    return Real(body, -value if negative else value, negative)


def _decimal(text: str, shown: str) -> Fraction:
    match = DECIMAL.fullmatch(text.lower())
    if not match or not (match["whole"] or match["part"]):
        raise ValueError(f"{shown!r} is not a number: 0.1, -2.5e-3, 1/3, 0x1f, inf or nan")
    whole = (match["whole"] or "").replace("_", "")
    part = (match["part"] or "").replace("_", "")
    if len(whole) + len(part) > MAX_DIGITS:
        raise ValueError(f"too long: at most {MAX_DIGITS} digits")
    exponent = int(match["exp"] or 0)
    if abs(exponent) > MAX_EXPONENT:
        raise ValueError(f"the exponent of {shown!r} is beyond ±{MAX_EXPONENT}")
    exponent -= len(part)
    digits = int(whole + part or "0")
    return Fraction(digits * 10**exponent) if exponent >= 0 else Fraction(digits, 10**-exponent)


# -- rounding to a format -------------------------------------------------------------------------


def floor_log2(value: Fraction) -> int:
    """The e with 2^e ≤ value < 2^(e+1), for value > 0, exactly."""
    guess = value.numerator.bit_length() - value.denominator.bit_length()
    return guess if value >= _power_of_two(guess) else guess - 1


def round_half_even(value: Fraction) -> int:
    """The nearest integer to value ≥ 0, a tie to the even one."""
    quotient, remainder = divmod(value.numerator, value.denominator)
    twice = 2 * remainder
    if twice > value.denominator or (twice == value.denominator and quotient % 2):
        quotient += 1
    return quotient


def encode(real: Real, fmt: FloatFormat) -> int:
    """The bit pattern `fmt` stores for `real`: rounded to nearest, ties to even; too large
    becomes infinity, too small 0 (of the same sign); NaN the quiet NaN (top fraction bit)."""
    # The sign of a number other than 0 is its own; `negative` carries −0, −inf and −nan.
    negative = real.exact < 0 if real.exact else real.negative
    sign = (1 << (fmt.bits - 1)) if negative else 0
    top_exponent = fmt.all_ones << fmt.fraction_bits
    if real.special == "nan":
        return sign | top_exponent | (1 << (fmt.fraction_bits - 1))
    if real.special == "inf" or real.exact is None:
        return sign | top_exponent
    magnitude = abs(real.exact)
    if magnitude == 0:
        return sign
    # The quantum (the spacing of representable values) at this magnitude: 2^(e − f) for a
    # normal number, and the same fixed 2^(min_exponent − f) across all the subnormals.
    quantum = max(floor_log2(magnitude), fmt.min_exponent) - fmt.fraction_bits
    significand = round_half_even(magnitude / _power_of_two(quantum))
    if significand == 2 << fmt.fraction_bits:  # rounded up into the next binade
        significand, quantum = significand >> 1, quantum + 1
    if significand == 0:
        return sign  # underflow: below half the smallest subnormal
    if significand < 1 << fmt.fraction_bits:
        return sign | significand  # subnormal: exponent field 0
    exponent = quantum + fmt.fraction_bits
    if exponent > fmt.max_exponent:
        return sign | top_exponent  # overflow: rounds to infinity
    return sign | ((exponent + fmt.bias) << fmt.fraction_bits) | (
        significand - (1 << fmt.fraction_bits))


# -- a stored pattern, decoded --------------------------------------------------------------------


@dataclass(frozen=True)
class FloatBits:
    """One bit pattern of a format and what it means."""

    format: FloatFormat
    bits: int

    @property
    def sign(self) -> int:
        return self.bits >> (self.format.bits - 1)

    @property
    def exponent_field(self) -> int:
        """The biased exponent, as stored."""
        return (self.bits >> self.format.fraction_bits) & self.format.all_ones

    @property
    def fraction_field(self) -> int:
        return self.bits & ((1 << self.format.fraction_bits) - 1)

    @property
    def kind(self) -> str:
        """normal, subnormal, zero, inf or nan."""
        if self.exponent_field == self.format.all_ones:
            return "nan" if self.fraction_field else "inf"
        if self.exponent_field == 0:
            return "subnormal" if self.fraction_field else "zero"
        return "normal"

    @property
    def exponent(self) -> int | None:
        """The unbiased exponent the value uses: field − bias for a normal number, the fixed
        1 − bias for a subnormal; None for zero, inf and NaN."""
        if self.kind == "normal":
            return self.exponent_field - self.format.bias
        if self.kind == "subnormal":
            return self.format.min_exponent
        return None

    @property
    def significand(self) -> Fraction | None:
        """1.f for a normal number, 0.f for a subnormal or zero; None for inf and NaN."""
        if self.kind in ("inf", "nan"):
            return None
        lead = 1 if self.kind == "normal" else 0
        return lead + Fraction(self.fraction_field, 1 << self.format.fraction_bits)

    @property
    def value(self) -> Fraction | None:
        """The exact value stored; None for inf and NaN (−0 is 0 here: see `sign`)."""
        significand = self.significand
        if significand is None:
            return None
        scale = _power_of_two(self.exponent if self.exponent is not None else 0)
        return (-1 if self.sign else 1) * significand * scale

    @property
    def ulp(self) -> Fraction | None:
        """The spacing of the format at this value (math.ulp's definition): 2^(e − f)."""
        if self.kind in ("inf", "nan"):
            return None
        exponent = self.exponent if self.exponent is not None else self.format.min_exponent
        return _power_of_two(exponent - self.format.fraction_bits)

    @property
    def bit_string(self) -> str:
        return format(self.bits, f"0{self.format.bits}b")

    @property
    def fields(self) -> tuple[str, str, str]:
        """sign, exponent and fraction bits as strings."""
        text = self.bit_string
        split = 1 + self.format.exponent_bits
        return text[0], text[1:split], text[split:]

    def _ordered(self) -> int:
        """A key in the order of the values (−0 and +0 both 0)."""
        magnitude = self.bits & ~(1 << (self.format.bits - 1))
        return -magnitude if self.sign else magnitude

    def _from_ordered(self, key: int) -> FloatBits:
        bits = key if key >= 0 else (1 << (self.format.bits - 1)) | -key
        return FloatBits(self.format, bits)

    @property
    def next_up(self) -> FloatBits | None:
        """The next representable value above (math.nextafter toward +inf); None above +inf
        and for NaN."""
        if self.kind == "nan" or (self.kind == "inf" and not self.sign):
            return None
        return self._from_ordered(self._ordered() + 1)

    @property
    def next_down(self) -> FloatBits | None:
        if self.kind == "nan" or (self.kind == "inf" and self.sign):
            return None
        return self._from_ordered(self._ordered() - 1)

    def to_float(self) -> float:
        """The value as a Python float (a double holds every half and single exactly)."""
        raw = self.bits.to_bytes(self.format.bits // 8, "big")
        return struct.unpack(">" + self.format.struct_code, raw)[0]


@dataclass(frozen=True)
class FloatLayout(FloatBits):
    """A typed number stored in a format: the pattern, and how far it is from what was typed."""

    real: Real

    @property
    def error(self) -> Fraction | None:
        """stored − typed, exactly; None when either is infinite or NaN."""
        if self.value is None or self.real.exact is None:
            return None
        return self.value - self.real.exact

    @property
    def relative_error(self) -> Fraction | None:
        """|error| / |typed|; None when the typed number is 0 or not finite."""
        error, exact = self.error, self.real.exact
        if error is None or not exact:
            return None
        return abs(error) / abs(exact)

    @property
    def overflow(self) -> bool:
        """A finite number too large for the format: it became infinity."""
        return self.real.exact is not None and self.kind == "inf"

    @property
    def underflow(self) -> bool:
        """A number other than 0 too small for the format: it became 0."""
        return bool(self.real.exact) and self.kind == "zero"

    @property
    def exact(self) -> bool:
        return self.error == 0

    @property
    def tie(self) -> bool:
        """The typed number lay exactly halfway between two neighbours: ties go to the one
        whose last fraction bit is 0."""
        error = self.error
        if not error or self.real.exact is None:
            return False
        other = self.next_up if error < 0 else self.next_down
        if other is None or other.value is None:
            return False
        return other.value - self.real.exact == -error


def layout(real: Real | str, fmt: FloatFormat | str = DOUBLE) -> FloatLayout:
    """How `real` (a Real, or text for parse_real) is stored in `fmt` (a format or its name)."""
    if isinstance(real, str):
        real = parse_real(real)
    if isinstance(fmt, str):
        fmt = format_named(fmt)
    return FloatLayout(fmt, encode(real, fmt), real)


def format_named(name: str) -> FloatFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"no float format {name!r}: half, single or double") from None


def struct_bits(value: float, fmt: FloatFormat) -> int | None:
    """struct's pattern for a Python float in `fmt` (the cross-check); None where struct
    refuses (a finite number too large for half or single raises OverflowError there)."""
    try:
        raw = struct.pack(">" + fmt.struct_code, value)
    except OverflowError:
        return None
    return int.from_bytes(raw, "big")


def struct_agrees(shown: FloatLayout) -> bool | None:
    """Whether struct stores the typed number the same way; None where struct cannot be a
    fair judge: in half or single, a typed number that is not itself a double (struct would
    round it twice, first to a double), or one struct refuses."""
    real = shown.real
    if real.exact is None:
        value = float(real.special)
    else:
        try:
            value = float(real.exact)  # int / int: correctly rounded to a double
        except OverflowError:
            value = math.inf  # beyond every double
        if shown.format is not DOUBLE and (math.isinf(value) or Fraction(value) != real.exact):
            return None
    value = math.copysign(value, -1.0 if real.negative else 1.0)  # −0, −nan keep their sign
    expected = struct_bits(value, shown.format)
    return None if expected is None else expected == shown.bits


# -- exact decimal text ------------------------------------------------------------------------


def exact_decimal(value: Fraction) -> str | None:
    """value's complete decimal expansion, when it has one (its denominator is 2^a·5^b, as
    every binary float's is); None for a value such as 1/3."""
    denominator = value.denominator
    twos = (denominator & -denominator).bit_length() - 1
    rest = denominator >> twos
    fives = 0
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        return None
    places = max(twos, fives)
    digits = str(abs(value.numerator) * (10**places // denominator))
    if places:
        digits = digits.rjust(places + 1, "0")
        digits = digits[:-places] + "." + digits[-places:]
    return ("-" if value < 0 else "") + digits


def exact_scientific(value: Fraction) -> str | None:
    """Every significant digit of a value with a finite decimal expansion, in e-notation:
    5.5511151231257827021181583404541015625e-18; None for a value such as 1/3."""
    text = exact_decimal(value)
    if text is None:
        return None
    significant = text.lstrip("-").replace(".", "").strip("0") or "0"
    return scientific(value, max(len(significant), 1))


def scientific(value: Fraction, digits: int = 6) -> str:
    """value rounded (half to even) to `digits` significant digits: 5.55112e-17."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    exponent = len(str(magnitude.numerator // magnitude.denominator)) - 1 if magnitude >= 1 \
        else -len(str(magnitude.denominator // magnitude.numerator))
    # exponent may be off by one: fix it so 10^exponent ≤ magnitude < 10^(exponent+1).
    while magnitude >= Fraction(10) ** (exponent + 1):
        exponent += 1
    while magnitude < Fraction(10) ** exponent:
        exponent -= 1
    mantissa = round_half_even(magnitude / Fraction(10) ** (exponent - digits + 1))
    if mantissa == 10**digits:
        mantissa, exponent = mantissa // 10, exponent + 1
    text = str(mantissa)
    text = (text[0] + "." + text[1:]).rstrip("0").rstrip(".") if digits > 1 else text
    return ("-" if value < 0 else "") + f"{text}e{exponent:+03d}"


# -- 0.1 + 0.2 ----------------------------------------------------------------------------------

POINT_ONE_PLUS_POINT_TWO = "0.1 + 0.2"
PLUS = re.compile(r"(?<=[^eE\s+-])\+|\s\+|\+\s")  # a '+' that is not an exponent's sign


def split_sum(text: str) -> tuple[str, str] | None:
    """"a + b" as its two parts; None when the text is not a sum (1e+5 is one number)."""
    for match in PLUS.finditer(text):
        left, right = text[:match.start()].strip(), text[match.end():].strip()
        if left and right:
            return left, right
    return None


@dataclass(frozen=True)
class FloatSum:
    """a + b in a format: each stored, their exact sum rounded once more (what the adder
    gives), set against the typed sum rounded once (what you meant)."""

    format: FloatFormat
    a: FloatLayout
    b: FloatLayout
    computed: FloatLayout  # fl(fl(a) + fl(b)); its `real` is fl(a) + fl(b) exactly
    intended: FloatLayout  # fl(a + b); its `real` is a + b exactly as typed

    @property
    def exact_sum(self) -> Fraction | None:
        """fl(a) + fl(b), exactly, before the adder rounds it."""
        return self.computed.real.exact

    @property
    def difference(self) -> Fraction | None:
        """computed − intended, exactly; None when either is infinite or NaN."""
        if self.computed.value is None or self.intended.value is None:
            return None
        return self.computed.value - self.intended.value

    @property
    def ulps(self) -> Fraction | None:
        """The difference in units of the intended value's last place."""
        difference, ulp = self.difference, self.intended.ulp
        return None if difference is None or ulp is None else difference / ulp

    @property
    def equal(self) -> bool:
        """What `a + b == intended` says: NaN is never equal, −0 equals +0."""
        computed, intended = self.computed, self.intended
        if "nan" in (computed.kind, intended.kind):
            return False
        if computed.kind == "inf" or intended.kind == "inf":
            return computed.bits == intended.bits
        return computed.value == intended.value


def _add(a: Real, b: Real, text: str) -> Real:
    """a + b exactly, with IEEE's rules for the specials and for the sign of a zero sum."""
    if "nan" in (a.special, b.special) or (
            a.special == b.special == "inf" and a.negative != b.negative):
        return Real(text, None, False, "nan")
    for term in (a, b):
        if term.special == "inf":
            return Real(text, None, term.negative, "inf")
    assert a.exact is not None and b.exact is not None
    total = a.exact + b.exact
    # x + (−x) is +0 when rounding to nearest; only −0 + −0 is −0.
    negative = total < 0 or (total == 0 and a.negative and b.negative)
    return Real(text, total, negative)


def _stored(shown: FloatLayout) -> Real:
    value = shown.value
    special = shown.kind if shown.kind in ("inf", "nan") else ""
    text = (exact_decimal(value) or "") if value is not None else shown.kind
    return Real(text, value, bool(shown.sign), special)


def float_sum(a_text: str, b_text: str, fmt: FloatFormat | str = DOUBLE) -> FloatSum:
    """a + b as the hardware computes it in `fmt`, against the typed sum rounded once."""
    if isinstance(fmt, str):
        fmt = format_named(fmt)
    a, b = layout(a_text, fmt), layout(b_text, fmt)
    computed = layout(_add(_stored(a), _stored(b), f"{a.real.text} + {b.real.text}"), fmt)
    typed = _add(a.real, b.real, f"{a.real.text} + {b.real.text}")
    if typed.exact is not None:
        typed = Real(exact_decimal(typed.exact) or typed.text, typed.exact, typed.negative)
    return FloatSum(fmt, a, b, computed, layout(typed, fmt))


def analyse(text: str, fmt: FloatFormat | str = DOUBLE) -> FloatLayout | FloatSum:
    """What the float view shows for typed text: one number's layout, or a sum."""
    parts = split_sum(text)
    if parts is not None:
        return float_sum(*parts, fmt)
    return layout(text, fmt)
