"""One playback controller for every screen that steps: play/pause, step, back, jump, speed.

A screen hands the controller a *stepper*: any object with a `position` and a `length` (how
many steps there are; None when it never ends, as darts thrown frame by frame) and a
`seek(position)` that moves it there, backwards included (a stepper whose length is not known
yet may say `known_length`, how far it has got: the last-step key goes there). The controller
owns the timer, the speed and the keys (`PLAYBACK_BINDINGS`, routed by `PlaybackMixin`), and
calls the screen's `on_change` after every move so the screen can draw. A stepper whose moves
run in a job may say `busy`: the controller then skips ticks until it is free, so frames never
queue up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from rich.text import Text
from textual.binding import Binding
from textual.timer import Timer

TICK_SECONDS = 1 / 12  # ≈ 12 frames a second: smooth, and light on an SSH link
SPEEDS = (1, 2, 5, 10, 25, 100)  # steps per tick


@runtime_checkable
class Stepper(Protocol):
    @property
    def position(self) -> int: ...

    @property
    def length(self) -> int | None: ...

    def seek(self, position: int) -> None: ...


PLAYBACK_BINDINGS = [
    Binding("space", "playback_toggle", "Play/pause"),
    Binding("n,right", "playback_step(1)", "Step forward"),
    Binding("b,left", "playback_step(-1)", "Step back"),
    Binding("plus,equals_sign", "playback_speed(1)", "Faster", key_display="+"),
    Binding("minus", "playback_speed(-1)", "Slower", key_display="-"),
    Binding("g,home", "playback_jump(0)", "First step", show=False),
    Binding("G,end", "playback_jump(1)", "Last step", show=False),
]


class Playback:
    """Drives a stepper from keys and a timer; `on_change()` runs after every move."""

    def __init__(
        self,
        owner,
        on_change: Callable[[], None],
        *,
        speeds: Sequence[int] = SPEEDS,
        speed: int | None = None,
        per_tick: Callable[[int], int] | None = None,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        """speeds: the choices +/- walk through. per_tick(speed) → steps per tick (default:
        the speed itself; a screen whose speed means something else, such as darts per frame,
        passes `lambda _: 1`)."""
        self.owner = owner
        self.on_change = on_change
        self.speeds = tuple(speeds)
        self.speed_index = self.speeds.index(speed) if speed in self.speeds else 0
        self.per_tick = per_tick or (lambda value: value)
        self.tick_seconds = tick_seconds
        self.stepper: Stepper | None = None
        self.playing = False
        self._timer: Timer | None = None

    @property
    def speed(self) -> int:
        return self.speeds[self.speed_index]

    def attach(self, stepper: Stepper | None) -> None:
        """Play `stepper` from where it stands (paused); None detaches."""
        self.pause()
        self.stepper = stepper
        self.on_change()

    # -- moves ---------------------------------------------------------------------------

    def _ready(self) -> Stepper | None:
        stepper = self.stepper
        if stepper is None or getattr(stepper, "busy", False):
            return None
        return stepper

    def _seek(self, stepper: Stepper, position: int) -> bool:
        """Clamp and move; False when there was nowhere to go."""
        length = stepper.length
        position = max(0, position if length is None else min(position, length))
        if position == stepper.position:
            return False
        stepper.seek(position)
        self.on_change()
        return True

    def step(self, delta: int) -> None:
        """One step forward (delta > 0) or back; stops playing."""
        self.pause()
        stepper = self._ready()
        if stepper is not None:
            self._seek(stepper, stepper.position + delta)

    def jump(self, to_end: bool) -> None:
        self.pause()
        stepper = self._ready()
        if stepper is None:
            return
        last = stepper.length
        if to_end and last is None:
            # A stepper still growing (steps run one by one) may say how far it has got;
            # an endless one has no last step.
            last = getattr(stepper, "known_length", None)
            if last is None:
                return
        self._seek(stepper, last if to_end else 0)

    def toggle(self) -> None:
        if self.playing:
            self.pause()
            self.on_change()
            return
        stepper = self._ready()
        if stepper is None:
            return
        if stepper.length is not None and stepper.position >= stepper.length:
            stepper.seek(0)  # at the end, play starts over
        self.playing = True
        if self._timer is None:
            self._timer = self.owner.set_interval(self.tick_seconds, self._tick)
        else:
            self._timer.resume()
        self.on_change()

    def pause(self) -> None:
        self.playing = False
        if self._timer is not None:
            self._timer.pause()

    def change_speed(self, delta: int) -> None:
        self.speed_index = max(0, min(len(self.speeds) - 1, self.speed_index + delta))
        self.on_change()

    def _tick(self) -> None:
        if not self.playing:
            return
        stepper = self.stepper
        if stepper is None:
            self.pause()
            self.on_change()
            return
        if getattr(stepper, "busy", False):
            return  # the previous move is still being computed: skip this tick
        moved = self._seek(stepper, stepper.position + self.per_tick(self.speed))
        if not moved or (stepper.length is not None and stepper.position >= stepper.length):
            self.pause()
            self.on_change()

    # -- drawing -------------------------------------------------------------------------

    def status(self, unit: str = "step") -> Text:
        """The status segment every stepping screen shows: ▶/⏸, position/length, speed."""
        stepper = self.stepper
        mark = ("▶ " if self.playing else "⏸ ", "bold")  # the glyph says it: no colour needed
        if stepper is None:
            return Text.assemble(mark, "—")
        length = stepper.length
        where = f"{unit} {stepper.position:,}" + (f"/{length:,}" if length is not None else "")
        return Text.assemble(mark, (where, "bold"), f"  ×{self.speed:,}")


class PlaybackMixin:
    """Routes the playback keys of PLAYBACK_BINDINGS to `self.playback` (a Playback)."""

    playback: Playback

    def action_playback_toggle(self) -> None:
        self.playback.toggle()

    def action_playback_step(self, delta: int) -> None:
        self.playback.step(delta)

    def action_playback_jump(self, to_end: int) -> None:
        self.playback.jump(bool(to_end))

    def action_playback_speed(self, delta: int) -> None:
        self.playback.change_speed(delta)
