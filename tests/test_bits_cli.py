"""`microgpt-tui bits`: the division steps, the registers, two's complement and wrapping as
text and --json; --float's IEEE-754 layout and 0.1 + 0.2; bad input exits 2 with one line,
while a number too large for a width is information (exit 0). Run in-process."""

from __future__ import annotations

import json
import struct

import pytest

from microgpt_tui.tui.cli.main import main


def run_bits(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["bits", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_json(out: str) -> dict:
    lines = out.splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def test_13_in_binary(capsys):
    code, out, err = run_bits(capsys, "13")
    assert code == 0 and err == ""
    assert out.startswith("13 in binary: 1101  (hex 0xd, octal 0o15)\n")
    assert "  13 / 2 = 6  r 1   bit 0\n" in out and "   1 / 2 = 0  r 1   bit 3\n" in out
    assert "read upward: 1101" in out
    assert "13 − 8 = 5, 5 − 4 = 1, 1 − 1 = 0" in out
    for width in (8, 16, 32, 64):
        assert f"{width} bits: {13:0{width}b}" in out


def test_the_json_record(capsys):
    code, out, _ = run_bits(capsys, "-13", "--width", "8", "--json")
    assert code == 0
    record = one_json(out)
    assert (record["value"], record["binary"], record["hex"], record["octal"]) == (
        -13, "1101", "d", "15")
    assert [d["remainder"] for d in record["divisions"]] == [1, 0, 1, 1]
    assert [p["power"] for p in record["powers"]] == [3, 2, 0]
    (width,) = record["widths"]
    assert width["bits"] == "11110011" and width["signed"] == -13 and width["unsigned"] == 243
    assert width["twos_complement"] == {"magnitude": "00001101", "flipped": "11110010",
                                        "result": "11110011"}
    assert width["bits"] == format(struct.pack(">b", -13)[0], "08b")
    code, out, _ = run_bits(capsys, "13", "--json")
    assert [w["width"] for w in one_json(out)["widths"]] == [8, 16, 32, 64]
    assert one_json(out)["widths"][0]["twos_complement"] is None


def test_twos_complement_is_shown_as_steps(capsys):
    code, out, _ = run_bits(capsys, "-128", "--width", "8")
    assert code == 0
    assert "    128      10000000\n    flip     01111111\n    add one  10000000\n" in out
    assert "-128 fits signed" in out


def test_a_number_too_large_for_the_width_is_information_not_an_error(capsys):
    code, out, err = run_bits(capsys, "300", "--width", "8")
    assert code == 0 and err == ""
    assert "300 does not fit: it needs 9 bits, and wraps to 44" in out
    code, out, _ = run_bits(capsys, "255", "--width", "8", "--json")
    width = one_json(out)["widths"][0]
    assert width["fits_unsigned"] and not width["fits_signed"] and width["signed"] == -1


def test_big_numbers_and_every_base(capsys):
    code, out, _ = run_bits(capsys, hex(2**4096 - 1), "--json")
    record = one_json(out)
    assert code == 0 and len(record["divisions"]) == 4096 and record["binary"] == "1" * 4096
    for text in ("0b1101", "0o15", "0xd", "1_3", " 13 "):
        code, out, _ = run_bits(capsys, text, "--json")
        assert code == 0 and one_json(out)["value"] == 13
    code, out, _ = run_bits(capsys, "--json", "--", "-0xd")  # a negative hex after --
    assert code == 0 and one_json(out)["value"] == -13


@pytest.mark.parametrize("argv, words", [
    (["abc"], "not a whole number"),
    ([""], "type a whole number"),
    (["1.5"], "--float shows how it is stored"),
    (["13", "--width", "12"], "invalid choice"),
    (["13", "--width", "x"], "invalid int value"),
    (["13", "--float", "--width", "8"], "--width is for whole numbers"),
    (["--float", "abc"], "not a number"),
    (["--float", "1/0"], "divides by zero"),
    (["--format", "quad", "1"], "invalid choice"),
    ([hex(2**4096)], "too large"),
    ([], "required"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, words):
    code, out, err = run_bits(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and words in err, err


def test_a_float_layout(capsys):
    code, out, err = run_bits(capsys, "--float", "0.1")
    assert code == 0 and err == ""
    assert "bits      0 01111111011 1001100110011001100110011001100110011001100110011010" in out
    assert "hex       0x3fb999999999999a" in out
    assert "exponent  01111111011 = 1019, minus the bias 1023 = -4" in out
    assert "stored    0.1000000000000000055511151231257827021181583404541015625" in out
    assert "error     5.5511151231257827021181583404541015625e-18 (relative 5.55e-17)" in out
    assert "struct    agrees" in out


def test_float_json_in_every_format(capsys):
    for fmt, code_letter in [("half", "e"), ("single", "f"), ("double", "d")]:
        code, out, _ = run_bits(capsys, "--format", fmt, "0.1", "--json")  # implies --float
        record = one_json(out)
        assert code == 0 and record["format"] == fmt and record["class"] == "normal"
        assert int(record["bits"], 2) == int.from_bytes(struct.pack(">" + code_letter, 0.1),
                                                        "big")
        assert record["struct_agrees"] is (True if fmt == "double" else None)
    code, out, _ = run_bits(capsys, "--format", "half", "65520", "--json")
    record = one_json(out)
    assert record["class"] == "inf" and record["overflow"] and record["stored_float"] is None
    assert record["next_down"] == "65504"
    code, out, _ = run_bits(capsys, "--float", "nan", "--json")
    assert one_json(out)["class"] == "nan" and one_json(out)["stored_float"] is None
    code, out, _ = run_bits(capsys, "--float", "5e-324", "--json")
    assert one_json(out)["class"] == "subnormal"


def test_point_one_plus_point_two(capsys):
    code, out, _ = run_bits(capsys, "--float", "0.1", "+", "0.2")
    assert code == 0
    assert out.startswith("0.1 + 0.2 in double: == 0.3 is False\n")
    assert "rounded (a tie, to even)  0.3000000000000000444089209850062616169452667236328125" \
        in out
    assert "(1 ulp)" in out
    code, out, _ = run_bits(capsys, "--float", "0.1 + 0.2", "--json")
    record = one_json(out)
    assert record["equal"] is False and record["ulps"] == 1.0
    assert record["computed"]["stored_float"] == 0.1 + 0.2
    assert record["intended"]["stored_float"] == 0.3
    code, out, _ = run_bits(capsys, "--format", "single", "0.1 + 0.2", "--json")
    assert one_json(out)["equal"] is True
