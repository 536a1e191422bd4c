"""An attention heatmap: one head's weights, query position (row) × key position (column).

Each cell is two columns of a shade glyph, ░ (a weight near 0) to █ (weight 1), in the theme's
colour for weights, so the pattern reads on any theme and without colour; keys a query may not
attend to (the future) stay blank. The tokens label both axes. Positions beyond the widget's
room are cut off, never wrapped.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

SHADES = "░▒▓█"


def _shade(weight: float) -> str:
    w = min(1.0, max(0.0, weight)) ** 0.6  # lift small weights so the pattern shows
    return SHADES[min(len(SHADES) - 1, int(w * len(SHADES)))] * 2


def _short(label: str) -> str:
    return "^" if label == "⟨bos⟩" else label[:1]


class AttentionMap(Widget):
    """Shows maps[layer][head] of an (n_layer, n_head, T, T) array with token labels."""

    COMPONENT_CLASSES = {"attention-map--weight"}
    DEFAULT_CSS = """
    AttentionMap > .attention-map--weight {
        color: $warning;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.name_shown = ""
        self.labels: list[str] = []
        self.maps = None
        self.layer_index = 0
        self.head_index = 0

    def show(self, name: str, labels: list[str], maps) -> None:
        self.name_shown, self.labels, self.maps = name, labels, maps
        self.layer_index %= maps.shape[0]
        self.head_index %= maps.shape[1]
        self.refresh()

    def next_head(self) -> None:
        if self.maps is not None:
            self.head_index = (self.head_index + 1) % self.maps.shape[1]
            self.refresh()

    def next_layer(self) -> None:
        if self.maps is not None:
            self.layer_index = (self.layer_index + 1) % self.maps.shape[0]
            self.refresh()

    def render(self) -> Text:
        if self.maps is None:
            return Text("Attention appears once training has produced samples.", style="dim")
        layers, heads = self.maps.shape[:2]
        width, height = self.size
        shown = max(0, min(len(self.labels), (width - 3) // 2, height - 3))
        block = 3 + 2 * shown + 2  # row labels, cells, gap
        count = max(1, min(heads, width // max(block, 1)))  # heads side by side when they fit
        first = self.head_index
        picked = [(first + i) % heads for i in range(count)]
        weight_style = self.get_component_rich_style("attention-map--weight")
        out = Text(no_wrap=True, overflow="crop")
        out.append(f"'{self.name_shown}'", "bold")
        out.append(f"  layer {self.layer_index + 1}/{layers}", "dim")
        out.append("  (n name · h head · l layer)\n", "dim")
        for head in picked:
            out.append(f"{'head ' + str(head + 1) + '/' + str(heads):<{block}}", "bold")
        out.append("\n")
        for _ in picked:
            out.append("   " + "".join(f"{_short(lab):<2}" for lab in self.labels[:shown]) + "  ",
                       "dim")
        out.append("\n")
        for query in range(shown):
            for head in picked:
                weights = self.maps[self.layer_index, head]
                out.append(f"{_short(self.labels[query]):>2} ", "dim")
                for key in range(shown):
                    if key <= query:
                        out.append(_shade(float(weights[query, key])), weight_style)
                    else:
                        out.append("  ")
                out.append("  ")
            out.append("\n")
        return out
