"""`microgpt-tui sort`: merge sort's comparisons counted at n, against n·log₂ n, fitted, with
Python's Timsort beside it."""

from __future__ import annotations

from .output import Output, seed_type

HELP = (
    "Count the comparisons a plain top-down merge sort makes on n items (1 … n shuffled with "
    "the seed, sorted, or reversed), set them against n·log₂ n and the exact worst case "
    "n·ceil(log₂ n) − 2^ceil(log₂ n) + 1, fit comparisons ≈ c·n·log₂ n over n, n/10, n/100 "
    "and n/1000, and count Python's own sorted() (Timsort) on the same items through a key "
    "whose __lt__ counts. Both run in plain Python: about 2–3 s a sort at 10^6; at the most, "
    "10^7, about 2 minutes in all and 1.2 GB of memory."
)
ORDER_CHOICES = ("random", "sorted", "reversed", "all")


def add_arguments(parser) -> None:
    parser.add_argument("--n", default="100000", metavar="N",
                        help="how many items, e.g. 1e6 (default 100000, at most 1e7)")
    parser.add_argument("--order", choices=ORDER_CHOICES, default="random",
                        help="the items' order (default random; all: each in turn)")
    parser.add_argument("--seed", dest="sort_seed", type=seed_type, metavar="S",
                        help="shuffles the random order (default: the app's --seed)")


def run(args, out: Output) -> int:
    from ...engine.basics.mergesort import MAX_COUNT_ITEMS, ORDERS
    from .pi_cmd import parse_count

    n = parse_count(args.n, "--n", MAX_COUNT_ITEMS)
    seed = args.sort_seed if args.sort_seed is not None else args.seed
    orders = ORDERS if args.order == "all" else (args.order,)
    if n >= 10**6:
        out.notice(f"counting {n:,} items in plain Python: this takes a while")
    for order in orders:
        record = count_order(n, order, seed)
        out.emit(record, text_lines(record))
    return 0


def count_order(n: int, order: str, seed: int) -> dict:
    """Every number the command prints for one order, as its JSON record."""
    from ...engine.basics import mergesort as engine

    at_n = engine.count_comparisons(n, order, seed, "merge")
    smaller = [engine.count_comparisons(size, order, seed, "merge")
               for size in engine.fit_sizes(n)[1:]]
    timsort = engine.count_comparisons(n, order, seed, "timsort")
    fitted = [at_n, *smaller]
    return {
        "n": n,
        "order": order,
        "seed": seed if order == "random" else None,
        "comparisons": at_n.comparisons,
        "n_log2_n": at_n.n_log2_n,
        "ratio": at_n.ratio,
        "worst_case": engine.worst_case_comparisons(n),
        "simple_bound": engine.simple_bound(n),
        "n_log2_n_minus_n_plus_1": engine.n_log_n_bound(n),
        "fit_constant": engine.fit_constant([(c.n, c.comparisons) for c in fitted]),
        "fit": [{"n": c.n, "comparisons": c.comparisons, "ratio": c.ratio} for c in fitted],
        "seconds": at_n.seconds,
        "timsort_comparisons": timsort.comparisons,
        "timsort_ratio": timsort.ratio,
        "timsort_seconds": timsort.seconds,
    }


def _number(value: float | None, digits: str = ".3f") -> str:
    return "—" if value is None else format(value, digits)


def text_lines(record: dict) -> str:
    n, order = record["n"], record["order"]
    seeded = f", seed {record['seed']}" if record["seed"] is not None else ""
    sizes = ", ".join(f"{point['n']:,}" for point in record["fit"])
    lines = [
        f"merge sort of {n:,} item{'s' if n != 1 else ''} ({order}{seeded})",
        f"  comparisons        {record['comparisons']:>14,}   "
        f"{_number(record['ratio'])} × n·log₂ n",
        f"  n·log₂ n           {record['n_log2_n']:>14,.0f}",
        f"  worst case         {record['worst_case']:>14,}   "
        "n·ceil(log₂ n) − 2^ceil(log₂ n) + 1, exactly",
        f"  n·ceil(log₂ n)     {record['simple_bound']:>14,}",
        f"  n·log₂ n − n + 1   {record['n_log2_n_minus_n_plus_1']:>14,.0f}",
        f"  fitted c           {_number(record['fit_constant']):>14}   "
        f"comparisons ≈ c·n·log₂ n over n = {sizes}",
        f"  time               {record['seconds']:>12.3f} s   (plain Python)",
        f"Timsort (sorted())   {record['timsort_comparisons']:>14,}   "
        f"{_number(record['timsort_ratio'])} × n·log₂ n, {record['timsort_seconds']:.3f} s",
    ]
    return "\n".join(lines)
