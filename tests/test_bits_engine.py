"""The bits engine against hand-checked cases and Python itself: binary by division and by
powers of two, two's complement and wrapping against struct's signed formats, bit toggling;
IEEE-754 half/single/double against struct, Decimal and math (nextafter, ulp), subnormals,
the largest finite values, ties to even, −0, inf, NaN; and 0.1 + 0.2."""

from __future__ import annotations

import math
import random
import struct
import sys
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from microgpt_tui.engine.basics import bits as B
from microgpt_tui.engine.basics import floats as F

# -- parsing whole numbers -------------------------------------------------------------------


@pytest.mark.parametrize("text, value", [
    ("13", 13), (" 13\n", 13), ("-13", -13), ("+13", 13), ("0", 0), ("-0", 0),
    ("0b1101", 13), ("0B1101", 13), ("-0b1101", -13), ("0o15", 13), ("0xd", 13),
    ("0XD", 13), ("0x_ff", 255), ("1_000_000", 1_000_000), ("0b1111_0000", 240),
    ("013", 13), ("0x0000ff", 255),
])
def test_whole_numbers_are_read_in_every_base(text, value):
    assert B.parse_integer(text) == value


@pytest.mark.parametrize("text, words", [
    ("", "type a whole number"), ("   ", "type a whole number"),
    ("abc", "not a whole number"), ("1.5", "not a whole number"),
    ("1e3", "not a whole number"), ("1__0", "not a whole number"),
    ("_1", "not a whole number"), ("1_", "not a whole number"), ("0x", "base-16"),
    ("0b102", "base-2"), ("0o8", "base-8"), ("0xg", "base-16"), ("١٣", "not a whole"),
    ("1 3", "not a whole"), ("--1", "not a whole"), ("+-1", "not a whole"), ("- 1", "not a"),
    ("0x-1", "base-16"), ("1/3", "not a whole"), ("inf", "not a whole"),
])
def test_anything_else_is_refused_with_a_reason(text, words):
    with pytest.raises(ValueError, match=words):
        B.parse_integer(text)


def test_the_size_is_bounded():
    assert B.parse_integer(str(2**4096 - 1)) == 2**4096 - 1
    assert B.parse_integer("-" + hex(2**4096 - 1)) == -(2**4096 - 1)
    with pytest.raises(ValueError, match="too large: 4097 bits"):
        B.parse_integer(hex(2**4096))
    with pytest.raises(ValueError, match="too large"):
        B.parse_integer("9" * 1300)  # refused before int() (its own limit is 4300 digits)
    with pytest.raises(ValueError, match="too long"):
        B.parse_integer("1" * 100_000)
    assert B.parse_integer("0" * 5000 + "13") == 13  # leading zeros are not size


# -- the two hand methods --------------------------------------------------------------------


def test_13_by_repeated_division():
    steps = B.division_steps(13)
    assert [(s.dividend, s.quotient, s.remainder, s.bit) for s in steps] == [
        (13, 6, 1, 0), (6, 3, 0, 1), (3, 1, 1, 2), (1, 0, 1, 3)]
    assert B.read_upward(steps) == "1101"


@pytest.mark.parametrize("value, binary", [(0, "0"), (1, "1"), (2, "10"), (13, "1101"),
                                           (255, "11111111"), (256, "100000000"),
                                           (-13, "1101")])
def test_division_reads_upward_to_the_binary(value, binary):
    steps = B.division_steps(value)
    assert B.read_upward(steps) == binary
    assert len(steps) == len(binary)
    assert steps[-1].quotient == 0
    assert all(s.dividend == 2 * s.quotient + s.remainder for s in steps)


def test_big_numbers_divide_down_to_their_binary():
    rng = random.Random(15)
    for value in [2**4096 - 1, 2**4095, 2**64, 2**64 - 1, *(rng.getrandbits(900)
                                                             for _ in range(5))]:
        steps = B.division_steps(value)
        assert B.read_upward(steps) == format(value, "b")
        assert [s.bit for s in steps] == list(range(len(steps)))
    assert len(B.division_steps(2**4096 - 1)) == 4096


def test_taking_away_powers_of_two():
    assert [(p.remaining, p.power, p.left) for p in B.power_steps(13)] == [
        (13, 3, 5), (5, 2, 1), (1, 0, 0)]
    assert B.power_steps(0) == []
    rng = random.Random(1)
    for value in [rng.getrandbits(200) for _ in range(20)]:
        powers = [p.power for p in B.power_steps(value)]
        assert sum(1 << p for p in powers) == value
        assert powers == sorted(powers, reverse=True) and len(set(powers)) == len(powers)
        assert powers == [i for i, bit in enumerate(reversed(format(value, "b"))) if bit ==
                          "1"][::-1]


def test_hex_and_octal_digits():
    assert B.to_base(13, 16) == "d" and B.to_base(13, 8) == "15" and B.to_base(-13, 2) == "1101"
    assert B.signed_text(-13, 16) == "-0xd" and B.signed_text(13, 2) == "0b1101"
    assert B.digit_groups("1101", 4) == [("1101", "d")]
    assert B.digit_groups("100101100", 4) == [("0001", "1"), ("0010", "2"), ("1100", "c")]
    assert B.digit_groups("1101", 3) == [("001", "1"), ("101", "5")]
    rng = random.Random(2)
    for value in [rng.getrandbits(77) for _ in range(20)]:
        hex_digits = "".join(d for _, d in B.digit_groups(format(value, "b"), 4))
        assert hex_digits.lstrip("0") == format(value, "x").lstrip("0")


# -- registers ---------------------------------------------------------------------------------


def test_width_ranges():
    assert B.width_range(8) == B.WidthRange(8, 0, 255, -128, 127)
    assert B.width_range(64).unsigned_max == 2**64 - 1
    assert B.width_range(64).signed_min == -(2**63)
    with pytest.raises(ValueError):
        B.width_range(0)


@pytest.mark.parametrize("value, magnitude, flipped, result", [
    (-1, "00000001", "11111110", "11111111"),
    (-128, "10000000", "01111111", "10000000"),
    (-13, "00001101", "11110010", "11110011"),
])
def test_twos_complement_at_8_bits_by_hand(value, magnitude, flipped, result):
    complement = B.twos_complement(value, 8)
    assert (complement.magnitude_bits, complement.flipped_bits, complement.result_bits) == (
        magnitude, flipped, result)
    assert B.as_signed(result) == value


def test_twos_complement_carries_and_positive_numbers():
    assert B.twos_complement(-13, 8).carries == 0  # 11110010 + 1: no carry
    assert B.twos_complement(-4, 8).carries == 2  # 11111011 + 1 → 11111100
    positive = B.twos_complement(13, 8)
    assert positive.flipped_bits == positive.result_bits == "00001101"


STRUCT_SIGNED = {8: "b", 16: "h", 32: "i", 64: "q"}
STRUCT_UNSIGNED = {8: "B", 16: "H", 32: "I", 64: "Q"}


def test_twos_complement_of_a_magnitude_wider_than_the_register():
    complement = B.twos_complement(-300, 8)  # 8 bits keep 300 mod 256 = 44
    assert (complement.wraps, complement.kept, complement.flipped, complement.result) == (
        True, 44, 255 - 44, (256 - 300) % 256)
    assert complement.result == 212 == B.fit(-300, 8).unsigned
    small = B.twos_complement(-13, 8)
    assert (small.wraps, small.kept, small.flipped, small.result) == (False, 13, 242, 243)
    assert B.twos_complement(-256, 8).wraps and not B.twos_complement(-255, 8).wraps


def test_twos_complement_matches_struct_at_every_width():
    rng = random.Random(3)
    for width, code in STRUCT_SIGNED.items():
        low, high = -(1 << (width - 1)), (1 << (width - 1)) - 1
        for value in [low, low + 1, -1, 0, 1, high, *(rng.randint(low, high)
                                                      for _ in range(50))]:
            stored = int.from_bytes(struct.pack(">" + code, value), "big")
            assert B.twos_complement(value, width).result_bits == format(stored, f"0{width}b")
            assert B.pattern(value, width) == format(stored, f"0{width}b")
            assert B.as_signed(B.pattern(value, width)) == value


@pytest.mark.parametrize("value, width, fits_u, fits_s, unsigned, signed, needed, lost", [
    (13, 8, True, True, 13, 13, 4, 0),
    (255, 8, True, False, 255, -1, 8, 0),
    (256, 8, False, False, 0, 0, 9, 256),
    (300, 8, False, False, 44, 44, 9, 256),
    (-128, 8, False, True, 128, -128, 8, 0),
    (-129, 8, False, False, 127, 127, 9, -256),
    (-300, 8, False, False, 212, -44, 10, -256),
    (2**64, 64, False, False, 0, 0, 65, 2**64),
    (2**63, 64, True, False, 2**63, -(2**63), 64, 0),
    (0, 8, True, True, 0, 0, 1, 0),
])
def test_what_fits_and_what_wraps(value, width, fits_u, fits_s, unsigned, signed, needed,
                                  lost):
    fit = B.fit(value, width)
    assert (fit.fits_unsigned, fit.fits_signed, fit.unsigned, fit.signed, fit.needed,
            fit.lost) == (fits_u, fits_s, unsigned, signed, needed, lost)
    assert fit.fits == (lost == 0)


def test_wrapping_matches_struct_and_numpy():
    rng = random.Random(4)
    for width in B.WIDTHS:
        dtype = {8: np.int8, 16: np.int16, 32: np.int32, 64: np.int64}[width]
        for _ in range(50):
            value = rng.randint(-(2**(width + 8)), 2**(width + 8))
            fit = B.fit(value, width)
            unsigned = int.from_bytes(struct.pack(">" + STRUCT_UNSIGNED[width],
                                                  value % (1 << width)), "big")
            assert fit.unsigned == unsigned
            wrapped = np.array([value % (1 << width)], dtype=np.uint64).astype(dtype)[0]
            assert fit.signed == int(wrapped)


def test_toggling_a_bit():
    toggle = B.toggle_bit(13, 7, 8)
    assert (toggle.before, toggle.after) == ("00001101", "10001101")
    assert (toggle.unsigned, toggle.signed, toggle.value) == (141, -115, 141)
    assert B.toggle_bit(13, 0, 8).value == 12
    assert B.toggle_bit(-13, 7, 8).value == 115  # a negative number is read signed
    assert B.toggle_bit(-13, 0, 8).value == -14
    assert B.toggle_bit(13, 7, 8, signed=True).value == -115
    assert B.toggle_bit(300, 0, 8).value == 45  # on the 8 bits kept
    for position in range(16):
        once = B.toggle_bit(1234, position, 16)
        assert B.toggle_bit(once.value, position, 16).value == 1234
    with pytest.raises(ValueError, match="not in 8 bits"):
        B.toggle_bit(13, 8, 8)
    with pytest.raises(ValueError):
        B.toggle_bit(13, -1, 8)


def test_a_bit_is_worth_what_the_reading_in_use_says():
    assert B.bit_worth(7, 8, signed=True) == -128 and B.bit_worth(7, 8, signed=False) == 128
    assert B.bit_worth(3, 8, signed=True) == 8
    unsigned, signed = B.toggle_bit(4, 7, 8), B.toggle_bit(-13, 7, 8)
    assert (unsigned.read_signed, unsigned.worth) == (False, 128)
    assert (signed.read_signed, signed.worth) == (True, -128)
    with pytest.raises(ValueError):
        B.bit_worth(8, 8, signed=False)


def test_binary_steps_fill_the_register_from_the_right():
    steps = B.binary_steps(13, 8)
    assert [s.register for s in steps] == ["·······1", "······01", "·····101", "00001101"]
    negative = B.binary_steps(-13, 8)
    assert [s.kind for s in negative] == ["divide"] * 4 + ["flip", "add one"]
    assert [s.register for s in negative[-3:]] == ["00001101", "11110010", "11110011"]
    wrapped = B.binary_steps(300, 8)
    assert wrapped[-1].register == B.pattern(300, 8) == "00101100"
    assert wrapped[-1].division is not None and wrapped[-1].division.bit == 8
    for value in [0, 1, 255, -1, -128, 2**70 + 5, -(2**70)]:
        for width in B.WIDTHS:
            assert B.binary_steps(value, width)[-1].register == B.pattern(value, width)


def test_the_report_gathers_everything():
    report = B.integer_report(-13, (8, 16))
    assert (report.binary, report.hex, report.octal) == ("1101", "d", "15")
    assert [f.width for f in report.fits] == [8, 16]
    assert report.complements[1].result_bits == "1111111111110011"


# -- IEEE-754: reading decimals exactly --------------------------------------------------------


def test_format_constants():
    assert F.HALF.max_finite == 65504
    assert F.HALF.min_normal == Fraction(1, 2**14)
    assert F.HALF.min_subnormal == Fraction(1, 2**24)
    assert F.SINGLE.max_finite == Fraction(np.finfo(np.float32).max.item())
    assert F.DOUBLE.max_finite == Fraction(sys.float_info.max)
    assert F.DOUBLE.min_normal == Fraction(sys.float_info.min)
    assert F.DOUBLE.min_subnormal == Fraction(5e-324)
    assert (F.DOUBLE.bias, F.SINGLE.bias, F.HALF.bias) == (1023, 127, 15)


@pytest.mark.parametrize("text, exact, negative, special", [
    ("0.1", Fraction(1, 10), False, ""), ("-.5", Fraction(-1, 2), True, ""),
    ("1e3", Fraction(1000), False, ""), ("1_000.5", Fraction(2001, 2), False, ""),
    ("1/3", Fraction(1, 3), False, ""), ("-1/3", Fraction(-1, 3), True, ""),
    ("0x1f", Fraction(31), False, ""), ("-0", Fraction(0), True, ""),
    ("2.5E-3", Fraction(1, 400), False, ""), ("5.", Fraction(5), False, ""),
    ("inf", None, False, "inf"), ("-Infinity", None, True, "inf"),
    ("nan", None, False, "nan"), ("-NaN", None, True, "nan"),
])
def test_typed_numbers_are_read_exactly(text, exact, negative, special):
    real = F.parse_real(text)
    assert (real.exact, real.negative, real.special) == (exact, negative, special)


@pytest.mark.parametrize("text, words", [
    ("", "type a number"), ("abc", "not a number"), ("1/0", "divides by zero"),
    ("1e99999", "beyond"), ("1..2", "not a number"), ("e5", "not a number"),
    (".", "not a number"), ("1" * 3000, "too long"), ("0x1.8p3", "not a base-16"),
    ("1/", "not a number"), ("--1", "not a number"), ("1 2", "not a number"),
    ("٣", "not a number"), ("١٢.٥", "not a number"), ("1e٣", "not a number"),
    ("1.٥", "not a number"), ("٣/4", "not a number"),
])
def test_bad_real_numbers_are_refused(text, words):
    with pytest.raises(ValueError, match=words):
        F.parse_real(text)


# -- IEEE-754: rounding, checked against struct ------------------------------------------------


def pattern_of(value: float, code: str) -> int:
    return int.from_bytes(struct.pack(">" + code, value), "big")


def sample_doubles(count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    values = [0.0, -0.0, 5e-324, -5e-324, sys.float_info.min, sys.float_info.max,
              -sys.float_info.max, 2.2250738585072009e-308, 1.0, 0.1, 1 / 3, 65504.0,
              65519.99, 6.1e-5, 5.96e-8, 2.98e-8, 2.9802322387695312e-08, 1e-45, 1.4e-45,
              3.4028234663852886e38, 3.4028235677973366e38, 1.1754943508222875e-38]
    while len(values) < count:
        bits = rng.getrandbits(64)
        value = struct.unpack(">d", bits.to_bytes(8, "big"))[0]
        if math.isfinite(value):
            values.append(value)
        values.append(rng.uniform(-70000, 70000))
        values.append(rng.uniform(-1, 1) * 2.0 ** rng.randint(-160, 130))
    return values


def test_doubles_match_struct_and_decimal():
    for value in sample_doubles(3000, 5):
        shown = F.layout(F.Real(repr(value), Fraction(value), math.copysign(1, value) < 0),
                         F.DOUBLE)
        assert shown.bits == pattern_of(value, "d"), value
        assert shown.error == 0
        assert F.exact_decimal(Fraction(value)) == format(Decimal(abs(value)), "f").join(
            ["-" if value < 0 else "", ""]), value


def test_decimal_text_rounds_like_float():
    """Python's float() rounds decimal text correctly: the double must be the same."""
    rng = random.Random(6)
    texts = ["0.1", "0.2", "0.3", "1e23", "8.98846567431158e307", "1.7976931348623157e308",
             "1.7976931348623158e308", "2.4703282292062327e-324", "2.4703282292062328e-324",
             "4.9406564584124654e-324", "9007199254740993", "9007199254740995",
             "0.30000000000000004", "123456789012345678901234567890"]
    texts += [f"{rng.random():.{rng.randint(1, 25)}f}e{rng.randint(-330, 310)}"
              for _ in range(2000)]
    for text in texts:
        shown = F.layout(text, "double")
        assert shown.bits == pattern_of(float(text), "d"), text
        if math.isfinite(float(text)):
            assert shown.value == Fraction(float(text)), text
        else:
            assert shown.overflow, text
        assert F.struct_agrees(shown) is True


@pytest.mark.parametrize("fmt, code", [(F.HALF, "e"), (F.SINGLE, "f")])
def test_half_and_single_match_struct(fmt, code):
    for value in sample_doubles(3000, 7):
        shown = F.layout(F.Real(repr(value), Fraction(value), math.copysign(1, value) < 0),
                         fmt)
        try:
            expected = pattern_of(value, code)
        except OverflowError:  # struct refuses what rounds to infinity; we store infinity
            assert shown.kind == "inf" and shown.overflow, value
            continue
        assert shown.bits == expected, (value, fmt.name)


def test_ties_go_to_even():
    # 2^53 + 1 lies halfway between 2^53 and 2^53 + 2: the even one, 2^53, is kept.
    tie = F.layout("9007199254740993")
    assert tie.value == 2**53 and tie.tie
    assert F.layout("9007199254740995").value == 2**53 + 4  # halfway again: up to even
    assert not F.layout("9007199254740994").tie
    # In half, 2049 is a tie between 2048 and 2050 (spacing 2), 2051 between 2050 and 2052.
    assert F.layout("2049", "half").value == 2048
    assert F.layout("2051", "half").value == 2052
    # 65520 is halfway from 65504 (the largest half) to 65536: even is 65536, so infinity.
    assert F.layout("65519", "half").value == 65504
    assert F.layout("65520", "half").kind == "inf"
    # Halfway to the smallest subnormal ties to 0; a hair above it rounds up.
    assert F.layout(F.Real("2^-1075", Fraction(1, 2**1075), False)).kind == "zero"
    above = Fraction(1, 2**1075) + Fraction(1, 10**400)
    assert F.layout(F.Real("x", above, False)).value == Fraction(5e-324)


def test_reading_exactly_avoids_double_rounding():
    """1 + 2^-24 + a hair is above the midpoint of two singles, but through a double it is
    the midpoint itself, which ties down: struct.pack('f', float(text)) is wrong here."""
    text = "1.00000005960464477539062500000001"
    assert pattern_of(float(text), "f") == 0x3F800000  # double rounding: down to 1.0
    shown = F.layout(text, "single")
    assert shown.bits == 0x3F800001  # correctly rounded: up
    assert F.struct_agrees(shown) is None  # struct is no judge for a number not a double


def test_the_classes():
    assert F.layout("1").kind == "normal"
    assert F.layout("5e-324").kind == "subnormal"
    assert F.layout("1e-5", "half").kind == "subnormal"
    assert F.layout("0").kind == "zero" and F.layout("-0").sign == 1
    assert F.layout("-0").bits == pattern_of(-0.0, "d")
    assert F.layout("1e400").kind == "inf" and F.layout("1e400").overflow
    assert F.layout("-inf").bits == pattern_of(-math.inf, "d")
    assert not F.layout("inf").overflow
    assert F.layout("1e-400").kind == "zero" and F.layout("1e-400").underflow
    for fmt, code in [(F.HALF, "e"), (F.SINGLE, "f"), (F.DOUBLE, "d")]:
        nan = F.layout("nan", fmt)
        assert nan.kind == "nan" and nan.bits == pattern_of(math.nan, code)
        assert F.layout("-nan", fmt).sign == 1
        assert F.layout("inf", fmt).bits == pattern_of(math.inf, code)


def test_the_fields_of_0_1():
    shown = F.layout("0.1")
    assert shown.fields == ("0", "01111111011",
                            "1001100110011001100110011001100110011001100110011010")
    assert (shown.sign, shown.exponent_field, shown.exponent) == (0, 1019, -4)
    assert shown.bits == 0x3FB999999999999A
    assert F.exact_decimal(shown.value) == ("0.1000000000000000055511151231257827021181583404"
                                            "541015625")
    assert shown.error == Fraction(0.1) - Fraction(1, 10)
    assert F.exact_scientific(shown.error) == "5.5511151231257827021181583404541015625e-18"
    assert shown.relative_error == shown.error * 10
    assert F.layout("0.1", "half").fields == ("0", "01011", "1001100110")
    assert F.layout("0.1", "single").bits == pattern_of(0.1, "f")


def test_neighbours_and_ulp_match_math():
    for value in sample_doubles(800, 8) + [0.0, -0.0, math.inf, -math.inf]:
        shown = F.FloatBits(F.DOUBLE, pattern_of(value, "d"))
        up, down = shown.next_up, shown.next_down
        if value == math.inf:
            assert up is None and down is not None and down.to_float() == sys.float_info.max
            continue
        if value == -math.inf:
            assert down is None and up is not None
            continue
        assert up is not None and down is not None
        assert up.to_float() == math.nextafter(value, math.inf), value
        assert down.to_float() == math.nextafter(value, -math.inf), value
        assert shown.ulp == Fraction(math.ulp(value)), value
    assert F.layout("nan").next_up is None and F.layout("nan").ulp is None


def test_half_neighbours_against_numpy():
    for value in [0.0, 1.0, 65504.0, 6.1e-5, -3.0, 0.1]:
        shown = F.layout(F.Real(repr(value), Fraction(value), value < 0), "half")
        half = np.float16(value)
        assert shown.next_up is not None and shown.next_down is not None
        with np.errstate(over="ignore"):  # above 65504 is infinity, as numpy warns
            assert shown.next_up.to_float() == float(np.nextafter(half, np.float16(np.inf)))
            assert shown.next_down.to_float() == float(np.nextafter(half,
                                                                    np.float16(-np.inf)))


# -- exact text ----------------------------------------------------------------------------------


def test_exact_decimal_and_scientific():
    assert F.exact_decimal(Fraction(1, 8)) == "0.125"
    assert F.exact_decimal(Fraction(-5, 2)) == "-2.5"
    assert F.exact_decimal(Fraction(300)) == "300"
    assert F.exact_decimal(Fraction(1, 3)) is None
    assert F.scientific(Fraction(1, 3), 3) == "3.33e-01"
    assert F.scientific(Fraction(-2), 3) == "-2e+00"
    assert F.scientific(Fraction(9995, 10000), 3) == "1e+00"  # rounded up into a new decade
    assert F.scientific(Fraction(1, 10**400), 2) == "1e-400"
    assert F.exact_scientific(Fraction(300)) == "3e+02"
    assert F.exact_scientific(Fraction(1, 3)) is None


# -- 0.1 + 0.2 -----------------------------------------------------------------------------------


def test_point_one_plus_point_two_in_double():
    report = F.analyse(F.POINT_ONE_PLUS_POINT_TWO)
    assert isinstance(report, F.FloatSum)
    assert report.computed.bits == pattern_of(0.1 + 0.2, "d")
    assert report.intended.bits == pattern_of(0.3, "d")
    assert report.exact_sum == Fraction(0.1) + Fraction(0.2)
    assert report.computed.tie  # the exact sum is halfway: it goes to the even pattern
    assert report.difference == Fraction(0.1 + 0.2) - Fraction(0.3)
    assert report.ulps == 1
    assert report.equal is False and (0.1 + 0.2 == 0.3) is False
    assert report.intended.real.text == "0.3"


@pytest.mark.parametrize("fmt, dtype", [("half", np.float16), ("single", np.float32),
                                        ("double", np.float64)])
def test_sums_match_numpy(fmt, dtype):
    rng = random.Random(9)
    pairs = [("0.1", "0.2"), ("1", "-1"), ("-0", "-0"), ("0", "-0"), ("inf", "-inf"),
             ("inf", "1"), ("nan", "1"), ("65504", "16")]
    pairs += [(f"{rng.uniform(-100, 100):.6g}", f"{rng.uniform(-100, 100):.6g}")
              for _ in range(200)]
    with np.errstate(all="ignore"):
        for a, b in pairs:
            report = F.float_sum(a, b, fmt)
            # numpy rounds each typed number once (through a double: fine for these short
            # decimals, which a double holds closely enough not to round twice here) and adds.
            expected = dtype(float(a)) + dtype(float(b))
            got = report.computed.to_float()
            if math.isnan(expected):
                assert math.isnan(got), (a, b)
            else:
                assert got == float(expected) and math.copysign(1, got) == math.copysign(
                    1, float(expected)), (a, b, fmt)


def test_single_precision_gets_0_3_right():
    assert F.float_sum("0.1", "0.2", "single").equal  # np.float32(0.1) + np.float32(0.2)
    assert np.float32(0.1) + np.float32(0.2) == np.float32(0.3)


@pytest.mark.parametrize("text, parts", [
    ("0.1 + 0.2", ("0.1", "0.2")), ("0.1+0.2", ("0.1", "0.2")), ("1e+5", None),
    ("1e+5 + 2", ("1e+5", "2")), ("-1 + -2", ("-1", "-2")), ("+1", None), ("1 +", None),
    ("1E+5+2", ("1E+5", "2")), ("0x1f + 1", ("0x1f", "1")),
])
def test_splitting_a_sum(text, parts):
    assert F.split_sum(text) == parts
