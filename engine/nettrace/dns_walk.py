"""The iterative DNS walk: root → TLD → authoritative, one query at a time, each one shown.

This is what a recursive resolver (your ISP's, or 1.1.1.1) does when its cache is cold. It asks
a root server, which does not know the answer but knows who runs the TLD: a *referral* (the NS
records of the child zone in the authority section, their addresses — *glue* — in the
additional section). It asks one of those, which refers it on to the zone's own servers, which
answer with authority (the AA flag). A CNAME sends the walk back to the roots for the alias's
target. A referral without glue (the name server's name lives in another zone) needs a walk of
its own for the name server's address first; those queries appear in the list too.

Every query is plain UDP without the RD ("recursion desired") flag, retried over TCP when the
answer comes back truncated (the TC bit). A server that times out or fails hands the query to the
next server of the same set, as resolvers do; only when the whole set fails does the walk fail.

`stub_query` is the other side: one RD query to a recursive resolver, as the operating system's
stub resolver sends it, which gets the finished answer (often from the resolver's cache).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

# The EDNS buffer size recommended since DNS Flag Day 2020: large enough for most answers, small
# enough to avoid IP fragmentation. Bigger answers come back with TC set and move to TCP.
EDNS_PAYLOAD = 1232
MAX_CNAMES = 8  # a chain longer than this is treated as a loop
MAX_NS_DEPTH = 4  # glueless name servers whose own names need glueless name servers, ...

ADDRESS_TYPES = (dns.rdatatype.A, dns.rdatatype.AAAA)


@dataclass(frozen=True)
class NameServer:
    """One name server: its name (absolute, with the trailing dot), an address and a port."""

    name: str
    address: str  # "" in a referral that came without glue
    port: int = 53

    @property
    def label(self) -> str:
        """'a.root-servers.net. (198.41.0.4)', with the port when it is not 53."""
        where = self.address or "no glue"
        if self.address and self.port != 53:
            where = f"{self.address}:{self.port}"
        return f"{self.name} ({where})"


@dataclass(frozen=True)
class DnsQuery:
    """One query of the walk and what came back. Times in seconds (time.perf_counter), `started`
    relative to the start of the walk."""

    server: NameServer
    qname: str
    qtype: str
    started: float
    elapsed: float
    kind: str  # "referral" | "answer" | "cname" | "nxdomain" | "nodata" | "error" | "timeout"
    zone: str = ""  # referral: the zone delegated; otherwise the zone that answered, if known
    answers: tuple[str, ...] = ()  # rendered records: "www.demo.test. 300 IN A 127.0.0.1"
    referral: tuple[NameServer, ...] = ()  # the next servers, with their glue addresses
    ttl: int | None = None  # the smallest TTL of the answer or referral (negative TTL for NX)
    transport: str = "udp"  # "tcp" when retried over TCP after a truncated UDP answer
    error: str = ""


@dataclass
class DnsWalk:
    """A whole walk: every query in order (nested name-server walks included) and the result."""

    qname: str
    qtype: str
    queries: list[DnsQuery]
    addresses: list[str]  # the final A/AAAA addresses; [] on failure
    cname_chain: list[str]  # [asked name, each alias target in turn]; [] without CNAMEs
    ttl: int | None  # smallest TTL of the final answer, or the negative-caching TTL
    error: str  # "" when ok, else one line
    elapsed: float  # seconds
    outcome: str = ""  # "answer" | "nxdomain" | "nodata" | "error" | "timeout" | "cancelled"
    answers: tuple[str, ...] = ()  # the final answer: CNAME records, then the records asked for
    authority: tuple[str, ...] = ()  # the SOA record of a negative answer (what it is cached by)

    @property
    def ok(self) -> bool:
        return self.error == ""


@dataclass
class StubAnswer:
    """The reply to one recursive (RD) query, as the OS stub resolver gets it."""

    addresses: list[str]
    ttl: int | None
    elapsed: float  # seconds
    rcode: str  # "NOERROR", "NXDOMAIN", "SERVFAIL", ...; "" when no reply came
    error: str  # "" when the name has records of the type asked
    answers: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error == ""


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


# The 13 root server addresses of IANA's root hints file (named.root), IPv4.
ROOT_SERVERS: tuple[NameServer, ...] = tuple(
    NameServer(f"{letter}.root-servers.net.", address)
    for letter, address in (
        ("a", "198.41.0.4"),
        ("b", "170.247.170.2"),
        ("c", "192.33.4.12"),
        ("d", "199.7.91.13"),
        ("e", "192.203.230.10"),
        ("f", "192.5.5.241"),
        ("g", "192.112.36.4"),
        ("h", "198.97.190.53"),
        ("i", "192.36.148.17"),
        ("j", "192.58.128.30"),
        ("k", "193.0.14.129"),
        ("l", "199.7.83.42"),
        ("m", "202.12.27.33"),
    )
)


def parse_query(name: str, qtype: str) -> tuple[dns.name.Name, dns.rdatatype.RdataType]:
    """The absolute DNS name and record type; ValueError with one line for bad input."""
    text = name.strip()
    if not text:
        raise ValueError("empty host name")
    if not text.isascii():
        raise ValueError(f"{name!r} is not ASCII: encode it with IDNA first")
    try:
        qname = dns.name.from_text(text)
    except dns.exception.DNSException as exc:
        raise ValueError(f"bad DNS name {name!r}: {exc}") from None
    try:
        rdtype = dns.rdatatype.from_text(qtype.strip().upper())
    except (dns.exception.DNSException, ValueError):
        raise ValueError(f"unknown DNS record type {qtype!r}") from None
    if dns.rdatatype.is_metatype(rdtype):
        raise ValueError(f"{qtype!r} is a query meta-type, not a record type")
    return qname, rdtype


def render(rrsets: Sequence[dns.rrset.RRset]) -> tuple[str, ...]:
    """One line per record, zone-file style: 'www.demo.test. 300 IN A 127.0.0.1'."""
    return tuple(line for rrset in rrsets for line in rrset.to_text().splitlines())


def negative_ttl(response: dns.message.Message) -> int | None:
    """How long a negative answer may be cached (RFC 2308): min(SOA TTL, SOA minimum)."""
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
            return int(min(rrset.ttl, rrset[0].minimum))
    return None


def walk(
    name: str,
    qtype: str = "A",
    roots: Sequence[NameServer] = ROOT_SERVERS,
    *,
    port_for: Callable[[str], int] | None = None,
    timeout: float = 2.0,
    cancel: CancelFlag | None = None,
    max_queries: int = 40,
    on_query: Callable[[DnsQuery], None] | None = None,
) -> DnsWalk:
    """Resolve `name` iteratively from `roots`, recording every query.

    `port_for(ns_name)` gives the port of a name server learnt from a referral (default 53; the
    loopback internet runs every server on 127.0.0.1 with its own port). `timeout` is per query,
    in seconds. `on_query` is called as each query completes; `cancel` is checked between
    queries. Network failures never raise: they end in `DnsWalk.error`. ValueError for an empty
    or malformed name or an unknown record type.
    """
    qname, rdtype = parse_query(name, qtype)
    if not roots:
        raise ValueError("no root servers to start from")
    walker = _Walker(roots, port_for, timeout, cancel, max_queries, on_query)
    result = walker.resolve(qname, rdtype, depth=0)
    final = result.chain[-1] if result.chain else qname
    addresses = [
        rdata.address
        for rrset in result.rrsets
        if rrset.rdtype in ADDRESS_TYPES and rrset.name == final
        for rdata in rrset
    ]
    ttl = result.negative_ttl if result.outcome in ("nxdomain", "nodata") else None
    if result.outcome == "answer":
        ttl = _smallest_ttl(result.rrsets)
    return DnsWalk(
        qname=qname.to_text(),
        qtype=dns.rdatatype.to_text(rdtype),
        queries=walker.queries,
        addresses=addresses,
        cname_chain=[n.to_text() for n in result.chain],
        ttl=ttl,
        error=result.error,
        elapsed=time.perf_counter() - walker.start,
        outcome=result.outcome,
        answers=render(result.rrsets),
        authority=render(result.authority),
    )


def stub_query(
    name: str, qtype: str, server: tuple[str, int], *, timeout: float = 2.0
) -> StubAnswer:
    """One recursive query (RD set) to the resolver at `server`, UDP then TCP if truncated.

    Never raises for network failures (they end in `error`); ValueError for bad input.
    """
    qname, rdtype = parse_query(name, qtype)
    query = dns.message.make_query(qname, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
    host, port = server
    where = f"{host}:{port}"
    started = time.perf_counter()
    response, _transport, failure = _exchange(query, host, port, timeout)
    elapsed = time.perf_counter() - started
    if response is None:
        return StubAnswer([], None, elapsed, "", f"{failure} asking {where}")
    rcode = dns.rcode.to_text(response.rcode())
    addresses = [
        rdata.address
        for rrset in response.answer
        if rrset.rdtype == rdtype and rdtype in ADDRESS_TYPES
        for rdata in rrset
    ]
    has_data = any(rrset.rdtype == rdtype for rrset in response.answer)
    ttl = _smallest_ttl(response.answer) if has_data else None
    error = ""
    if response.rcode() == dns.rcode.NXDOMAIN:
        error, ttl = f"NXDOMAIN: {qname} does not exist", negative_ttl(response)
    elif response.rcode() != dns.rcode.NOERROR:
        error = f"{rcode} from {where}"
    elif not has_data:
        error = f"NODATA: {qname} has no {dns.rdatatype.to_text(rdtype)} record"
        ttl = negative_ttl(response)
    return StubAnswer(addresses, ttl, elapsed, rcode, error, render(response.answer))


def _exchange(
    query: dns.message.Message, host: str, port: int, timeout: float
) -> tuple[dns.message.Message | None, str, str]:
    """(response, transport, failure): UDP first, TCP when the UDP answer was truncated."""
    transport = "udp"
    try:
        response = dns.query.udp(query, host, timeout=timeout, port=port, ignore_unexpected=True)
        if response.flags & dns.flags.TC:
            transport = "tcp"
            response = dns.query.tcp(query, host, timeout=timeout, port=port)
    except dns.exception.Timeout:
        return None, transport, "timeout"
    except (dns.exception.DNSException, OSError, EOFError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return None, transport, f"{transport.upper()} error ({reason})"
    return response, transport, ""


@dataclass
class _Reply:
    """What one server said, sorted into the walk's vocabulary."""

    kind: str
    zone: str = ""
    rrsets: list[dns.rrset.RRset] = field(default_factory=list)
    aliases: list[dns.name.Name] = field(default_factory=list)  # CNAME targets followed
    referral: tuple[NameServer, ...] = ()
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    ttl: int | None = None
    error: str = ""


@dataclass
class _Result:
    """How one resolution (with its CNAMEs) ended."""

    outcome: str
    rrsets: list[dns.rrset.RRset] = field(default_factory=list)
    chain: list[dns.name.Name] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    negative_ttl: int | None = None
    error: str = ""


class _Walker:
    """The state one walk shares with its nested walks: the clock, the query list, the limits."""

    def __init__(
        self,
        roots: Sequence[NameServer],
        port_for: Callable[[str], int] | None,
        timeout: float,
        cancel: CancelFlag | None,
        max_queries: int,
        on_query: Callable[[DnsQuery], None] | None,
    ) -> None:
        self.roots = list(roots)
        self.port_for = port_for
        self.timeout = timeout
        self.cancel = cancel
        self.max_queries = max_queries
        self.on_query = on_query
        self.start = time.perf_counter()
        self.queries: list[DnsQuery] = []
        # Name servers whose addresses are being looked up further up the stack: asking for one
        # again would loop forever (a zone whose only servers are named inside it, without glue).
        self.resolving: set[dns.name.Name] = set()

    def resolve(self, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType, depth: int) -> _Result:
        """Walk from the roots, and again from the roots for each CNAME target that needs it."""
        rrsets: list[dns.rrset.RRset] = []
        chain: list[dns.name.Name] = [qname]
        target = qname
        while True:
            reply = self._from_roots(target, rdtype, depth)
            rrsets += reply.rrsets
            for alias in reply.aliases:
                if alias in chain or len(chain) > MAX_CNAMES:
                    return _Result("error", rrsets, chain, error=f"CNAME loop at {alias}")
                chain.append(alias)
            if reply.kind != "cname":
                break
            target = chain[-1]
        chain = chain if len(chain) > 1 else []
        final_kinds = ("answer", "nxdomain", "nodata", "timeout", "cancelled")
        outcome = reply.kind if reply.kind in final_kinds else "error"
        return _Result(outcome, rrsets, chain, reply.authority, reply.ttl, reply.error)

    def _from_roots(
        self, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType, depth: int
    ) -> _Reply:
        servers, zone = list(self.roots), dns.name.root
        while True:
            reply = self._ask_set(servers, qname, rdtype, zone)
            if reply.kind != "referral":
                return reply
            zone = dns.name.from_text(reply.zone)
            servers = [server for server in reply.referral if server.address]
            if not servers:
                servers = self._addresses_of(reply.referral, depth)
            if not servers:
                halted = self._halted()
                return _Reply(
                    "cancelled" if halted == "cancelled" else "error",
                    error=halted or f"no address found for the name servers of {zone}",
                )

    def _addresses_of(self, glueless: Sequence[NameServer], depth: int) -> list[NameServer]:
        """Addresses for name servers a referral gave without glue, each by a nested walk."""
        if depth >= MAX_NS_DEPTH:
            return []
        for server in glueless:
            name = dns.name.from_text(server.name)
            if name in self.resolving:
                continue
            self.resolving.add(name)
            try:
                result = self.resolve(name, dns.rdatatype.A, depth + 1)
            finally:
                self.resolving.discard(name)
            final = result.chain[-1] if result.chain else name
            found = [
                replace(server, address=rdata.address)
                for rrset in result.rrsets
                if rrset.rdtype == dns.rdatatype.A and rrset.name == final
                for rdata in rrset
            ]
            if found or self._halted():
                return found
        return []

    def _halted(self) -> str:
        if self.cancel is not None and self.cancel.is_set():
            return "cancelled"
        if len(self.queries) >= self.max_queries:
            return f"gave up after {len(self.queries)} queries"
        return ""

    def _ask_set(
        self,
        servers: Sequence[NameServer],
        qname: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
        zone: dns.name.Name,
    ) -> _Reply:
        """Ask each server of a set in turn until one gives a usable reply."""
        failures: list[str] = []
        last = "error"
        for server in servers:
            halted = self._halted()
            if halted:
                return _Reply("cancelled" if halted == "cancelled" else "error", error=halted)
            reply = self._ask(server, qname, rdtype, zone)
            if reply.kind not in ("timeout", "error"):
                return reply
            failures.append(reply.error)
            last = reply.kind
        return _Reply(last, error="; then ".join(failures))

    def _ask(
        self,
        server: NameServer,
        qname: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
        zone: dns.name.Name,
    ) -> _Reply:
        # No RD flag: we want this server's own knowledge, a referral at most, not its recursion.
        query = dns.message.make_query(qname, rdtype, use_edns=0, payload=EDNS_PAYLOAD, flags=0)
        started = time.perf_counter()
        response, transport, failure = _exchange(query, server.address, server.port, self.timeout)
        elapsed = time.perf_counter() - started
        if response is None:
            kind = "timeout" if failure == "timeout" else "error"
            reply = _Reply(kind, error=f"{failure} asking {server.label}")
        else:
            reply = self._classify(response, qname, rdtype, zone, server)
        self._record(
            DnsQuery(
                server=server,
                qname=qname.to_text(),
                qtype=dns.rdatatype.to_text(rdtype),
                started=started - self.start,
                elapsed=elapsed,
                kind=reply.kind,
                zone=reply.zone,
                answers=render(reply.rrsets),
                referral=reply.referral,
                ttl=reply.ttl,
                transport=transport,
                error=reply.error,
            )
        )
        return reply

    def _record(self, query: DnsQuery) -> None:
        self.queries.append(query)
        if self.on_query is not None:
            self.on_query(query)

    def _classify(
        self,
        response: dns.message.Message,
        qname: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
        zone: dns.name.Name,
        server: NameServer,
    ) -> _Reply:
        """answer, cname, referral, nxdomain, nodata or error, for a server we asked as `zone`'s."""
        rrsets, aliases, name, found = _follow_answer(response, qname, rdtype, zone)
        authority_owner = next((r.name for r in response.authority), None)
        zone_text = (authority_owner or zone).to_text()
        rcode = response.rcode()
        if found:
            return _Reply("answer", zone_text, rrsets, aliases, ttl=_smallest_ttl(rrsets))
        soa = [r for r in response.authority if r.rdtype == dns.rdatatype.SOA]
        negative = negative_ttl(response)
        if rcode == dns.rcode.NXDOMAIN:
            error = f"NXDOMAIN: {name} does not exist"
            return _Reply("nxdomain", zone_text, rrsets, aliases, (), soa, negative, error)
        if rcode != dns.rcode.NOERROR:
            return _Reply("error", error=f"{dns.rcode.to_text(rcode)} from {server.label}")
        if aliases and not (soa and name.is_subdomain(zone)):
            # The alias leads out of this server's zone: start again from the roots for it.
            return _Reply("cname", zone.to_text(), rrsets, aliases, ttl=_smallest_ttl(rrsets))
        delegation = next((r for r in response.authority if r.rdtype == dns.rdatatype.NS), None)
        if delegation is not None and not rrsets and not response.flags & dns.flags.AA:
            child = delegation.name
            if child == zone or not child.is_subdomain(zone) or not name.is_subdomain(child):
                # A referral sideways or upwards would send the walk round in circles.
                return _Reply("error", error=f"lame referral to {child} from {server.label}")
            return self._referral(response, delegation, zone)
        error = f"NODATA: {name} has no {dns.rdatatype.to_text(rdtype)} record"
        return _Reply("nodata", zone_text, rrsets, aliases, (), soa, negative, error)

    def _referral(
        self, response: dns.message.Message, delegation: dns.rrset.RRset, zone: dns.name.Name
    ) -> _Reply:
        servers: list[NameServer] = []
        ttls = [delegation.ttl]
        for rdata in delegation:
            ns_name = rdata.target
            port = self.port_for(ns_name.to_text()) if self.port_for else 53
            # Glue is trusted only inside the referring server's own zone (its bailiwick).
            glue = response.get_rrset(
                response.additional, ns_name, dns.rdataclass.IN, dns.rdatatype.A
            )
            if glue is not None and ns_name.is_subdomain(zone):
                ttls.append(glue.ttl)
                servers += [NameServer(ns_name.to_text(), g.address, port) for g in glue]
            else:
                servers.append(NameServer(ns_name.to_text(), "", port))
        return _Reply(
            "referral", delegation.name.to_text(), referral=tuple(servers), ttl=int(min(ttls))
        )


def _smallest_ttl(rrsets: Sequence[dns.rrset.RRset]) -> int:
    return int(min(rrset.ttl for rrset in rrsets))


def _follow_answer(
    response: dns.message.Message,
    qname: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    zone: dns.name.Name,
) -> tuple[list[dns.rrset.RRset], list[dns.name.Name], dns.name.Name, bool]:
    """Follow a CNAME chain inside one answer section, as far as the server's zone goes.

    Returns (records used, alias targets followed, the last name reached, whether the records
    asked for were found)."""
    rrsets: list[dns.rrset.RRset] = []
    aliases: list[dns.name.Name] = []
    name = qname
    while len(aliases) <= MAX_CNAMES:
        found = response.get_rrset(response.answer, name, dns.rdataclass.IN, rdtype)
        if found is not None:
            return rrsets + [found], aliases, name, True
        alias = response.get_rrset(response.answer, name, dns.rdataclass.IN, dns.rdatatype.CNAME)
        if alias is None:
            break
        rrsets.append(alias)
        name = alias[0].target
        aliases.append(name)
        if not name.is_subdomain(zone) or name in aliases[:-1] or name == qname:
            break  # data for names outside the server's zone is not its to give
    return rrsets, aliases, name, False
