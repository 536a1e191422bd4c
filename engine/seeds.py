"""Seeds in one place: one range for every seed a user types, the app's `--seed` mapped into the
range a generator accepts, and a typed seed parsed with a message a person can act on.

Every seed typed by a user — the CLI's global `--seed`, each command's `--seed`, the app's seed
dialog — is a whole number 0 … 2^64−1 (`SEED_BITS`, `MAX_SEED`): the Monte Carlo dart streams
take exactly that range, and Python's `random` and numpy's `default_rng` take any of it. numpy's
legacy `RandomState` and `np.random.seed` take 0 … 2^32−1 (`NUMPY_LEGACY_SEED_BITS`), so a seed
is wrapped for them. The app's factory takes any integer (negative or huge): a seed already in
range is kept; others wrap modulo 2^bits, so −1 becomes the largest seed.
"""

from __future__ import annotations

SEED_BITS = 64
MAX_SEED = (1 << SEED_BITS) - 1
DART_SEED_BITS = SEED_BITS  # the dart streams take the whole range
NUMPY_LEGACY_SEED_BITS = 32


def seed_in_range(seed: int, bits: int) -> int:
    """Any integer seed wrapped into 0 … 2^bits − 1 (kept as it is when already in range)."""
    return int(seed) % (1 << bits)


def parse_seed(text: str, bits: int = SEED_BITS) -> int:
    """A typed seed: a whole number from 0 to 2^bits − 1 (underscores allowed, as in 1_000).

    Raises ValueError with a one-line message meant for the user.
    """
    cleaned = text.strip().replace("_", "")
    if not cleaned:
        raise ValueError("type a whole number, e.g. 42")
    out_of_range = ValueError(f"the seed must be between 0 and 2^{bits}−1")
    if len(cleaned) > 2 * bits:  # far more digits than any seed: not worth converting
        raise out_of_range
    try:
        seed = int(cleaned)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a whole number") from None
    if not 0 <= seed < 1 << bits:
        raise out_of_range
    return seed
