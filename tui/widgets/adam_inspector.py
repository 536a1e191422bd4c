"""The Adam inspector: one weight's gradient, moments, bias corrections and update."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class AdamInspector(Widget):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.target_weight: tuple[str, int, int] | None = None
        self.adam_view = None  # AdamView-like
        self.at_step = 0

    def show(self, name: str, row: int, col: int, view, step: int) -> None:
        self.target_weight, self.adam_view, self.at_step = (name, row, col), view, step
        self.refresh()

    def render(self) -> Text:
        if self.target_weight is None or self.adam_view is None:
            return Text("One weight's Adam update appears once training starts.", style="dim")
        name, row, col = self.target_weight
        v = self.adam_view
        out = Text(no_wrap=True, overflow="crop")
        out.append(f"{name}[{row},{col}]", "bold")
        out.append(f"  after step {self.at_step}  (j/k matrix · </> element)\n", "dim")
        rows = [
            ("g", v.grad, "gradient"),
            ("m", v.m, "β1·m + (1-β1)·g"),
            ("v", v.v, "β2·v + (1-β2)·g²"),
            ("m̂", v.m_hat, "m / (1-β1^t)"),
            ("v̂", v.v_hat, "v / (1-β2^t)"),
            ("Δ", v.update, f"lr·m̂/(√v̂+ε), lr {v.lr:.2e}"),
            ("w", v.weight, "w - Δ"),
        ]
        for symbol, value, formula in rows:
            out.append(f" {symbol:<2} ", "bold")
            out.append(f"{value:>+13.5e}  ")
            out.append(formula + "\n", "dim")
        return out
