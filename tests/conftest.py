"""Shared fixtures: the names files, a hermetic cache and settings folder."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FULL_NAMES = REPO / "assets" / "names.txt"  # makemore's, shipped as the default corpus


def pytest_sessionstart(session) -> None:
    """The strict editable install links each file: one added since it ran cannot be imported.
    Say so once, before the tests fail on a ModuleNotFoundError or a missing stylesheet."""
    spec = importlib.util.find_spec("microgpt_tui.tui")
    installed = Path(spec.submodule_search_locations[0]).parent if spec else None
    if installed is None or installed == REPO:
        return  # not installed, or installed through setuptools' import hook: nothing to miss
    missing = [
        path.relative_to(REPO).as_posix()
        for top in ("engine", "kernels", "tui", "assets")
        for pattern in ("*.py", "*.tcss")
        for path in (REPO / top).rglob(pattern)
        if not (installed / path.relative_to(REPO)).exists()
    ]
    if missing:
        pytest.exit(
            f"{', '.join(missing[:3])}{' …' if len(missing) > 3 else ''} not in the editable "
            "install: run README's install command again",
            returncode=4,
        )


@pytest.fixture(autouse=True)
def _hermetic_cache(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's real cache, settings or interview sessions, or
    reaches the network."""
    monkeypatch.setenv("MICROGPT_TUI_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("MICROGPT_TUI_CONFIG", str(tmp_path_factory.mktemp("config")))
    monkeypatch.setenv("MICROGPT_TUI_SESSIONS", str(tmp_path_factory.mktemp("sessions")))
    # Tests run the same from an ssh login: low-bandwidth mode only where a test asks for it.
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    monkeypatch.delenv("MICROGPT_TUI_LOW_BANDWIDTH", raising=False)
    # The URL screen and `http` reach only this machine (a random key may type a URL).
    monkeypatch.setenv("MICROGPT_TUI_OFFLINE", "1")


@pytest.fixture
def full_names_path() -> Path:
    """makemore's 32,033 names, as bundled in assets/ (the default corpus)."""
    return FULL_NAMES


@pytest.fixture
def small_names_path() -> Path:
    """The small 276-name corpus in assets/: quick training tests and the fuzz."""
    return REPO / "assets" / "names_small.txt"


@pytest.fixture
def keys(tmp_path):
    """SSH keys made on demand by name (tests/ssh_harness.py), for the interview server."""
    from ssh_harness import Keys

    folder = tmp_path / "keys"
    folder.mkdir()
    return Keys(folder)
