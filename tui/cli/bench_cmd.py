"""`microgpt-tui bench [NAME…]`: run registered benchmarks and print medians and ratios."""

from __future__ import annotations

from ..bench.runner import REGISTRY, Comparison, Measurement, format_value, load
from .output import CLIError, Output

HELP = (
    "Run benchmarks side by side with their named peers in one run. Prints medians, the "
    "speed-up over the peer, and whether the goal is met. With no NAME, runs them all."
)


def add_arguments(parser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--rounds", type=int, help="rounds per comparison (default per benchmark)")


def run(args, out: Output) -> int:
    if args.list:
        for name in REGISTRY:
            bench = load(name)
            out.emit({"bench": name, "description": bench.description},
                     f"{name:<10} {bench.description}")
        return 0
    unknown = [n for n in args.names if n not in REGISTRY]
    if unknown:
        raise CLIError(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(REGISTRY)}")
    if args.rounds is not None and not 1 <= args.rounds <= 1000:
        raise CLIError("--rounds must be between 1 and 1000")
    header = f"{'benchmark':<40} {'ours':>11} {'peer':>11} {'speed-up':>9}  goal"
    out.text(header)
    out.text("-" * len(header) + "-" * 24)
    all_met = True
    for name in args.names or list(REGISTRY):
        bench = load(name)
        for result in bench.run(args.rounds or bench.default_rounds):
            if isinstance(result, Measurement):
                all_met = all_met and result.met
                out.emit(result.record(name), _measurement_line(name, result))
                continue
            comparison: Comparison = result
            met = comparison.met
            all_met = all_met and met is not False
            verdict = "" if met is None else ("met" if met else "NOT met")
            goal = "" if comparison.goal is None else f"{comparison.goal.text}: {verdict}"
            out.emit(
                comparison.record(name),
                f"{name + ': ' + comparison.label:<40.40} "
                f"{format_value(comparison.ours_median, comparison.unit):>11} "
                f"{format_value(comparison.peer_median, comparison.unit):>11} "
                f"{comparison.speedup:>8.2f}×  {goal}\n"
                f"{'':<4}ours = {comparison.ours}; peer = {comparison.peer}; "
                f"{len(comparison.ours_samples)} rounds"
                + (f"; {comparison.note}" if comparison.note else ""),
            )
    return 0


def _measurement_line(name: str, result: Measurement) -> str:
    verdict = "met" if result.met else "NOT met"
    return (
        f"{name + ': ' + result.label:<40.40} "
        f"{format_value(result.median, result.unit):>11} {'(budget)':>11} {'':>9}  "
        f"{result.goal_text}: {verdict}\n"
        f"{'':<4}{result.what}; {len(result.samples)} rounds"
        + (f"; {result.note}" if result.note else "")
    )
