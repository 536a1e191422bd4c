"""How subcommands talk: human text, or one JSON object per line with --json; errors exit 2."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

MAX_SEED = 2**63 - 1  # fits every generator the features use (random, numpy's SeedSequence)


class CLIError(Exception):
    """Bad usage or input: printed as one line, exit status 2."""


def seed_type(text: str) -> int:
    """argparse type for seeds: an integer in 0 … 2^63−1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed is a whole number, not {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"a seed is between 0 and 2^63−1, not {value}")
    return value


class Output:
    """Writes either text lines or JSON objects, never both."""

    def __init__(self, json_mode: bool = False, stream=None) -> None:
        self.json_mode = json_mode
        self.stream = stream or sys.stdout

    def emit(self, record: dict[str, Any], text: str | None = None) -> None:
        """One result: `record` as a JSON line in --json mode, else `text` (skipped if None)."""
        if self.json_mode:
            self.stream.write(json.dumps(record, default=_jsonable) + "\n")
        elif text is not None:
            self.stream.write(text + "\n")
        self.stream.flush()

    def text(self, text: str) -> None:
        """Human-only output (tables, notes); silent in --json mode."""
        if not self.json_mode:
            self.stream.write(text + "\n")
            self.stream.flush()

    @property
    def shows_progress(self) -> bool:
        """Whether a progress bar on stderr would be seen: not in --json mode, not redirected."""
        return not self.json_mode and sys.stderr.isatty()

    def download_progress(self):
        """A progress callback drawing a bar on stderr, or None when nobody would see it."""
        return _draw_download_progress if self.shows_progress else None

    def notice(self, text: str) -> None:
        """A one-line notice for people, on stderr so --json stdout stays machine-readable."""
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


def progress_bar(done: int, total: int, width: int = 30) -> str:
    """`[#####.....]`: `done` of `total` as a bar `width` characters wide (brackets aside)."""
    filled = min(width, width * done // max(total, 1))
    return f"[{'#' * filled}{'.' * (width - filled)}]"


def _draw_download_progress(received: int, total: int) -> None:
    sys.stderr.write(
        f"\rdownloading names.txt {progress_bar(received, total)} {received:,}/{total:,} bytes"
    )
    if received >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
