"""The server's connection log: one line per event on the server's terminal (or JSON lines
with --json), and the same as JSON appended to serve-log.jsonl beside the sessions folder."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from ...engine.files import append_line
from ...engine.interview.writeup import plain


class ConnectionLog:
    def __init__(self, path: Path | None, stream: TextIO | None = None,
                 json_lines: bool = False) -> None:
        self.path = path
        self.stream = stream if stream is not None else sys.stderr
        self.json_lines = json_lines
        self.events: list[dict[str, Any]] = []  # kept for tests and the bench (bounded below)

    def event(self, kind: str, who: str | None, address: str, **details: Any) -> None:
        """kind: server, joined, left, refused; details: fingerprint, role, reason, ..."""
        record = {"t": time.time(), "kind": kind, "who": who, "address": address,
                  **{k: v for k, v in details.items() if v not in (None, "")}}
        self.events = [*self.events[-999:], record]
        if self.path is not None:
            try:
                append_line(self.path, json.dumps(record).encode())
            except OSError:
                pass  # the terminal line below still says it
        line = json.dumps(record) if self.json_lines else _words(record)
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass


def _words(record: dict[str, Any]) -> str:
    """The event for the operator's terminal: every field a client chose (a subsystem name, a
    forwarding host, a disconnect message) shown as plain text, never as escape sequences."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record["t"]))
    parts = [stamp, record["kind"]]
    if record.get("who"):
        parts.append(plain(str(record["who"])))
    parts.append(f"from {plain(str(record['address']))}")
    for key in ("role", "fingerprint", "reason", "seconds"):
        if key in record:
            parts.append(f"{key} {plain(str(record[key]))}")
    return " · ".join(parts)
