"""Checkpoints: everything needed to resume training exactly, in one .npz file.

Arrays: `weights`, `adam_m`, `adam_v`, and Adam's last gradient and update `adam_last_grad`,
`adam_last_update` (flat float64, the reference's parameter order), and `losses` (the training
loss of each step done since `history_start`, float64). `meta`: UTF-8 JSON with the format tag
and version, the config, the vocabulary, the step, Adam's step count and last learning rate,
the RNG state, the engine, a fingerprint of the names list and `history_start`. Version 1 files
(no loss history, no last update) still load: their history is empty and the last update zeros,
and `Checkpoint.has_history` / `has_last_update` say so. Written atomically (temp file +
rename); read member by member with every size, shape and type checked before anything is
unpacked, and never unpickled, so a checkpoint can neither run code nor exhaust memory. Every
problem is a `CheckpointError` whose message is one line.
"""

from __future__ import annotations

import io
import json
import math
import os
import random
import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data import cache_dir
from ..files import atomic_write_bytes, ensure_writable_target, read_user_file
from .config import ENGINES, Config, ConfigError, check_temperature
from .init import ParamLayout
from .numpy_model import NumpyGPT
from .tokenizer import Tokenizer
from .trainer import Trainer

FORMAT = "microgpt-tui checkpoint"
VERSION = 2
READABLE_VERSIONS = (1, 2)
MAX_BYTES = 512 * 1024 * 1024  # the file, and everything it unpacks to
MAX_META_BYTES = 1024 * 1024  # the metadata JSON (a real one is about 8 KB)
NPY_HEADER_LIMIT = 10_000  # numpy's own limit on a .npy header's length
PARAM_ARRAYS = {1: ("weights", "adam_m", "adam_v"),
                2: ("weights", "adam_m", "adam_v", "adam_last_grad", "adam_last_update")}
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
    version: int = VERSION
    losses: np.ndarray = field(default_factory=lambda: np.zeros(0))  # steps history_start+1..
    history_start: int = 0  # the step before the first loss in `losses`
    adam_last_grad: np.ndarray | None = None  # None: not saved (a version-1 file)
    adam_last_update: np.ndarray | None = None
    adam_last_lr: float = 0.0

    @property
    def has_history(self) -> bool:
        """Whether `losses` holds every step's loss (false for a version-1 file past step 0)."""
        return self.history_start == 0

    @property
    def has_last_update(self) -> bool:
        """Whether Adam's last gradient and update were saved (or no update was done yet)."""
        return self.adam_last_update is not None or self.adam_t == 0

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
        "adam_last_lr": float(trainer.adam.last_lr),
        "history_start": trainer.history_start,
    }
    buffer = io.BytesIO()
    np.savez(
        buffer,
        meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
        weights=np.array(trainer.model.weight_vector(), dtype=np.float64),
        adam_m=trainer.adam.m,
        adam_v=trainer.adam.v,
        adam_last_grad=np.asarray(trainer.adam.last_grad, dtype=np.float64),
        adam_last_update=np.asarray(trainer.adam.last_update, dtype=np.float64),
        losses=np.array(trainer.loss_history, dtype=np.float64),
    )
    return buffer.getvalue()


def check_save_path(path: str | os.PathLike[str],
                    inputs: Iterable[str | os.PathLike[str] | None] = ()) -> Path:
    """The path a checkpoint may be saved to, or CheckpointError saying why not (see
    ensure_writable_target): check before training, so no run is trained for nothing."""
    if not os.fspath(path):
        raise CheckpointError("empty path: give the checkpoint a file name")
    try:
        return ensure_writable_target(path, inputs)
    except OSError as error:
        raise _unwritable(path, error) from None


def _unwritable(path: str | os.PathLike[str], error: OSError) -> CheckpointError:
    return CheckpointError(f"{Path(path).expanduser()}: cannot write ({error.strerror or error})")


def save_checkpoint(path: str | os.PathLike[str], trainer: Trainer,
                    inputs: Iterable[str | os.PathLike[str] | None] = ()) -> Path:
    """Write the trainer's full state to `path` atomically; returns the path written.

    `inputs` are the run's input files, which are never overwritten. A diverged trainer, or
    one holding NaN or infinity, is not saved (such a checkpoint could never be loaded).
    """
    target = check_save_path(path, inputs)
    if trainer.diverged_at is not None:
        raise CheckpointError(f"training diverged at step {trainer.diverged_at}; nothing saved")
    arrays = {"weights": trainer.model.weight_vector(), "adam_m": trainer.adam.m,
              "adam_v": trainer.adam.v, "adam_last_grad": trainer.adam.last_grad,
              "adam_last_update": trainer.adam.last_update,
              "losses": np.array(trainer.loss_history, dtype=np.float64)}
    for name, array in arrays.items():
        if not np.isfinite(array).all():
            raise CheckpointError(f"{name} hold NaN or infinity; nothing saved")
    try:
        atomic_write_bytes(target, checkpoint_bytes(trainer), inputs)
    except OSError as error:
        raise _unwritable(target, error) from None
    return target


def _bad(path: Path, why: str) -> CheckpointError:
    return CheckpointError(f"{path}: not a usable MicroGPT checkpoint ({why})")


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read and check a checkpoint; raises CheckpointError with one line on any problem.

    Nothing is unpacked before it is known to fit: the metadata is read first (at most
    MAX_META_BYTES) and checked, then each array's .npy header (dtype, shape) and unpacked
    size are checked against the sizes its config implies (the loss history: at most
    num_steps values), and only then is it read.
    """
    p = Path(path).expanduser()
    data = read_user_file(p, expected="a checkpoint file", max_bytes=MAX_BYTES,
                          error=CheckpointError,
                          too_large=lambda p, _size: _bad(p, "file is far too large"))
    if not data.startswith(b"PK"):
        raise _bad(p, "not an .npz archive")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = {info.filename: info for info in archive.infolist()}
            _members(p, infos, ("meta",) + PARAM_ARRAYS[1])  # what every version holds
            meta_bytes = _read_array(p, archive, infos["meta.npy"], "uint8", MAX_META_BYTES)
            meta = _parse_meta(p, meta_bytes.tobytes())
            fields = _meta_fields(p, meta)
            version = meta["version"]
            names = PARAM_ARRAYS[version] + (("losses",) if version >= 2 else ())
            members = _members(p, infos, names)
            size = ParamLayout.of(fields["config"], len(fields["chars"]) + 1).size
            arrays = {name: _read_array(p, archive, members[name], "float64", size, exact=True)
                      for name in PARAM_ARRAYS[version]}
            if version >= 2:
                arrays["losses"] = _read_array(p, archive, members["losses"], "float64",
                                               fields["config"].num_steps)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError,
            RuntimeError, NotImplementedError, zlib.error):
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression
        raise _bad(p, "the archive is damaged or truncated") from None
    for name, array in arrays.items():
        if not np.all(np.isfinite(array)):
            raise _bad(p, f"{name} holds NaN or infinity")
    step, history_start = fields["step"], fields["history_start"]
    if version == 1:
        history_start = step  # no losses were saved
    losses = arrays.get("losses", np.zeros(0))
    if len(losses) != step - history_start:
        raise _bad(p, f"losses holds {len(losses)} values; steps {history_start + 1}..{step} "
                   f"need {step - history_start}")
    return Checkpoint(fields["config"], fields["chars"], step, arrays["weights"],
                      arrays["adam_m"], arrays["adam_v"], fields["adam_t"], fields["rng_state"],
                      fields["engine"], fields["data_fingerprint"], version=version,
                      losses=losses, history_start=history_start,
                      adam_last_grad=arrays.get("adam_last_grad"),
                      adam_last_update=arrays.get("adam_last_update"),
                      adam_last_lr=fields["adam_last_lr"])


def _member(p: Path, infos: dict[str, zipfile.ZipInfo], name: str) -> zipfile.ZipInfo:
    if f"{name}.npy" not in infos:
        raise _bad(p, f"missing the {name!r} array")
    return infos[f"{name}.npy"]


def _members(p: Path, infos: dict[str, zipfile.ZipInfo],
             names: Iterable[str]) -> dict[str, zipfile.ZipInfo]:
    """The arrays' zip entries, refusing an archive that would unpack past MAX_BYTES."""
    members = {name: _member(p, infos, name) for name in names}
    if sum(info.file_size for info in members.values()) > MAX_BYTES:
        raise _bad(p, f"it unpacks to more than {MAX_BYTES // 2**20} MiB")
    return members


def _read_array(p: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, dtype: str,
                count: int, exact: bool = False) -> np.ndarray:
    """One .npy member as a 1-D array of `dtype`: `count` items when `exact`, else at most
    `count`. The declared size and the header are checked before any data is read (zipfile
    never unpacks more than the declared size, so a bomb stops at the check)."""
    name = info.filename.removesuffix(".npy")
    want = np.dtype(dtype)
    if info.file_size > count * want.itemsize + NPY_HEADER_LIMIT:
        raise _bad(p, f"the {name!r} array unpacks to {info.file_size:,} bytes; the config "
                   f"needs {count * want.itemsize:,}")
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, found = np.lib.format.read_array_header_1_0(member, NPY_HEADER_LIMIT)
        elif version == (2, 0):
            shape, _, found = np.lib.format.read_array_header_2_0(member, NPY_HEADER_LIMIT)
        else:
            raise _bad(p, f"the {name!r} array has .npy format {version}, expected 1.0 or 2.0")
        if found.hasobject:
            raise _bad(p, f"the {name!r} array holds a pickled object (refused)")
        if found.kind != want.kind or found.itemsize != want.itemsize:
            raise _bad(p, f"the {name!r} array holds {found}, expected {want}")
        if len(shape) != 1 or (shape[0] != count if exact else shape[0] > count):
            needs = f"({count},)" if exact else f"at most ({count},)"
            raise _bad(p, f"{name} has shape {shape}, the config needs {needs}")
        nbytes = shape[0] * want.itemsize
        if member.tell() + nbytes != info.file_size:
            raise _bad(p, f"the {name!r} array's size does not match its header")
        raw = member.read(nbytes)  # reaching the member's end checks its CRC
    if len(raw) != nbytes:
        raise _bad(p, "the archive is damaged or truncated")
    return np.frombuffer(raw, dtype=found).astype(want)


def _parse_meta(p: Path, raw: bytes) -> dict:
    try:
        meta = json.loads(raw.decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad(p, "metadata is not JSON") from None
    except RecursionError:
        raise _bad(p, "metadata is nested too deeply") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _bad(p, "no microgpt-tui format tag")
    version = meta.get("version")
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        readable = " and ".join(str(v) for v in READABLE_VERSIONS)
        raise _bad(p, f"format version {version!r}, this app reads {readable}")
    return meta


def _json_kind(value: object) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true/false",
             int: "a whole number", float: "a number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def _field(p: Path, meta: dict, key: str, kind: type, default: object = None) -> Any:
    """meta[key] when it has the JSON type `kind` (a bool is not a number)."""
    if key not in meta and default is not None:
        return default
    if key not in meta:
        raise _bad(p, f"metadata has no {key!r}")
    value = meta[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _bad(p, f"{key!r} is {_json_kind(value)}, expected {_json_kind(kind())}")
    return value


def _meta_fields(p: Path, meta: dict) -> dict[str, Any]:
    """The checkpoint's fields from its metadata, each checked for type and range."""
    try:
        config = Config.from_dict(_field(p, meta, "config", dict))
        check_temperature(config.temperature)
    except ConfigError as error:
        raise _bad(p, str(error)) from None
    except OverflowError:  # an integer too large for a float where a float belongs
        raise _bad(p, "the config holds a number too large for a float") from None
    chars = list(_field(p, meta, "chars", str))
    if len(chars) != len(set(chars)) or not all(c.isalpha() for c in chars) or not chars:
        raise _bad(p, "bad vocabulary")
    step, adam_t = _field(p, meta, "step", int), _field(p, meta, "adam_t", int)
    if not 0 <= step <= config.num_steps:
        raise _bad(p, f"step {step} is outside the schedule's 0..{config.num_steps}")
    if not 0 <= adam_t <= config.num_steps:
        raise _bad(p, f"adam_t {adam_t} is outside 0..{config.num_steps}")
    engine = _field(p, meta, "engine", str, "numpy")
    if engine not in ENGINES:
        raise _bad(p, f"unknown engine {engine!r}")
    history_start, last_lr = 0, 0.0
    if meta["version"] >= 2:
        history_start = _field(p, meta, "history_start", int)
        if not 0 <= history_start <= step:
            raise _bad(p, f"history_start {history_start} is outside 0..{step}")
        last_lr = _field(p, meta, "adam_last_lr", float)
        if not math.isfinite(last_lr):
            raise _bad(p, "'adam_last_lr' is not a finite number")
    return {"config": config, "chars": chars, "step": step, "adam_t": adam_t,
            "rng_state": _rng_state(p, _field(p, meta, "rng_state", list)), "engine": engine,
            "data_fingerprint": _field(p, meta, "data_fingerprint", str, ""),
            "history_start": history_start, "adam_last_lr": float(last_lr)}


def _rng_state(p: Path, state: list) -> tuple:
    """random.Random's state (version 3: 624 32-bit words and a position, then gauss_next)."""
    bad = _bad(p, "rng_state is not a valid random-number state")
    if len(state) != 3 or not isinstance(state[1], list) or len(state[1]) != 625:
        raise bad
    version, internal, gauss_next = state
    words = all(isinstance(w, int) and not isinstance(w, bool) and 0 <= w < 2**32
                for w in internal[:-1])
    position = internal[-1]
    if version != 3 or not words or not isinstance(position, int) or not 0 <= position <= 624:
        raise bad
    if gauss_next is not None and not (isinstance(gauss_next, (int, float))
                                       and not isinstance(gauss_next, bool)
                                       and math.isfinite(gauss_next)):
        raise bad
    rng_state = (3, tuple(internal), None if gauss_next is None else float(gauss_next))
    try:
        random.Random().setstate(rng_state)  # whatever else CPython checks
    except (ValueError, TypeError, OverflowError):
        raise bad from None
    return rng_state


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
    trainer.adam.load_state(checkpoint.adam_m, checkpoint.adam_v, checkpoint.adam_t,
                            checkpoint.adam_last_grad, checkpoint.adam_last_update,
                            checkpoint.adam_last_lr)
    trainer.rng.setstate(checkpoint.rng_state)
    trainer.step = checkpoint.step
    trainer.loss_history = [float(loss) for loss in checkpoint.losses]
    trainer.history_start = checkpoint.history_start
    trainer.restore_note = restore_note(checkpoint)
    return trainer


def restore_note(checkpoint: Checkpoint) -> str | None:
    """One line on what a checkpoint lacks of its run's past, or None when it has it all."""
    missing = []
    if not checkpoint.has_history:
        missing.append(f"the losses of steps 1..{checkpoint.history_start}")
    if not checkpoint.has_last_update:
        missing.append("Adam's last update")
    if not missing:
        return None
    return f"This checkpoint does not hold {' or '.join(missing)} (an older format)."


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
