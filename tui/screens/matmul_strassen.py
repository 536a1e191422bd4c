"""The Strassen view's view-model: one level's seven products, C's quadrants assembled from
them, and 7^k against 8^k block products at a chosen depth. No widgets here.

Everything comes from the engine's schemes as data (`strassen.STRASSEN`, `strassen.WINOGRAD`):
the formulas shown are the arithmetic the engine runs.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.content import Content

from ...engine.matmul.strassen import Scheme, multiplications, scheme

MAX_DEPTH = 8  # 7^8 ≈ 5.8 M block products: deeper says nothing new
DEFAULT_DEPTH = 1
QUADRANTS = (("C11", "C12"), ("C21", "C22"))
OPERAND_STYLES = {"A": "$primary", "B": "$success", "M": "$accent"}
OPERAND = re.compile(r"([ABM]\d+)")  # a block of A or B, or a product: split out, kept


def styled_formula(text: str) -> Content:
    """A formula with A blocks, B blocks and products each in their theme colour (the names
    themselves say which is which without colour)."""
    parts: list[str | tuple[str, str]] = []
    for index, piece in enumerate(OPERAND.split(text)):
        if piece:
            parts.append((piece, OPERAND_STYLES[piece[0]]) if index % 2 else piece)
    return Content.assemble(*parts)


def product_lines(chosen_scheme: Scheme) -> list[str]:
    """`M1 = (A11 + A22)·(B11 + B22)`: each product with its sums written over the quadrants."""
    return [chosen_scheme.expanded_formula(product.name) for product in chosen_scheme.products]


def quadrant_terms(chosen_scheme: Scheme) -> dict[str, str]:
    """C11 … C22 written over the products, without spaces ("M1+M4−M5+M7": the box sits beside
    the products at 80 columns); Winograd's shared partial sums are expanded."""
    return {name: chosen_scheme.expanded_formula(name).split(" = ", 1)[1].replace(" ", "")
            for row in QUADRANTS for name in row}


def quadrant_box(chosen_scheme: Scheme) -> list[str]:
    """C as a 2×2 box of quadrants, each cell the sum of products that makes it."""
    terms = quadrant_terms(chosen_scheme)
    width = max(len(text) for text in terms.values()) + 2
    rule = "─" * width

    def row(left: str, right: str) -> str:
        return f"│ {terms[left]:<{width - 2}} │ {terms[right]:<{width - 2}} │"

    return [f"┌{rule}┬{rule}┐", row(*QUADRANTS[0]), f"├{rule}┼{rule}┤", row(*QUADRANTS[1]),
            f"└{rule}┴{rule}┘"]


def shared_sums(chosen_scheme: Scheme) -> str:
    """Winograd's partial sums that several quadrants reuse; for the classic scheme, what the
    seven products buy."""
    shared = [step.formula for step in chosen_scheme.assembly if not step.name.startswith("C")]
    if shared:
        return "Winograd shares " + ", ".join(shared)
    return "each M is one recursive half-size product: 7 a level instead of 8"


def heading(chosen_scheme: Scheme) -> Content:
    other = "classic" if chosen_scheme.name != "Strassen" else "Winograd"
    return Content.assemble(
        (chosen_scheme.name, "bold"),
        f": {chosen_scheme.multiplications} products, {chosen_scheme.additions} additions a "
        f"level (w: {other})")


def depth_lines(depth: int, n: int, width: int) -> list[Content]:
    """7^k against 8^k block products at depth k, as two bars, and the scalar count at n."""
    count = multiplications(depth)
    bar_width = max(width - 26, 4)  # label 14, count up to 11
    strassen_cells = max(1, round(bar_width * count.fraction))
    lines = [
        Content.assemble(("depth k ", "bold"), f"{depth} (+/-): ", (f"7^{depth}", "bold"),
                         f" = {count.strassen:,} vs 8^{depth} = {count.classical:,} "
                         f"block products ({count.fraction:.1%})"),
        Content.assemble(f"{'7^k Strassen':<14}", ("█" * strassen_cells, "$accent"),
                         f" {count.strassen:,}"),
        Content.assemble(f"{'8^k classical':<14}", ("▒" * bar_width, "$text-muted"),
                         f" {count.classical:,}"),
    ]
    if 2**depth <= n:
        ours, schoolbook = count.scalar(n)
        leaf = -(-n // 2**depth)
        lines.append(Content(f"at n = {n}: leaves of {leaf}×{leaf}, {ours:,} scalar "
                             f"multiplications vs {schoolbook:,}"))
    else:
        lines.append(Content.styled(f"at n = {n} there are only {n.bit_length() - 1} "
                                    "halvings to make", "$text-muted"))
    return lines


def panels(winograd: bool, depth: int, n: int, width: int) -> dict[str, Content]:
    """What each of the view's panels shows, by widget id."""
    chosen = scheme(winograd)
    box = ["C from the products:", *quadrant_box(chosen)]
    return {
        "#strassen-head": heading(chosen),
        "#strassen-products": Content("\n").join(
            [styled_formula(line) for line in product_lines(chosen)]),
        "#strassen-box": Content("\n").join([styled_formula(line) for line in box]),
        "#strassen-shared": Content.styled(shared_sums(chosen), "$text-muted"),
        "#strassen-depth": Content("\n").join(depth_lines(depth, n, width)),
    }


def status_text(winograd: bool, depth: int, n: int) -> Content:
    return Content.styled(f"depth {depth} · {scheme(winograd).name} · n = {n} from the race",
                          "$text-muted")


def explanation(winograd: bool) -> Text:
    """Strassen in the project's words: what it saves, what it costs."""
    chosen = scheme(winograd)
    return Text.assemble(
        ("Strassen. ", "bold"),
        "Halve A and B into 2×2 blocks: the schoolbook needs 8 half-size products, "
        f"{chosen.name} {chosen.multiplications}, paid for with {chosen.additions} block "
        "additions. Recursing, T(n) = 7·T(n/2) + O(n²) = O(n^log₂7) ≈ O(n^2.807). The "
        "catches: every addition is another pass over memory, odd sizes need peeling, and "
        "rounding errors grow faster (the race's error column shows it).",
    )
