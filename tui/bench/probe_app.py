"""The app as the benchmarks run it: `MicroGPTApp` plus probes that report to files.

Only `microgpt-tui bench` starts it, in a pty, as PROBE_APP_CODE; nothing in the product imports
this module. Each probe is off unless its environment variable names a file:

* READY_PROBE_ENV (`bench startup`): at the first frame (Textual's Ready event) write the time
  (`time.time()`) and exit.
* STATE_PROBE_ENV (`bench pi`, `bench responsiveness`): every STATE_SECONDS, when it changed,
  write what the user is looking at as JSON — `screen` (the class name of the top screen),
  `frames` (its `frames_shown`, where it counts the frames it applied), `playing` (its kit
  playback controller is playing), `workers` (thread workers running app-wide) and `focused`
  (the id of the focused widget), plus what the screen's own `bench_probe()` adds (Training:
  its step and state) — replaced atomically, so a reader never sees half of it.

Start-up stays a fair comparison: before the first frame this imports what `microgpt-tui`
(no command) imports — the CLI's parser and the app — and nothing else; the probes import
their helpers only when they first write.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .. import app as app_module
from ..app import MicroGPTApp

READY_PROBE_ENV = "MICROGPT_TUI_READY_PROBE"
STATE_PROBE_ENV = "MICROGPT_TUI_STATE_PROBE"
STATE_SECONDS = 0.05  # a bench sees a screen change within this; cheap enough to go unnoticed

# What the benches run in the pty: the probe app, started as `microgpt-tui` starts the app.
PROBE_APP_CODE = "from microgpt_tui.tui.bench.probe_app import main; main()"


class ProbeApp(MicroGPTApp):
    """MicroGPTApp with the benchmark probes named by the environment switched on."""

    # Textual reads CSS_PATH relative to the subclass's module: point it back beside the app.
    CSS_PATH = [Path(app_module.__file__).parent / path for path in MicroGPTApp.CSS_PATH]
    _last_state: dict | None = None  # what the state probe wrote last

    def on_mount(self) -> None:
        if os.environ.get(STATE_PROBE_ENV):
            self.set_interval(STATE_SECONDS, self._write_state)

    def on_ready(self) -> None:
        ready_probe = os.environ.get(READY_PROBE_ENV)
        if ready_probe:
            _write(ready_probe, repr(time.time()))  # Ready marks the first frame
            self.exit()

    def state(self) -> dict:
        """What the state probe writes: the top screen, its frames, playback, workers, focus."""
        screen = self.screen
        playback = getattr(screen, "playback", None)
        return {
            "screen": type(screen).__name__,
            "frames": getattr(screen, "frames_shown", None),
            "playing": getattr(playback, "playing", None),
            "workers": sum(1 for worker in self.workers if worker.is_running),
            "focused": getattr(self.focused, "id", None),
            **(screen.bench_probe() if hasattr(screen, "bench_probe") else {}),
        }

    def _write_state(self) -> None:
        state = self.state()
        if state != self._last_state:
            _write(os.environ[STATE_PROBE_ENV], json.dumps(state))
            self._last_state = state


def read_state(path: Path) -> dict | None:
    """The state probe's last report; None before its first."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def _write(path: str, text: str) -> None:
    from ...engine.files import atomic_write_bytes

    atomic_write_bytes(Path(path), text.encode())


def main() -> None:
    """Run the probe app with the options `microgpt-tui` (no command) gives the real one."""
    from ..cli.main import build_parser

    args = build_parser().parse_args([])
    ProbeApp(seed=args.seed, data_path=args.data).run()
