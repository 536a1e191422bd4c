"""`microgpt-tui pi`: estimate pi by throwing darts, headless, with error bars and darts/s."""

from __future__ import annotations

import math
import sys
import threading
from decimal import Decimal, InvalidOperation

from ...engine.montecarlo import (
    MAX_DARTS,
    Mode,
    Progress,
    Tally,
    default_workers,
    estimate_pi,
)
from .output import CLIError, Output, progress_bar, seed_type

HELP = (
    "Throw darts at the unit square and count those inside the quarter circle: pi ≈ "
    "4·inside/darts, with its standard error, a 95% interval and the darts per second. "
    "Counts are exact and reproducible for a seed, whatever the worker count."
)


def parse_count(text: str, what: str = "--darts", maximum: int = MAX_DARTS) -> int:
    """A whole number from 1 to `maximum`, written plainly or like 1e9 / 1_000_000."""
    try:
        value = Decimal(text.strip().replace("_", ""))
    except InvalidOperation:
        raise CLIError(f"{what} must be a number like 1000000 or 1e9, not {text!r}") from None
    if not value.is_finite():
        raise CLIError(f"{what} must be a finite number, not {text!r}")
    if value != value.to_integral_value():
        raise CLIError(f"{what} must be a whole number, not {text!r}")
    if value < 1:
        raise CLIError(f"{what} must be at least 1, not {text!r}")
    if value > maximum:
        raise CLIError(f"{what} must be at most {_plain_count(maximum)}, not {text!r}")
    return int(value)


def _plain_count(count: int) -> str:
    """A limit as people write it: 256, 1,000,000, or 1e15 for a long power of ten."""
    digits = str(count)
    if count >= 10**7 and digits.strip("0") == "1":
        return f"1e{len(digits) - 1}"
    return f"{count:,}"


def add_arguments(parser) -> None:
    parser.add_argument(
        "--darts", default="1e8", metavar="N", help="how many darts, e.g. 1e9 (default 1e8)"
    )
    parser.add_argument(
        "--seed", dest="dart_seed", type=seed_type, metavar="S",
        help="random seed (default: the app's --seed)",
    )
    parser.add_argument(
        "--mode",
        choices=[mode.value for mode in Mode],
        default=Mode.PSEUDO.value,
        help="pseudo: numpy on every core; quasi: Halton points; python: the one-dart loop",
    )
    parser.add_argument(
        "--workers", metavar="W", help="threads to use (default: every core)"
    )


def _record(progress: Progress, mode: Mode, seed: int, workers: int) -> dict:
    tally = progress.tally
    random_points = mode is not Mode.QUASI
    return {
        "darts": tally.darts,
        "inside": tally.inside,
        "estimate": tally.estimate,
        "error": tally.error,
        "standard_error": tally.standard_error if random_points else None,
        "interval95": list(tally.interval95) if random_points else None,
        "seconds": progress.seconds,
        "darts_per_second": progress.darts_per_second,
        "mode": mode.value,
        "seed": seed,
        "workers": workers,
        "complete": progress.complete,
    }


def _text(progress: Progress, mode: Mode, seed: int, workers: int) -> str:
    tally = progress.tally
    cores = "1 core" if workers == 1 else f"{workers} workers"
    lines = [
        f"pi ≈ {tally.estimate:.9f} from {tally.darts:,} darts "
        f"({mode.value}, seed {seed}, {cores})",
    ]
    if mode is Mode.QUASI:
        lines.append(
            f"|estimate − π| = {tally.error:.3e}   (Halton points are not random: "
            "no standard error or interval)"
        )
    else:
        low, high = tally.interval95
        lines.append(
            f"|estimate − π| = {tally.error:.3e}   standard error {tally.standard_error:.3e}   "
            f"95% interval [{low:.9f}, {high:.9f}]"
        )
    rate = progress.darts_per_second
    lines.append(
        f"{rate:.3e} darts/s ({progress.seconds:.2f} s)" if not math.isnan(rate) else "—"
    )
    return "\n".join(lines)


def _show_progress(progress: Progress) -> None:
    darts = progress.tally.darts
    sys.stderr.write(
        f"\r{progress_bar(darts, progress.total)} {darts:,}/{progress.total:,} "
        f"darts  π ≈ {progress.tally.estimate:.7f}"
    )
    sys.stderr.flush()


def run(args, out: Output) -> int:
    darts = parse_count(args.darts)
    seed = args.dart_seed if args.dart_seed is not None else args.seed
    mode = Mode(args.mode)
    workers = None if args.workers is None else parse_count(args.workers, "--workers", 256)
    workers_used = 1 if mode is Mode.PYTHON else (workers or default_workers())
    show = out.shows_progress
    cancel = threading.Event()
    last = Progress(Tally(0, 0), darts, 0.0)
    try:
        for last in estimate_pi(darts, seed=seed, mode=mode, workers=workers, cancel=cancel):
            if show:
                _show_progress(last)
    except KeyboardInterrupt:
        cancel.set()
        if show:
            sys.stderr.write("\n")
        summary = "nothing counted yet"
        if last.tally.darts:
            summary = f"π ≈ {last.tally.estimate:.9f} from the first {last.tally.darts:,} darts"
        out.notice(f"cancelled: {summary}")
        return 130
    if show:
        sys.stderr.write("\r" + " " * 79 + "\r")
    out.emit(_record(last, mode, seed, workers_used), _text(last, mode, seed, workers_used))
    return 0

