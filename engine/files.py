"""User files: read with one clear line per problem, write atomically (temp file + rename)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def read_user_file(path: str | os.PathLike[str], *, expected: str, max_bytes: int,
                   error: type[Exception], too_large: Callable[[Path, int], Exception]) -> bytes:
    """The bytes of a file a user named; every OS problem becomes `error` with one line.

    `expected` completes "is a directory, expected …"; `too_large(path, size)` builds the
    error for a file over `max_bytes`, whose wording differs by kind of file.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise error(f"{p}: no such file")
    if p.is_dir():
        raise error(f"{p}: is a directory, expected {expected}")
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise too_large(p, size)
        return p.read_bytes()
    except OSError as problem:
        raise error(f"{p}: cannot read ({problem.strerror or problem})") from None


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
