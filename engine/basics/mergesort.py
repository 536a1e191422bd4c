"""Merge sort as data: every step of a top-down merge sort of a small array as an event, the
tree of splits, the comparison bounds, and plain comparison counting for large n beside
Python's own `sorted` (Timsort).

Small arrays (at most MAX_EVENT_ITEMS): `merge_sort_events` yields Split, Compare, Take and
MergeDone events. Each carries the range it works on, the running comparison count and the
array after it, so a screen can step forward and back by index and a test can replay them.
During a merge the array is always a permutation of the input: the merged output fills
[lo, k), the rest of the left run follows it, then the rest of the right run. Taking the right
run's head moves it in front of the left run's rest (an insertion), so every state is a real
arrangement of the items, drawn as bars without holes or duplicates.

Large n (at most MAX_COUNT_ITEMS): `count_merge_sort` is the same algorithm written for
counting, `count_timsort` counts the comparisons `sorted` makes through a key whose `__lt__`
counts. Both are plain Python: about 2 s (merge) and 3 s (Timsort) for 10^6 random items; at
10^7 about 40 s and 60 s, and 1.2 GB at the peak (Timsort's 10^7 key objects).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

MAX_EVENT_ITEMS = 64  # the stepped sort: 64 items make ~830 events, and a tree of 7 levels
MAX_COUNT_ITEMS = 10**7  # counting: ≈ 1.2 GB of Python objects at 10^7 (Timsort's keys most)
ORDERS = ("random", "sorted", "reversed")
ALGORITHMS = ("merge", "timsort")

Order = Literal["random", "sorted", "reversed"]
Node = tuple[int, int]  # the range [lo, hi) of the array a node of the split tree sorts


# -- the events -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SortEvent:
    """What every event shares: the node it belongs to (lo ≤ mid < hi; mid splits the range),
    its depth in the split tree (the root is 0), the comparisons made so far in the whole sort
    (this event's included) and the array after the event."""

    lo: int
    mid: int
    hi: int
    depth: int
    comparisons: int
    array: tuple[Any, ...]

    @property
    def node(self) -> Node:
        return (self.lo, self.hi)


@dataclass(frozen=True, kw_only=True)
class Split(SortEvent):
    """[lo, hi) is cut into [lo, mid) and [mid, hi); no item is looked at."""


@dataclass(frozen=True, kw_only=True)
class Compare(SortEvent):
    """The heads of the two runs compared: the left head at `left_index`, the right head at
    `right_index`. `take_left` when left ≤ right: ties go left, which keeps the sort stable."""

    left_index: int
    right_index: int
    left_value: Any
    right_value: Any
    take_left: bool
    merge_comparisons: int  # within this merge, this one included


@dataclass(frozen=True, kw_only=True)
class Take(SortEvent):
    """One item moved from `source` to `destination`, the end of the merged output. `compared`
    is False once one run is empty: the other's rest follows without a comparison."""

    side: Literal["left", "right"]
    value: Any
    source: int
    destination: int
    compared: bool
    merge_comparisons: int


@dataclass(frozen=True, kw_only=True)
class MergeDone(SortEvent):
    """[lo, hi) is sorted; `merge_comparisons` of at most hi − lo − 1 were needed."""

    merge_comparisons: int


MergeSortEvent = Split | Compare | Take | MergeDone


def _identity(item: Any) -> Any:
    return item


def merge_sort_events(items: Sequence[Any],
                      key: Callable[[Any], Any] | None = None) -> Iterator[MergeSortEvent]:
    """The events of a top-down merge sort of `items` (at most MAX_EVENT_ITEMS; ValueError
    beyond), in order. The range [lo, hi) splits at mid = (lo + hi) // 2, so a left run is
    never longer than its right run. Items are compared as `key(item)` with `<` only."""
    if len(items) > MAX_EVENT_ITEMS:
        raise ValueError(f"the stepped merge sort takes at most {MAX_EVENT_ITEMS} items, "
                         f"not {len(items)}")
    array = list(items)
    key_of = key or _identity
    count = 0

    def sort(lo: int, hi: int, depth: int) -> Iterator[MergeSortEvent]:
        if hi - lo < 2:
            return  # one item is a sorted run already
        mid = (lo + hi) // 2
        yield Split(lo=lo, mid=mid, hi=hi, depth=depth, comparisons=count,
                    array=tuple(array))
        yield from sort(lo, mid, depth + 1)
        yield from sort(mid, hi, depth + 1)
        yield from merge(lo, mid, hi, depth)

    def merge(lo: int, mid: int, hi: int, depth: int) -> Iterator[MergeSortEvent]:
        nonlocal count
        # The merged output is array[lo:k]; the left run's rest array[k:boundary]; the right
        # run's rest array[boundary:hi].
        k, boundary, done = lo, mid, 0
        shared = dict(lo=lo, mid=mid, hi=hi, depth=depth)
        while k < boundary < hi:
            left, right = array[k], array[boundary]
            count += 1
            done += 1
            take_left = not key_of(right) < key_of(left)
            yield Compare(**shared, comparisons=count, array=tuple(array), left_index=k,
                          right_index=boundary, left_value=left, right_value=right,
                          take_left=take_left, merge_comparisons=done)
            if take_left:  # the left head is already where the output ends
                source = k
            else:  # the right head goes in front of the left run's rest
                source = boundary
                array[k + 1:boundary + 1] = array[k:boundary]
                array[k] = right
                boundary += 1
            yield Take(**shared, comparisons=count, array=tuple(array),
                       side="left" if take_left else "right", value=array[k], source=source,
                       destination=k, compared=True, merge_comparisons=done)
            k += 1
        while k < hi:  # one run is empty: the other's rest is in place already
            yield Take(**shared, comparisons=count, array=tuple(array),
                       side="left" if k < boundary else "right", value=array[k], source=k,
                       destination=k, compared=False, merge_comparisons=done)
            k += 1
        yield MergeDone(**shared, comparisons=count, array=tuple(array),
                        merge_comparisons=done)

    yield from sort(0, len(array), 0)


def replay(items: Sequence[Any], events: Sequence[MergeSortEvent]) -> list[Any]:
    """The array after `events`, rebuilt from the moves alone (each Take moves one item from
    `source` to `destination`; nothing else moves anything), not from the arrays carried."""
    array = list(items)
    for event in events:
        if isinstance(event, Take) and event.source != event.destination:
            array.insert(event.destination, array.pop(event.source))
    return array


# -- the split tree ---------------------------------------------------------------------------


def split_tree(n: int) -> Any:
    """The split tree of an n-item merge sort as a networkx DiGraph: nodes are the ranges
    (lo, hi), with attributes lo, hi, mid (None for a one-item leaf), depth and size; edges go
    from a range to its halves, left first. n at most MAX_EVENT_ITEMS (it is for drawing)."""
    import networkx as nx  # slow to import: only when a tree is drawn

    if not 0 <= n <= MAX_EVENT_ITEMS:
        raise ValueError(f"the split tree is drawn for 0 to {MAX_EVENT_ITEMS} items, not {n}")
    graph: Any = nx.DiGraph(n=n)

    def add(lo: int, hi: int, depth: int) -> None:
        mid = (lo + hi) // 2 if hi - lo >= 2 else None
        graph.add_node((lo, hi), lo=lo, hi=hi, mid=mid, depth=depth, size=hi - lo)
        if mid is not None:
            for child in ((lo, mid), (mid, hi)):
                add(*child, depth + 1)
                graph.add_edge((lo, hi), child)

    if n:
        add(0, n, 0)
    return graph


def tree_levels(graph: Any, min_size: int = 1) -> list[list[Node]]:
    """The tree's nodes level by level from the root, each level left to right; nodes with
    fewer than `min_size` items are left out (2: the leaves, which the array itself shows)."""
    levels: dict[int, list[Node]] = {}
    for node, data in graph.nodes(data=True):
        if data["size"] >= min_size:
            levels.setdefault(data["depth"], []).append(node)
    return [sorted(levels[depth]) for depth in sorted(levels)]


# -- the bounds ------------------------------------------------------------------------------


def ceil_log2(n: int) -> int:
    """⌈log₂ n⌉ for n ≥ 1, exactly (integers, no floating point): the split tree's height."""
    if n < 1:
        raise ValueError(f"log₂ needs n ≥ 1, not {n}")
    return (n - 1).bit_length()


def worst_case_comparisons(n: int) -> int:
    """The most comparisons a top-down merge sort of n items makes, exactly:
    n·⌈log₂ n⌉ − 2^⌈log₂ n⌉ + 1 (0 for n ≤ 1). Each merge of a + b items compares at most
    a + b − 1 times; summed over the tree this is the formula (Knuth, TAOCP 5.2.4)."""
    if n <= 1:
        return 0
    k = ceil_log2(n)
    return n * k - (1 << k) + 1


def simple_bound(n: int) -> int:
    """n·⌈log₂ n⌉: ⌈log₂ n⌉ levels of merges, at most n comparisons on each."""
    return n * ceil_log2(n) if n >= 1 else 0


def n_log_n_bound(n: int) -> float:
    """n·log₂ n − n + 1: the worst case equals it when n is a power of two and never falls
    below it (0 for n ≤ 1)."""
    return n * math.log2(n) - n + 1 if n > 1 else 0.0


def n_log2_n(n: int) -> float:
    return n * math.log2(n) if n >= 1 else 0.0


def sorted_input_comparisons(n: int) -> float:
    """(n/2)·log₂ n: merge sort on items already in order (or reversed). Each merge compares
    only until the shorter run empties, so it costs its left (shorter) half; exact when n is a
    power of two."""
    return n_log2_n(n) / 2


def average_comparisons(n: int) -> float:
    """≈ n·log₂ n − 1.25n: merge sort's comparisons on a random order, on average (the
    constant is about 1.25 when n is a power of two; Knuth, TAOCP 5.2.4). 0 for n ≤ 1."""
    return n_log2_n(n) - 1.25 * n if n > 1 else 0.0


def comparisons_per_level(events: Iterable[MergeSortEvent], n: int) -> list[int]:
    """The comparisons among `events` on each level of merges, the root's merge first: a list
    of ⌈log₂ n⌉ counts (the tree's levels of nodes with two items or more; [] for n ≤ 1)."""
    per_level = [0] * (ceil_log2(n) if n >= 1 else 0)
    for event in events:
        if isinstance(event, Compare):
            per_level[event.depth] += 1
    return per_level


def information_bound(n: int) -> int:
    """⌈log₂ n!⌉: no comparison sort can tell n! orders apart with fewer yes/no answers in its
    worst case. Exact (integers); meant for small n (n! has ~n·log₂ n bits)."""
    if n <= 1:
        return 0
    return (math.factorial(n) - 1).bit_length()


# -- counting for large n --------------------------------------------------------------------


def make_values(n: int, order: str, seed: int = 0) -> list[int]:
    """The items 1 … n: shuffled (numpy's default generator seeded with `seed`, any whole
    number 0 … 2^64 − 1), in order, or reversed. n at most MAX_COUNT_ITEMS (ValueError)."""
    if not 0 <= n <= MAX_COUNT_ITEMS:
        raise ValueError(f"n must be from 0 to {MAX_COUNT_ITEMS:,}, not {n:,}")
    if order == "sorted":
        return list(range(1, n + 1))
    if order == "reversed":
        return list(range(n, 0, -1))
    if order != "random":
        raise ValueError(f"the order is one of {', '.join(ORDERS)}, not {order!r}")
    import numpy as np

    return (np.random.default_rng(seed).permutation(n) + 1).tolist()


def count_merge_sort(values: Sequence[Any]) -> int:
    """The comparisons a plain top-down merge sort of `values` makes (the same splits, ties and
    counting as `merge_sort_events`, without the events). Sorts a copy; O(n) extra memory."""
    array = list(values)
    return _count_sort(array, 0, len(array))


def _count_sort(array: list[Any], lo: int, hi: int) -> int:
    # Recursion depth is ⌈log₂ n⌉ (24 at 10^7): far inside Python's limit.
    if hi - lo < 2:
        return 0
    mid = (lo + hi) // 2
    count = _count_sort(array, lo, mid) + _count_sort(array, mid, hi)
    # Only the left run is copied out: the output never overtakes the right run's head, so
    # the right run can stay where it is and its rest needs no copying at the end.
    left = array[lo:mid]
    i, left_end, j, k = 0, mid - lo, mid, lo
    while i < left_end and j < hi:
        count += 1
        if array[j] < left[i]:
            array[k] = array[j]
            j += 1
        else:
            array[k] = left[i]
            i += 1
        k += 1
    array[k:k + left_end - i] = left[i:]
    return count


def count_timsort(values: Sequence[Any]) -> int:
    """The comparisons Python's `sorted` (Timsort) makes on `values`, counted by a key object
    whose `__lt__` (all `sorted` ever calls) adds one each time."""
    count = 0

    class Counted:
        __slots__ = ("value",)

        def __init__(self, value: Any) -> None:
            self.value = value

        def __lt__(self, other: Counted) -> bool:
            nonlocal count
            count += 1
            return self.value < other.value

    sorted(values, key=Counted)
    return count


@dataclass(frozen=True)
class Count:
    """One counted sort: n items in `order`, `comparisons` made by `algorithm` ("merge" or
    "timsort") in `seconds` (perf_counter; the array's making not included)."""

    n: int
    order: str
    algorithm: str
    comparisons: int
    seconds: float
    seed: int = 0

    @property
    def n_log2_n(self) -> float:
        return n_log2_n(self.n)

    @property
    def ratio(self) -> float | None:
        """comparisons / (n·log₂ n); None for n = 1 (n·log₂ n = 0)."""
        scale = self.n_log2_n
        return self.comparisons / scale if scale else None


def count_comparisons(n: int, order: str, seed: int = 0, algorithm: str = "merge") -> Count:
    """Make the n items (`make_values`) and count one sort of them. A module-level function
    of plain arguments, so a worker process can run it."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"the algorithm is one of {', '.join(ALGORITHMS)}, not {algorithm!r}")
    values = make_values(n, order, seed)
    counter = count_merge_sort if algorithm == "merge" else count_timsort
    started = time.perf_counter()
    comparisons = counter(values)
    return Count(n, order, algorithm, comparisons, time.perf_counter() - started, seed)


def fit_constant(points: Sequence[tuple[int, int]]) -> float | None:
    """c in comparisons ≈ c·n·log₂ n, least squares over (n, comparisons) points:
    c = Σ x·y / Σ x² with x = n·log₂ n. None when no point has n > 1."""
    xs = [(n_log2_n(n), comparisons) for n, comparisons in points]
    denominator = sum(x * x for x, _ in xs)
    if denominator == 0:
        return None
    return sum(x * y for x, y in xs) / denominator


def fit_sizes(n: int, steps: int = 4) -> list[int]:
    """The sizes a fit for n uses: n, n/10, n/100, … (`steps` of them at most), those ≥ 2,
    largest first; [n] alone when n < 2."""
    sizes = [n // 10**k for k in range(steps) if n // 10**k >= 2]
    return sizes or [n]
