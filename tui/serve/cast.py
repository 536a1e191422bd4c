"""An asciinema v2 recording (`.cast`) of a served screen: a JSON header line, then one
`[seconds, "o", text]` line per chunk of output and `[seconds, "r", "COLSxROWS"]` per resize.
Each line is appended in one write, so a killed server leaves a playable file."""

from __future__ import annotations

import codecs
import json
import time
from pathlib import Path

from ...engine.files import append_line


class CastRecorder:
    def __init__(self, path: Path, size: tuple[int, int], title: str) -> None:
        self.path = path
        self.started = time.monotonic()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        columns, rows = size
        header = {"version": 2, "width": columns, "height": rows, "timestamp": int(time.time()),
                  "title": title, "env": {"TERM": "xterm-256color"}}
        append_line(path, json.dumps(header).encode())

    def _event(self, kind: str, text: str) -> None:
        line = json.dumps([round(time.monotonic() - self.started, 6), kind, text],
                          ensure_ascii=False)
        append_line(self.path, line.encode("utf-8"))

    def output(self, data: bytes) -> None:
        text = self._decoder.decode(data)  # a character split between chunks waits for its end
        if text:
            self._event("o", text)

    def resize(self, size: tuple[int, int]) -> None:
        self._event("r", f"{size[0]}x{size[1]}")
