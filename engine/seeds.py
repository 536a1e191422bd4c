"""Seeds in one place: the app's `--seed` mapped into the range a generator accepts, and a seed
typed by the user parsed with a message a person can act on.

The app takes any integer as `--seed` (negative or huge); each generator accepts a range of its
own: the Monte Carlo dart streams 0 … 2^64−1 (`DART_SEED_BITS`), numpy's legacy `RandomState`
and `np.random.seed` 0 … 2^32−1 (`NUMPY_LEGACY_SEED_BITS`). A seed already in range is kept;
others wrap modulo 2^bits, so −1 becomes the largest seed.
"""

from __future__ import annotations

DART_SEED_BITS = 64
NUMPY_LEGACY_SEED_BITS = 32


def seed_in_range(seed: int, bits: int) -> int:
    """Any integer seed wrapped into 0 … 2^bits − 1 (kept as it is when already in range)."""
    return int(seed) % (1 << bits)


def parse_seed(text: str, bits: int = DART_SEED_BITS) -> int:
    """A typed seed: a whole number from 0 to 2^bits − 1 (underscores allowed, as in 1_000).

    Raises ValueError with a one-line message meant for the user.
    """
    cleaned = text.strip().replace("_", "")
    if not cleaned:
        raise ValueError("type a whole number, e.g. 42")
    try:
        seed = int(cleaned)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a whole number") from None
    if not 0 <= seed < 1 << bits:
        raise ValueError(f"the seed must be between 0 and 2^{bits}−1")
    return seed
