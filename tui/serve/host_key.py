"""The server's host key: generated on first start and kept, so clients see the same
fingerprint every time (and OpenSSH's known_hosts check means something)."""

from __future__ import annotations

import os
from pathlib import Path

import asyncssh

from ...engine.files import atomic_write_bytes, read_user_file

MAX_KEY_BYTES = 64 * 1024


class HostKeyError(Exception):
    """The host key file exists but cannot be used; one line says why."""


def default_host_key_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("microgpt-tui")) / "ssh_host_ed25519_key"


def load_or_create_host_key(path: Path) -> tuple[asyncssh.SSHKey, bool]:
    """The key at `path`, or a new Ed25519 key saved there (mode 0600); and whether it is new."""
    if path.exists():
        data = read_user_file(path, expected="an SSH private key file", max_bytes=MAX_KEY_BYTES,
                              error=HostKeyError,
                              too_large=lambda p, size: HostKeyError(f"{p}: {size} bytes, "
                                                                     "too large for a key"))
        try:
            return asyncssh.import_private_key(data), False
        except (asyncssh.KeyImportError, ValueError) as error:
            raise HostKeyError(f"{path}: not a usable private key ({error})") from None
    key = asyncssh.generate_private_key("ssh-ed25519")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write_bytes(path, key.export_private_key())  # a new file is created 0600
    os.chmod(path, 0o600)
    return key, True
