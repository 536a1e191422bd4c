"""How subcommands talk: human text, or one JSON object per line with --json.

Exit statuses: bad usage or input raises CLIError (one line, exit 2); a failure while running
raises CommandFailed (one line, exit 1); main() prints either. Two things never crash a command:
- the output's encoding: a symbol it cannot encode (`PYTHONIOENCODING=ascii`, `LC_ALL=C`) is
  written in ASCII (≈ as ~=, × as x, π as pi), whatever writes it (use_ascii_fallback);
- a failed write (a full disk, `> /dev/full`) is an OutputError: one line, exit 1.
JSON holds no NaN or Infinity (they are not JSON): a non-finite number is written as null.
"""

from __future__ import annotations

import argparse
import codecs
import json
import math
import re
import sys
import unicodedata
from typing import Any


class CLIError(Exception):
    """Bad usage or input: printed as one line, exit status 2."""


class CommandFailed(Exception):
    """A command that could not finish (an overflow, a failed write): one line, exit status 1."""


class OutputError(CommandFailed):
    """stdout or stderr refused a write (a full disk, an I/O error)."""


def seed_type(text: str) -> int:
    """argparse type for every --seed: a whole number in engine.seeds' one range, 0 … 2^64−1."""
    from ...engine.seeds import SEED_BITS, parse_seed  # here: `--help` imports no engine

    try:
        return parse_seed(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a seed is a whole number from 0 to 2^{SEED_BITS}−1, not {text[:40]!r}"
        ) from None


# The symbols our output uses, in ASCII. Anything else: its accent-free letters (ë → e), or ?.
ASCII_SYMBOLS = {
    "≈": "~=", "−": "-", "–": "-", "—": "--", "×": "x", "·": "*", "→": "->", "←": "<-",
    "↔": "<->", "π": "pi", "✓": "ok", "✗": "FAILED", "µ": "u", "μ": "u", "…": "...",
    "²": "^2", "³": "^3", "ᵀ": "^T", "√": "sqrt", "‖": "||", "≤": "<=", "≥": ">=", "±": "+/-",
    "∞": "inf", "’": "'", "‘": "'", "“": '"', "”": '"',
}
ASCII_FALLBACK = "microgpt-tui-ascii"


def _ascii_for(char: str) -> str:
    if char in ASCII_SYMBOLS:
        return ASCII_SYMBOLS[char]
    plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    return plain or "?"


SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺"
_FROM_SUPERSCRIPT = str.maketrans(SUPERSCRIPTS, "0123456789-+")


def _encode_in_ascii(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    unencodable = error.object[error.start:error.end]
    # A run of superscripts is one exponent: 10⁻⁵¹ → 10^-51 (not 10^-^5^1).
    pieces = re.split(f"([{SUPERSCRIPTS}]+)", unencodable)
    return "".join(
        "^" + piece.translate(_FROM_SUPERSCRIPT) if index % 2 else
        "".join(_ascii_for(char) for char in piece)
        for index, piece in enumerate(pieces)), error.end


codecs.register_error(ASCII_FALLBACK, _encode_in_ascii)


def use_ascii_fallback() -> None:
    """Let stdout and stderr take any text: what their encoding lacks is written in ASCII."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors=ASCII_FALLBACK)


def write(stream, text: str) -> None:
    """Write and flush, so a refused write surfaces here as OutputError.

    BrokenPipeError passes through: a reader that went away (`| head`) is not a failure.
    """
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        raise
    except OSError as error:
        raise OutputError(f"cannot write the output: {error.strerror or error}") from None


def to_json(record: dict[str, Any]) -> str:
    """One JSON line; numpy values as plain numbers, non-finite numbers as null."""
    return json.dumps(_json_ready(record), default=str, allow_nan=False)


def _json_ready(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _json_ready(value.tolist())
    return value


class Output:
    """Writes either text lines or JSON objects, never both."""

    def __init__(self, json_mode: bool = False, stream=None) -> None:
        self.json_mode = json_mode
        self.stream = stream or sys.stdout

    def emit(self, record: dict[str, Any], text: str | None = None) -> None:
        """One result: `record` as a JSON line in --json mode, else `text` (skipped if None)."""
        if self.json_mode:
            write(self.stream, to_json(record) + "\n")
        elif text is not None:
            write(self.stream, text + "\n")

    def text(self, text: str) -> None:
        """Human-only output (tables, notes); silent in --json mode."""
        if not self.json_mode:
            write(self.stream, text + "\n")

    def raw(self, text: str) -> None:
        """Text written as it is, in either mode (a format of its own, such as DOT)."""
        write(self.stream, text)

    @property
    def shows_progress(self) -> bool:
        """Whether a progress bar on stderr would be seen: not in --json mode, not redirected."""
        return not self.json_mode and sys.stderr.isatty()

    def notice(self, text: str) -> None:
        """A one-line notice for people, on stderr so --json stdout stays machine-readable."""
        write(sys.stderr, text + "\n")


def progress_bar(done: int, total: int, width: int = 30) -> str:
    """`[#####.....]`: `done` of `total` as a bar `width` characters wide (brackets aside)."""
    filled = min(width, width * done // max(total, 1))
    return f"[{'#' * filled}{'.' * (width - filled)}]"
