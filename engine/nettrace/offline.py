"""`MICROGPT_TUI_OFFLINE=1`: reach nothing but this machine (the loopback internet).

For a room with no network, for a demo that must not leak a lookup, and for the tests (a random
key may type a URL): the OS resolver is not asked, and no connection or DNS query leaves for an
address that is not loopback. The step where it would have happened says so.
"""

from __future__ import annotations

import ipaddress
import os

ENV = "MICROGPT_TUI_OFFLINE"


def offline() -> bool:
    return os.environ.get(ENV, "").strip() not in ("", "0")


def is_loopback(host: str) -> bool:
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refusal(host: str) -> str:
    """Why `host` may not be reached now (one line), or "" when it may."""
    if offline() and not is_loopback(host):
        return f"offline ({ENV}=1): only this machine is reached, not {host}"
    return ""
