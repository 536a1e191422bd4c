"""The names loader: the bundled makemore file by default (verified, no network, no cache), an
explicit file otherwise, every bad input, and nothing written on failure."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import time
from importlib import resources
from pathlib import Path

import pytest

from microgpt_tui.engine import data, files
from microgpt_tui.engine.data import DatasetError, load_names, load_names_from_path

REPO = Path(__file__).resolve().parent.parent


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


def test_the_bundled_file_is_makemores_names_txt_by_size_and_sha256(full_names_path):
    """The file in assets/ and the one the installed package reads are the seed's bytes."""
    installed = resources.files("microgpt_tui.assets")
    for raw in (full_names_path.read_bytes(), installed.joinpath("names.txt").read_bytes()):
        assert len(raw) == data.NAMES_BYTES == 228_145
        assert hashlib.sha256(raw).hexdigest() == data.NAMES_SHA256
    for licence in (REPO / "assets" / data.NAMES_LICENSE_FILE,
                    installed.joinpath(data.NAMES_LICENSE_FILE)):
        text = licence.read_text(encoding="utf-8")
        assert text.startswith("MIT License") and "Copyright (c) 2022 Andrej Karpathy" in text


def test_the_default_is_the_bundled_makemore_file_and_says_so():
    """Regression: with no --data and no network, training got 276 names and overfit."""
    dataset = load_names()
    assert dataset.source == "bundled"
    assert len(dataset.names) == data.NAMES_COUNT and dataset.vocab_size == 27
    assert dataset.names[:3] == ["emma", "olivia", "ava"]
    assert dataset.label == dataset.notice == "bundled: makemore names.txt, 32,033 names"
    assert Path(dataset.location).name == "names.txt"


def test_the_default_reads_no_cache_and_opens_no_connection(monkeypatch):
    """No network surprise: a stale or edited names.txt left in the cache by an older version
    is not read, and nothing tries to connect."""
    stale = data.cache_dir() / "names.txt"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text("stale\nedited\n")

    def no_network(*args, **kwargs):
        raise AssertionError("the names loader opened a connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert len(load_names().names) == data.NAMES_COUNT
    assert stale.read_text() == "stale\nedited\n"  # left as it was


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda raw: raw[:-1], "has 228,144 bytes, expected 228,145"),
        (lambda raw: raw.replace(b"emma", b"emmy", 1), "checksum"),
    ],
)
def test_a_damaged_bundled_file_is_refused_not_replaced(tmp_path, monkeypatch, full_names_path,
                                                        damage, message):
    (tmp_path / "names.txt").write_bytes(damage(full_names_path.read_bytes()))

    class Resources:
        @staticmethod
        def files(package):
            return tmp_path

    monkeypatch.setattr(data, "resources", Resources)
    with pytest.raises(DatasetError) as error:
        load_names()
    assert message in str(error.value) and "--data PATH" in str(error.value)
    assert "\n" not in str(error.value)


def test_the_data_command_names_the_bundled_file_and_its_licence(capsys):
    from microgpt_tui.tui.cli.main import main

    assert main(["data"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "bundled: makemore names.txt, 32,033 names"
    assert lines[1].startswith("file: ") and "names.LICENSE.txt" in lines[1]
    assert err == ""  # the label is on stdout; no second copy on stderr
    assert main(["data", "--offline", "--json"]) == 0  # old scripts' flag: accepted, no effect
    record = json.loads(capsys.readouterr().out)
    assert record["source"] == "bundled" and record["names"] == 32_033
    assert record["label"] == "bundled: makemore names.txt, 32,033 names"


def test_train_at_the_defaults_says_which_data_it_trains_on(capsys):
    from microgpt_tui.tui.cli.main import main

    assert main(["train", "--steps", "2", "--samples", "0"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "Number of docs: 32033"
    assert err == "bundled: makemore names.txt, 32,033 names\n"


async def test_the_training_screen_shows_the_bundled_source():
    from microgpt_tui.tui.app import make_app
    from microgpt_tui.tui.screens.training import TrainingScreen

    said: list[str] = []
    app = make_app(size=(80, 24))  # no data path: the default corpus
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_screen("training")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        original = screen._say
        screen._say = lambda message, error=False: (said.append(message),
                                                    original(message, error))
        screen.form.input("num_steps").value = "3"
        await pilot.press("s")
        deadline = time.monotonic() + 60
        while "bundled: makemore names.txt, 32,033 names" not in said:
            assert time.monotonic() < deadline, said
            await asyncio.sleep(0.05)


def test_atomic_write_leaves_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "file.bin"
    target.write_bytes(b"old")

    def boom(*_):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", boom)
    with pytest.raises(OSError):
        files.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_the_small_corpus_is_clean():
    text = (REPO / "assets" / "names_small.txt").read_text()
    names = text.split()
    assert len(names) == len(set(names))
    assert all(name.isalpha() and name.islower() for name in names)


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


def test_the_cache_folder_needs_no_platformdirs(monkeypatch, tmp_path):
    """Installed with --no-deps on a GPU box (`kernels doctor --gpu-check`), the kernel
    cache falls back to $XDG_CACHE_HOME rather than failing the first compile."""
    import sys

    from microgpt_tui.engine.data import cache_dir

    monkeypatch.delenv("MICROGPT_TUI_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setitem(sys.modules, "platformdirs", None)  # import fails
    assert cache_dir() == tmp_path / "microgpt-tui"
