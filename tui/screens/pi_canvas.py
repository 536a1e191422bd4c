"""The unit square from above: the quarter circle's arc and every dart as a braille dot.

Inside or outside is told by where a dart sits, not by colour alone: the arc x² + y² = 1 is
always drawn, and the screen's legend says which side is which (colour repeats it: the theme's
success colour inside, its error colour outside). The newest frame is bold, in the theme's text
shade of that colour (the one made to stand out on its background); older darts stay behind in
the plain shade, accumulating into the area the estimate measures. Cells have no background of
their own: the square is drawn on the widget's, so it follows the theme.

Darts are counted per cell of a fixed fine grid (FINE × FINE): a frame is taken back exactly by
subtracting its darts (thrown again by the caller), and a resize redraws the history at the new
resolution.

Once the darts drawn average one a dot (DENSE_DARTS_PER_CELL a cell), a dot per dart would light
every dot: the square would be a solid block. From then on each cell is shaded by its density
instead: as many of its 8 dots as 4 × (its darts / the average cell's), 1 … 8, in a fixed
dither order. A cell with more darts has a denser glyph, and the square evens out to half-lit
cells as n grows — the sampling noise shrinking. The cells the arc crosses then show the arc
alone, a clean line between inside and outside.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rich.style import Style

from ...engine.montecarlo import Darts
from ..widgets.cell_canvas import CellCanvas, Row, braille_cells

FINE = 240  # history resolution per axis (any dot grid up to this size draws from it)
REGIONS = ("inside", "outside", "arc")
DENSE_DARTS_PER_CELL = 8  # from this average on, cells are shaded by density (one a dot)
# The order in which a cell's dots (row, column) light as its density grows: 2 are opposite
# corners, 4 a checkerboard, 8 the full cell.
DITHER_ORDER = ((0, 0), (3, 1), (2, 0), (1, 1), (0, 1), (2, 1), (3, 0), (1, 0))


@dataclass(frozen=True)
class CanvasHistory:
    """What the square has drawn: kept aside while another run is shown."""

    frame: int
    fine_hits: np.ndarray
    newest: tuple[np.ndarray, np.ndarray]


class DartCanvas(CellCanvas):
    """Darts on the unit square, (0, 0) at the bottom left; draws the largest square that fits
    (2 columns per row, 4 × 2 braille dots per cell)."""

    SLICES = 8  # narrow slices: a changed cell resends at most a slice's width

    COMPONENT_CLASSES = {f"dart-canvas--{region}{age}" for region in REGIONS
                         for age in ("", "-new")}
    DEFAULT_CSS = """
    DartCanvas > .dart-canvas--inside { color: $success; }
    DartCanvas > .dart-canvas--inside-new { color: $text-success; text-style: bold; }
    DartCanvas > .dart-canvas--outside { color: $error; }
    DartCanvas > .dart-canvas--outside-new { color: $text-error; text-style: bold; }
    DartCanvas > .dart-canvas--arc { color: $foreground; }
    DartCanvas > .dart-canvas--arc-new { color: $foreground; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.frame = 0  # batches drawn and not taken back
        self._fine_hits = np.zeros((FINE, FINE), dtype=np.int32)  # [row from top, column]
        self._dot_hits: np.ndarray | None = None  # the same summed to screen resolution
        self._newest: tuple[np.ndarray, np.ndarray] = _fine_cells(np.zeros(0), np.zeros(0))
        self._palette: dict[tuple[str, bool], Style] | None = None

    def reset(self) -> None:
        self.frame = 0
        self._fine_hits.fill(0)
        self._dot_hits = None
        self._newest = _fine_cells(np.zeros(0), np.zeros(0))
        self.redraw()

    def exchange(self, history: CanvasHistory | None) -> CanvasHistory:
        """Draw `history` (None: an empty square) and return the history it replaces."""
        kept = CanvasHistory(self.frame, self._fine_hits, self._newest)
        if history is None:
            history = CanvasHistory(0, np.zeros((FINE, FINE), dtype=np.int32),
                                    _fine_cells(np.zeros(0), np.zeros(0)))
        self.frame, self._fine_hits, self._newest = history.frame, history.fine_hits, history.newest
        self._dot_hits = None
        self.redraw()
        return kept

    def add(self, darts: Darts) -> None:
        """Draw one batch as the newest."""
        self.frame += 1
        self._count(_fine_cells(darts.x, darts.y), +1)
        self._newest = _fine_cells(darts.x, darts.y)
        self.redraw()

    def take_back(self, removed: Darts, newest: Darts) -> None:
        """Undo the newest batch (`removed`, the same darts it drew); `newest` is the batch
        before it, which becomes the newest again."""
        self.frame = max(0, self.frame - 1)
        self._count(_fine_cells(removed.x, removed.y), -1)
        self._newest = _fine_cells(newest.x, newest.y)
        self.redraw()

    def _count(self, cells: tuple[np.ndarray, np.ndarray], sign: int) -> None:
        rows, columns = cells
        np.add.at(self._fine_hits, (rows, columns), sign)
        if self._dot_hits is not None:
            dots = self._dot_hits.shape[0]
            np.add.at(self._dot_hits, (rows * dots // FINE, columns * dots // FINE), sign)

    def _hits_at(self, dots: int) -> np.ndarray:
        """Darts per dot at this resolution (summed again from the fine grid on a resize)."""
        if self._dot_hits is None or self._dot_hits.shape != (dots, dots):
            fine_to_dot = np.arange(FINE) * dots // FINE
            self._dot_hits = np.zeros((dots, dots), dtype=np.int32)
            np.add.at(self._dot_hits, (fine_to_dot[:, None], fine_to_dot[None, :]),
                      self._fine_hits)
        return self._dot_hits

    def notify_style_update(self) -> None:
        # A new theme (or any restyle) changes the component colours: draw again with them.
        super().notify_style_update()
        self._palette = None
        if self.is_mounted:
            self.call_after_refresh(self.redraw)

    def _styles(self) -> dict[tuple[str, bool], Style]:
        if self._palette is None:
            self._palette = {
                (region, new): self.get_component_rich_style(
                    f"dart-canvas--{region}{'-new' if new else ''}")
                for region in REGIONS for new in (False, True)
            }
        return self._palette

    def dense(self, side: int) -> bool:
        """Whether a square `side` rows high is shaded by density (see the module's note)."""
        cells = side * 2 * side
        return int(self._fine_hits.sum()) >= DENSE_DARTS_PER_CELL * cells

    def build_rows(self, width: int, height: int) -> list[Row]:
        side = min(height, width // 2, FINE // 4)  # rows; 2·side columns; 4·side dots a side
        if side < 1:
            return []
        dots = 4 * side
        hits = self._hits_at(dots)
        regions = _cell_regions(side)
        if self.dense(side):
            lit = _density_dots(hits, np.array(regions) != "arc") | _arc_dots(dots)
        else:
            lit = (hits > 0) | _arc_dots(dots)
        codes = braille_cells(lit)
        newest = np.zeros((dots, dots), dtype=bool)
        rows, columns = self._newest
        newest[rows * dots // FINE, columns * dots // FINE] = True
        cell_new = newest.reshape(side, 4, 2 * side, 2).any(axis=(1, 3))
        styles = self._styles()
        return [
            [
                (chr(codes[r, c]), styles[(regions[r][c], bool(cell_new[r, c]))])
                for c in range(2 * side)
            ]
            for r in range(side)
        ]


def _fine_cells(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row from top, column) of each dart on the fine grid."""
    column = np.clip((np.asarray(x) * FINE).astype(np.intp), 0, FINE - 1)
    row = np.clip(((1.0 - np.asarray(y)) * FINE).astype(np.intp), 0, FINE - 1)
    return row, column


def density_levels(cell_hits: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """Dots to light per cell, 0 … 8: 4 × (darts / the mean over the `counted` cells), at least
    1 where a cell has any dart. cell_hits: (rows, columns) ints; counted: same shape, bool."""
    mean = cell_hits[counted].mean() if counted.any() else 0.0
    if mean <= 0:
        return np.zeros(cell_hits.shape, dtype=np.int32)
    levels = np.clip(np.rint(4 * cell_hits / mean), 1, 8).astype(np.int32)
    return np.where(cell_hits > 0, levels, 0)


def _density_dots(hits: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """Dot grid (4·rows, 2·columns) with each counted cell's dots lit by its density level."""
    rows, columns = counted.shape
    cell_hits = hits.reshape(rows, 4, columns, 2).sum(axis=(1, 3))
    levels = np.where(counted, density_levels(cell_hits, counted), 0)
    lit = np.zeros((rows, 4, columns, 2), dtype=bool)
    for rank, (dot_row, dot_column) in enumerate(DITHER_ORDER):
        lit[:, dot_row, :, dot_column] = levels > rank
    return lit.reshape(4 * rows, 2 * columns)


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
    """Each cell's region: inside, outside, or crossed by the arc."""
    columns = 2 * side
    x = np.arange(columns + 1) / columns
    y = 1 - np.arange(side + 1) / side
    near = x[:-1][None, :] ** 2 + y[1:][:, None] ** 2
    far = x[1:][None, :] ** 2 + y[:-1][:, None] ** 2
    regions = np.where(far <= 1, "inside", np.where(near >= 1, "outside", "arc"))
    return regions.tolist()
