"""`microgpt-tui data`: where the names come from, how many, and what was dropped."""

from __future__ import annotations

import argparse

from ...engine.data import DatasetError, load_names
from .output import CLIError, Output

HELP = (
    "Load the names dataset the way training does (--data PATH, else the user cache, else a "
    "verified download, else the bundled corpus) and report it."
)


def add_arguments(parser) -> None:
    # SUPPRESS: unset unless given, so the global `microgpt-tui --data PATH data` shows through.
    parser.add_argument(
        "--data", metavar="PATH", default=argparse.SUPPRESS, help="a names file: one name per line"
    )
    parser.add_argument(
        "--offline", action="store_true", help="never download; use the cache or bundled corpus"
    )


def run(args, out: Output) -> int:
    try:
        dataset = load_names(
            args.data,
            allow_download=not args.offline,
            progress=out.download_progress(),
        )
    except DatasetError as error:
        raise CLIError(str(error)) from None
    if dataset.notice:
        out.notice(dataset.notice)
    record = {
        "source": dataset.source,
        "location": dataset.location,
        "names": len(dataset.names),
        "vocab_size": dataset.vocab_size,
        "chars": "".join(dataset.chars),
        "dropped_lines": dataset.dropped_lines,
        "longest": max(len(n) for n in dataset.names),
    }
    text = (
        f"{len(dataset.names):,} names from {dataset.source} ({dataset.location})\n"
        f"vocabulary: {dataset.vocab_size} tokens = {''.join(dataset.chars)} + BOS\n"
        f"longest name: {record['longest']} characters"
    )
    if dataset.dropped_lines:
        text += (
            f"\ndropped {dataset.dropped_lines:,} lines holding characters other than letters "
            f"(first: {dataset.first_dropped!r})"
        )
    out.emit(record, text)
    return 0
