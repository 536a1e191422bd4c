"""User files: the bounded reader and the careful atomic writer, and every command that uses them
on special files (devices, FIFOs) without hanging or growing without bound."""

from __future__ import annotations

import io
import os
import resource
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from microgpt_tui.engine import files
from microgpt_tui.engine.files import (
    WriteRefused,
    atomic_write_bytes,
    ensure_writable_target,
    read_user_file,
)

HANG_LIMIT = 30.0  # seconds: generous on 2 shared cores, but a blocked read still fails


class Refused(Exception):
    pass


def read(path, max_bytes: int = 1024, **options) -> bytes:
    return read_user_file(path, expected="a test file", max_bytes=max_bytes, error=Refused,
                          too_large=lambda p, size: Refused(f"{p}: too large ({size})"),
                          **options)


def finishes(function, seconds: float = HANG_LIMIT):
    """Run `function` on a thread; its result or exception, or fail if it is still running."""
    outcome: dict = {}

    def body():
        try:
            outcome["value"] = function()
        except BaseException as error:  # noqa: BLE001 (handed to the test)
            outcome["error"] = error

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    thread.join(seconds)
    return thread, outcome


# --- reading ----------------------------------------------------------------------------------

def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "names.fifo"
    os.mkfifo(fifo)
    thread, outcome = finishes(lambda: read(fifo))
    if thread.is_alive():  # unblock the stuck open so the thread can end, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading a FIFO blocked")
    assert isinstance(outcome.get("error"), Refused)
    assert "FIFO" in str(outcome["error"])


def test_a_device_is_refused_by_kind():
    # /dev/null only: an unbounded reader would never finish /dev/zero in this process (the
    # commands below read /dev/zero and /dev/urandom in a child with limited memory).
    with pytest.raises(Refused, match="is a character device, expected a test file"):
        read("/dev/null")


def test_the_size_a_file_claims_is_not_trusted(tmp_path):
    """/proc files say st_size 0 and hold more: at most max_bytes + 1 bytes are read."""
    status = Path("/proc/self/status")
    if not status.is_file() or status.stat().st_size != 0:
        pytest.skip("needs Linux's /proc, whose files report size 0")
    with pytest.raises(Refused, match="too large"):
        read(status, max_bytes=10)


def test_exactly_the_limit_is_allowed_and_one_more_byte_is_not(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert read(path, max_bytes=10) == b"x" * 10
    with pytest.raises(Refused, match="too large"):
        read(path, max_bytes=9)


def test_empty_path_says_so_not_that_dot_is_a_directory():
    with pytest.raises(Refused) as error:
        read("")
    assert str(error.value) == "empty path, expected a test file"


def test_stdin_only_where_the_caller_allows_it(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"emma\nava\n")))
    with pytest.raises(Refused, match="no such file"):
        read("-")
    assert read("-", allow_stdin=True) == b"emma\nava\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x" * 100)))
    with pytest.raises(Refused, match="too large"):
        read("-", max_bytes=10, allow_stdin=True)


# --- writing ----------------------------------------------------------------------------------

def test_a_symlink_is_refused_and_its_target_untouched(tmp_path):
    real = tmp_path / "real.npz"
    real.write_bytes(b"precious")
    link = tmp_path / "link.npz"
    link.symlink_to(real)
    with pytest.raises(WriteRefused, match="is a symbolic link") as error:
        atomic_write_bytes(link, b"new")
    assert "\n" not in str(error.value)
    assert link.is_symlink() and real.read_bytes() == b"precious"


def test_a_fifo_and_a_directory_are_refused(tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    with pytest.raises(WriteRefused, match="is a FIFO"):
        atomic_write_bytes(fifo, b"new")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(WriteRefused, match="is a directory"):
        atomic_write_bytes(tmp_path, b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.fifo"]  # no temp file left


def test_a_device_is_refused_before_anything_is_written():
    with pytest.raises(WriteRefused, match="is a character device, not a regular file"):
        ensure_writable_target("/dev/null")


def test_an_existing_files_permissions_are_kept(tmp_path):
    path = tmp_path / "run.npz"
    path.write_bytes(b"old")
    path.chmod(0o664)
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o664


def test_an_input_of_the_run_is_never_overwritten(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("emma\n")
    alias = tmp_path / "alias.txt"
    os.link(names, alias)  # the same file under another name
    for target in (names, alias):
        with pytest.raises(WriteRefused, match="is also this run's input"):
            atomic_write_bytes(target, b"PK...", inputs=[None, str(names)])
    assert names.read_text() == "emma\n"
    atomic_write_bytes(tmp_path / "other.npz", b"ok", inputs=[names])  # another path is fine


def test_empty_path_and_a_file_in_the_way_are_refused(tmp_path):
    with pytest.raises(WriteRefused, match="empty path"):
        ensure_writable_target("")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WriteRefused, match="file is not a folder"):
        ensure_writable_target(blocker / "sub" / "c.npz")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_is_refused_before_writing(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(WriteRefused, match="no permission"):
            ensure_writable_target(folder / "x.npz")
    finally:
        folder.chmod(0o700)


def test_abandoned_temp_files_of_our_naming_are_removed_on_the_next_save(tmp_path):
    target = tmp_path / "x.npz"
    stale = tmp_path / ".x.npz.k3j_9a0q.tmp"  # what mkstemp names a killed save's file
    fresh = tmp_path / ".x.npz.abcd1234.tmp"  # maybe another process's save in progress
    foreign = tmp_path / ".x.npz.notours.tmp"
    old = time.time() - files.STALE_TEMP_SECONDS - 60
    for path in (stale, fresh, foreign):
        path.write_bytes(b"half a checkpoint")
    for path in (stale, foreign):
        os.utime(path, (old, old))
    atomic_write_bytes(target, b"whole")
    assert not stale.exists()
    assert fresh.exists() and foreign.exists()
    assert target.read_bytes() == b"whole"


# --- every reader on special files, through the command line ---------------------------------

def _limited_memory() -> None:
    # A reader that trusted st_size would read /dev/zero until this limit, then fail: the test
    # fails instead of exhausting the machine.
    limit = 2 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_bounded(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "microgpt_tui", *argv], capture_output=True,
                          text=True, timeout=HANG_LIMIT * 2, preexec_fn=_limited_memory,
                          env=env, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["data", "--data", "/dev/zero"], "/dev/zero: is a character device"),
        (["sample", "--checkpoint", "/dev/zero"], "/dev/zero: is a character device"),
        (["train", "--resume", "/dev/urandom"], "/dev/urandom: is a character device"),
        (["--data", "/dev/zero"], "/dev/zero: is a character device"),  # the app's pre-check
        (["train", "--data", "/dev/zero"], "/dev/zero: is a character device"),
    ],
)
def test_commands_refuse_devices_at_once(argv, message):
    result = run_bounded(*argv)
    assert result.returncode == 2, result.stderr[-500:]
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_a_fifo_as_data_does_not_hang(tmp_path):
    fifo = tmp_path / "names.fifo"
    os.mkfifo(fifo)
    try:
        result = run_bounded("data", "--data", str(fifo))
    except subprocess.TimeoutExpired:
        pytest.fail("data --data FIFO blocked")
    assert result.returncode == 2 and "is a FIFO (named pipe)" in result.stderr
