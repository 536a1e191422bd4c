"""The names loader: every source, every bad input, and nothing written on failure."""

from __future__ import annotations

import http.server
import os
import threading
from pathlib import Path

import pytest

from microgpt_tui.engine import data
from microgpt_tui.engine.data import DatasetError, load_names, load_names_from_path


def test_full_file_loads_exactly(full_names_path):
    dataset = load_names_from_path(full_names_path)
    assert len(dataset.names) == data.NAMES_COUNT
    assert dataset.vocab_size == 27
    assert dataset.dropped_lines == 0
    assert dataset.names[:3] == ["emma", "olivia", "ava"]


def test_upper_case_is_lowered_and_other_characters_drop_whole_lines(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("Emma\n  OLIVIA \n\nmary-jane\nx1\nzoë\n", encoding="utf-8")
    dataset = load_names_from_path(path)
    assert dataset.names == ["emma", "olivia", "zoë"]
    assert dataset.dropped_lines == 2
    assert dataset.first_dropped == "mary-jane"
    assert dataset.chars == sorted(set("emmaoliviazoë"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"  \n\n \n", "empty"),
        (b"\x00\x01\x02binary", "binary"),
        (b"caf\xe9\n", "not UTF-8"),
        (b"123\n---\nhello world\n", "no usable names"),
    ],
)
def test_bad_files_get_one_clear_line(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(DatasetError) as error:
        load_names(path)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_path_and_directory(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        load_names(tmp_path / "missing.txt")
    with pytest.raises(DatasetError, match="is a directory"):
        load_names(tmp_path)


def test_bad_explicit_path_writes_nothing_to_the_cache(tmp_path):
    with pytest.raises(DatasetError):
        load_names(tmp_path / "missing.txt")
    assert not any(data.cache_dir().glob("*")) if data.cache_dir().exists() else True
    assert not (data.cache_dir() / "names.txt").exists()


def test_offline_falls_back_to_bundled_corpus_with_notice():
    dataset = load_names()  # conftest points downloads at an unreachable address
    assert dataset.source == "bundled"
    assert 200 <= len(dataset.names) <= 1000
    assert dataset.notice and "bundled corpus" in dataset.notice
    assert not (data.cache_dir() / "names.txt").exists()


class _NamesHandler(http.server.BaseHTTPRequestHandler):
    payload = b""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def names_server(monkeypatch):
    """A loopback HTTP server standing in for the dataset's URL."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _NamesHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("MICROGPT_TUI_NAMES_URL", f"http://127.0.0.1:{server.server_port}/n.txt")
    yield _NamesHandler
    server.shutdown()


def test_download_is_verified_cached_atomically_and_reused(names_server, full_names_path):
    names_server.payload = full_names_path.read_bytes()
    seen = []
    dataset = load_names(progress=lambda got, total: seen.append((got, total)))
    assert dataset.source == "download"
    assert len(dataset.names) == data.NAMES_COUNT
    assert seen[-1] == (data.NAMES_BYTES, data.NAMES_BYTES)
    cached = data.cache_dir() / "names.txt"
    assert cached.read_bytes() == names_server.payload
    assert [p.name for p in cached.parent.iterdir()] == ["names.txt"]  # no temp files left
    names_server.payload = b"changed\n"
    assert load_names().source == "cache"


def test_download_that_fails_verification_is_not_cached(names_server):
    names_server.payload = b"emma\nolivia\n"
    dataset = load_names()
    assert dataset.source == "bundled"
    assert "Download refused" in dataset.notice
    assert not (data.cache_dir() / "names.txt").exists()


def test_damaged_cache_is_replaced(names_server, full_names_path):
    cached = data.cache_dir() / "names.txt"
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(b"\x00\x00")
    names_server.payload = full_names_path.read_bytes()
    assert load_names().source == "download"
    assert cached.read_bytes() == names_server.payload


def test_atomic_write_leaves_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "file.bin"
    target.write_bytes(b"old")

    def boom(*_):
        raise OSError("disk full")

    monkeypatch.setattr(data.os, "replace", boom)
    with pytest.raises(OSError):
        data.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_bundled_corpus_is_clean():
    text = (Path(data.__file__).resolve().parent.parent / "assets" / "names_small.txt").read_text()
    names = text.split()
    assert len(names) == len(set(names))
    assert all(name.isalpha() and name.islower() for name in names)


def test_unwritable_cache_still_returns_the_download_with_a_notice(
    names_server, full_names_path, tmp_path, monkeypatch
):
    """Regression: a cache folder that cannot be created raised a traceback after download."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("MICROGPT_TUI_CACHE", str(blocker / "cache"))
    names_server.payload = full_names_path.read_bytes()
    dataset = load_names()
    assert dataset.source == "download"
    assert len(dataset.names) == data.NAMES_COUNT
    assert dataset.notice and "Could not cache" in dataset.notice
    assert dataset.location == os.environ["MICROGPT_TUI_NAMES_URL"]  # where it really came from


def test_a_byte_order_mark_does_not_drop_the_first_name(tmp_path):
    path = tmp_path / "names.txt"
    path.write_bytes("\ufeffEmma\nolivia\n".encode())
    dataset = load_names_from_path(path)
    assert dataset.names == ["emma", "olivia"]
    assert dataset.dropped_lines == 0


def test_an_empty_data_path_says_empty_path(tmp_path, capsys):
    from microgpt_tui.tui.cli.main import main

    assert main(["data", "--data", ""]) == 2
    err = capsys.readouterr().err
    assert "empty path" in err and "directory" not in err and err.count("\n") == 1


class _DrippingHandler(http.server.BaseHTTPRequestHandler):
    """Promises the whole file, then sends one byte at a time, slowly, for as long as asked."""

    stop = threading.Event()

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Length", str(data.NAMES_BYTES))
        self.end_headers()
        try:
            while not self.stop.wait(0.2):
                self.wfile.write(b"a")
                self.wfile.flush()
        except OSError:
            pass  # the client gave up: what the test wants

    def log_message(self, *args):
        pass


def test_a_dripping_download_ends_at_the_deadline_in_the_bundled_corpus(monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DrippingHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("MICROGPT_TUI_NAMES_URL", f"http://127.0.0.1:{server.server_port}/n.txt")
    monkeypatch.setattr(data, "DOWNLOAD_DEADLINE", 1.0)
    _DrippingHandler.stop.clear()
    result: list = []
    worker = threading.Thread(target=lambda: result.append(load_names()), daemon=True)
    worker.start()
    worker.join(30.0)  # far beyond the 1 s deadline, far below a drip's 45,000 s
    _DrippingHandler.stop.set()
    server.shutdown()
    assert not worker.is_alive(), "the download ignored its deadline"
    dataset = result[0]
    assert dataset.source == "bundled"
    assert dataset.notice.startswith("Download too slow (not complete after 1 s)")
    assert not (data.cache_dir() / "names.txt").exists()
