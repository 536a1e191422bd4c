"""`microgpt-tui sample`: generate names from a saved MicroGPT checkpoint."""

from __future__ import annotations

import random

from ...engine.microgpt.checkpoint import CheckpointError, load_checkpoint
from ...engine.microgpt.config import (
    MAX_TEMPERATURE,
    MIN_TEMPERATURE,
    ConfigError,
    check_temperature,
)
from ...engine.microgpt.sampling import sample_names
from .output import CLIError, Output, seed_type

# The most names one command prints: `sample -n` and `train --samples` alike.
MAX_NAMES = 100_000
EMPTY_NAME = "(empty)"
EMPTY_NAMES_HELP = (
    f"A name the model ends before its first letter (it chose the end token first) prints "
    f"as {EMPTY_NAME}; JSON gives \"\"."
)
TEMPERATURE_HELP = f"from {MIN_TEMPERATURE:g} (nearly greedy) to {MAX_TEMPERATURE:g}"

HELP = (
    "Generate names from a checkpoint written by 'train --save' or the Training screen. "
    "Without --seed the draws continue the checkpoint's own random state, so a checkpoint "
    "saved at the end of training gives the names training would have printed. "
    + EMPTY_NAMES_HELP
)


def add_arguments(parser) -> None:
    parser.add_argument("--checkpoint", required=True, metavar="PATH", help="a .npz checkpoint")
    parser.add_argument("-n", "--count", type=int, default=10, metavar="N",
                        help=f"how many names, 1 to {MAX_NAMES:,} (default 10)")
    parser.add_argument("--temperature", type=float, metavar="T",
                        help=f"sampling temperature, {TEMPERATURE_HELP} (default: the "
                        "checkpoint's, 0.5)")
    parser.add_argument(
        "--seed", type=seed_type, metavar="S", help="draw from a fresh RNG seeded S"
    )


def emit_names(out: Output, names: list[str]) -> None:
    """One line per name; an empty one visibly so (a blank line looks like missing output)."""
    for name in names:
        out.emit({"name": name}, name or EMPTY_NAME)


def check_cli_temperature(value: float | None) -> None:
    if value is not None:
        try:
            check_temperature(value, "--temperature")
        except ConfigError as error:
            raise CLIError(str(error)) from None


def run(args, out: Output) -> int:
    if not 1 <= args.count <= MAX_NAMES:
        raise CLIError(f"-n must be between 1 and {MAX_NAMES:,}, got {args.count}")
    check_cli_temperature(args.temperature)
    try:
        checkpoint = load_checkpoint(args.checkpoint)
    except CheckpointError as error:
        raise CLIError(str(error)) from None
    temperature = checkpoint.config.temperature if args.temperature is None else args.temperature
    if args.seed is None:
        rng = random.Random()
        rng.setstate(checkpoint.rng_state)
    else:
        rng = random.Random(args.seed)
    names = sample_names(checkpoint.model(), checkpoint.tokenizer, rng, args.count, temperature,
                         checkpoint.config.block_size)
    emit_names(out, names)
    return 0
