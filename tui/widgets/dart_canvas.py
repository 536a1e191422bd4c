"""The unit square from above: the quarter circle's arc and every dart as a braille dot.

Darts inside the circle are green, outside red; the newest batch is bright and older darts stay
behind dimmer, accumulating into the shaded area that the estimate measures. History is kept on
a fixed fine grid so a resize redraws it at the new resolution.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rich.style import Style

from .cell_canvas import CellCanvas, Row, braille_cells

FINE = 240  # history resolution per axis (any dot grid up to this size draws from it)
NEVER = -1

SQUARE = Style(bgcolor="grey11")
STYLES = {
    ("inside", True): SQUARE + Style(color="bright_green", bold=True),
    ("inside", False): SQUARE + Style(color="green"),
    ("outside", True): SQUARE + Style(color="bright_red", bold=True),
    ("outside", False): SQUARE + Style(color="red"),
    ("arc", True): SQUARE + Style(color="bright_yellow", bold=True),
    ("arc", False): SQUARE + Style(color="yellow"),
}


class DartCanvas(CellCanvas):
    """Darts on the unit square, (0, 0) at the bottom left; draws a square that fits."""

    SLICES = 8  # narrow slices: a changed cell resends at most a slice's width

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.frame = 0
        self._last_hit = np.full((FINE, FINE), NEVER, dtype=np.int32)  # [row from top, column]
        self._dots = np.full((0, 0), NEVER, dtype=np.int32)  # the same at screen resolution

    def reset(self) -> None:
        self.frame = 0
        self._last_hit.fill(NEVER)
        self._dots.fill(NEVER)
        self.redraw()

    def add_darts(self, x: np.ndarray, y: np.ndarray) -> None:
        """Draw one batch: coordinates in [0, 1) (float arrays of one shape) as the newest."""
        self.frame += 1
        x, y = np.asarray(x), np.asarray(y)
        for grid in (self._last_hit, self._dots):
            size = grid.shape[0]
            column = np.clip((x * size).astype(np.intp), 0, size - 1)
            row = np.clip(((1.0 - y) * size).astype(np.intp), 0, size - 1)
            grid[row, column] = self.frame
        self.redraw()

    def _dots_for(self, dots: int) -> np.ndarray:
        """The last-hit frame of every dot at this resolution (rebuilt from history on resize)."""
        if self._dots.shape != (dots, dots):
            fine_to_dot = np.arange(FINE) * dots // FINE
            self._dots = np.full((dots, dots), NEVER, dtype=np.int32)
            np.maximum.at(self._dots, (fine_to_dot[:, None], fine_to_dot[None, :]),
                          self._last_hit)
        return self._dots

    def build_rows(self, width: int, height: int) -> list[Row]:
        side = min(height, width // 2, FINE // 4)  # rows; 2·side columns; 4·side dots a side
        if side < 1:
            return []
        last_hit = self._dots_for(4 * side)
        lit = (last_hit != NEVER) | _arc_dots(4 * side)
        codes = braille_cells(lit)
        newest = (last_hit == self.frame) & (self.frame > 0)
        cell_new = newest.reshape(side, 4, 2 * side, 2).any(axis=(1, 3))
        regions = _cell_regions(side)
        return [
            [
                (chr(codes[r, c]), STYLES[(regions[r][c], bool(cell_new[r, c]))])
                for c in range(2 * side)
            ]
            for r in range(side)
        ]


@lru_cache(maxsize=4)
def _arc_dots(dots: int) -> np.ndarray:
    """The dots whose square the circle x² + y² = 1 passes through, (dots, dots) bool."""
    edges = np.arange(dots + 1) / dots
    x_low, x_high = edges[:-1][None, :], edges[1:][None, :]
    y_high, y_low = 1 - edges[:-1][:, None], 1 - edges[1:][:, None]
    arc = (x_low**2 + y_low**2 < 1) & (x_high**2 + y_high**2 > 1)
    arc.setflags(write=False)
    return arc


@lru_cache(maxsize=4)
def _cell_regions(side: int) -> list[list[str]]:
    """Each cell's colour class: inside, outside, or crossed by the arc."""
    columns = 2 * side
    x = np.arange(columns + 1) / columns
    y = 1 - np.arange(side + 1) / side
    near = x[:-1][None, :] ** 2 + y[1:][:, None] ** 2
    far = x[1:][None, :] ** 2 + y[:-1][:, None] ** 2
    regions = np.where(far <= 1, "inside", np.where(near >= 1, "outside", "arc"))
    return regions.tolist()
