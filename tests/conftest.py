"""Shared fixtures: the full names file when present, a hermetic cache, the app factory."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FULL_NAMES = REPO.parent / "shared" / "data" / "names.txt"


@pytest.fixture(autouse=True)
def _hermetic_cache(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's real cache, or reaches the network for names."""
    monkeypatch.setenv("MICROGPT_TUI_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("MICROGPT_TUI_NAMES_URL", "http://127.0.0.1:9/unreachable")


@pytest.fixture
def full_names_path() -> Path:
    """makemore's 32,033 names from ../shared when this checkout has it, else skip."""
    if not FULL_NAMES.is_file():
        pytest.skip("../shared/data/names.txt is not beside this checkout")
    return FULL_NAMES


@pytest.fixture
def small_names_path() -> Path:
    """The bundled corpus: always present, small enough for quick training tests."""
    return REPO / "assets" / "names_small.txt"
