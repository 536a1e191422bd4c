"""The trace's data: one `Step` per phase of one request, a `Hop` per request (redirects make
several), a `Visit` per URL typed. The screen draws these, the CLI prints them (JSON: one object
per step), the tests read them; nothing here touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The phases in the order a request goes through them.
PHASES = ("parse", "dns", "walk", "tcp", "tls", "http", "render")
PHASE_TITLES = {
    "parse": "URL", "dns": "DNS", "walk": "DNS walk", "tcp": "TCP", "tls": "TLS",
    "http": "HTTP", "render": "Render",
}


@dataclass
class Step:
    """One phase, run and timed. `started` counts from the visit's start, in seconds."""

    phase: str
    hop: int  # which request of the visit (0, then one more per redirect followed)
    title: str  # one line: "TCP connected to 127.0.0.1:4433"
    started: float
    elapsed: float
    ok: bool = True
    skipped: str = ""  # why the phase did not run this time ("connection reused"), else ""
    error: str = ""  # one line naming what failed, "" when ok
    round_trips: int = 0  # network round trips the phase waited for
    fatal: bool = True  # a failure that ends the visit (the DNS walk's never does)
    aside: bool = False  # ran beside the visit (the re-enacted DNS walk): not in its total
    detail: dict[str, Any] = field(default_factory=dict)  # plain data (JSON-able)

    @property
    def end(self) -> float:
        return self.started + self.elapsed

    def to_json(self) -> dict[str, Any]:
        return {"phase": self.phase, "hop": self.hop, "title": self.title,
                "started_ms": round(self.started * 1e3, 3),
                "elapsed_ms": round(self.elapsed * 1e3, 3), "ok": self.ok,
                "skipped": self.skipped or None, "error": self.error or None,
                "round_trips": self.round_trips, "aside": self.aside, **self.detail}


@dataclass
class Hop:
    """One request: its URL and its steps (a redirect starts the next hop)."""

    url: str
    steps: list[Step] = field(default_factory=list)

    def step(self, phase: str) -> Step | None:
        return next((s for s in self.steps if s.phase == phase), None)


@dataclass
class Visit:
    """Everything one typed URL caused: the hops, and how it ended."""

    typed: str
    hops: list[Hop] = field(default_factory=list)
    error: str = ""  # the failing step's one line ("TLS: certificate has expired")
    failed_phase: str = ""
    cancelled: bool = False
    run: int = 0  # 0 = the first (cold) visit of a browser; later ones are warm

    @property
    def steps(self) -> list[Step]:
        return [step for hop in self.hops for step in hop.steps]

    @property
    def ok(self) -> bool:
        return not self.error and not self.cancelled

    @property
    def total(self) -> float:
        return max((s.end for s in self.steps if not s.aside), default=0.0)

    def phase_time(self, phase: str) -> float:
        """Seconds spent in `phase` over every hop (0 when it was skipped or never ran)."""
        return sum(s.elapsed for s in self.steps if s.phase == phase and not s.skipped)

    def to_json(self) -> dict[str, Any]:
        return {"url": self.typed, "run": self.run, "ok": self.ok,
                "error": self.error or None, "failed_phase": self.failed_phase or None,
                "cancelled": self.cancelled, "total_ms": round(self.total * 1e3, 3),
                "hops": [hop.url for hop in self.hops],
                "steps": [step.to_json() for step in self.steps]}
