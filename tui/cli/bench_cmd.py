"""`microgpt-tui bench [NAME…]`: run registered benchmarks and print medians and ratios."""

from __future__ import annotations

from ..bench.runner import REGISTRY, load
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
        for name, (_, description) in REGISTRY.items():
            out.emit({"bench": name, "description": description}, f"{name:<10} {description}")
        return 0
    unknown = [n for n in args.names if n not in REGISTRY]
    if unknown:
        raise CLIError(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(REGISTRY)}")
    if args.rounds is not None and not 1 <= args.rounds <= 1000:
        raise CLIError("--rounds must be between 1 and 1000")
    header = f"{'benchmark':<40} {'ours':>11} {'peer':>11} {'speed-up':>9}  goal"
    out.text(header)
    out.text("-" * len(header) + "-" * 24)
    for name in args.names or list(REGISTRY):
        bench = load(name)
        for result in bench.run(args.rounds or bench.default_rounds):
            out.emit(result.record(name), result.line(name))
    return 0
