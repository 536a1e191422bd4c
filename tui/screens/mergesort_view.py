"""The merge sort screen's view-model for the stepped view: the array and its settings, the
stepper over the sort's events, what the picture shows at each step, the counters, and the words
of the explanation. The large-n view's is mergesort_large_view. No widgets here; colours are
theme variables.

Every number comes from the engine (engine/basics/mergesort.py): the events carry the running
comparison count and the array after each step, so stepping back is reading an earlier event,
never undoing anything.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual.content import Content

from ...engine.basics import mergesort as engine
from ...engine.basics.mergesort import Compare, MergeDone, MergeSortEvent, Split, Take
from ...engine.seeds import MAX_SEED
from ..kit.tabs import tabs_line as views_line
from ..widgets.split_tree import ArrayTree, TreeNode

ORDERS = engine.ORDERS
VIEWS = ("steps", "large")
VIEW_TITLES = {"steps": "Merge sort", "large": "Large n"}
SIZES = (8, 16, 32, 64)  # what s / S walk through


@dataclass(frozen=True)
class SortSettings:
    """The array on show: n items 1 … n in `order`; `seed` shuffles the random order."""

    n: int = 16
    order: str = "random"
    seed: int = 0

    def resized(self, delta: int) -> SortSettings:
        return replace(self, n=SIZES[(SIZES.index(self.n) + delta) % len(SIZES)])

    def next_order(self) -> SortSettings:
        orders = engine.ORDERS
        return replace(self, order=orders[(orders.index(self.order) + 1) % len(orders)])

    def reseeded(self) -> SortSettings:
        """The next random array: the next seed (wrapping at 2^64 − 1)."""
        return replace(self, seed=(self.seed + 1) % (MAX_SEED + 1))


@dataclass(frozen=True)
class SortRun:
    """One small sort, all of it: the items, every event, the split tree's levels (nodes of two
    items or more; the bars are the leaves) and the bounds for its n."""

    settings: SortSettings
    items: tuple[int, ...]
    events: tuple[MergeSortEvent, ...]
    levels: tuple[tuple[engine.Node, ...], ...]

    @property
    def n(self) -> int:
        return len(self.items)

    @property
    def comparisons(self) -> int:
        return self.events[-1].comparisons if self.events else 0


def make_run(settings: SortSettings) -> SortRun:
    items = tuple(engine.make_values(settings.n, settings.order, settings.seed))
    events = tuple(engine.merge_sort_events(items))
    levels = engine.tree_levels(engine.split_tree(settings.n), min_size=2)
    return SortRun(settings, items, events, tuple(tuple(level) for level in levels))


class EventStepper:
    """The events as the playback keys see them: `position` events have happened."""

    def __init__(self, run: SortRun) -> None:
        self.run = run
        self.position = 0

    @property
    def length(self) -> int:
        return len(self.run.events)

    def seek(self, position: int) -> None:
        self.position = position

    @property
    def current(self) -> MergeSortEvent | None:
        return self.run.events[self.position - 1] if self.position else None

    @property
    def array(self) -> tuple[int, ...]:
        event = self.current
        return event.array if event is not None else self.run.items

    @property
    def comparisons(self) -> int:
        event = self.current
        return event.comparisons if event is not None else 0

    def level_comparisons(self) -> list[int]:
        """Comparisons so far on each level of merges (depth 0: the root's merge)."""
        return engine.comparisons_per_level(self.run.events[:self.position], self.run.n)


# -- the picture -------------------------------------------------------------------------------


def picture(stepper: EventStepper) -> ArrayTree:
    """What the bars and the tree show after `stepper.position` events."""
    run = stepper.run
    events = run.events[:stepper.position]
    split = {event.node for event in events if isinstance(event, Split)}
    done = {event.node for event in events if isinstance(event, MergeDone)}
    current = stepper.current
    n = run.n
    states = ["idle"] * n
    for lo, hi in done:
        states[lo:hi] = ["merged"] * (hi - lo)
    marks = [""] * n
    if current is not None:
        lo, hi = current.node
        if not isinstance(current, MergeDone):
            states[lo:hi] = ["range"] * (hi - lo)
        if isinstance(current, Compare):
            states[lo:current.left_index] = ["merged"] * (current.left_index - lo)
            for index, mark in ((current.left_index, "L"), (current.right_index, "R")):
                states[index], marks[index] = "hot", mark
        elif isinstance(current, Take):
            states[lo:current.destination] = ["merged"] * (current.destination - lo)
            states[current.destination], marks[current.destination] = "hot", "▲"
    levels = []
    for level in run.levels:
        nodes = []
        for node in level:
            state = ("current" if current is not None and node == current.node else
                     "sorted" if node in done else "split" if node in split else "waiting")
            nodes.append(TreeNode(node[0], node[1], state))
        levels.append(tuple(nodes))
    return ArrayTree(stepper.array, tuple(states), tuple(marks), tuple(levels))


# -- the lines ---------------------------------------------------------------------------------


def tabs_line(current: str) -> Content:
    return views_line([VIEW_TITLES[name] for name in VIEWS], VIEWS.index(current), "v next")


def settings_line(settings: SortSettings) -> Content:
    parts: list[str | tuple[str, str]] = [
        ("n ", "$text-muted"), (f"{settings.n}", "bold"), (" (s/S)", "$text-muted"),
        ("  order ", "$text-muted"), (settings.order, "bold"), (" (o)", "$text-muted")]
    if settings.order == "random":
        parts += [("  seed ", "$text-muted"), (f"{settings.seed}", "bold"),
                  (" (r: a new array)", "$text-muted")]
    return Content.assemble(*parts)


def _range(lo: int, hi: int) -> str:
    """Items lo … hi−1, as the tree labels them (one item: its index)."""
    return f"{lo}–{hi - 1}" if hi - lo > 1 else f"{lo}"


def event_line(event: MergeSortEvent | None) -> str:
    """The step in a few words, for the status line."""
    if event is None:
        return "the array as given"
    if isinstance(event, Split):
        return (f"split {_range(event.lo, event.hi)} → {_range(event.lo, event.mid)} | "
                f"{_range(event.mid, event.hi)}")
    if isinstance(event, Compare):
        sign = "≤" if event.take_left else ">"
        side = "left" if event.take_left else "right"
        return f"compare {event.left_value} {sign} {event.right_value}: {side} goes first"
    if isinstance(event, Take):
        how = "take" if event.compared else "copy (no compare)"
        return f"{how} {event.value} from the {event.side} → a[{event.destination}]"
    return f"merged {_range(event.lo, event.hi)}: {event.merge_comparisons} comparisons"


def status_text(stepper: EventStepper | None, playback: Text) -> Text:
    if stepper is None:
        return Text("")
    text = playback.copy()
    text.append("  " + event_line(stepper.current))
    return text


def counters_text(stepper: EventStepper) -> Content:
    """Two lines: the comparisons so far (this merge's too), and the bounds for this n."""
    run, n = stepper.run, stepper.run.n
    event = stepper.current
    first: list[str | tuple[str, str]] = [
        "comparisons ", (f"{stepper.comparisons:,}", "bold"),
        (f" of {run.comparisons:,} in this sort", "$text-muted")]
    if isinstance(event, (Compare, Take, MergeDone)):
        first += [("  this merge ", "$text-muted"), (f"{event.merge_comparisons}", "bold"),
                  (f" (≤ {event.hi - event.lo - 1})", "$text-muted")]
    second: list[str | tuple[str, str]] = [
        ("worst ", "$text-muted"), (f"{engine.worst_case_comparisons(n):,}", "bold"),
        (" = n⌈log₂ n⌉−2^⌈log₂ n⌉+1  ", "$text-muted"),
        ("n⌈log₂ n⌉ ", "$text-muted"), (f"{engine.simple_bound(n):,}", "bold"),
        ("  n·log₂ n−n+1 ", "$text-muted"), (f"{engine.n_log_n_bound(n):,.0f}", "bold")]
    return Content.assemble(*first, "\n", *second)


# -- the words ---------------------------------------------------------------------------------


def _why_n_log_n(n: int) -> str:
    levels = engine.ceil_log2(n)
    return (f"Why n log n: halving {n} items reaches single items after ⌈log₂ {n}⌉ = {levels} "
            f"levels, and on each level the merges together compare at most n = {n} times (a "
            f"merge of a + b items compares at most a + b − 1 times). So at most {levels} × {n} "
            f"= {engine.simple_bound(n)} comparisons; exactly at most "
            f"{engine.worst_case_comparisons(n)} = n⌈log₂ n⌉ − 2^⌈log₂ n⌉ + 1. No comparison sort "
            f"can do better than ⌈log₂ {n}!⌉ = {engine.information_bound(n)} in its worst case "
            "(n! orders, one yes/no answer per comparison).")


def _levels_line(stepper: EventStepper) -> str:
    counts = stepper.level_comparisons()
    cells = " · ".join(f"{depth}: {count}" for depth, count in enumerate(counts))
    return f"Per level so far (each ≤ n = {stepper.run.n}): {cells}."


def _ending(run: SortRun) -> str:
    n, count = run.n, run.comparisons
    scale = engine.n_log2_n(n)
    head = (f"Sorted with {count} comparisons: {count}/(n·log₂ n) = {count / scale:.2f}. ")
    if run.settings.order == "sorted":
        half = engine.sorted_input_comparisons(n)
        return head + ("Already sorted: every left item is taken after one comparison with the "
                       "right run's head, then the right run is copied, so each merge costs "
                       f"only its left half: (n/2)·log₂ n = {half:.0f}. Timsort finds the "
                       f"one run and stops at n − 1 = {n - 1}.")
    if run.settings.order == "reversed":
        return head + ("Reversed: every right item goes first, then the left run is copied, so "
                       "each merge costs its right half: (n/2)·log₂ n again. Timsort reverses "
                       f"the one descending run with n − 1 = {n - 1} comparisons.")
    return head + (f"Random order comes close to the worst case "
                   f"({engine.worst_case_comparisons(n)}): on average about n·log₂ n − 1.25n "
                   f"= {engine.average_comparisons(n):.0f}.")


def explanation(stepper: EventStepper) -> str:
    run = stepper.run
    event = stepper.current
    if event is None:
        return ("Merge sort splits the array in halves until each piece holds one item "
                "(sorted by itself), then merges sorted pieces two by two, always taking the "
                f"smaller head. n/→ steps, Space plays.\n\n{_why_n_log_n(run.n)}")
    if isinstance(event, Split):
        here = (f"Split {_range(event.lo, event.hi)} into {_range(event.lo, event.mid)} and "
                f"{_range(event.mid, event.hi)} (level {event.depth}). Splitting compares "
                "nothing: it only decides which pieces are merged later.")
    elif isinstance(event, Compare):
        first, second = ("left", "right") if event.take_left else ("right", "left")
        here = (f"Compare the heads: left {event.left_value} (a[{event.left_index}]) and right "
                f"{event.right_value} (a[{event.right_index}]). The {first} one goes first"
                + (" (a tie goes left: the sort is stable)" if
                   event.left_value == event.right_value else "")
                + f"; the {second} head waits. Comparison {event.comparisons} of the sort, "
                f"{event.merge_comparisons} of this merge (≤ {event.hi - event.lo - 1}).")
    elif isinstance(event, Take):
        if event.compared:
            here = (f"Take {event.value} from the {event.side} run into a[{event.destination}]"
                    " (▲): the merged output grows by one.")
        else:
            here = (f"The other run is empty: {event.value} follows from the {event.side} run "
                    "without a comparison. This is why a merge of a + b items often compares "
                    "fewer than a + b − 1 times.")
    else:
        here = (f"Merged {_range(event.lo, event.hi)}: {event.hi - event.lo} items with "
                f"{event.merge_comparisons} comparisons (at most {event.hi - event.lo - 1}).")
        if stepper.position == stepper.length:
            here += " " + _ending(run)
    return f"{here}\n\n{_levels_line(stepper)}\n\n{_why_n_log_n(run.n)}"
