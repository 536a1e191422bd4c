"""User files: read with one clear line per problem, write atomically (temp file + rename).

Reading is bounded: at most `max_bytes` + 1 bytes are read whatever the file claims, and only a
regular file is opened (a device such as /dev/zero never ends, a FIFO blocks until a writer comes).

Writing replaces a file only when that is safe: never a device, a FIFO, a directory or a
symbolic link (the rename would swap a regular file in for it), never one of the run's own
inputs, and keeping the old file's permissions. A save killed mid-write leaves its hidden temp
file behind; the next save to the same path removes it once it is clearly abandoned.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

READ_CHUNK = 1024 * 1024
# A save writes its temp file in one go, then fsyncs it: one untouched this long was killed.
STALE_TEMP_SECONDS = 10 * 60


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    """What a non-regular file is, in a user's words."""
    return next((name for is_kind, name in _KINDS if is_kind(mode)), "not a regular file")


def read_user_file(path: str | os.PathLike[str], *, expected: str, max_bytes: int,
                   error: type[Exception], too_large: Callable[[Path, int], Exception],
                   allow_stdin: bool = False) -> bytes:
    """The bytes of a regular file a user named; every problem becomes `error` with one line.

    `expected` completes "is a directory, expected …"; `too_large(path, size)` builds the
    error for a file over `max_bytes`, whose wording differs by kind of file. With
    `allow_stdin`, the path `-` reads standard input (bounded the same way).
    """
    if not os.fspath(path):
        raise error(f"empty path, expected {expected}")
    if allow_stdin and os.fspath(path) == "-":
        stdin = sys.stdin.buffer
        data = _read_bounded(getattr(stdin, "read1", stdin.read), max_bytes)
        if len(data) > max_bytes:
            raise too_large(Path("<stdin>"), len(data))
        return data
    p = Path(path).expanduser()
    try:
        # stat before open: opening a FIFO for reading blocks until someone writes to it.
        mode = os.stat(p).st_mode
        if not stat.S_ISREG(mode):
            raise error(f"{p}: is {_kind(mode)}, expected {expected}")
        # O_NONBLOCK: a FIFO swapped in since the stat still cannot block the open.
        descriptor = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            opened = os.fstat(descriptor)
            if not stat.S_ISREG(opened.st_mode):
                raise error(f"{p}: is {_kind(opened.st_mode)}, expected {expected}")
            data = _read_bounded(lambda size: os.read(descriptor, size), max_bytes)
        finally:
            os.close(descriptor)
    except (FileNotFoundError, NotADirectoryError):
        raise error(f"{p}: no such file") from None
    except OSError as problem:
        raise error(f"{p}: cannot read ({problem.strerror or problem})") from None
    if len(data) > max_bytes:
        raise too_large(p, max(len(data), opened.st_size))
    return data


def _read_bounded(read: Callable[[int], bytes], max_bytes: int) -> bytes:
    """At most max_bytes + 1 bytes from `read` (up to n bytes a call, b"" at the end): one
    more than allowed is enough to refuse the file."""
    chunks: list[bytes] = []
    remaining = max_bytes + 1
    while remaining > 0:
        chunk = read(min(READ_CHUNK, remaining))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class WriteRefused(OSError):
    """A write target that must not be replaced; `strerror` says why in a few words, so
    callers that report `cannot write ({error.strerror})` need nothing special."""

    def __init__(self, path: str | os.PathLike[str], why: str) -> None:
        super().__init__(why)
        self.strerror = why
        self.filename = os.fspath(path)
        self.why = why

    def __str__(self) -> str:
        return f"{self.filename}: {self.why}" if self.filename else self.why


def ensure_writable_target(path: str | os.PathLike[str],
                           inputs: Iterable[str | os.PathLike[str] | None] = ()) -> Path:
    """The path `atomic_write_bytes` may replace, or WriteRefused saying why not.

    Call it before long work (training) so a run is never thrown away for a path that was
    bad from the start. Refused: an empty path; anything there that is not a regular file
    (a directory, a device, a FIFO, a socket, a symbolic link); a file that is one of the
    run's `inputs`; a folder that cannot be created or written to.
    """
    if not os.fspath(path):
        raise WriteRefused("", "empty path, expected a file name")
    target = Path(path).expanduser()
    try:
        existing = os.lstat(target)
    except (FileNotFoundError, NotADirectoryError):  # the folder check below says which
        existing = None
    except OSError as error:
        raise WriteRefused(target, error.strerror or str(error)) from None
    if existing is not None:
        if stat.S_ISLNK(existing.st_mode):
            raise WriteRefused(target, "is a symbolic link; give the path of the file itself")
        if stat.S_ISDIR(existing.st_mode):
            raise WriteRefused(target, "is a directory, expected a file name")
        if not stat.S_ISREG(existing.st_mode):
            raise WriteRefused(target, f"is {_kind(existing.st_mode)}, not a regular file")
        for given in inputs:
            if given and _same_file(existing, given):
                raise WriteRefused(target, f"is also this run's input {os.fspath(given)}; "
                                   "choose another file name")
    _ensure_folder_writable(target.parent)
    return target


def _same_file(existing: os.stat_result, other: str | os.PathLike[str]) -> bool:
    try:
        theirs = os.stat(Path(other).expanduser())
    except OSError:
        return False
    return (existing.st_dev, existing.st_ino) == (theirs.st_dev, theirs.st_ino)


def _ensure_folder_writable(folder: Path) -> None:
    """The nearest existing folder on the way must be a folder we may write into (the
    missing ones below it are created at write time)."""
    here = folder
    while not here.exists() and here != here.parent:
        here = here.parent
    if not here.is_dir():
        raise WriteRefused(folder, f"{here} is not a folder")
    if not os.access(here, os.W_OK | os.X_OK):
        raise WriteRefused(folder, f"no permission to write in {here}")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes,
                       inputs: Iterable[str | os.PathLike[str] | None] = ()) -> None:
    """Write via a temp file in the same folder and rename, so readers never see half a file.

    Refuses what ensure_writable_target refuses (WriteRefused, an OSError); an existing file
    keeps its permission bits; abandoned temp files of an earlier, killed save are removed.
    """
    target = ensure_writable_target(path, inputs)
    try:
        old_mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        old_mode = None
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            if old_mode is not None:
                os.fchmod(handle.fileno(), old_mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove_stale_temps(target: Path) -> None:
    """Delete `.NAME.XXXXXXXX.tmp` files (mkstemp's naming above) not written to for
    STALE_TEMP_SECONDS; a fresher one may be another process's save in progress."""
    ours = re.compile(re.escape(f".{target.name}.") + r"[a-z0-9_]{8}\.tmp")
    cutoff = time.time() - STALE_TEMP_SECONDS
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        if not ours.fullmatch(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                os.unlink(entry.path)
        except OSError:
            pass  # gone already, or not ours to remove: the save itself goes on


def append_line(path: str | os.PathLike[str], line: bytes, mode: int = 0o600) -> None:
    """Append one line to a log-like file (a session record), in one write.

    The file is created with `mode`; what ensure_writable_target refuses is refused. One
    `write` with O_APPEND lands whole and after every earlier line, even with another process
    appending to the same file (the server and its app share a session record), and the kernel
    keeps it when the writer is killed straight after: a killed server loses nothing written.
    A line torn by a power cut is skipped by the reader.
    """
    target = ensure_writable_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = line if line.endswith(b"\n") else line + b"\n"
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
