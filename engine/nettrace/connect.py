"""Step 3: the TCP connection, with Happy Eyeballs across the addresses DNS gave.

`connect()` returns once the three-way handshake is done (SYN →, ← SYN-ACK, ACK →): the kernel
reports the socket writable when the SYN-ACK arrives, so the elapsed time is one round trip
plus a little kernel work. With several addresses it races them as RFC 8305 says: families
interleaved (IPv6 first when the resolver put it first), a new attempt every 250 ms while the
earlier ones are still waiting, a failed attempt starting the next at once, and the first to
connect winning. Each attempt is recorded, so the trace can say which address won and why.
"""

from __future__ import annotations

import errno
import selectors
import socket
import time
from dataclasses import dataclass, field

ATTEMPT_DELAY = 0.25  # RFC 8305's recommended "Connection Attempt Delay"
POLL_SECONDS = 0.05  # how often a waiting connect looks at the cancel flag


@dataclass(frozen=True)
class Address:
    """One address DNS gave: its family ("IPv4" / "IPv6") and the socket address to dial."""

    family: str
    host: str
    port: int

    @property
    def sockaddr(self) -> tuple:
        return (self.host, self.port, 0, 0) if self.family == "IPv6" else (self.host, self.port)

    @property
    def socket_family(self) -> int:
        return socket.AF_INET6 if self.family == "IPv6" else socket.AF_INET

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if self.family == "IPv6" else f"{self.host}:{self.port}"


def address_of(host: str, port: int) -> Address:
    return Address("IPv6" if ":" in host else "IPv4", host, port)


@dataclass
class Attempt:
    address: Address
    started: float  # seconds since the connect began
    elapsed: float = 0.0
    outcome: str = "waiting"  # connected | refused | unreachable | timeout | failed | abandoned
    error: str = ""


@dataclass
class Connected:
    """The race's result: the winning socket (None when every attempt failed)."""

    sock: socket.socket | None
    attempts: list[Attempt] = field(default_factory=list)
    elapsed: float = 0.0
    error: str = ""

    @property
    def winner(self) -> Attempt | None:
        return next((a for a in self.attempts if a.outcome == "connected"), None)

    @property
    def why(self) -> str:
        """Why the winner won, in words."""
        winner = self.winner
        if winner is None:
            return ""
        if len(self.attempts) == 1:
            return "the only address tried"
        lost = [a for a in self.attempts if a is not winner]
        if all(a.outcome not in ("abandoned", "waiting") for a in lost):
            return f"the earlier attempts failed ({', '.join(a.outcome for a in lost)})"
        return "it answered first; the slower attempts were abandoned (Happy Eyeballs)"


def interleave(addresses: list[Address]) -> list[Address]:
    """RFC 8305's order: alternate families, starting with the family of the first address."""
    if not addresses:
        return []
    first = addresses[0].family
    same = [a for a in addresses if a.family == first]
    other = [a for a in addresses if a.family != first]
    ordered: list[Address] = []
    for i in range(max(len(same), len(other))):
        ordered += same[i:i + 1] + other[i:i + 1]
    return ordered


def _outcome(code: int) -> str:
    if code == errno.ECONNREFUSED:
        return "refused"
    if code in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        return "unreachable"
    if code == errno.ETIMEDOUT:
        return "timeout"
    return "failed"


def connect(addresses: list[Address], timeout: float = 5.0, cancel=None,
            delay: float = ATTEMPT_DELAY) -> Connected:
    """Race `addresses` (Happy Eyeballs); the winner comes back blocking, with `timeout` set."""
    from .offline import refusal

    began = time.perf_counter()
    result = Connected(None)
    for address in addresses:  # offline: an address off this machine is never dialled
        if refusal(address.host):
            result.attempts.append(Attempt(address, 0.0, outcome="offline",
                                           error=refusal(address.host)))
    ordered = interleave([a for a in addresses if not refusal(a.host)])
    if not ordered:
        result.error = (result.attempts[0].error if result.attempts
                        else "no address to connect to")
        return result
    selector = selectors.DefaultSelector()
    waiting: dict[socket.socket, Attempt] = {}
    next_start = 0.0
    try:
        while True:
            now = time.perf_counter() - began
            if ordered and (now >= next_start or not waiting):
                started = _start(ordered.pop(0), now, selector, waiting, result)
                # An attempt that failed inside connect() itself (no route, no IPv6) starts
                # the next one at once, like a failure reported later does.
                next_start = now + delay if started else now
                continue
            if not waiting:
                break  # every attempt failed
            if now >= timeout:
                for attempt in waiting.values():
                    attempt.outcome, attempt.elapsed = "timeout", now - attempt.started
                result.error = f"timed out after {timeout:g} s waiting for the SYN-ACK"
                break
            if cancel is not None and cancel.is_set():
                result.error = "cancelled"
                break
            wait = min(POLL_SECONDS, timeout - now, (next_start - now) if ordered else POLL_SECONDS)
            for key, _ in selector.select(max(wait, 0.0)):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                attempt = waiting.pop(sock)
                selector.unregister(sock)
                attempt.elapsed = time.perf_counter() - began - attempt.started
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code == 0:
                    attempt.outcome = "connected"
                    result.sock = sock
                    break
                attempt.outcome = _outcome(code)
                attempt.error = errno.errorcode.get(code, str(code))
                sock.close()
                next_start = 0.0  # a failure starts the next attempt at once
            if result.sock is not None:
                break
    finally:
        for sock, attempt in waiting.items():
            if attempt.outcome == "waiting":
                attempt.outcome = "abandoned"
                attempt.elapsed = time.perf_counter() - began - attempt.started
            selector.unregister(sock)
            sock.close()
        selector.close()
    result.elapsed = time.perf_counter() - began
    if result.sock is not None:
        result.sock.setblocking(True)
        result.sock.settimeout(timeout)
    elif not result.error:
        last = result.attempts[-1]
        result.error = (f"connection {last.outcome} by {last.address}" if last.outcome == "refused"
                        else f"{last.address}: {last.outcome} ({last.error})")
    return result


def _start(address: Address, now: float, selector, waiting, result: Connected) -> bool:
    """Begin connecting to `address`; False when the attempt failed at once."""
    attempt = Attempt(address, now)
    result.attempts.append(attempt)
    try:
        sock = socket.socket(address.socket_family, socket.SOCK_STREAM)
    except OSError as error:
        attempt.outcome, attempt.error = "unreachable", str(error)
        return False
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)
    code = sock.connect_ex(address.sockaddr)
    if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
        attempt.outcome, attempt.error = _outcome(code), errno.errorcode.get(code, str(code))
        sock.close()
        return False
    waiting[sock] = attempt
    selector.register(sock, selectors.EVENT_WRITE)
    return True
