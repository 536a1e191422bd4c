"""The Bits screen's float view: one number's pattern, fields and rounding, or a sum a + b
and whether it equals the typed sum. No widgets here; colours are theme variables.

Every number comes from the engine (engine/basics/floats.py, bits_layout.py).
"""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from ...engine.basics import floats as F
from ...engine.basics.bits_layout import bracket, clip, decimal, minus, power, signed_exact

PLURALS = {"half": "halves", "single": "singles", "double": "doubles"}
FIELD_STYLES = {  # sign, exponent, fraction: reversed so they read as cells in any theme
    "sign": "bold reverse $error",
    "exponent": "bold reverse $warning",
    "fraction": "reverse $primary",
}


def read_float(text: str, fmt: str) -> tuple[F.FloatLayout | F.FloatSum | None, str]:
    """The float view's reading of the text: one number's layout, or a sum."""
    try:
        return F.analyse(text, fmt), ""
    except ValueError as error:
        return None, str(error)


def bits_rows(shown: F.FloatBits, label: str, columns: int) -> list[Content]:
    """The pattern as three coloured cell groups, and under it the names of the fields."""
    sign, exponent, fraction = shown.fields
    pad = " " * len(label)
    bits = Content.assemble(label, (sign, FIELD_STYLES["sign"]), " ",
                            (exponent, FIELD_STYLES["exponent"]), " ",
                            (fraction, FIELD_STYLES["fraction"]))
    names = Content.styled(pad + "± " + bracket("exponent", len(exponent)) + " "
                           + bracket(f"fraction ({len(fraction)} bits)", len(fraction)),
                           "$text-muted")
    if bits.cell_length > columns:
        bits, names = bits.truncate(columns, ellipsis=True), names.truncate(columns)
    return [bits, names]


def exponent_line(shown: F.FloatBits) -> str:
    fmt = shown.format
    _, field, _ = shown.fields
    kind = shown.kind
    head = f"sign {shown.sign} ({'−' if shown.sign else '+'}) · exponent {field} = " \
           f"{shown.exponent_field}"
    if kind == "normal":
        return head + f" − {fmt.bias} = {minus(str(shown.exponent))} · normal"
    if kind in ("subnormal", "zero"):
        return head + f": {kind} (0.f × {power(fmt.min_exponent)})"
    return head + (": all ones, fraction 0: infinity" if kind == "inf" else
                   ": all ones, fraction ≠ 0: NaN")


def float_content(shown: F.FloatLayout, columns: int) -> Content:
    fmt = shown.format
    room = columns - 8
    about = (f" as a {fmt.name}: {fmt.bits} bits = 1 sign + {fmt.exponent_bits} exponent + "
             f"{fmt.fraction_bits} fraction")
    lines: list[Content] = [Content.assemble(
        (clip(shown.real.text, max(columns - len(about), 12)), "bold"), about)]
    lines += bits_rows(shown, "", columns)
    lines.append(Content(exponent_line(shown)))
    if shown.significand is not None and shown.exponent is not None:
        significand = decimal(shown.significand, room - 14)
        lines.append(Content(f"value = {'−' if shown.sign else '+'}{significand} × "
                             f"{power(shown.exponent)}"))
    lines.append(Content.assemble(("typed   ", "$text-muted"), clip(shown.real.text, room)))
    stored = decimal(shown.value, room) if shown.value is not None else (
        ("−" if shown.sign else "+") + "infinity" if shown.kind == "inf" else "NaN")
    if shown.kind == "zero" and shown.sign:
        stored = "−0"
    lines.append(Content.assemble(("stored  ", "$text-muted"), (stored, "bold")))
    lines.append(Content.assemble(("error   ", "$text-muted"), error_words(shown, room)))
    ulp = shown.ulp
    if ulp is not None:
        lines.append(Content.assemble(("ulp     ", "$text-muted"),
                                      f"{power(F.floor_log2(ulp))} ≈ "
                                      f"{minus(F.scientific(ulp, 6))}: the gap to the next "
                                      "value here"))
    for word, neighbour in (("below   ", shown.next_down), ("above   ", shown.next_up)):
        lines.append(Content.assemble((word, "$text-muted"), neighbour_words(neighbour, room)))
    return Content("\n").join(lines)


def error_words(shown: F.FloatLayout, room: int) -> str:
    if shown.overflow:
        return f"too large for a {shown.format.name}: it overflows to infinity"
    if shown.real.exact is None:
        return "none: infinity and NaN are stored as such"
    if shown.underflow:
        return f"too small for a {shown.format.name}: it underflows to 0"
    if shown.exact:
        return "0: stored exactly"
    relative = shown.relative_error
    rel = f" (relative {minus(F.scientific(relative, 3))})" if relative is not None else ""
    tie = " (a tie: to even)" if shown.tie else ""
    return signed_exact(shown.error, room - len(rel) - len(tie)) + rel + tie


def neighbour_words(neighbour: F.FloatBits | None, room: int) -> str:
    if neighbour is None:
        return "none"
    if neighbour.kind == "nan":
        return "NaN"
    if neighbour.kind == "inf":
        return "−infinity" if neighbour.sign else "+infinity"
    value = neighbour.value
    if value == 0:
        return "−0" if neighbour.sign else "0"
    return decimal(value, room)


def special_words(real: F.Real) -> str:
    """infinity or NaN, as typed or as a sum of them (inf + −inf is NaN)."""
    if real.special == "inf":
        return "−infinity" if real.negative else "+infinity"
    return "NaN"


def sum_content(report: F.FloatSum, columns: int) -> Content:
    """a + b: each stored, the exact sum, what the adder rounds it to, and the nearest float
    to the typed sum; the difference in ulps; both patterns."""
    room = columns - 11
    a, b, computed, intended = report.a, report.b, report.computed, report.intended
    verdict = "True" if report.equal else "False"
    name = f"{clip(a.real.text, 16)} + {clip(b.real.text, 16)}"
    lines = [Content.assemble(f"in {report.format.name}: ", (minus(name), "bold"), " == ",
                              (clip(minus(intended.real.text), 24), "bold"), " is ",
                              (verdict, "bold $success" if report.equal else "bold $warning"))]

    def row(label: str, value: str, style: str = "") -> Content:
        return Content.assemble((label.ljust(11), "$text-muted"), (value, style))

    lines.append(row(clip(minus(a.real.text), 10), "→ " + neighbour_words(a, room - 2)))
    lines.append(row(clip(minus(b.real.text), 10), "→ " + neighbour_words(b, room - 2)))
    lines.append(row("exact sum", "  " + (decimal(report.exact_sum, room - 2)
                                          if report.exact_sum is not None
                                          else special_words(report.computed.real))))
    lines.append(row("tie → even" if computed.tie else "rounds to",
                     "→ " + neighbour_words(computed, room - 2), "bold"))
    lines.append(row(clip(minus(intended.real.text), 10), "→ " + neighbour_words(
        intended, room - 2), "bold"))
    difference, ulps = report.difference, report.ulps
    if difference is not None and ulps is not None:
        units = f" = {minus(str(ulps))} ulp" if ulps.denominator == 1 else ""
        lines.append(row("difference", "  " + signed_exact(difference, room - 2 - len(units))
                         + units))
    lines += bits_rows(computed, "sum".ljust(11), columns)[:1]
    lines += bits_rows(intended, clip(minus(intended.real.text), 10).ljust(11), columns)
    return Content("\n").join(lines)


def float_explanation(shown: F.FloatLayout) -> Text:
    fmt = shown.format
    text = Text()
    text.append(f"A {fmt.name} ", style="bold")
    text.append(f"is 1 sign bit, {fmt.exponent_bits} exponent bits (bias {fmt.bias}) and "
                f"{fmt.fraction_bits} fraction bits: (−1)^s × 1.f × 2^(e − {fmt.bias}). ")
    kind = shown.kind
    if shown.overflow:
        text.append(f"The largest finite {fmt.name} is {decimal(fmt.max_finite, 30)}; "
                    "anything from halfway to the next power of two up rounds to infinity.")
    elif shown.underflow:
        text.append(f"The smallest subnormal is {decimal(fmt.min_subnormal, 30)}; anything "
                    "at or below half of it rounds to 0 (keeping the sign).")
    elif kind == "normal" and shown.exponent is not None:
        gap = power(shown.exponent - fmt.fraction_bits)
        text.append(f"Between {power(shown.exponent)} and {power(shown.exponent + 1)} the "
                    f"{PLURALS[fmt.name]} are {gap} apart. ")
        if shown.exact:
            text.append("This number is a multiple of that gap: it is stored exactly.")
        else:
            text.append("This number is not a multiple of that gap, so it is rounded to the "
                        "nearest one" + (", a tie going to the even pattern" if shown.tie
                                         else "") + ".")
    elif kind == "subnormal":
        text.append("Exponent field 0: a subnormal, 0.f × "
                    f"{power(fmt.min_exponent)}. Subnormals fill the gap down to 0 evenly, "
                    f"{power(fmt.min_exponent - fmt.fraction_bits)} apart, with fewer "
                    "significant bits the smaller they get.")
    elif kind == "zero":
        text.append("Zero has every exponent and fraction bit 0; the sign bit still makes −0 "
                    "and +0 (equal when compared).")
    elif kind == "inf":
        text.append("Exponent all ones, fraction 0: infinity.")
    else:
        text.append("Exponent all ones, fraction not 0: NaN, not equal even to itself.")
    agrees = F.struct_agrees(shown)
    if agrees is not None:
        text.append(f"\n\nstruct.pack('{fmt.struct_code}') stores the same bits: "
                    f"{'yes' if agrees else 'NO'}.")
    text.append("\n\nf: half / single / double. p: 0.1 + 0.2.")
    return text


def sum_explanation(report: F.FloatSum) -> Text:
    a, b, computed, intended = report.a, report.b, report.computed, report.intended
    text = Text()
    text.append(f"{minus(a.real.text)} + {minus(b.real.text)} in {report.format.name}. ",
                style="bold")
    for term in (a, b):
        if term.error:
            text.append(f"{minus(term.real.text)} is stored "
                        f"{'a little high' if term.error > 0 else 'a little low'}. ")
    if computed.error:
        text.append("The exact sum of the stored values falls between two "
                    f"{PLURALS[report.format.name]} and is rounded"
                    + (": a tie, which goes to the even pattern. " if computed.tie else ". "))
    if report.equal:
        text.append(f"Here that lands on the same {report.format.name} as "
                    f"{minus(intended.real.text)}: the comparison is True.")
    else:
        ulps = report.ulps
        apart = f", {minus(str(ulps))} ulp apart" if ulps is not None and \
            ulps.denominator == 1 else ""
        text.append(f"It lands on a different {report.format.name} from "
                    f"{minus(intended.real.text)}'s{apart}: == says False. Compare floats "
                    "with a tolerance, math.isclose(a, b).")
    return text
