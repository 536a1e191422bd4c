"""The Training screen's inspection panels 5–9 (tokens, why, health, embed, check): what the
session's snapshots bring them, the heatmap's kind, and the heatmap width asked of the session.

The screen owns one `ReadoutPanels`; it composes the widgets, hands each snapshot to `apply`,
and routes the panels' keys here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from textual.widget import Widget

from ...engine.microgpt.readouts import GRADCHECK_TOLERANCE
from ...engine.microgpt.session import HEALTH_KINDS, Snapshot
from ..widgets.embedding_plot import EmbeddingMap
from ..widgets.gradcheck_view import GradCheck
from ..widgets.health_map import HealthGrid
from ..widgets.token_strip import TokenStrip
from ..widgets.why_view import WhyChain

WHY_HINT = "Why this character? Appears with the first samples."
CHECK_HINT = "c checks a weight's gradient (pick it: j/k, < >)"

Send = Callable[[tuple], None]
Say = Callable[..., None]


class ReadoutPanels:
    """Panels 5–9 of `screen`; `send` reaches the session (a no-op without one)."""

    def __init__(self, screen: Widget, send: Send, say: Say) -> None:
        self.screen, self.send, self.say = screen, send, say
        self.health_grids: tuple | None = None  # the session's two HealthGrids
        self.health_kind = 0  # which of HEALTH_KINDS the heatmap shows
        self.health_room = 0  # heatmap columns last asked of the session

    @staticmethod
    def compose() -> Iterator[Widget]:
        yield TokenStrip(id="tokens")
        yield WhyChain(WHY_HINT, id="why")
        yield HealthGrid(id="health")
        yield EmbeddingMap(id="embed")
        yield GradCheck(CHECK_HINT, id="check")

    @property
    def strip(self) -> TokenStrip:
        return self.screen.query_one(TokenStrip)

    @property
    def why(self) -> WhyChain:
        return self.screen.query_one(WhyChain)

    def apply(self, snap: Snapshot) -> None:
        had_strip = self.strip.selected is not None
        if snap.token_strip is not None:
            self.strip.show(snap.token_strip)
        if snap.why is not None:
            self.why.show(snap.why)
        if snap.embedding is not None:
            self.screen.query_one(EmbeddingMap).show(snap.embedding)
        if snap.gradcheck is not None:
            check = snap.gradcheck
            self.screen.query_one(GradCheck).show(check)
            self.say(f"Gradient check of {check.param}[{check.row},{check.col}]: relative "
                     f"error {check.rel_error:.1e}", error=check.rel_error >= GRADCHECK_TOLERANCE)
        if snap.health is not None:
            self.health_grids = snap.health
            self.show_health()
        if snap.why is not None and not had_strip:
            self.screen.refresh_bindings()  # ← → ↓ ↑ now have something to move

    def clear(self) -> None:
        """A new run: the last run's read-outs go (each panel shows its hint until the new
        run's arrive), and the heatmap's width is asked of the new session."""
        self.health_grids, self.health_room = None, 0
        for widget in (TokenStrip, WhyChain, HealthGrid, EmbeddingMap, GradCheck):
            self.screen.query_one(widget).show(None)
        self.screen.refresh_bindings()

    def move_position(self, delta: int) -> None:
        self.strip.move(delta)
        if self.strip.selected is not None:
            self.send(("why", self.strip.selected_index))

    def toggle_health_kind(self) -> None:
        self.health_kind = 1 - self.health_kind
        self.show_health()
        self.say(f"Heatmap: {HEALTH_KINDS[self.health_kind]} per tensor per step (t switches)")

    def show_health(self) -> None:
        """The chosen heatmap; asks the session for as many step columns as the panel holds."""
        if self.health_grids is None:
            return
        heatmap = self.screen.query_one(HealthGrid)
        grid = self.health_grids[self.health_kind]
        heatmap.show(grid)
        room = heatmap.room(grid.names) if heatmap.size.width else 0
        if room and room != self.health_room:
            self.health_room = room
            self.send(("health_width", room))
