"""Random bytes, not only named keys, into the real app in a pseudo-terminal: it keeps running.

Beside the random-keypress test (tests/test_random_keys.py), which sends Textual key events,
this writes raw bytes to a pty as a flood of line noise or a cat'ed binary file would: broken
escape sequences, control characters, invalid UTF-8. The app runs as a user starts it
(`microgpt-tui --data names`) on home and on each built screen (opened with its key first),
and must still be running afterwards; then Ctrl+Q must end it with status 0 and no traceback.

Bytes that quit on purpose are left out of the noise: `q` and Ctrl+Q quit, and Ctrl+P opens the
palette, where noise ending in Enter could pick "Quit". The palette gets its own check: noise
typed into it and Ctrl+Q while its search may still be running (the shutdown race that crashed
the app). What this test found in Textual is guarded in tui/textual_fixes.py: a byte that is
not UTF-8 stopped the app; digits then a letter in a number field froze it for minutes.
"""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path

import pytest

from microgpt_tui.tui.bench import pty_app
from microgpt_tui.tui.bench.pty_app import ANSI_ESCAPE, PtyApp

REPO = Path(__file__).resolve().parent.parent
NAMES = REPO / "assets" / "names_small.txt"

BYTES_PER_SCREEN = 3000
CHUNK = 50  # bytes per write: a burst, then the output is drained so the app never blocks
CTRL_P, CTRL_Q = b"\x10", b"\x11"
LEFT_OUT = frozenset(b"q" + CTRL_Q + CTRL_P)
NOISE = bytes(byte for byte in range(256) if byte not in LEFT_OUT)

# Screen → the keys that open it from home (question 5's second part is one `]` away).
SCREENS = {"home": "", "pi": "3", "backprop": "5", "training": "5]", "cuda": "6",
           "matmul": "2", "url": "4", "bits": "1", "light": "1]", "sort": "1]]"}


def _noise(rng: random.Random, count: int) -> bytes:
    return bytes(rng.choice(NOISE) for _ in range(count))


@pytest.fixture
def start_app(tmp_path, monkeypatch):
    """Start `microgpt-tui --data names_small.txt` in an 80×24 pty, its files in tmp_path."""
    monkeypatch.setattr(pty_app, "TAIL_BYTES", 2**20)  # room for a whole traceback panel
    apps: list[PtyApp] = []

    def start() -> PtyApp:
        code = (
            "import faulthandler, signal, sys\n"
            "faulthandler.register(signal.SIGUSR1, all_threads=True)  # see _quits_cleanly\n"
            "from microgpt_tui.tui.cli.main import main\n"
            f"sys.exit(main(['--data', {str(NAMES)!r}]))\n"
        )
        env = {
            "MICROGPT_TUI_CACHE": str(tmp_path / "cache"),
            "MICROGPT_TUI_CONFIG": str(tmp_path / "config"),
        }
        app = PtyApp(code, env=env)
        apps.append(app)
        app.settle(quiet=0.5, limit=20)
        return app

    yield start
    for app in apps:
        app.release()


def _send(app: PtyApp, data: bytes) -> None:
    """Write `data` in bursts, draining the terminal between them; fail if the app has gone."""
    try:
        for start in range(0, len(data), CHUNK):
            os.write(app.master, data[start:start + CHUNK])  # raw bytes (press() encodes text)
            app.read_for(0.02)
        app.read_for(1.0)  # what the last bursts set off
    except (OSError, RuntimeError):  # the pty closed: the app has gone
        pass
    assert app.process.poll() is None, f"the app stopped: {app.last_words()}"


def _quits_cleanly(app: PtyApp, keys: bytes = CTRL_Q) -> None:
    """`keys` (ending in Ctrl+Q) end the app with status 0 and no traceback."""
    os.write(app.master, keys)
    try:
        status = app.wait_for_exit(timeout=30)
    except RuntimeError:  # a hang: say where every thread is
        app._tail = b""
        os.kill(app.process.pid, signal.SIGUSR1)
        app.read_for(2)
        pytest.fail("Ctrl+Q did not end the app in 30 s:\n" + app._tail.decode(errors="replace"))
    said = _traceback(app)
    assert status == 0 and not said, f"exit status {status}:\n{said}"


def _traceback(app: PtyApp) -> str:
    """The traceback the app printed, without its box and blank lines ("" if none)."""
    text = ANSI_ESCAPE.sub("", app._tail.decode(errors="replace"))
    start = text.rfind("Traceback")
    if start < 0:
        return ""
    lines = (line.strip(" │╭╮╰╯─") for line in text[start:].splitlines())
    return "\n".join(line for line in lines if line)


# As in test_random_keys: a rare timing race can show up in one run and not the next; it is
# retried once and still reported as RERUN. Known: R pressed again before the reset screen has
# mounted (the Cuda screen's on_mount then finds no widgets; `a` there raises MountError).
@pytest.mark.flaky(reruns=1)
@pytest.mark.parametrize("screen_id", list(SCREENS))
def test_garbage_bytes_leave_the_app_running(start_app, screen_id):
    app = start_app()
    for key in SCREENS[screen_id]:
        app.press(key)
        app.settle(quiet=0.3, limit=10)
    rng = random.Random(f"garbage-{screen_id}")  # a string seed: the same bytes every run
    _send(app, _noise(rng, BYTES_PER_SCREEN))
    _quits_cleanly(app)


def test_garbage_in_the_palette_then_ctrl_q(start_app):
    app = start_app()
    rng = random.Random("garbage-palette")
    no_enter = bytes(byte for byte in NOISE if byte not in b"\r\n")  # Enter could pick "Quit"
    for _ in range(5):
        _send(app, CTRL_P + bytes(rng.choice(no_enter) for _ in range(40)))
        app.press("\x1b")  # Esc closes the palette for the next round
    # Ctrl+Q in the same burst as the search it interrupts: the palette's worker races shutdown.
    _quits_cleanly(app, CTRL_P + b"mat" + CTRL_Q)
