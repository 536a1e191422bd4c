"""Merge sort as data (engine/basics/mergesort.py): comparison counts against the exact bounds
for every n from 1 to 64 and against an independent counter written here, the worst case
reached, the event stream replayed to a sorted array (stably), the split tree's shape, the
fit, and Timsort counted on sorted input."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from microgpt_tui.engine.basics import mergesort as ms
from microgpt_tui.engine.basics.mergesort import Compare, MergeDone, Split, Take

SMALL = range(1, ms.MAX_EVENT_ITEMS + 1)


def independent_count(items: list) -> tuple[list, int]:
    """Top-down merge sort written apart from the engine: new lists, no in-place moves.
    The same split (left = ⌊n/2⌋) and tie rule (left first) as any stable top-down sort."""
    if len(items) < 2:
        return list(items), 0
    half = len(items) // 2
    left, left_count = independent_count(items[:half])
    right, right_count = independent_count(items[half:])
    merged, count, i, j = [], left_count + right_count, 0, 0
    while i < len(left) and j < len(right):
        count += 1
        if right[j] < left[i]:
            merged.append(right[j])
            j += 1
        else:
            merged.append(left[i])
            i += 1
    return merged + left[i:] + right[j:], count


def sorted_input_count(n: int) -> int:
    """Sorted input: every merge takes its whole left run, one comparison each."""
    return 0 if n < 2 else sorted_input_count(n // 2) + sorted_input_count(n - n // 2) + n // 2


def reversed_input_count(n: int) -> int:
    """Reversed input: every merge takes its whole right run first."""
    return 0 if n < 2 else (reversed_input_count(n // 2) + reversed_input_count(n - n // 2)
                            + n - n // 2)


def worst_input(values: list[int]) -> list[int]:
    """An arrangement of sorted `values` on which every merge compares a + b − 1 times: the
    two largest items of each merge sit in different runs (dealt alternately from the top)."""
    n = len(values)
    if n < 2:
        return list(values)
    half = n // 2
    left, right = [], []
    for rank, value in enumerate(reversed(values)):
        (right if rank % 2 == 0 and len(right) < n - half or len(left) == half
         else left).append(value)
    return worst_input(sorted(left)) + worst_input(sorted(right))


# --- the bounds -----------------------------------------------------------------------------


def test_the_estimates_by_hand():
    # 8 sorted items: 4 merges of 1+1, 2 of 2+2, 1 of 4+4, each comparing its left half: 12
    assert ms.sorted_input_comparisons(8) == 12.0
    assert ms.count_merge_sort(range(1, 9)) == 12 and ms.count_merge_sort(range(8, 0, -1)) == 12
    assert ms.sorted_input_comparisons(1) == 0.0
    assert ms.average_comparisons(8) == 24 - 10 and ms.average_comparisons(1) == 0.0


def test_comparisons_per_level_by_hand():
    # [2, 1, 4, 3]: the two level-1 merges compare once each; the root compares 1:3 and 2:3,
    # then copies 3 and 4 without comparing
    events = list(ms.merge_sort_events([2, 1, 4, 3]))
    assert ms.comparisons_per_level(events, 4) == [2, 2]
    assert ms.comparisons_per_level(events[:4], 4) == [0, 1]  # split, split, compare, take
    assert ms.comparisons_per_level([], 5) == [0, 0, 0] and ms.comparisons_per_level([], 1) == []


@pytest.mark.parametrize("n", [2, 3, 7, 16, 33, 64])
def test_comparisons_per_level_add_up_and_stay_under_n(n):
    events = list(ms.merge_sort_events(ms.make_values(n, "random", seed=n)))
    per_level = ms.comparisons_per_level(events, n)
    assert len(per_level) == ms.ceil_log2(n)
    assert sum(per_level) == events[-1].comparisons
    assert all(count <= n for count in per_level)


def test_the_bounds_by_hand():
    assert [ms.worst_case_comparisons(n) for n in range(0, 9)] == [0, 0, 1, 3, 5, 8, 11, 14, 17]
    assert ms.worst_case_comparisons(16) == 49 and ms.worst_case_comparisons(64) == 321
    assert ms.worst_case_comparisons(100_000) == 100_000 * 17 - 2**17 + 1
    assert [ms.simple_bound(n) for n in (1, 2, 5, 8, 64)] == [0, 2, 15, 24, 384]
    assert ms.n_log_n_bound(8) == 17.0 and ms.n_log_n_bound(1) == 0.0
    assert [ms.information_bound(n) for n in range(1, 9)] == [0, 1, 3, 5, 7, 10, 13, 16]
    assert [ms.ceil_log2(n) for n in (1, 2, 3, 4, 5, 64, 65)] == [0, 1, 2, 2, 3, 6, 7]
    with pytest.raises(ValueError):
        ms.ceil_log2(0)


@pytest.mark.parametrize("n", SMALL)
def test_the_bounds_are_ordered(n):
    worst = ms.worst_case_comparisons(n)
    assert ms.information_bound(n) <= worst <= ms.simple_bound(n)
    assert ms.n_log_n_bound(n) <= worst + 1e-9  # equal at powers of two
    if n & (n - 1) == 0:
        assert ms.n_log_n_bound(n) == pytest.approx(worst)


# --- counts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", SMALL)
def test_counts_for_every_order_match_the_independent_counter_and_the_bounds(n):
    worst = ms.worst_case_comparisons(n)
    for order in ms.ORDERS:
        items = ms.make_values(n, order, seed=n)
        events = list(ms.merge_sort_events(items))
        counted = events[-1].comparisons if events else 0
        expected_sorted, expected = independent_count(items)
        assert counted == expected == ms.count_merge_sort(items), order
        assert counted == sum(isinstance(e, Compare) for e in events)
        assert counted <= worst <= ms.simple_bound(n)
        assert (events[-1].array if events else tuple(items)) == tuple(expected_sorted)
    assert ms.count_merge_sort(ms.make_values(n, "sorted")) == sorted_input_count(n)
    assert ms.count_merge_sort(ms.make_values(n, "reversed")) == reversed_input_count(n)


@pytest.mark.parametrize("n", [2, 3, 7, 16, 33, 64])
def test_seeded_random_arrays(n):
    rng = random.Random(n)
    for _ in range(25):
        items = [rng.randrange(10) for _ in range(n)]  # with ties
        count = ms.count_merge_sort(items)
        assert count == independent_count(items)[1]
        assert count <= ms.worst_case_comparisons(n)
        assert list(ms.merge_sort_events(items))[-1].comparisons == count


@pytest.mark.parametrize("n", SMALL)
def test_the_worst_case_formula_is_reached(n):
    items = worst_input(list(range(n)))
    assert sorted(items) == list(range(n))
    assert ms.count_merge_sort(items) == ms.worst_case_comparisons(n)


@pytest.mark.parametrize("n", range(1, 8))
def test_no_permutation_needs_more_than_the_worst_case(n):
    counts = [ms.count_merge_sort(list(p)) for p in itertools.permutations(range(n))]
    assert max(counts) == ms.worst_case_comparisons(n)
    assert min(counts) == sorted_input_count(n)  # sorted input is a best case


def test_count_merge_sort_leaves_its_input_alone():
    items = [3, 1, 2]
    ms.count_merge_sort(items)
    assert items == [3, 1, 2]


# --- events ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 5, 16, 64])
def test_events_replay_to_the_sorted_array(n):
    items = ms.make_values(n, "random", seed=7)
    events = list(ms.merge_sort_events(items))
    assert ms.replay(items, events) == sorted(items)
    for index, event in enumerate(events):  # the array carried is the moves replayed
        assert list(event.array) == ms.replay(items, events[:index + 1])
        assert sorted(event.array) == sorted(items)  # always a permutation: no holes


def test_the_event_stream_by_hand():
    events = list(ms.merge_sort_events([2, 1]))
    assert [type(e) for e in events] == [Split, Compare, Take, Take, MergeDone]
    split, compare, take, rest, done = events
    assert (split.lo, split.mid, split.hi, split.comparisons) == (0, 1, 2, 0)
    assert (compare.left_value, compare.right_value, compare.take_left) == (2, 1, False)
    assert compare.array == (2, 1) and compare.comparisons == 1
    assert (take.side, take.value, take.source, take.destination) == ("right", 1, 1, 0)
    assert take.array == (1, 2) and take.compared
    assert (rest.side, rest.value, rest.compared) == ("left", 2, False)
    assert done.merge_comparisons == 1 and done.node == (0, 2)


def test_each_compare_names_the_heads_and_is_followed_by_its_take():
    items = ms.make_values(32, "random", seed=1)
    events = list(ms.merge_sort_events(items))
    for event, after in itertools.pairwise(events):
        if isinstance(event, Compare):
            assert event.array[event.left_index] == event.left_value
            assert event.array[event.right_index] == event.right_value
            assert event.lo <= event.left_index < event.right_index < event.hi
            assert isinstance(after, Take) and after.compared
            assert after.side == ("left" if event.take_left else "right")
            assert after.comparisons == event.comparisons
        if isinstance(event, MergeDone):
            assert list(event.array[event.lo:event.hi]) == sorted(event.array[event.lo:event.hi])
            assert event.merge_comparisons <= event.hi - event.lo - 1
    takes = [e for e in events if isinstance(e, Take)]
    assert len(takes) == 32 * 5  # every item is taken once on each of the 5 levels


def test_the_sort_is_stable_for_equal_keys():
    rng = random.Random(5)
    items = [(rng.randrange(4), index) for index in range(40)]
    events = list(ms.merge_sort_events(items, key=lambda item: item[0]))
    result = list(events[-1].array)
    assert result == sorted(items, key=lambda item: item[0])  # Python's sort is stable too
    ties = [e for e in events if isinstance(e, Compare) and e.left_value[0] == e.right_value[0]]
    assert ties and all(e.take_left for e in ties)


def test_more_than_64_items_is_refused():
    with pytest.raises(ValueError, match="at most 64"):
        list(ms.merge_sort_events(range(65)))
    with pytest.raises(ValueError):
        ms.split_tree(65)


# --- the split tree -------------------------------------------------------------------------


@pytest.mark.parametrize("n", SMALL)
def test_the_split_tree_shape(n):
    tree = ms.split_tree(n)
    leaves = [node for node in tree if tree.out_degree(node) == 0]
    assert tree.number_of_nodes() == 2 * n - 1 and tree.number_of_edges() == 2 * n - 2
    assert sorted(leaves) == [(i, i + 1) for i in range(n)]
    assert max(tree.nodes[node]["depth"] for node in tree) == ms.ceil_log2(n)
    assert [node for node in tree if tree.in_degree(node) == 0] == [(0, n)]
    for node, data in tree.nodes(data=True):
        assert (data["lo"], data["hi"]) == node and data["size"] == node[1] - node[0]
        children = list(tree.successors(node))
        if children:
            (lo, mid), (mid2, hi) = children  # left first
            assert (lo, mid2, hi) == (node[0], mid, node[1]) and mid == data["mid"]
            assert mid - lo == (hi - lo) // 2  # the left half is never the longer
    items = ms.make_values(n, "random", seed=2)
    splits = {e.node for e in ms.merge_sort_events(items) if isinstance(e, Split)}
    assert splits == {node for node in tree if tree.out_degree(node)}


def test_tree_levels():
    levels = ms.tree_levels(ms.split_tree(5))
    assert levels == [[(0, 5)], [(0, 2), (2, 5)], [(0, 1), (1, 2), (2, 3), (3, 5)],
                      [(3, 4), (4, 5)]]
    assert ms.tree_levels(ms.split_tree(5), min_size=2) == [[(0, 5)], [(0, 2), (2, 5)],
                                                            [(3, 5)]]
    assert ms.tree_levels(ms.split_tree(0)) == []


# --- large n: arrays, Timsort, the fit -------------------------------------------------------


def test_make_values():
    assert ms.make_values(5, "sorted") == [1, 2, 3, 4, 5]
    assert ms.make_values(5, "reversed") == [5, 4, 3, 2, 1]
    shuffled = ms.make_values(1000, "random", seed=9)
    assert sorted(shuffled) == list(range(1, 1001))
    assert shuffled == ms.make_values(1000, "random", seed=9) != ms.make_values(1000, "random")
    assert ms.make_values(10, "random", seed=2**64 - 1)  # the whole seed range
    with pytest.raises(ValueError):
        ms.make_values(ms.MAX_COUNT_ITEMS + 1, "sorted")
    with pytest.raises(ValueError):
        ms.make_values(5, "upside down")


@pytest.mark.parametrize("n", [1, 2, 10, 1000, 20_000])
def test_timsort_on_sorted_or_reversed_input_makes_n_minus_1_comparisons(n):
    assert ms.count_timsort(ms.make_values(n, "sorted")) == n - 1
    assert ms.count_timsort(ms.make_values(n, "reversed")) == n - 1


def test_timsort_counting_counts_every_comparison():
    items = ms.make_values(500, "random", seed=4)
    calls = []

    class Spy:
        def __init__(self, value):
            self.value = value

        def __lt__(self, other):
            calls.append(1)
            return self.value < other.value

    sorted(items, key=Spy)
    assert ms.count_timsort(items) == len(calls)
    assert ms.count_timsort(items) >= ms.information_bound(500)


def test_count_comparisons():
    count = ms.count_comparisons(1000, "random", seed=3, algorithm="merge")
    assert count.comparisons == ms.count_merge_sort(ms.make_values(1000, "random", 3))
    assert count.n_log2_n == pytest.approx(1000 * math.log2(1000))
    assert count.ratio == pytest.approx(count.comparisons / count.n_log2_n)
    assert count.seconds >= 0
    assert ms.count_comparisons(1, "sorted").ratio is None
    with pytest.raises(ValueError):
        ms.count_comparisons(10, "sorted", algorithm="bubble")


def test_the_fit_recovers_a_known_constant():
    sizes = [100, 1000, 10_000, 100_000]
    assert ms.fit_constant([(n, 0.7 * n * math.log2(n)) for n in sizes]) == pytest.approx(0.7)
    noisy = [(n, 0.9 * n * math.log2(n) + 50 * (-1) ** k) for k, n in enumerate(sizes)]
    x = np.array([n * math.log2(n) for n, _ in noisy])
    y = np.array([c for _, c in noisy])
    (expected,), *_ = np.linalg.lstsq(x[:, None], y, rcond=None)
    assert ms.fit_constant(noisy) == pytest.approx(expected)
    assert ms.fit_constant([(1, 0)]) is None and ms.fit_constant([]) is None


def test_the_fitted_constant_of_real_counts():
    points = [(n, ms.count_merge_sort(ms.make_values(n, "sorted"))) for n in (64, 1024, 4096)]
    assert ms.fit_constant(points) == pytest.approx(0.5)  # n/2·log₂ n at powers of two
    assert ms.fit_sizes(100_000) == [100_000, 10_000, 1000, 100]
    assert ms.fit_sizes(50) == [50, 5] and ms.fit_sizes(1) == [1]
