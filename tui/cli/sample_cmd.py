"""`microgpt-tui sample`: generate names from a saved MicroGPT checkpoint."""

from __future__ import annotations

import random

from ...engine.microgpt.checkpoint import CheckpointError, load_checkpoint
from ...engine.microgpt.sampling import sample_names
from .output import CLIError, Output, seed_type

HELP = (
    "Generate names from a checkpoint written by 'train --save' or the Training screen. "
    "Without --seed the draws continue the checkpoint's own random state, so a checkpoint "
    "saved at the end of training gives the names training would have printed."
)


def add_arguments(parser) -> None:
    parser.add_argument("--checkpoint", required=True, metavar="PATH", help="a .npz checkpoint")
    parser.add_argument("-n", "--count", type=int, default=10, metavar="N",
                        help="how many names (default 10)")
    parser.add_argument("--temperature", type=float, metavar="T",
                        help="sampling temperature (default: the checkpoint's, 0.5)")
    parser.add_argument(
        "--seed", type=seed_type, metavar="S", help="draw from a fresh RNG seeded S"
    )


def run(args, out: Output) -> int:
    if not 1 <= args.count <= 100_000:
        raise CLIError(f"-n must be between 1 and 100000, got {args.count}")
    try:
        checkpoint = load_checkpoint(args.checkpoint)
    except CheckpointError as error:
        raise CLIError(str(error)) from None
    temperature = checkpoint.config.temperature if args.temperature is None else args.temperature
    if not 0 < temperature <= 100:
        raise CLIError(f"--temperature must be in (0, 100], got {temperature}")
    if args.seed is None:
        rng = random.Random()
        rng.setstate(checkpoint.rng_state)
    else:
        rng = random.Random(args.seed)
    names = sample_names(checkpoint.model(), checkpoint.tokenizer, rng, args.count, temperature,
                         checkpoint.config.block_size)
    for name in names:
        out.emit({"name": name}, name)
    return 0
