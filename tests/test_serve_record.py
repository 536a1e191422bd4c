"""Notes and the record survive a dropped connection and a server killed with SIGKILL."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ssh_harness import Keys, connect, open_screen

from microgpt_tui.tui.cli.main import main as cli

NOTES_KEY = b"\x0e"  # Ctrl+N: the notes panel




def start_server(keys: Keys, tmp_path: Path) -> tuple[subprocess.Popen, int]:
    command = [sys.executable, "-m", "microgpt_tui", "serve", "--json", "--port", "0", "--pair",
               "--authorized-keys", str(keys.authorize("authorized", "cal")),
               "--interviewer-keys", str(keys.authorize("interviewers", "ivy")),
               "--host-key", str(tmp_path / "host_key")]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              env=dict(os.environ), text=True, start_new_session=True)
    line = server.stdout.readline() if server.stdout else ""
    return server, int(json.loads(line)["port"])


async def wait_for_file_text(folder: Path, name: str, text: str, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in folder.glob(f"*/{name}"):
            if text in path.read_text(errors="replace"):
                return path
        await asyncio.sleep(0.1)
    raise AssertionError(f"{text!r} never reached a {name} under {folder}")


async def test_notes_and_the_record_survive_a_dropped_connection_and_a_killed_server(
        keys, tmp_path, capsys):
    sessions = Path(os.environ["MICROGPT_TUI_SESSIONS"])
    server, port = start_server(keys, tmp_path)
    try:
        conn = await connect(port, keys.key("cal"), "cal")
        screen = await open_screen(conn)
        await screen.wait_for("Six")
        screen.press("3")
        await screen.wait_for("Monte Carlo pi")
        screen.press(NOTES_KEY)
        await screen.wait_for("Notes")
        await screen.settle()
        screen.press("Knows the 1/sqrt(n) error.")
        await screen.wait_for("1/sqrt(n)")
        conn.abort()  # the candidate's connection drops mid-interview
        await wait_for_file_text(sessions, "notes.md", "Knows the 1/sqrt(n) error.")
        await wait_for_file_text(sessions, "record.jsonl", '"kind":"left"')
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # the server and its apps, with no warning
        server.wait()
    record = await wait_for_file_text(sessions, "record.jsonl", '"kind":"screen"')
    session_id = record.parent.name
    assert cli(["notes", "show", session_id]) == 0
    writeup = capsys.readouterr().out
    for expected in ("cal", "Knows the 1/sqrt(n) error.", "pi"):
        assert expected in writeup
