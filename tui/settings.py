"""The user's remembered choices (the theme), in a small JSON file in the user config folder.

Read through the project's bounded reader and written atomically; a missing, unreadable or
damaged file means "no settings", never an error that stops the app.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..engine.files import atomic_write_bytes

MAX_BYTES = 64 * 1024
SETTINGS_ENV = "MICROGPT_TUI_CONFIG"  # overrides the folder (tests point it at a temp dir)


def settings_path() -> Path:
    folder = os.environ.get(SETTINGS_ENV)
    if not folder:
        from platformdirs import user_config_dir

        folder = user_config_dir("microgpt-tui")
    return Path(folder) / "settings.json"


def load() -> dict[str, str]:
    """The saved settings: string values only; anything unreadable is ignored."""
    path = settings_path()
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return {}
        data = json.loads(path.read_bytes()[:MAX_BYTES].decode("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def update(**changes: str) -> None:
    """Merge `changes` into the settings file; a write that fails is skipped silently (a
    theme not remembered is no reason to interrupt the user)."""
    settings = load()
    settings.update(changes)
    try:
        atomic_write_bytes(settings_path(), json.dumps(settings, indent=2).encode("utf-8"))
    except OSError:
        pass
