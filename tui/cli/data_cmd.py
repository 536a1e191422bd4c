"""`microgpt-tui data`: where the names come from, how many, and what was dropped."""

from __future__ import annotations

import argparse

from ...engine.data import NAMES_LICENSE_FILE, DatasetError, load_names
from .output import CLIError, Output

HELP = (
    "Load the names dataset the way training does (--data PATH, else the bundled makemore "
    "names.txt, 32,033 names, checked by SHA-256; nothing is downloaded) and report it."
)


def add_arguments(parser) -> None:
    # SUPPRESS: unset unless given, so the global `microgpt-tui --data PATH data` shows through.
    parser.add_argument(
        "--data", metavar="PATH", default=argparse.SUPPRESS, help="a names file: one name per line"
    )
    # Nothing is downloaded any more: --offline is accepted, unlisted, so old scripts still run.
    parser.add_argument("--offline", action="store_true", help=argparse.SUPPRESS)


def run(args, out: Output) -> int:
    try:
        dataset = load_names(args.data)
    except DatasetError as error:
        raise CLIError(str(error)) from None
    if dataset.notice and dataset.notice != dataset.label:  # the label is stdout's first line
        out.notice(dataset.notice)
    record = {
        "source": dataset.source,
        "label": dataset.label,
        "location": dataset.location,
        "names": len(dataset.names),
        "vocab_size": dataset.vocab_size,
        "chars": "".join(dataset.chars),
        "dropped_lines": dataset.dropped_lines,
        "longest": max(len(n) for n in dataset.names),
    }
    lines = [dataset.label]
    if dataset.source == "bundled":
        lines.append(f"file: {dataset.location} (MIT licence: {NAMES_LICENSE_FILE} beside it)")
    lines += [f"vocabulary: {dataset.vocab_size} tokens = {''.join(dataset.chars)} + BOS",
              f"longest name: {record['longest']} characters"]
    text = "\n".join(lines)
    if dataset.dropped_lines:
        text += (
            f"\ndropped {dataset.dropped_lines:,} lines holding characters other than letters "
            f"(first: {dataset.first_dropped!r})"
        )
    out.emit(record, text)
    return 0
