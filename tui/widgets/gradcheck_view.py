"""A finite-difference gradient check of one weight: a readouts.GradCheck.

The weight, its gradient three ways (the scalar engine's autograd, the NumPy engine's backward,
the central difference (L(w+h) − L(w−h)) / 2h) aligned digit under digit, the relative error
with ✓ (below 1e-5) or ✗, then h, the loss and the batch it was computed on.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from ...engine.microgpt import readouts

EMPTY_HINT = "A weight's gradient check appears once a model exists."
TOLERANCE = readouts.GRADCHECK_TOLERANCE


def fit_names(names: tuple[str, ...], width: int) -> str:
    """As many whole names as fit `width`, then how many were left out."""
    out = ""
    for index, name in enumerate(names):
        piece = name if not out else ", " + name
        rest = len(names) - index - 1
        tail = f", +{rest} more" if rest else ""
        if len(out) + len(piece) + len(tail) > width:
            left = len(names) - index
            return out + (f", +{left} more" if out else f"+{left} names")
        out += piece
    return out


class GradCheck(Widget):
    """Shows a readouts.GradCheck."""

    COMPONENT_CLASSES = {"grad-check--label", "grad-check--pass", "grad-check--fail"}
    DEFAULT_CSS = """
    GradCheck {
        text-wrap: nowrap;
        text-overflow: clip;
    }
    GradCheck > .grad-check--label {
        color: $text-muted;
    }
    GradCheck > .grad-check--pass {
        color: $success;
        text-style: bold;
    }
    GradCheck > .grad-check--fail {
        color: $error;
        text-style: bold;
    }
    """

    def __init__(self, hint: str = EMPTY_HINT, **kwargs) -> None:
        super().__init__(**kwargs)
        self.hint = hint  # shown before there is anything to draw (the screen names its keys)
        self.check: readouts.GradCheck | None = None

    def show(self, check: readouts.GradCheck | None) -> None:
        self.check = check
        self.refresh()

    def render(self) -> Text:
        check = self.check
        if check is None:
            return Text(self.hint, style="dim", no_wrap=True, overflow="crop")
        width, height = self.size
        width = width or 80
        height = height or 9
        style = self.get_component_rich_style
        label_style = style("grad-check--label")
        passed, failed = style("grad-check--pass"), style("grad-check--fail")
        wide = width >= 60
        out = Text(no_wrap=True, overflow="crop")
        out.append(f"{check.param}[{check.row},{check.col}]", "bold")
        out.append(f" = {check.weight:+.6f}", "bold")
        out.append(f"  step {check.step}\n", "dim")
        rows = [
            ("scalar autograd", check.scalar_grad, "Value.backward()"),
            ("numpy backward", check.numpy_grad, "hand-written"),
            ("finite diff", check.numeric_grad, "(L(w+h) − L(w−h)) / 2h"),
        ]
        for label, value, how in rows:
            out.append(f" {label:<16}", label_style)
            out.append(f"{value:>+16.9e}")
            out.append(f"  {how}\n" if wide else "\n", "dim")
        checks = [("scalar vs diff", check.rel_error)]
        if height >= 10:
            numpy_error = readouts.relative_error(check.numpy_grad, check.numeric_grad)
            checks.append(("numpy vs diff", numpy_error))
        for label, error in checks:
            ok = error < TOLERANCE
            out.append(f" {label:<16}", label_style)
            out.append(f"{error:>16.2e} ")
            out.append("✓" if ok else "✗", passed if ok else failed)
            out.append(f" {'<' if ok else '≥'} 1e-5{' relative' if wide else ''}\n", "dim")
        out.append(f" h {check.h:.0e} · loss {check.loss:.6f} on {len(check.batch_names)} "
                   f"{'name' if len(check.batch_names) == 1 else 'names'}\n",
                   "dim")
        out.append(" batch ", label_style)
        out.append(fit_names(check.batch_names, max(0, width - 7)))
        return out
