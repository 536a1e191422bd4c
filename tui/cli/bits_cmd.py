"""`microgpt-tui bits`: a whole number in binary step by step, in registers of 8 to 64 bits;
with --float, how a number is stored as an IEEE-754 half, single or double."""

from __future__ import annotations

from .output import CLIError, Output

HELP = (
    "A whole number (decimal, 0b…, 0o… or 0x…, _ between digits) in binary by repeated "
    "division by 2 and by taking away powers of two, in hex and octal, and in registers of "
    "8, 16, 32 and 64 bits: two's complement (flip and add one) for a negative number, and "
    "what a number too large for the width wraps to. --float (or --format) shows instead how "
    "a number is stored as an IEEE-754 float: sign, exponent, fraction, the exact value "
    "stored, the rounding error and the neighbours; a sum such as 0.1 + 0.2 shows why it is "
    "not 0.3. A negative number in hex goes after --: bits -- -0xd."
)
WIDTH_CHOICES = (8, 16, 32, 64)
FORMAT_CHOICES = ("half", "single", "double")


def add_arguments(parser) -> None:
    parser.add_argument("number", nargs="+", help="the number: 13, -13, 0b1101, 0xd; with "
                        "--float also 0.1, 6.02e23, 1/3, inf, nan or 0.1 + 0.2")
    parser.add_argument("--width", type=int, choices=WIDTH_CHOICES, metavar="W",
                        help="one register width in detail: 8, 16, 32 or 64 (default: all "
                             "four, one line each)")
    parser.add_argument("--float", dest="as_float", action="store_true",
                        help="the IEEE-754 layout instead (double unless --format)")
    parser.add_argument("--format", dest="float_format", choices=FORMAT_CHOICES,
                        metavar="F", help="half, single or double (implies --float)")


def run(args, out: Output) -> int:
    text = " ".join(args.number)
    if args.as_float or args.float_format:
        if args.width is not None:
            raise CLIError("--width is for whole numbers; --float shows a float's layout")
        return _float(text, args.float_format or "double", out)
    return _integer(text, args.width, out)


# -- whole numbers ---------------------------------------------------------------------------


def _integer(text: str, width: int | None, out: Output) -> int:
    from ...engine.basics import bits as B

    try:
        value = B.parse_integer(text)
    except ValueError as error:
        raise CLIError(f"{error}{_float_hint(text)}") from None
    widths = (width,) if width is not None else WIDTH_CHOICES
    report = B.integer_report(value, widths)
    out.emit(_integer_record(report), None)
    out.text(_integer_text(report, width is not None))
    return 0


def _float_hint(text: str) -> str:
    from ...engine.basics import floats as F

    try:
        F.analyse(text)
    except ValueError:
        return ""
    return " (--float shows how it is stored as a float)"


def _integer_record(report) -> dict:
    from ...engine.basics import bits as B

    widths = []
    for fit, complement in zip(report.fits, report.complements, strict=True):
        limits = B.width_range(fit.width)
        widths.append({
            "width": fit.width, "bits": fit.bits, "unsigned": fit.unsigned,
            "signed": fit.signed, "fits_unsigned": fit.fits_unsigned,
            "fits_signed": fit.fits_signed, "fits": fit.fits, "needed_bits": fit.needed,
            "lost": fit.lost, "unsigned_max": limits.unsigned_max,
            "signed_min": limits.signed_min, "signed_max": limits.signed_max,
            "twos_complement": {"magnitude": complement.magnitude_bits,
                                "flipped": complement.flipped_bits,
                                "result": complement.result_bits} if report.value < 0
            else None,
        })
    return {
        "value": report.value, "binary": report.binary, "octal": report.octal,
        "hex": report.hex,
        "divisions": [{"dividend": s.dividend, "quotient": s.quotient,
                       "remainder": s.remainder, "bit": s.bit} for s in report.divisions],
        "powers": [{"remaining": p.remaining, "power": p.power, "left": p.left}
                   for p in report.powers],
        "widths": widths,
    }


def _integer_text(report, detailed: bool) -> str:
    from ...engine.basics import bits as B

    value = report.value
    sign = "-" if value < 0 else ""
    lines = [f"{value} in binary: {sign}{report.binary}  (hex {sign}0x{report.hex}, "
             f"octal {sign}0o{report.octal})"]
    magnitude = abs(value)
    lines.append(f"repeated division of {magnitude} by 2; the remainders, read upward, "
                 "are the bits:")
    wide = len(str(magnitude))
    for step in report.divisions:
        lines.append(f"  {step.dividend:>{wide}} / 2 = {step.quotient:<{wide}} r "
                     f"{step.remainder}   bit {step.bit}")
    lines.append(f"  read upward: {report.binary}")
    if report.powers:
        taken = ", ".join(f"{p.remaining} − {1 << p.power} = {p.left}" for p in report.powers)
        lines.append(f"taking away the largest power of two each time: {taken}")
        lines.append(f"  {magnitude} = " + " + ".join(f"2^{p.power}" for p in report.powers))
    groups = B.digit_groups(report.binary, 4)
    lines.append("hex, one digit per 4 bits: " + " ".join(g for g, _ in groups) + " → "
                 + " ".join(d for _, d in groups))
    for fit, complement in zip(report.fits, report.complements, strict=True):
        limits = B.width_range(fit.width)
        lines.append("")
        lines.append(f"{fit.width} bits: {fit.bits}  (unsigned 0 … {limits.unsigned_max}, "
                     f"signed {limits.signed_min} … {limits.signed_max})")
        if value < 0 and detailed:
            lines.append(f"  two's complement of {magnitude}: flip every bit, then add one")
            lines.append(f"    {magnitude:<8} {complement.magnitude_bits}")
            lines.append(f"    {'flip':<8} {complement.flipped_bits}")
            lines.append(f"    {'add one':<8} {complement.result_bits}")
        lines.append("  " + _fit_words(fit))
    return "\n".join(lines)


def _fit_words(fit) -> str:
    value, width = fit.value, fit.width
    if fit.fits_unsigned and fit.fits_signed:
        return f"{value} fits, read unsigned or signed"
    if fit.fits_unsigned:
        return f"{value} fits unsigned; the same bits read signed are {fit.signed}"
    if fit.fits_signed:
        return f"{value} fits signed, stored as 2^{width} − {-value} = {fit.unsigned}"
    kept = fit.unsigned if value >= 0 else fit.signed
    return (f"{value} does not fit: it needs {fit.needed} bits, and wraps to {kept} "
            f"(unsigned {fit.unsigned}, signed {fit.signed}; lost {fit.lost})")


# -- floats ------------------------------------------------------------------------------------


def _float(text: str, fmt: str, out: Output) -> int:
    from ...engine.basics import floats as F

    try:
        shown = F.analyse(text, fmt)
    except ValueError as error:
        raise CLIError(str(error)) from None
    if isinstance(shown, F.FloatSum):
        out.emit(_sum_record(shown), None)
        out.text(_sum_text(shown))
    else:
        out.emit(_layout_record(shown), None)
        out.text(_layout_text(shown))
    return 0


def _exact(value) -> str | None:
    """A Fraction as text: every digit when it has a finite decimal expansion, else ≈ 20."""
    from ...engine.basics import floats as F

    if value is None:
        return None
    return F.exact_decimal(value) or "≈" + F.scientific(value, 20)


def _gap(value) -> str | None:
    """An error, a difference or an ulp: every significant digit, in e-notation."""
    from ...engine.basics import floats as F

    if value is None:
        return None
    return F.exact_scientific(value) or "≈" + F.scientific(value, 20)


def _stored_text(shown) -> str:
    if shown.kind == "nan":
        return "nan"
    if shown.kind == "inf":
        return "-inf" if shown.sign else "inf"
    if shown.kind == "zero":
        return "-0" if shown.sign else "0"
    return _exact(shown.value) or ""


def _layout_record(shown) -> dict:
    from ...engine.basics import floats as F

    sign, exponent, fraction = shown.fields
    relative = shown.relative_error
    error = shown.error
    return {
        "text": shown.real.text, "format": shown.format.name, "bits": shown.bit_string,
        "hex": f"0x{shown.bits:0{shown.format.bits // 4}x}", "sign": shown.sign,
        "exponent_bits": exponent, "exponent_field": shown.exponent_field,
        "bias": shown.format.bias, "exponent": shown.exponent, "fraction_bits": fraction,
        "class": shown.kind, "stored": _stored_text(shown), "stored_float": shown.to_float(),
        "error": _gap(error), "error_is_exact": error is None or
        F.exact_decimal(error) is not None,
        "relative_error": float(relative) if relative is not None else None,
        "tie": shown.tie, "overflow": shown.overflow, "underflow": shown.underflow,
        "ulp": _gap(shown.ulp),
        "next_down": _stored_text(shown.next_down) if shown.next_down else None,
        "next_up": _stored_text(shown.next_up) if shown.next_up else None,
        "struct_agrees": F.struct_agrees(shown),
    }


def _layout_text(shown) -> str:
    from ...engine.basics import floats as F

    fmt = shown.format
    sign, exponent, fraction = shown.fields
    lines = [f"{shown.real.text} as a {fmt.name} ({fmt.bits} bits: 1 sign, "
             f"{fmt.exponent_bits} exponent, {fmt.fraction_bits} fraction)",
             f"bits      {sign} {exponent} {fraction}",
             f"hex       0x{shown.bits:0{fmt.bits // 4}x}",
             f"sign      {shown.sign} ({'-' if shown.sign else '+'})"]
    if shown.kind == "normal":
        lines.append(f"exponent  {exponent} = {shown.exponent_field}, minus the bias "
                     f"{fmt.bias} = {shown.exponent}")
    else:
        lines.append(f"exponent  {exponent} = {shown.exponent_field}")
    if shown.significand is not None and shown.exponent is not None:
        lines.append(f"value     {'-' if shown.sign else '+'}{_exact(shown.significand)} × "
                     f"2^{shown.exponent}")
    lines.append(f"class     {shown.kind}")
    lines.append(f"stored    {_stored_text(shown)}")
    if shown.overflow:
        lines.append(f"error     too large for a {fmt.name}: it overflows to infinity")
    elif shown.underflow:
        lines.append(f"error     too small for a {fmt.name}: it underflows to 0")
    elif shown.error is not None:
        relative = shown.relative_error
        rel = f" (relative {F.scientific(relative, 3)})" if relative else ""
        tie = ", a tie: rounded to even" if shown.tie else ""
        lines.append(f"error     {_gap(shown.error)}{rel}{tie}")
    if shown.ulp is not None:
        lines.append(f"ulp       {_gap(shown.ulp)} (2^{F.floor_log2(shown.ulp)})")
    for name, neighbour in (("below", shown.next_down), ("above", shown.next_up)):
        lines.append(f"{name:<10}{_stored_text(neighbour) if neighbour else 'none'}")
    agrees = F.struct_agrees(shown)
    if agrees is not None:
        lines.append(f"struct    {'agrees' if agrees else 'DISAGREES'} "
                     f"(struct.pack('>{fmt.struct_code}'))")
    return "\n".join(lines)


def _sum_record(report) -> dict:
    ulps = report.ulps
    return {
        "a": _layout_record(report.a), "b": _layout_record(report.b),
        "format": report.format.name, "exact_sum": _exact(report.exact_sum),
        "computed": _layout_record(report.computed),
        "intended": _layout_record(report.intended),
        "difference": _gap(report.difference),
        "ulps": float(ulps) if ulps is not None else None, "equal": report.equal,
    }


def _sum_text(report) -> str:
    a, b, computed, intended = report.a, report.b, report.computed, report.intended
    rows = [(f"{a.real.text} is stored as", _stored_text(a)),
            (f"{b.real.text} is stored as", _stored_text(b)),
            ("their exact sum", _exact(report.exact_sum) or "—"),
            ("rounded" + (" (a tie, to even)" if computed.tie else ""), _stored_text(computed)),
            (f"{intended.real.text} is stored as", _stored_text(intended))]
    difference = report.difference
    if difference is not None:
        ulps = report.ulps
        units = f" ({ulps} ulp)" if ulps is not None and ulps.denominator == 1 else ""
        rows.append(("difference", (_gap(difference) or "") + units))
    wide = max(len(label) for label, _ in rows)
    lines = [f"{a.real.text} + {b.real.text} in {report.format.name}: == "
             f"{intended.real.text} is {report.equal}"]
    lines += [f"{label:<{wide}}  {value}" for label, value in rows]
    return "\n".join(lines)
