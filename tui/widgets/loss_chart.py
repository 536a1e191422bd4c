"""A training-loss chart drawn with braille dots: every step's loss, a smoothed line, held-out
points and a horizontal baseline (e.g. ln(vocab), the loss of uniform guessing).

Each terminal cell holds 2×4 dots, so an 50×10 plot resolves 100×40 points. Steps are binned
per dot column: the raw losses of a bin show as a vertical span (their min to max), the smoothed
line as one dot per column joined to its neighbours. The text is rebuilt only when data or size
changed, so redrawing at 10 Hz over SSH costs little.
"""

from __future__ import annotations

import math

from rich.text import Text
from textual.widget import Widget

# Dot (x, y) inside a cell -> its bit in the braille pattern (U+2800 + bits).
_BRAILLE_BITS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))

# Layers from the back to the front; a cell takes the colour of its front-most layer.
BASELINE, RAW, HELDOUT, SMOOTH = range(4)
LAYER_STYLES = {BASELINE: "red", RAW: "bright_black", HELDOUT: "magenta", SMOOTH: "bold yellow"}
Y_LABEL_WIDTH = 6


class BrailleCanvas:
    """A grid of cells, each 2 dots wide and 4 high, with one layer index per dot."""

    def __init__(self, cells_wide: int, cells_high: int) -> None:
        self.cells_wide, self.cells_high = cells_wide, cells_high
        self.bits = [[0] * cells_wide for _ in range(cells_high)]
        self.layer = [[-1] * cells_wide for _ in range(cells_high)]

    @property
    def width(self) -> int:
        return self.cells_wide * 2

    @property
    def height(self) -> int:
        return self.cells_high * 4

    def dot(self, x: int, y: int, layer: int) -> None:
        """Set dot (x, y); y = 0 is the bottom row."""
        if not (0 <= x < self.width and 0 <= y < self.height):
            return
        row, col = (self.height - 1 - y) // 4, x // 2
        self.bits[row][col] |= _BRAILLE_BITS[x % 2][(self.height - 1 - y) % 4]
        self.layer[row][col] = max(self.layer[row][col], layer)

    def vline(self, x: int, y0: int, y1: int, layer: int) -> None:
        for y in range(min(y0, y1), max(y0, y1) + 1):
            self.dot(x, y, layer)

    def rows(self) -> list[Text]:
        lines = []
        for bits_row, layer_row in zip(self.bits, self.layer, strict=True):
            line = Text()
            for bits, layer in zip(bits_row, layer_row, strict=True):
                line.append(chr(0x2800 + bits), LAYER_STYLES.get(layer, ""))
            lines.append(line)
        return lines


def _format_loss(value: float) -> str:
    return f"{value:.2f}".rjust(Y_LABEL_WIDTH - 1)


class LossChart(Widget, can_focus=True):
    """Per-step loss, its smoothed line, held-out points and a baseline, against the step."""

    DEFAULT_CSS = """
    LossChart {
        height: 1fr;
        min-height: 4;
        text-wrap: nowrap;
    }
    """
    SMOOTHING = 0.95  # exponential moving average, debiased (as TensorBoard draws it)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.reset()

    def reset(self, num_steps: int = 0, baseline: float | None = None,
              baseline_label: str = "") -> None:
        """Forget all points; the x axis spans 0..num_steps."""
        self.num_steps = num_steps
        self.baseline = baseline
        self.baseline_label = baseline_label
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self.heldout: list[tuple[int, float]] = []
        self._ema = 0.0
        self._columns: dict[int, tuple[float, float]] = {}
        self._column_smooth: dict[int, float] = {}
        self._aggregated = 0
        self._aggregate_key: tuple = ()
        self._cache_key: tuple | None = None
        self._cached: Text | None = None
        self.refresh()

    def add_points(self, points: list[tuple[int, float]]) -> None:
        for step, loss in points:
            if not math.isfinite(loss):
                continue
            self.steps.append(step)
            self.losses.append(loss)
            self._ema = self.SMOOTHING * self._ema + (1 - self.SMOOTHING) * loss
            self.smoothed.append(self._ema / (1 - self.SMOOTHING ** len(self.losses)))
        if points:
            self.refresh()

    def add_heldout(self, step: int, loss: float) -> None:
        if math.isfinite(loss):
            self.heldout.append((step, loss))
            self.refresh()

    @property
    def point_count(self) -> int:
        return len(self.losses)

    def render(self) -> Text:
        width, height = self.size
        key = (width, height, len(self.losses), len(self.heldout), self.num_steps, self.baseline)
        if key != self._cache_key or self._cached is None:
            self._cached = self._draw(width, height)
            self._cache_key = key
        return self._cached

    def _y_range(self) -> tuple[float, float]:
        values = self.losses + [loss for _, loss in self.heldout]
        if self.baseline is not None:
            values.append(self.baseline)
        lo, hi = min(values), max(values)
        if hi - lo < 1e-6:
            lo, hi = lo - 0.5, hi + 0.5
        pad = (hi - lo) * 0.04
        return lo - pad, hi + pad

    def _draw(self, width: int, height: int) -> Text:
        plot_w, plot_h = width - Y_LABEL_WIDTH, height - 2
        if plot_w < 4 or plot_h < 2:
            return Text("loss chart (needs more room)", style="dim", no_wrap=True)
        if not self.losses and self.baseline is None:
            empty = Text("no training yet: press s to start", style="dim")
            return Text("\n" * (plot_h // 2)).append(empty)
        canvas = BrailleCanvas(plot_w, plot_h)
        lo, hi = self._y_range()
        x_max = max(self.num_steps, self.steps[-1] if self.steps else 1, 1)

        def ypix(value: float) -> int:
            return round((value - lo) / (hi - lo) * (canvas.height - 1))

        def xpix(step: int) -> int:
            return min(canvas.width - 1, (step - 1) * canvas.width // x_max) if step > 0 else 0

        if self.baseline is not None:
            y = ypix(self.baseline)
            for x in range(0, canvas.width, 3):
                canvas.dot(x, y, BASELINE)
        self._draw_series(canvas, xpix, ypix, x_max)
        previous = None
        for step, loss in self.heldout:
            point = (xpix(step), ypix(loss))
            canvas.dot(*point, HELDOUT)
            if previous is not None:
                _line(canvas, previous, point, HELDOUT)
            previous = point
        return self._frame(canvas, lo, hi, x_max, plot_h)

    def _draw_series(self, canvas: BrailleCanvas, xpix, ypix, x_max: int) -> None:
        """Raw losses as per-column spans, the smoothed line as a joined path."""
        self._aggregate((canvas.width, x_max), xpix)
        for x, (low, high) in self._columns.items():
            canvas.vline(x, ypix(low), ypix(high), RAW)
        previous = None
        for x in sorted(self._column_smooth):
            point = (x, ypix(self._column_smooth[x]))
            if previous is not None:
                _line(canvas, previous, point, SMOOTH)
            canvas.dot(*point, SMOOTH)
            previous = point

    def _aggregate(self, key: tuple[int, int], xpix) -> None:
        """Per dot column: (min, max) raw loss and the last smoothed value, updated in place
        with only the new points unless the width or the x range (the key) changed."""
        if key != self._aggregate_key or self._aggregated > len(self.steps):
            self._columns, self._column_smooth, self._aggregated = {}, {}, 0
        self._aggregate_key = key
        columns, smooth = self._columns, self._column_smooth
        for i in range(self._aggregated, len(self.steps)):
            x, loss = xpix(self.steps[i]), self.losses[i]
            low, high = columns.get(x, (loss, loss))
            columns[x] = (min(low, loss), max(high, loss))
            smooth[x] = self.smoothed[i]
        self._aggregated = len(self.steps)

    def _frame(self, canvas: BrailleCanvas, lo: float, hi: float, x_max: int,
               plot_h: int) -> Text:
        rows = canvas.rows()
        label_rows = {0: hi, plot_h - 1: lo}
        if plot_h >= 5:
            label_rows[(plot_h - 1) // 2] = (hi + lo) / 2
        out = Text(no_wrap=True, overflow="crop")
        for index, row in enumerate(rows):
            label = _format_loss(label_rows[index]) + "┤" if index in label_rows else " " * (
                Y_LABEL_WIDTH - 1) + "│"
            out.append(label, "dim")
            out.append_text(row)
            out.append("\n")
        axis_w = canvas.cells_wide
        left, right = "0", f"{x_max:,}"
        out.append(" " * (Y_LABEL_WIDTH - 1) + "└", "dim")
        out.append((left + " step " + right.rjust(max(0, axis_w - len(left) - 6)))[:axis_w],
                   "dim")
        out.append("\n")
        out.append_text(self._legend())
        return out

    def _legend(self) -> Text:
        legend = Text(no_wrap=True, overflow="ellipsis")
        if self.losses:
            legend.append("━ ", LAYER_STYLES[SMOOTH]).append(f"smoothed {self.smoothed[-1]:.3f}  ")
            legend.append("┃ ", LAYER_STYLES[RAW]).append("step loss  ")
        if self.heldout:
            latest = self.heldout[-1][1]
            legend.append("━ ", LAYER_STYLES[HELDOUT]).append(f"held-out {latest:.3f}  ")
        if self.baseline is not None:
            legend.append("┄ ", LAYER_STYLES[BASELINE]).append(
                f"{self.baseline_label} {self.baseline:.2f}")
        return legend


def _line(canvas: BrailleCanvas, a: tuple[int, int], b: tuple[int, int], layer: int) -> None:
    (x0, y0), (x1, y1) = a, b
    steps = max(abs(x1 - x0), abs(y1 - y0), 1)
    for i in range(steps + 1):
        canvas.dot(round(x0 + (x1 - x0) * i / steps), round(y0 + (y1 - y0) * i / steps), layer)
