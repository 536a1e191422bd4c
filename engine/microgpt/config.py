"""Every MicroGPT hyperparameter in one dataclass, with the reference program's defaults."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

ENGINES = ("numpy", "scalar")


class ConfigError(ValueError):
    """A hyperparameter is out of range; the message is one line, fit to show a user.

    `field` names the Config field at fault (None when it is not one field's).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# One rule for every temperature (CLI options, checkpoints, the Training screen): below 0.01
# sampling is already greedy in all but name (exp(-100 · gap) of any other logit is ~0), and
# far below it logits / temperature overflow a float; above 100 every name is noise.
MIN_TEMPERATURE = 0.01
MAX_TEMPERATURE = 100.0


def check_temperature(value: float, name: str = "temperature") -> float:
    """`value` when it is a usable temperature, else ConfigError naming `name` and the range."""
    if not (isinstance(value, (int, float)) and not isinstance(value, bool)
            and MIN_TEMPERATURE <= value <= MAX_TEMPERATURE):
        raise ConfigError(f"{name} must be between {MIN_TEMPERATURE:g} and {MAX_TEMPERATURE:g}, "
                          f"got {value!r}", "temperature")
    return float(value)


@dataclass(frozen=True)
class Config:
    """Model shape, optimiser and schedule. Defaults are the reference program's."""

    n_embed: int = 16
    n_head: int = 4
    n_layer: int = 1
    block_size: int = 16  # longest context, in tokens
    batch_size: int = 8  # names per step
    num_steps: int = 20  # length of the linear learning-rate decay
    learning_rate: float = 0.01
    beta1: float = 0.85
    beta2: float = 0.99
    eps_adam: float = 1e-8
    seed: int = 42
    temperature: float = 0.5
    init_std: float = 0.08

    @property
    def head_dim(self) -> int:
        return self.n_embed // self.n_head

    def validated(self) -> Config:
        """Return self, or raise ConfigError naming the first bad field."""
        positive = ("n_embed", "n_head", "n_layer", "block_size", "batch_size", "num_steps")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a whole number ≥ 1, got {value!r}", name)
        limits = {"n_embed": 512, "n_head": 64, "n_layer": 16, "block_size": 256,
                  "batch_size": 4096, "num_steps": 10_000_000}
        for name, limit in limits.items():
            if getattr(self, name) > limit:
                raise ConfigError(f"{name} must be at most {limit:,}, got {getattr(self, name)}",
                                  name)
        if self.n_embed % self.n_head:
            raise ConfigError(
                f"n_embed ({self.n_embed}) must be a multiple of n_head ({self.n_head})", "n_head")
        for name in ("learning_rate", "init_std", "eps_adam"):
            value = getattr(self, name)
            if not _finite(value) or value <= 0:
                raise ConfigError(f"{name} must be a number > 0, got {value!r}", name)
        check_temperature(self.temperature)
        for name in ("beta1", "beta2"):
            value = getattr(self, name)
            if not _finite(value) or not 0 <= value < 1:
                raise ConfigError(f"{name} must be in [0, 1), got {value!r}", name)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ConfigError(f"seed must be a whole number, got {self.seed!r}", "seed")
        return self

    def with_changes(self, **changes) -> Config:
        """A validated copy with some fields changed."""
        return Config.from_dict({**self.to_dict(), **changes})

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Config:
        """Build from a dict (e.g. a checkpoint's), ignoring unknown keys; validated."""
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in known}).validated()
        except TypeError as error:
            raise ConfigError(f"bad configuration: {error}") from None


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(
        value)
