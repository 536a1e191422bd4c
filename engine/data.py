"""The names dataset: an explicit file, else makemore's names.txt that ships in `assets/`.

Sources (nothing else is ever read, and nothing is downloaded):
1. an explicit path (`--data PATH`): any problem with it is an error, never a silent fallback;
2. the bundled copy of makemore's names.txt (32,033 names, MIT; its notice is
   `assets/names.LICENSE.txt`), checked by size and SHA-256 before use, so every machine — an
   SSH box with no internet included — trains on the reference program's data and reproduces
   its losses.

Earlier versions read a user cache, then downloaded the same file, then fell back to a 276-name
corpus; the bundled file makes all three unnecessary: the download fetched exactly these bytes,
a cached copy could only differ by being stale or edited, and the small corpus silently changed
the losses. `assets/names_small.txt` stays as a quick corpus for tests (`--data` takes it).

Text rules, applied the same way to every source: one name per line; surrounding whitespace is
stripped and blank lines are skipped; upper case is lowered; a line holding anything other than
letters (digits, spaces, hyphens, apostrophes, punctuation) is dropped and counted, so the
vocabulary stays letters only and the count is reported rather than hidden.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .files import read_user_file

# makemore's names.txt, as shipped in assets/ (the file Karpathy's reference program trains on)
NAMES_FILE = "names.txt"
NAMES_LICENSE_FILE = "names.LICENSE.txt"
NAMES_ORIGIN = "https://github.com/karpathy/makemore (names.txt, MIT, (c) 2022 Andrej Karpathy)"
NAMES_BYTES = 228_145
NAMES_COUNT = 32_033
NAMES_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
BUNDLED_LABEL = f"bundled: makemore names.txt, {NAMES_COUNT:,} names"
MAX_FILE_BYTES = 64 * 1024 * 1024  # a names list larger than this is almost surely the wrong file


class DatasetError(ValueError):
    """A dataset could not be used; the message is one line, fit to show a user."""


@dataclass(frozen=True)
class Dataset:
    """Names ready for training, with where they came from and what was dropped."""

    names: list[str]
    source: str  # "path" or "bundled"
    location: str
    dropped_lines: int = 0
    first_dropped: str | None = None
    notice: str | None = None
    chars: list[str] = field(default_factory=list)

    @property
    def vocab_size(self) -> int:
        """Distinct characters plus the BOS token."""
        return len(self.chars) + 1

    @property
    def label(self) -> str:
        """Where the names came from, in one short line ("bundled: makemore names.txt, …")."""
        if self.source == "bundled":
            return BUNDLED_LABEL
        return f"{self.location}: {len(self.names):,} names"


def cache_dir() -> Path:
    """The app's cache folder (checkpoints, compiled kernels): `$MICROGPT_TUI_CACHE`, else the
    platform's user cache. No names are read from it."""
    override = os.environ.get("MICROGPT_TUI_CACHE")
    if override:
        return Path(override)
    try:
        from platformdirs import user_cache_dir
    except ImportError:  # installed with --no-deps (a GPU box's `kernels doctor --gpu-check`)
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(base) / "microgpt-tui"
    return Path(user_cache_dir("microgpt-tui"))


def parse_names(text: str, location: str = "<text>") -> tuple[list[str], int, str | None]:
    """Apply the text rules; return (names, dropped line count, first dropped line)."""
    names: list[str] = []
    dropped = 0
    first_dropped = None
    for raw in text.splitlines():
        line = raw.strip().lower()
        if not line:
            continue
        if line.isalpha():
            names.append(line)
        else:
            dropped += 1
            first_dropped = first_dropped or line[:40]
    if not names:
        raise DatasetError(f"{location}: no usable names (one name per line, letters only)")
    return names, dropped, first_dropped


def decode_names_file(data: bytes, location: str) -> str:
    """Bytes to text, refusing what is clearly not a names list."""
    if not data.strip():
        raise DatasetError(f"{location}: the file is empty")
    if b"\x00" in data[:8192]:
        raise DatasetError(f"{location}: this looks like a binary file, not a text list of names")
    try:
        # utf-8-sig: a byte-order mark (Windows editors write one) is not part of the first name
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DatasetError(
            f"{location}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from None


def read_names_file(path: str | os.PathLike[str]) -> bytes:
    """Read a user-given file, turning every OS problem into one clear line."""
    return read_user_file(
        path, expected="a text file of names", max_bytes=MAX_FILE_BYTES, error=DatasetError,
        too_large=lambda p, size: DatasetError(
            f"{p}: {size:,} bytes is too large for a names list (limit 64 MiB)"))


def _dataset(data: bytes, source: str, location: str, notice: str | None = None) -> Dataset:
    names, dropped, first = parse_names(decode_names_file(data, location), location)
    return Dataset(
        names=names,
        source=source,
        location=location,
        dropped_lines=dropped,
        first_dropped=first,
        notice=notice,
        chars=sorted(set("".join(names))),
    )


def load_names_from_path(path: str | os.PathLike[str]) -> Dataset:
    """Load an explicit file; every problem is a DatasetError and nothing is written."""
    return _dataset(read_names_file(path), "path", str(Path(path).expanduser()))


def verify_bundled(data: bytes) -> None:
    """Refuse a bundled names.txt that is not byte for byte the file the package shipped."""
    where = f"the bundled {NAMES_FILE}"
    if len(data) != NAMES_BYTES:
        raise DatasetError(f"{where} has {len(data):,} bytes, expected {NAMES_BYTES:,}; "
                           "reinstall microgpt-tui or pass --data PATH")
    digest = hashlib.sha256(data).hexdigest()
    if digest != NAMES_SHA256:
        raise DatasetError(f"{where}: checksum {digest[:12]}… is not {NAMES_SHA256[:12]}…; "
                           "reinstall microgpt-tui or pass --data PATH")


def bundled_names() -> Dataset:
    """makemore's names.txt as shipped in the package, verified by size and SHA-256.

    Its notice is the one-line label, so every view of a run (the Training screen's message,
    `train` and `data` on stderr) says which data it trains on.
    """
    resource = resources.files("microgpt_tui.assets").joinpath(NAMES_FILE)
    data = resource.read_bytes()
    verify_bundled(data)
    return _dataset(data, "bundled", str(resource), BUNDLED_LABEL)


def load_names(path: str | os.PathLike[str] | None = None) -> Dataset:
    """The names in `path`, or the bundled makemore names.txt when no path is given."""
    if path is not None:
        return load_names_from_path(path)
    return bundled_names()
