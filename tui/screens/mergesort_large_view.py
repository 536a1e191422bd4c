"""The merge sort screen's view-model for the large-n view: what it has counted, the job that
counts (each count in a worker process), the table of comparisons with the fitted c, and the
words. No widgets here; colours are theme variables. Every count and fit comes from the engine
(engine/basics/mergesort.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual.content import Content

from ...engine.basics import mergesort as engine
from ...engine.basics.mergesort import Count

LARGE_SIZES = (10**3, 10**4, 10**5, 10**6)  # the large-n view's n (pure Python: ~10 s in all)
SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")

Task = tuple[int, str, str]  # n, order, algorithm


def large_tasks(sizes: tuple[int, ...]) -> list[Task]:
    """Every count the large view makes, the table's order: n by n, each order, both sorts."""
    return [(n, order, algorithm) for n in sizes for order in engine.ORDERS
            for algorithm in engine.ALGORITHMS]


@dataclass
class LargeBook:
    """What the large view has counted: Counts by task, the task running, the note."""

    sizes: tuple[int, ...] = LARGE_SIZES
    seed: int = 0
    counts: dict[Task, Count] = field(default_factory=dict)
    running: Task | None = None
    note: str = ""

    def add(self, count: Count) -> None:
        self.counts[(count.n, count.order, count.algorithm)] = count

    def fit(self, order: str, algorithm: str) -> float | None:
        points = [(c.n, c.comparisons) for (n, o, a), c in self.counts.items()
                  if o == order and a == algorithm]
        return engine.fit_constant(points)

    @property
    def fraction(self) -> float:
        """Work done, weighting each task by n·log₂ n (the large n take nearly all of it)."""
        tasks = large_tasks(self.sizes)
        total = sum(engine.n_log2_n(n) for n, _, _ in tasks)
        done = sum(engine.n_log2_n(n) for n, o, a in tasks if (n, o, a) in self.counts)
        return done / total if total else 1.0


def large_work(sizes: tuple[int, ...], seed: int) -> Callable[[Any], int]:
    """The job: each count in a worker process (a plain-Python loop holds the GIL), reported
    as ("running", task) before it and the Count after it."""

    def work(job) -> int:
        tasks = large_tasks(sizes)
        for task in tasks:
            job.check()
            job.report(("running", task))
            job.report(job.in_process(engine.count_comparisons, task[0], task[1], seed,
                                      task[2]))
        return len(tasks)

    return work


def power(n: int) -> str:
    """10³ for 1000; other numbers with thousands separators."""
    digits = str(n)
    if n >= 10 and digits.strip("0") == "1":
        return "10" + str(len(digits) - 1).translate(SUPERSCRIPTS)
    return f"{n:,}"


LABEL_WIDTH, CELL_WIDTH = 17, 11


def large_table(book: LargeBook) -> Content:
    """n·log₂ n and the comparisons of each order and sort, one column per n, the fitted c at
    the end of each row."""
    parts: list[str | tuple[str, str]] = [" " * LABEL_WIDTH]
    for n in book.sizes:
        parts.append((f"n = {power(n)}".rjust(CELL_WIDTH), "bold"))
    parts.append(("  fit c".rjust(8), "bold"))
    parts += ["\n", ("n·log₂ n".ljust(LABEL_WIDTH), "$text-muted")]
    for n in book.sizes:
        parts.append((f"{engine.n_log2_n(n):,.0f}".rjust(CELL_WIDTH), "$text-muted"))
    parts.append(("1".rjust(8), "$text-muted"))
    for order in engine.ORDERS:
        for algorithm in engine.ALGORITHMS:
            label = (order if algorithm == "merge" else "").ljust(9)
            name = "merge" if algorithm == "merge" else "Timsort"
            parts += ["\n", (label, "bold"), name.ljust(LABEL_WIDTH - 9)]
            for n in book.sizes:
                count = book.counts.get((n, order, algorithm))
                if count is not None:
                    parts.append(f"{count.comparisons:,}".rjust(CELL_WIDTH))
                elif book.running == (n, order, algorithm):
                    parts.append(("counting".rjust(CELL_WIDTH), "$warning"))
                else:
                    parts.append(("·".rjust(CELL_WIDTH), "$text-muted"))
            fit = book.fit(order, algorithm)
            parts.append((f"{fit:.3f}" if fit is not None else "—").rjust(8))
    return Content.assemble(*parts)


def large_head(book: LargeBook) -> Content:
    return Content.assemble(
        ("Comparisons counted", "bold"),
        (f" · n = {power(book.sizes[0])} … {power(book.sizes[-1])}, items 1 … n, random "
         f"with seed {book.seed}", "$text-muted"))


def large_status(book: LargeBook, counting: bool) -> Content:
    if counting and book.running is not None:
        n, order, algorithm = book.running
        name = "merge sort" if algorithm == "merge" else "Timsort"
        return Content.assemble(("● ", "bold"), f"counting {name}, {power(n)} {order} items",
                                (" (in a worker process)", "$text-muted"))
    if book.note:
        return Content(book.note)
    return Content.styled("r (or Enter) counts both sorts at each n and order (≈ 10 s)",
                          "$text-muted")


def large_explanation(book: LargeBook) -> str:
    lines = [
        "Each count runs a plain top-down merge sort (the same splits and ties as the stepped "
        "one) and Python's sorted() through a key whose __lt__ counts. fit c is the least "
        "squares c in comparisons ≈ c·n·log₂ n over the n counted so far."]
    for order in engine.ORDERS:
        merge, timsort = book.fit(order, "merge"), book.fit(order, "timsort")
        if merge is not None and timsort is not None:
            lines.append(f"{order}: merge sort c = {merge:.3f}, Timsort c = {timsort:.3f}.")
    lines += [
        "Random: merge sort's c creeps towards 1 (about n·log₂ n − 1.25n on average); "
        "Timsort is no better there, close to ⌈log₂ n!⌉ ≈ n·log₂ n − 1.44n like any good sort.",
        "Sorted or reversed: merge sort still splits and merges every level, but each merge "
        "stops when the shorter run empties: c ≈ ½. Timsort finds one run (reversing a "
        "descending one) and is done after n − 1 comparisons: linear, c → 0.",
    ]
    sorted_counts = [c for (n, o, a), c in book.counts.items()
                     if o == "sorted" and a == "timsort"]
    if sorted_counts:
        largest = max(sorted_counts, key=lambda c: c.n)
        lines.append(f"Here: Timsort on {largest.n:,} sorted items compared "
                     f"{largest.comparisons:,} times = n − 1.")
    return "\n\n".join(lines)
