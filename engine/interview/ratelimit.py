"""Failed-login limits per address: after `max_failures` failures within `window` seconds, an
address is refused for `ban` seconds.

Memory stays bounded whoever knocks: an address is forgotten once its failures are older than
the window and any ban is over, and the table holds at most `max_addresses` entries, dropping the
least recently seen (a flood from many addresses can thus free an older ban early: the price of
a fixed memory bound, and such a flood gets one try per address before bans anyway).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Address:
    failures: deque[float] = field(default_factory=deque)  # times of recent failures, oldest first
    banned_until: float = float("-inf")
    last_seen: float = float("-inf")


class FailureLimiter:
    """Counts failed logins per address; `clock` is injectable (tests pass a fake one)."""

    def __init__(self, max_failures: int = 5, window: float = 60.0, ban: float = 300.0,
                 clock: Callable[[], float] = time.monotonic,
                 max_addresses: int = 10_000) -> None:
        if max_failures < 1 or window <= 0 or ban < 0 or max_addresses < 1:
            raise ValueError("max_failures and max_addresses must be ≥ 1, window > 0, ban ≥ 0")
        self.max_failures = max_failures
        self.window = window
        self.ban = ban
        self.clock = clock
        self.max_addresses = max_addresses
        # Least recently seen first: forgetting and dropping both take from the front.
        self._table: OrderedDict[str, _Address] = OrderedDict()

    def __len__(self) -> int:
        """How many addresses are remembered."""
        return len(self._table)

    def allowed(self, address: str) -> bool:
        """Whether `address` may try to log in now (False while it is banned)."""
        now = self.clock()
        self._forget_stale(now)
        entry = self._table.get(address)
        return entry is None or entry.banned_until <= now

    def failed(self, address: str) -> None:
        """Count a failed login from `address`; the `max_failures`-th within the window bans it."""
        now = self.clock()
        self._forget_stale(now)
        entry = self._table.pop(address, None) or _Address()
        entry.last_seen = now
        entry.failures.append(now)
        while entry.failures and entry.failures[0] <= now - self.window:
            entry.failures.popleft()
        if len(entry.failures) >= self.max_failures:
            entry.banned_until = now + self.ban
            entry.failures.clear()  # after the ban, a fresh count
        self._table[address] = entry  # at the end: the most recently seen
        while len(self._table) > self.max_addresses:
            self._table.popitem(last=False)

    def succeeded(self, address: str) -> None:
        """A successful login: the address's failures are forgiven."""
        self._table.pop(address, None)

    def _forget_stale(self, now: float) -> None:
        """Drop addresses from the front whose failures have aged out and whose ban is over.
        Entries behind a banned one wait for it: still bounded by `max_addresses`."""
        while self._table:
            entry = next(iter(self._table.values()))
            if entry.last_seen > now - self.window or entry.banned_until > now:
                return
            self._table.popitem(last=False)
