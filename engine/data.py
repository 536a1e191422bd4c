"""The names dataset: load from a path, the user cache, a download, or the bundled corpus.

Order of sources (first that works wins):
1. an explicit path (`--data PATH`): any problem with it is an error, never a silent fallback;
2. the user cache (`names.txt` in platformdirs' cache dir, or `$MICROGPT_TUI_CACHE`);
3. a download of makemore's names.txt, verified by size and SHA-256, written atomically into
   the cache;
4. the small corpus that ships in `assets/` — with a one-line notice saying so.

Text rules, applied the same way to every source: one name per line; surrounding whitespace is
stripped and blank lines are skipped; upper case is lowered; a line holding anything other than
letters (digits, spaces, hyphens, apostrophes, punctuation) is dropped and counted, so the
vocabulary stays letters only and the count is reported rather than hidden.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .files import atomic_write_bytes, read_user_file

NAMES_URL = "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt"
NAMES_BYTES = 228_145
NAMES_COUNT = 32_033
NAMES_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
MAX_FILE_BYTES = 64 * 1024 * 1024  # a names list larger than this is almost surely the wrong file
DOWNLOAD_DEADLINE = 30.0  # seconds for the whole download, then the bundled corpus

ProgressFn = Callable[[int, int], None]  # (bytes so far, total bytes)


class DatasetError(ValueError):
    """A dataset could not be used; the message is one line, fit to show a user."""


@dataclass(frozen=True)
class Dataset:
    """Names ready for training, with where they came from and what was dropped."""

    names: list[str]
    source: str  # "path", "cache", "download" or "bundled"
    location: str
    dropped_lines: int = 0
    first_dropped: str | None = None
    notice: str | None = None
    chars: list[str] = field(default_factory=list)

    @property
    def vocab_size(self) -> int:
        """Distinct characters plus the BOS token."""
        return len(self.chars) + 1


def cache_dir() -> Path:
    """Where downloaded data lives: `$MICROGPT_TUI_CACHE`, else the platform's user cache."""
    override = os.environ.get("MICROGPT_TUI_CACHE")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

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


def bundled_names(reason: str = "Offline") -> Dataset:
    """The small corpus shipped with the package (common given names, written by the project)."""
    data = resources.files("microgpt_tui.assets").joinpath("names_small.txt").read_bytes()
    notice = (
        f"{reason}: using the bundled corpus of {len(data.split())} names instead of "
        f"makemore's {NAMES_COUNT:,} (pass --data PATH to use your own file)"
    )
    return _dataset(data, "bundled", "bundled names_small.txt", notice)


def verify_names_download(data: bytes) -> None:
    """Refuse a download that is not exactly the expected file."""
    if len(data) != NAMES_BYTES:
        raise DatasetError(f"download has {len(data):,} bytes, expected {NAMES_BYTES:,}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != NAMES_SHA256:
        raise DatasetError(f"download checksum {digest[:12]}… does not match {NAMES_SHA256[:12]}…")


def download(url: str, progress: ProgressFn | None = None, timeout: float = 10.0,
             deadline: float = DOWNLOAD_DEADLINE) -> bytes:
    """Fetch `url` in chunks, reporting progress; network problems raise OSError.

    `timeout` bounds each connect or read (seconds); `deadline` bounds the whole download, so
    a server that sends a byte now and then cannot keep it going: it is checked after every
    read, so TimeoutError comes at most `timeout` seconds after it.
    """
    import urllib.request  # lazily: it costs ~50 ms at start-up and most runs never download

    give_up_at = time.monotonic() + deadline
    with urllib.request.urlopen(url, timeout=min(timeout, deadline)) as response:  # noqa: S310
        total = int(response.headers.get("Content-Length") or NAMES_BYTES)
        chunks: list[bytes] = []
        received = 0
        # read1: whatever has arrived (read(n) would wait for all n bytes, past any deadline)
        while chunk := response.read1(16384):
            chunks.append(chunk)
            received += len(chunk)
            if received > MAX_FILE_BYTES:
                raise DatasetError("download is far larger than a names list; stopped")
            if progress:
                progress(received, total)
            if time.monotonic() > give_up_at:
                raise TimeoutError(f"not complete after {deadline:g} s")
    return b"".join(chunks)


def load_names(
    path: str | os.PathLike[str] | None = None,
    *,
    allow_download: bool = True,
    progress: ProgressFn | None = None,
) -> Dataset:
    """Load names by the source order in the module docstring."""
    if path is not None:
        return load_names_from_path(path)
    cached = cache_dir() / "names.txt"
    if cached.exists():
        try:
            return _dataset(read_names_file(cached), "cache", str(cached))
        except DatasetError:
            pass  # a damaged cache is replaced by a fresh download below
    if allow_download:
        url = os.environ.get("MICROGPT_TUI_NAMES_URL", NAMES_URL)
        try:
            data = download(url, progress, deadline=DOWNLOAD_DEADLINE)
            verify_names_download(data)
        except DatasetError as error:
            return bundled_names(f"Download refused ({error})")
        except TimeoutError as error:
            return bundled_names(f"Download too slow ({error})")
        except (OSError, ValueError):
            return bundled_names()
        try:
            atomic_write_bytes(cached, data)
        except OSError as error:
            # The names are good; only the cache is unusable: train now, download next time.
            notice = f"Could not cache names.txt in {cached.parent} ({error.strerror or error})"
            return _dataset(data, "download", url, notice)
        return _dataset(data, "download", str(cached))
    return bundled_names()
