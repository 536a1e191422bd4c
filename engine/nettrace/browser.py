"""What a browser keeps between two visits, and how it looks a name up.

A second visit to the same site is faster because of state: the DNS answer is cached, an open
connection (TCP + TLS, with HTTP/2 streams to spare) is reused, and a new connection can resume
the TLS session instead of a full handshake. `Browser` holds exactly that state, so a cold and
a warm visit differ only by what it remembers.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .connect import Address


@dataclass
class Settings:
    timeout: float = 5.0  # seconds each network step may wait
    insecure: bool = False  # skip certificate verification (the trace says so)
    cafile: str | None = None  # more roots to trust, on top of the system's
    cadata: str | None = None  # the same as PEM text (the demo CA, once the user trusts it)
    walk: bool = True  # also walk DNS from the root, as a recursive resolver does
    walk_timeout: float = 1.0  # per query of the walk (a root that does not answer is skipped)
    roots: Sequence[Any] | None = None  # NameServers to start the walk at (None: the real roots)
    port_for: Callable[[str], int] | None = None  # name server → port (the loopback internet)
    resolver: tuple[str, int] | None = None  # a recursive resolver to ask; None: the OS
    follow_redirects: bool = True
    max_redirects: int = 10
    distance_km: float | None = None  # how far the server is, for the speed-of-light floor
    # Empties the resolver's cache for a cold visit (the loopback internet's resolver; the
    # OS's and a real resolver's caches are not ours to empty).
    forget_resolver_cache: Callable[[], None] | None = None


@dataclass
class Resolved:
    addresses: list[Address]
    elapsed: float
    source: str  # "getaddrinfo (the OS resolver)" / "recursive resolver at 127.0.0.1:5353"
    error: str = ""
    ttl: int | None = None
    records: list[str] = field(default_factory=list)


@dataclass
class Pooled:
    """An open connection a later request may reuse."""

    sock: socket.socket
    alpn: str
    http2: Any = None  # the Http2Connection when ALPN chose h2
    remote: str = ""
    tls: dict[str, Any] = field(default_factory=dict)  # the handshake's facts, for the trace

    def alive(self) -> bool:
        """Still good for the next request? Reads, without waiting, whatever arrived while the
        connection sat idle. Nothing (or only TLS session tickets, which the TLS layer takes
        for itself) means open and idle. An EOF or TLS's close_notify means the server closed
        it; bytes nobody asked for mean it is closing (a "408 Request Timeout" before the FIN,
        an HTTP/2 GOAWAY) — peeking at the raw TCP bytes could not tell those from a ticket."""
        if self.http2 is not None and self.http2.closed:
            return False
        timeout = self.sock.gettimeout()
        try:
            self.sock.setblocking(False)
            data = self.sock.recv(65536)
        except (BlockingIOError, ssl.SSLWantReadError):
            return True  # nothing to read: open and idle
        except OSError:  # a reset, a TLS record cut short by the FIN
            return False
        finally:
            try:
                self.sock.settimeout(timeout)
            except OSError:
                pass
        if data and self.http2 is not None:
            return self.http2.idle_data(data)  # PING, SETTINGS: answered; GOAWAY: closed
        return False  # an EOF, or HTTP/1.1 bytes that answer no request of ours

    def close(self) -> None:
        if self.http2 is not None:
            self.http2.close()
        else:
            try:
                self.sock.close()
            except OSError:
                pass


class Browser:
    """The state of one browser across visits: connection pool, TLS sessions, walked names."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.pool: dict[str, Pooled] = {}  # origin → open connection
        self.tls_sessions: dict[tuple[str, int], ssl.SSLSession] = {}
        self.walked: dict[str, float] = {}  # name → when its walk's answer expires (monotonic)
        self.walk_failed: dict[str, float] = {}  # name → until when a failed walk is not retried
        self.visits = 0
        self._context: ssl.SSLContext | None = None

    @property
    def tls_context(self) -> ssl.SSLContext:
        if self._context is None:
            from .tls_step import make_context

            s = self.settings
            self._context = make_context(insecure=s.insecure, cafile=s.cafile, cadata=s.cadata)
        return self._context

    def forget_connections(self) -> None:
        """Close the pool (a new connection next time) but keep the TLS sessions and caches."""
        for pooled in self.pool.values():
            pooled.close()
        self.pool.clear()

    def forget_everything(self) -> None:
        """A cold browser: no connections, no TLS sessions, no DNS answers — and, where the
        resolver is ours to tell (the loopback internet's), its cache emptied too."""
        self.close()
        self.walked.clear()
        self.walk_failed.clear()
        if self.settings.forget_resolver_cache is not None:
            self.settings.forget_resolver_cache()

    def close(self) -> None:
        self.forget_connections()
        self.tls_sessions.clear()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- name lookup ---------------------------------------------------------------------

    def resolve(self, host: str, port: int, cancel=None) -> Resolved:
        from .offline import refusal

        if self.settings.resolver is not None:
            return self._ask_resolver(host, port)
        if refusal(host):
            return Resolved([], 0.0, "nobody: offline, the OS resolver is not asked",
                            refusal(host))
        return _getaddrinfo(host, port, self.settings.timeout, cancel)

    def _ask_resolver(self, host: str, port: int) -> Resolved:
        from .dns_walk import stub_query

        server = self.settings.resolver
        assert server is not None
        began = time.perf_counter()
        addresses: list[Address] = []
        records: list[str] = []
        ttls: list[int] = []
        errors: list[str] = []
        for qtype, family in (("AAAA", "IPv6"), ("A", "IPv4")):  # both asked, as stubs do
            answer = stub_query(host, qtype, server, timeout=self.settings.timeout)
            addresses += [Address(family, a, port) for a in answer.addresses]
            records += list(answer.answers)
            if answer.ttl is not None:
                ttls.append(answer.ttl)
            if answer.error and answer.error not in errors:  # NXDOMAIN is the same for both
                errors.append(answer.error)
        source = f"recursive resolver at {server[0]}:{server[1]}"
        error = "" if addresses else ("; ".join(errors) or f"{host} has no address")
        return Resolved(addresses, time.perf_counter() - began, source, error,
                        min(ttls) if ttls else None, records)


def _getaddrinfo(host: str, port: int, timeout: float, cancel) -> Resolved:
    """The OS resolver, in a thread so a hung lookup can time out or be cancelled."""
    began = time.perf_counter()
    outcome: dict[str, Any] = {}

    def lookup() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            outcome["error"] = error

    worker = threading.Thread(target=lookup, daemon=True, name="getaddrinfo")
    worker.start()
    deadline = began + timeout
    while worker.is_alive() and time.perf_counter() < deadline:
        if cancel is not None and cancel.is_set():
            return Resolved([], time.perf_counter() - began, "getaddrinfo", "cancelled")
        worker.join(0.05)
    elapsed = time.perf_counter() - began
    source = "getaddrinfo (the OS resolver)"
    if worker.is_alive():
        return Resolved([], elapsed, source, f"no answer within {timeout:g} s")
    if "error" in outcome:
        error = outcome["error"]
        reason = getattr(error, "strerror", None) or str(error)
        return Resolved([], elapsed, source, f"{host}: {reason}")
    addresses: list[Address] = []
    for family, _, _, _, sockaddr in outcome["infos"]:
        name = "IPv6" if family == socket.AF_INET6 else "IPv4"
        address = Address(name, str(sockaddr[0]), port)
        if address not in addresses:
            addresses.append(address)
    return Resolved(addresses, elapsed, source)
