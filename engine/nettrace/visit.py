"""A visit: everything that happens after Enter, one timed step at a time.

`visit_steps()` is a generator: each `next()` runs one phase for real and yields its `Step`
(the screen's step-through mode pulls one step per key; a full run pulls them all). The steps
of a request are parse → DNS → the DNS walk → TCP → TLS → HTTP, then either a redirect (the
next request, its own hop) or the render. A failure ends the visit at the step where it
happened, with the reason; the walk alone never ends it (it only shows what a resolver does).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urljoin

from ..light import farthest_km, round_trip_floor
from .browser import Browser, Pooled
from .connect import address_of, connect
from .http1 import HttpError, HttpResult, exchange, request_bytes
from .steps import Hop, Step, Visit
from .url_parse import DEFAULT_PORTS, ParsedUrl, parse_url

REDIRECTS = (301, 302, 303, 307, 308)
WALK_ROOTS = 3  # real root servers tried before the walk gives up (port 53 is often blocked)
WALK_RETRY_SECONDS = 300.0  # a failed walk is not tried again for this long


class _Clock:
    """The visit's time: network and protocol work only. Time spent beside it (a person
    reading a step before pressing `n`, work done only to show something) is taken out."""

    def __init__(self) -> None:
        self.began = time.perf_counter()
        self.last_hold = 0.0  # how long the caller held the step before this one

    def now(self) -> float:
        return time.perf_counter() - self.began

    @contextmanager
    def aside(self) -> Iterator[None]:
        """Work that is not the visit's: the clock stands still while it runs."""
        began = time.perf_counter()
        try:
            yield
        finally:
            self.began += time.perf_counter() - began


def run_visit(typed: str, browser: Browser, cancel=None,
              on_step: Callable[[Step], None] | None = None) -> Visit:
    """Every step of a visit; `on_step` sees each as it completes."""
    visit = Visit(typed)
    for step in visit_steps(typed, browser, visit, cancel):
        if on_step is not None:
            on_step(step)
    return visit


def visit_steps(typed: str, browser: Browser, visit: Visit, cancel=None) -> Iterator[Step]:
    """Run the visit, yielding each step as it completes; `visit` is filled in as it goes."""
    visit.run = browser.visits
    browser.visits += 1
    # What a browser has ready before anyone types: the trust store and its protocol code.
    # Loading them (tens of ms on first use) is not the network's time, so not the steps'.
    browser.tls_context  # noqa: B018
    import h2.connection  # noqa: F401
    import hyperframe.frame  # noqa: F401

    from . import dns_walk, http2  # noqa: F401
    clock = _Clock()
    url, hop_index, seen = typed, 0, set()
    while True:
        hop = Hop(url)
        visit.hops.append(hop)
        request = _Request(browser, visit, hop, hop_index, clock, cancel)
        for step in request.steps(url, first=hop_index == 0):
            hop.steps.append(step)
            if not step.ok and step.fatal and not visit.error:
                visit.error = f"{step.phase.upper()}: {step.error}"
                visit.failed_phase = step.phase
            held = time.perf_counter()
            yield step
            # While the caller holds the step (a person reading it before pressing `n`), the
            # visit's clock stands still: the waterfall shows network time, not reading time.
            clock.last_hold = time.perf_counter() - held
            clock.began += clock.last_hold
            if cancel is not None and cancel.is_set():
                visit.cancelled = True
                return
        location = request.redirect_to
        if location is None or visit.error:
            return
        # The URL as fetched (normalised), before the check: a page that redirects to itself
        # is a loop at once, and a loop back to the URL as typed is seen as one.
        seen.add(request.fetched or url)
        if location in seen or hop_index + 1 > browser.settings.max_redirects:
            why = "a redirect loop" if location in seen else (
                f"more than {browser.settings.max_redirects} redirects")
            visit.error = f"HTTP: {why} ({location})"
            visit.failed_phase = "http"
            return
        url, hop_index = location, hop_index + 1


class _Request:
    """The steps of one request (one hop)."""

    def __init__(self, browser: Browser, visit: Visit, hop: Hop, index: int, clock: _Clock,
                 cancel) -> None:
        self.browser, self.visit, self.hop, self.index = browser, visit, hop, index
        self.clock, self.cancel = clock, cancel
        self.settings = browser.settings
        self.redirect_to: str | None = None
        self.fetched: str | None = None  # the URL as parsed and fetched

    def _step(self, phase: str, title: str, started: float, elapsed: float | None = None,
              **fields) -> Step:
        """A step from `started` to now, or lasting `elapsed` when the phase timed itself
        more closely (the socket-level time, without the tracer's own bookkeeping)."""
        if elapsed is None:
            elapsed = self.clock.now() - started
        return Step(phase, self.index, title, started, elapsed, **fields)

    def _idle_note(self) -> str:
        """After a long pause between steps, a failure may be the pause's: servers close idle
        connections (the loopback web server after 30 s)."""
        hold = self.clock.last_hold
        return (f" (the connection sat idle {hold:.0f} s between steps; servers close idle "
                "connections)") if hold > 5 else ""

    def steps(self, url: str, first: bool) -> Iterator[Step]:
        started = self.clock.now()
        try:
            parsed = parse_url(url)
        except ValueError as error:
            yield self._step("parse", "not a URL that can be fetched", started, ok=False,
                             error=str(error), detail={"typed": url})
            return
        yield self._step("parse", f"{parsed.scheme} · {parsed.ascii_host} · port {parsed.port}"
                         f" · {parsed.path}", started, detail=_parse_detail(parsed))
        self.fetched = parsed.url
        pooled = self.browser.pool.get(parsed.origin)
        if pooled is not None and not pooled.alive():
            self.browser.pool.pop(parsed.origin).close()
            pooled = None
        if pooled is not None:
            yield from self._reused(parsed, pooled)
        else:
            pooled = yield from self._connect(parsed)
            if pooled is None:
                return
        yield from self._http(parsed, pooled)

    # -- DNS, TCP, TLS -------------------------------------------------------------------

    def _reused(self, parsed: ParsedUrl, pooled: Pooled) -> Iterator[Step]:
        why = f"an open connection to {parsed.origin} is reused"
        # The phases a new connection would have run here, and only those (no walk for an
        # IP address or with the walk switched off; no TLS over http).
        walks = self.settings.walk and not parsed.is_ip
        for phase in ("dns", *(("walk",) if walks else ()), "tcp",
                      *(("tls",) if parsed.scheme == "https" else ())):
            started = self.clock.now()
            detail = {"remote": pooled.remote, **(pooled.tls if phase == "tls" else {})}
            yield Step(phase, self.index, why, started, 0.0, skipped=why,
                       detail=detail)

    def _connect(self, parsed: ParsedUrl):
        host = parsed.ascii_host
        if parsed.is_ip:
            started = self.clock.now()
            addresses = [address_of(host, parsed.port)]
            yield Step("dns", self.index, f"{host} is an address already", started, 0.0,
                       skipped="an IP address needs no DNS",
                       detail={"addresses": [f"{a.family} {a.host}" for a in addresses]})
        else:
            started = self.clock.now()
            resolved = self.browser.resolve(host, parsed.port, self.cancel)
            detail: dict[str, Any] = {"source": resolved.source, "ttl": resolved.ttl,
                      "addresses": [f"{a.family} {a.host}" for a in resolved.addresses],
                      "records": resolved.records}
            if resolved.error:
                yield self._step("dns", f"no address for {host}", started, resolved.elapsed,
                                 ok=False, error=resolved.error, round_trips=1, detail=detail)
                return None
            first = resolved.addresses[0]
            more = f" (+{len(resolved.addresses) - 1} more)" if len(resolved.addresses) > 1 else ""
            yield self._step("dns", f"{host} → {first.host}{more}", started, resolved.elapsed,
                             round_trips=1, detail=detail)
            addresses = resolved.addresses
            if self.settings.walk:
                walk_step = self._walk(host, started)
                if walk_step is not None:
                    yield walk_step
        started = self.clock.now()
        connected = connect(addresses, self.settings.timeout, self.cancel)
        detail = {"attempts": [{"address": str(a.address), "family": a.address.family,
                                "started_ms": round(a.started * 1e3, 3),
                                "elapsed_ms": round(a.elapsed * 1e3, 3),
                                "outcome": a.outcome, "error": a.error or None}
                               for a in connected.attempts], "why": connected.why}
        if connected.sock is None:
            yield self._step("tcp", f"no connection to {parsed.ascii_host}:{parsed.port}",
                             started, ok=False, error=connected.error, round_trips=1,
                             detail=detail)
            return None
        sock = connected.sock
        local = sock.getsockname()
        winner = connected.winner
        assert winner is not None
        detail.update(local=f"{local[0]}:{local[1]}", remote=str(winner.address),
                      **_light(winner.elapsed, winner.address.host, self.settings.distance_km))
        yield self._step("tcp", f"connected to {winner.address} (SYN, SYN-ACK, ACK)", started,
                         round_trips=1, detail=detail)
        pooled = Pooled(sock, "http/1.1", remote=str(winner.address))
        if parsed.scheme == "https":
            pooled = yield from self._tls(parsed, pooled, winner.address)
        return pooled

    def _walk(self, host: str, dns_started: float) -> Step | None:
        """What a recursive resolver does on a cold cache, re-enacted beside the visit: its
        queries are real, but the visit's clock stands still meanwhile and the step is drawn
        under the DNS step it explains (`aside`: not part of the visit's total)."""
        from .dns_walk import ROOT_SERVERS, walk
        from .offline import refusal

        roots = self.settings.roots or ROOT_SERVERS[:WALK_ROOTS]
        now = time.monotonic()
        skip = ""
        if self.browser.walked.get(host, 0.0) > now:
            skip = "the resolver's cache still holds the answer (within its TTL)"
        elif self.browser.walk_failed.get(host, 0.0) > now:
            skip = "the walk from the root failed a moment ago; it is not retried yet"
        elif refusal(roots[0].address):
            skip = refusal(roots[0].address)
        if skip:
            return Step("walk", self.index, skip, dns_started, 0.0, skipped=skip, aside=True)
        with self.clock.aside():
            result = walk(host, "A", roots, port_for=self.settings.port_for,
                          timeout=self.settings.walk_timeout, cancel=self.cancel)
        queries = [{"server": f"{q.server.name} ({q.server.address}:{q.server.port})",
                    "qname": q.qname, "qtype": q.qtype, "kind": q.kind, "zone": q.zone,
                    "answers": list(q.answers),
                    "referral": [f"{ns.name} {ns.address}" for ns in q.referral],
                    "started_ms": round(q.started * 1e3, 3),
                    "elapsed_ms": round(q.elapsed * 1e3, 3), "ttl": q.ttl,
                    "transport": q.transport, "error": q.error or None}
                   for q in result.queries]
        detail = {"queries": queries, "addresses": result.addresses,
                  "cname_chain": result.cname_chain, "ttl": result.ttl}
        if not result.ok:
            self.browser.walk_failed[host] = now + WALK_RETRY_SECONDS
            return Step("walk", self.index, f"the walk from the root failed after "
                        f"{len(result.queries)} queries", dns_started, result.elapsed, ok=False,
                        error=result.error, fatal=False, round_trips=len(result.queries),
                        aside=True, detail=detail)
        if result.ttl:
            self.browser.walked[host] = now + result.ttl
        path = " → ".join(q.zone or q.server.name for q in result.queries if q.kind == "referral")
        return Step("walk", self.index, f"root → {path or '…'} → answer in "
                    f"{len(result.queries)} queries", dns_started, result.elapsed,
                    round_trips=len(result.queries), aside=True, detail=detail)

    def _tls(self, parsed: ParsedUrl, pooled: Pooled, address):
        from .tls_step import handshake, offered_chain

        context = self.browser.tls_context  # built before the visit's clock started
        started = self.clock.now()
        key = (parsed.ascii_host, parsed.port)
        session = self.browser.tls_sessions.get(key)
        result = handshake(pooled.sock, parsed.ascii_host, context, session,
                           self.settings.timeout, self.cancel)
        detail = result.detail()
        detail["insecure"] = self.settings.insecure
        if result.sock is None:
            if result.verify_message:  # show what was refused: read it again, unverified
                with self.clock.aside():  # a second connection only to show it: not timed
                    again = connect([address], self.settings.timeout, self.cancel)
                    if again.sock is not None:
                        chain = offered_chain(again.sock, parsed.ascii_host,
                                              self.settings.timeout)
                        detail["chain"] = [cert.__dict__ for cert in chain]
                        detail["chain_source"] = "as offered, read again without verifying"
            error = result.error if result.verify_message else result.error + self._idle_note()
            yield self._step("tls", f"handshake with {parsed.ascii_host} failed", started,
                             result.elapsed, ok=False, error=error, round_trips=1,
                             detail=detail)
            return None
        alpn = result.alpn or "http/1.1"
        resumed = " · resumed" if result.session_reused else ""
        yield self._step("tls", f"{result.version} · {result.cipher} · ALPN {alpn}{resumed}",
                         started, result.elapsed, round_trips=result.round_trips,
                         detail=detail)
        pooled = Pooled(result.sock, alpn, remote=pooled.remote, tls=detail)
        return pooled

    # -- HTTP, redirects, render -----------------------------------------------------------

    def _http(self, parsed: ParsedUrl, pooled: Pooled) -> Iterator[Step]:
        started = self.clock.now()
        default = parsed.port == DEFAULT_PORTS[parsed.scheme]
        authority = parsed.ascii_host + ("" if default else f":{parsed.port}")
        if ":" in parsed.ascii_host:
            authority = f"[{parsed.ascii_host}]" + ("" if default else f":{parsed.port}")
        try:
            if pooled.alpn == "h2":
                from .http2 import Http2Connection

                if pooled.http2 is None:
                    pooled.http2 = Http2Connection(pooled.sock)
                result = pooled.http2.request(authority, parsed.path, self.settings.timeout,
                                              self.cancel, parsed.scheme)
            else:
                result = exchange(pooled.sock, request_bytes(authority, parsed.path),
                                  self.settings.timeout, self.cancel)
        except (HttpError, OSError) as error:
            self.browser.pool.pop(parsed.origin, None)
            pooled.close()
            yield self._step("http", f"GET {parsed.path}: no response", started, ok=False,
                             error=str(error) + self._idle_note(), round_trips=1,
                             detail={"version": pooled.alpn})
            return
        self._remember(parsed, pooled, result)
        detail = _http_detail(result)
        detail.update(_light(result.ttfb, pooled.remote.rsplit(":", 1)[0].strip("[]"),
                             self.settings.distance_km))
        title = f"{result.version} {result.status} {result.reason}".strip()
        location = result.header("location")
        ok = result.status < 400
        yield self._step("http", f"GET {parsed.path} → {title}", started, result.elapsed, ok=ok,
                         error="" if ok else f"{result.status} {result.reason}".strip(),
                         round_trips=1, detail=detail)
        if result.status in REDIRECTS and location and self.settings.follow_redirects:
            self.redirect_to = urljoin(parsed.url, location)
            return
        yield self._render(result)

    def _remember(self, parsed: ParsedUrl, pooled: Pooled, result: HttpResult) -> None:
        """Keep the connection for the next request, and the TLS session for resumption."""
        sock = pooled.sock
        session = getattr(sock, "session", None)
        if session is not None:
            self.browser.tls_sessions[(parsed.ascii_host, parsed.port)] = session
        if result.keep_alive:
            self.browser.pool[parsed.origin] = pooled
        else:
            self.browser.pool.pop(parsed.origin, None)
            pooled.close()

    def _render(self, result: HttpResult) -> Step:
        from .dom import RENDER_STAGES, dom_outline

        started = self.clock.now()
        content_type = (result.header("content-type") or "").lower()
        if "html" not in content_type:
            why = f"not HTML ({content_type or 'no Content-Type'}): nothing to lay out"
            return Step("render", self.index, why, started, 0.0, skipped=why)
        charset = content_type.partition("charset=")[2].split(";")[0].strip() or "utf-8"
        try:
            html = result.body.decode(charset, errors="replace")
        except LookupError:
            html = result.body.decode("utf-8", errors="replace")
        outline = dom_outline(html)
        # "page_title", not "title": a step's JSON merges its detail beside its own "title".
        detail = {"page_title": outline.title, "elements": outline.elements,
                  "depth": outline.depth,
                  "outline": outline.lines, "subresources": outline.subresources,
                  "truncated": outline.truncated,
                  "stages": [f"{name}: {what}" for name, what in RENDER_STAGES]}
        count = len(outline.subresources)
        more = f", {count} more request{'s' if count > 1 else ''}" if count else ""
        return self._step("render", f"DOM of {outline.elements} elements, depth "
                          f"{outline.depth}{more}", started, detail=detail)


def _parse_detail(parsed: ParsedUrl) -> dict:
    # "fetch_url", not "url": the CLI's JSON lines already say which visit's "url" they are.
    return {"fetch_url": parsed.url, "scheme": parsed.scheme, "host": parsed.host,
            "ascii_host": parsed.ascii_host, "port": parsed.port, "path": parsed.path,
            "search": parsed.is_search, "reason": parsed.reason,
            "international": parsed.international}


def _http_detail(result: HttpResult) -> dict:
    return {"version": result.version, "status": result.status, "reason": result.reason,
            "request": result.request_bytes.decode("latin-1"),
            "headers": [f"{k}: {v}" for k, v in result.headers],
            "ttfb_ms": round(result.ttfb * 1e3, 3), "body_bytes": result.body_size,
            "keep_alive": result.keep_alive, "frames": result.frames}


def _light(round_trip: float, host: str, distance_km: float | None) -> dict:
    """The speed-of-light floor for this round trip, where the distance is known; else how far
    away the server can be at most."""
    if host in ("127.0.0.1", "::1") or host.startswith("127."):
        distance_km = 0.0  # this very machine: the whole round trip is software
    facts: dict = {"rtt_ms": round(round_trip * 1e3, 3),
                   "farthest_km": round(farthest_km(round_trip))}
    if distance_km is not None:
        floor = round_trip_floor(distance_km)
        facts.update(distance_km=distance_km, light_floor_ms=round(floor * 1e3, 3),
                     light_share=round(floor / round_trip, 3) if round_trip > 0 else None)
    return facts


COLD_WARM = ("cold", "warm", "new conn.")


def cold_warm(typed: str, browser: Browser, cancel=None,
              on_visit: Callable[[Visit], None] | None = None) -> list[Visit]:
    """The same URL three times with one browser: cold (nothing remembered); warm (the open
    connection reused: no DNS, TCP or TLS); and with the connection dropped but the caches
    kept (DNS cached, a new TCP connection, the TLS session resumed)."""
    visits: list[Visit] = []
    browser.forget_everything()  # the first visit is cold whatever this browser did before
    for index in range(len(COLD_WARM)):
        if index == 2:
            browser.forget_connections()
        visit = run_visit(typed, browser, cancel)
        visits.append(visit)
        if on_visit is not None:
            on_visit(visit)
        if not visit.ok:
            break
    return visits
