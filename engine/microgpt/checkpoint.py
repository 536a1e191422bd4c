"""Checkpoints: everything needed to resume training exactly, in one .npz file.

Arrays: `weights`, `adam_m`, `adam_v` (flat float64, the reference's parameter order). `meta`:
UTF-8 JSON with the format tag, the config, the vocabulary, the step, Adam's step count, the
RNG state, the engine and a fingerprint of the names list. Written atomically (temp file +
rename); read with allow_pickle=False, so a checkpoint can never run code. Every problem is a
`CheckpointError` whose message is one line.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import cache_dir
from ..files import atomic_write_bytes, read_user_file
from .config import Config, ConfigError
from .init import ParamLayout
from .numpy_model import NumpyGPT
from .tokenizer import Tokenizer
from .trainer import Trainer

FORMAT = "microgpt-tui checkpoint"
VERSION = 1
MAX_BYTES = 512 * 1024 * 1024
ARRAYS = ("meta", "weights", "adam_m", "adam_v")
CHECKPOINT_NAME = r"[A-Za-z0-9._-]*"  # a file name in checkpoint_dir(), never a path


class CheckpointError(ValueError):
    """A checkpoint cannot be read or does not fit; the message is one line."""


@dataclass(frozen=True)
class Checkpoint:
    config: Config
    chars: list[str]
    step: int
    weights: np.ndarray
    adam_m: np.ndarray
    adam_v: np.ndarray
    adam_t: int
    rng_state: tuple
    engine: str
    data_fingerprint: str

    @property
    def tokenizer(self) -> Tokenizer:
        return Tokenizer(self.chars)

    def model(self) -> NumpyGPT:
        """The NumPy model with these weights (for sampling without the training data)."""
        return NumpyGPT(self.config, len(self.chars) + 1, self.weights)


def checkpoint_bytes(trainer: Trainer) -> bytes:
    state = trainer.rng.getstate()
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "config": trainer.config.to_dict(),
        "chars": "".join(trainer.tokenizer.chars),
        "step": trainer.step,
        "adam_t": trainer.adam.t,
        "rng_state": [state[0], list(state[1]), state[2]],
        "engine": trainer.engine,
        "data_fingerprint": trainer.data_fingerprint,
    }
    buffer = io.BytesIO()
    np.savez(
        buffer,
        meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
        weights=np.array(trainer.model.weight_vector(), dtype=np.float64),
        adam_m=trainer.adam.m,
        adam_v=trainer.adam.v,
    )
    return buffer.getvalue()


def save_checkpoint(path: str | os.PathLike[str], trainer: Trainer) -> Path:
    """Write the trainer's full state to `path` atomically; returns the path written."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise CheckpointError(f"{target}: is a directory, expected a file name")
    try:
        atomic_write_bytes(target, checkpoint_bytes(trainer))
    except OSError as error:
        raise CheckpointError(f"{target}: cannot write ({error.strerror or error})") from None
    return target


def _bad(path: Path, why: str) -> CheckpointError:
    return CheckpointError(f"{path}: not a usable MicroGPT checkpoint ({why})")


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read and check a checkpoint; raises CheckpointError with one line on any problem."""
    p = Path(path).expanduser()
    data = read_user_file(p, expected="a checkpoint file", max_bytes=MAX_BYTES,
                          error=CheckpointError,
                          too_large=lambda p, _size: _bad(p, "file is far too large"))
    if not data.startswith(b"PK"):
        raise _bad(p, "not an .npz archive")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            missing = [name for name in ARRAYS if name not in archive.files]
            if missing:
                raise _bad(p, f"missing the {missing[0]!r} array")
            arrays = {name: archive[name] for name in ARRAYS}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise _bad(p, "the archive is damaged or truncated") from None
    try:
        meta = json.loads(arrays["meta"].tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad(p, "metadata is not JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _bad(p, "no microgpt-tui format tag")
    if meta.get("version") != VERSION:
        raise _bad(p, f"format version {meta.get('version')!r}, this app reads {VERSION}")
    try:
        config = Config.from_dict(meta["config"])
        chars = list(meta["chars"])
        step, adam_t = int(meta["step"]), int(meta["adam_t"])
        version, internal, gauss_next = meta["rng_state"]
        rng_state = (int(version), tuple(int(x) for x in internal),
                     None if gauss_next is None else float(gauss_next))
        engine = str(meta.get("engine", "numpy"))
        fingerprint = str(meta.get("data_fingerprint", ""))
    except ConfigError as error:
        raise _bad(p, str(error)) from None
    except (KeyError, TypeError, ValueError) as error:
        raise _bad(p, f"bad metadata: {error}") from None
    if len(chars) != len(set(chars)) or not all(c.isalpha() for c in chars) or not chars:
        raise _bad(p, "bad vocabulary")
    if len(internal) != 625 or not 0 <= step <= config.num_steps or adam_t < 0:
        raise _bad(p, "bad step or RNG state")
    size = ParamLayout.of(config, len(chars) + 1).size
    for name in ("weights", "adam_m", "adam_v"):
        array = arrays[name]
        if array.dtype != np.float64 or array.shape != (size,):
            raise _bad(p, f"{name} has shape {array.shape}, the config needs ({size},)")
        if not np.all(np.isfinite(array)):
            raise _bad(p, f"{name} holds NaN or infinity")
    return Checkpoint(config, chars, step, arrays["weights"], arrays["adam_m"], arrays["adam_v"],
                      adam_t, rng_state, engine, fingerprint)


def resume_trainer(checkpoint: Checkpoint, names: list[str], engine: str | None = None,
                   num_steps: int | None = None) -> Trainer:
    """A trainer in exactly the checkpoint's state, over `names` (which must share its vocab).

    num_steps may lengthen the schedule (the learning rate then decays over the new length).
    """
    config = checkpoint.config
    if num_steps is not None and num_steps != config.num_steps:
        if num_steps < checkpoint.step:
            raise CheckpointError(
                f"the checkpoint is at step {checkpoint.step}; --steps {num_steps} is behind it")
        config = config.with_changes(num_steps=num_steps)
    trainer = Trainer(names, config, engine or checkpoint.engine)
    if trainer.tokenizer.chars != checkpoint.chars:
        raise CheckpointError(
            f"the checkpoint's vocabulary {''.join(checkpoint.chars)!r} differs from the data's "
            f"{''.join(trainer.tokenizer.chars)!r}")
    trainer.model.set_weight_vector(np.array(checkpoint.weights))
    trainer.adam.load_state(checkpoint.adam_m, checkpoint.adam_v, checkpoint.adam_t)
    trainer.rng.setstate(checkpoint.rng_state)
    trainer.step = checkpoint.step
    return trainer


def checkpoint_dir() -> Path:
    """Where the app saves and loads checkpoints by name: beside its names cache."""
    return cache_dir() / "checkpoints"


def resolve_checkpoint(name: str) -> Path | None:
    """The checkpoint file called `name` in checkpoint_dir(), or None when `name` is not a
    plain file name (empty, hidden, or holding anything but letters, digits, `.`, `_`, `-`)."""
    name = name.strip()
    if not name or name.startswith(".") or not re.fullmatch(CHECKPOINT_NAME, name):
        return None
    return checkpoint_dir() / name
