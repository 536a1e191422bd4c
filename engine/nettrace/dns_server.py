"""Small DNS servers on 127.0.0.1: authoritative servers for a root, a TLD and a demo zone, and a
recursive resolver with a TTL cache — the name system of the loopback internet.

Each server listens on a random UDP port (and TCP on the same port number, for answers too big
for UDP) and runs in one thread. They answer the way real servers do, so the walk in
`dns_walk.py` walks them exactly as it walks the internet's: the root refers to the TLD, the TLD
refers to the zone, the zone answers with authority; names outside a server's zone are REFUSED.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Self

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from .dns_walk import DnsWalk, NameServer, walk
from .running import StartStop

MAX_CNAMES = 8
_RCODES = {"answer": dns.rcode.NOERROR, "nodata": dns.rcode.NOERROR, "nxdomain": dns.rcode.NXDOMAIN}
UDP_PLAIN_LIMIT = 512  # the classic UDP limit, for queries without EDNS


@dataclass(frozen=True)
class Record:
    """One record. Names and data may be relative to the zone's origin ("www", "A", ...)."""

    name: str
    rtype: str
    data: str
    ttl: int = 300


@dataclass
class Zone:
    """A zone's authoritative data and its delegations.

    `delegations` maps a child zone to its name servers as (ns name, glue address); an address
    of "" means no glue (the name server's name lives in another zone)."""

    origin: str
    records: list[Record] = field(default_factory=list)
    delegations: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    delegation_ttl: int = 86400
    negative_ttl: int = 300  # how long resolvers may cache "no such name" from this zone


class _ZoneData:
    """A Zone turned into dnspython RRsets, indexed for lookups."""

    def __init__(self, zone: Zone) -> None:
        try:
            self.origin = dns.name.from_text(zone.origin)
        except dns.exception.DNSException as exc:
            raise ValueError(f"bad zone origin {zone.origin!r}: {exc}") from None
        self.rrsets: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}
        self.names: set[dns.name.Name] = {self.origin}  # owners, and the empty names above them
        for record in zone.records:
            self._add(record)
        if (self.origin, dns.rdatatype.SOA) not in self.rrsets:
            ns = self.rrsets.get((self.origin, dns.rdatatype.NS))
            primary = ns[0].target.to_text() if ns else f"ns.{zone.origin.rstrip('.')}."
            mailbox = f"hostmaster.{self.origin.to_text()}".replace("..", ".")
            soa = f"{primary} {mailbox} 1 7200 3600 1209600 {zone.negative_ttl}"
            self._add(Record(zone.origin, "SOA", soa, zone.negative_ttl))
        self.cuts: dict[dns.name.Name, dns.rrset.RRset] = {}
        for child, servers in zone.delegations.items():
            name = self._name(child)
            if name == self.origin or not servers:
                raise ValueError(f"bad delegation {child!r} in zone {zone.origin!r}")
            # A child's name servers may be named anywhere; only their glue must be ours.
            ns_names = [dns.name.from_text(server, origin=self.origin) for server, _ in servers]
            self.cuts[name] = dns.rrset.from_text_list(
                name, zone.delegation_ttl, "IN", "NS", [n.to_text() for n in ns_names]
            )
            for server, address in servers:
                if address:
                    rtype = "AAAA" if ":" in address else "A"
                    self._add(Record(server, rtype, address, zone.delegation_ttl))

    def _name(self, text: str) -> dns.name.Name:
        try:
            name = dns.name.from_text(text, origin=self.origin)
        except dns.exception.DNSException as exc:
            raise ValueError(f"bad name {text!r}: {exc}") from None
        if not name.is_subdomain(self.origin):
            raise ValueError(f"{name} is outside zone {self.origin}")
        return name

    def _add(self, record: Record) -> None:
        name = self._name(record.name)
        try:
            rrset = dns.rrset.from_text_list(
                name,
                record.ttl,
                "IN",
                record.rtype,
                [record.data],
                origin=self.origin,
                relativize=False,
            )
        except (dns.exception.DNSException, ValueError) as exc:
            raise ValueError(f"bad record {record}: {exc}") from None
        key = (name, rrset.rdtype)
        if key in self.rrsets:
            self.rrsets[key].union_update(rrset)
        else:
            self.rrsets[key] = rrset
        while name != self.origin:
            self.names.add(name)
            name = name.parent()

    def cut_above(self, name: dns.name.Name) -> dns.rrset.RRset | None:
        """The delegation `name` falls under, if any (the child zone's NS records)."""
        while name != self.origin:
            if name in self.cuts:
                return self.cuts[name]
            name = name.parent()
        return None

    def addresses(self, names: Iterable[dns.name.Name]) -> list[dns.rrset.RRset]:
        return [
            self.rrsets[(name, rdtype)]
            for name in names
            for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)
            if (name, rdtype) in self.rrsets
        ]

    def soa_for_negative_answer(self) -> dns.rrset.RRset:
        soa = self.rrsets[(self.origin, dns.rdatatype.SOA)]
        negative = dns.rrset.RRset(soa.name, soa.rdclass, soa.rdtype)
        negative.update(soa)
        # RFC 2308: the SOA in a negative answer carries the negative-caching TTL itself.
        negative.ttl = min(soa.ttl, soa[0].minimum)
        return negative


class _DnsServer(StartStop):
    """UDP (and TCP, same port number) on one thread; subclasses answer parsed queries."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host, self._port = host, port
        self.queries = 0
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        if self._udp is None:
            raise RuntimeError("the server is not started")
        host, port = self._udp.getsockname()[:2]
        return host, port

    def start(self) -> Self:
        if self._thread is not None:
            return self
        self._udp, self._tcp = _bind_pair(self._host, self._port)
        self._wake = socket.socketpair()
        self._thread = threading.Thread(
            target=self._serve, name=f"{type(self).__name__}:{self.address[1]}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is None or self._wake is None:
            return
        self._wake[1].send(b"x")
        self._thread.join()
        for sock in (self._udp, self._tcp, *self._wake):
            if sock is not None:
                sock.close()
        self._thread = self._wake = self._tcp = None
        self._udp = None



    def respond(self, query: dns.message.Message) -> dns.message.Message:
        raise NotImplementedError

    def _serve(self) -> None:
        assert self._udp is not None and self._wake is not None
        selector = selectors.DefaultSelector()
        selector.register(self._udp, selectors.EVENT_READ)
        selector.register(self._wake[0], selectors.EVENT_READ)
        if self._tcp is not None:
            selector.register(self._tcp, selectors.EVENT_READ)
        buffers: dict[socket.socket, bytearray] = {}
        try:
            while True:
                for key, _ in selector.select():
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is self._wake[0]:
                        return
                    if sock is self._udp:
                        self._serve_udp(sock)
                    elif sock is self._tcp:
                        connection, _ = sock.accept()
                        connection.settimeout(1.0)  # a stalled client cannot hold the thread
                        buffers[connection] = bytearray()
                        selector.register(connection, selectors.EVENT_READ)
                    elif not self._serve_tcp(sock, buffers[sock]):
                        selector.unregister(sock)
                        del buffers[sock]
                        sock.close()
        finally:
            for connection in buffers:
                connection.close()
            selector.close()

    def _serve_udp(self, sock: socket.socket) -> None:
        try:
            wire, peer = sock.recvfrom(65535)
        except OSError:
            return
        reply = self._reply(wire, udp=True)
        if reply is not None:
            try:
                sock.sendto(reply, peer)
            except OSError:
                pass

    def _serve_tcp(self, sock: socket.socket, buffer: bytearray) -> bool:
        """Serve every complete length-prefixed message; False once the connection is done."""
        try:
            data = sock.recv(65535)
        except OSError:
            return False
        if not data:
            return False
        buffer += data
        while len(buffer) >= 2 and len(buffer) >= 2 + int.from_bytes(buffer[:2], "big"):
            size = int.from_bytes(buffer[:2], "big")
            wire = bytes(buffer[2 : 2 + size])
            del buffer[: 2 + size]
            reply = self._reply(wire, udp=False)
            if reply is not None:
                try:
                    sock.sendall(len(reply).to_bytes(2, "big") + reply)
                except OSError:
                    return False
        return True

    def _reply(self, wire: bytes, *, udp: bool) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None  # not a DNS message: nothing sensible to say
        if query.flags & dns.flags.QR:
            return None  # a response, not a query: answering it could start a loop
        self.queries += 1
        limit = 65535
        if udp:
            limit = max(UDP_PLAIN_LIMIT, query.payload) if query.edns >= 0 else UDP_PLAIN_LIMIT
        try:
            return _to_wire(self._answer(query), limit)
        except Exception:  # one bad query must not take the server's thread down
            failure = dns.message.make_response(query)
            failure.set_rcode(dns.rcode.SERVFAIL)
            return failure.to_wire()

    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
        elif len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
        elif query.question[0].rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
        else:
            response = self.respond(query)
        return response


def _to_wire(response: dns.message.Message, limit: int) -> bytes:
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        # Too big for the client's UDP buffer: send the header with TC so it asks over TCP.
        for section in (response.answer, response.authority, response.additional):
            section.clear()
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=limit)


def _bind_pair(host: str, port: int) -> tuple[socket.socket, socket.socket | None]:
    """A UDP socket on a random port and, when the same number is free for TCP, a TCP one."""
    for _ in range(20):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            udp.bind((host, port))
        except OSError:
            udp.close()
            raise
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.bind((host, udp.getsockname()[1]))
            tcp.listen(16)
        except OSError:
            tcp.close()
            if port:
                return udp, None  # a fixed port: UDP alone is enough
            udp.close()
            continue
        return udp, tcp
    raise OSError(f"no port on {host} free for both UDP and TCP")


class AuthoritativeServer(_DnsServer):
    """Answers for one zone: with authority (AA) for its own names, a referral for names under a
    delegation, REFUSED outside the zone."""

    def __init__(self, zone: Zone, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.zone = zone
        self._data = _ZoneData(zone)

    def respond(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        question = query.question[0]
        data, name, rdtype = self._data, question.name, question.rdtype
        if not name.is_subdomain(data.origin):
            response.set_rcode(dns.rcode.REFUSED)
            return response
        cut = data.cut_above(name)
        if cut is not None:
            # Not ours to answer: name the child zone's servers and, as glue, their addresses.
            response.authority.append(cut)
            response.additional.extend(data.addresses(rdata.target for rdata in cut))
            return response
        response.flags |= dns.flags.AA
        for _ in range(MAX_CNAMES):
            found = data.rrsets.get((name, rdtype))
            if found is not None:
                response.answer.append(found)
                if rdtype == dns.rdatatype.NS:
                    response.additional.extend(data.addresses(rdata.target for rdata in found))
                return response
            alias = data.rrsets.get((name, dns.rdatatype.CNAME))
            if alias is None:
                break
            # Chase the alias while it stays in this zone, as real servers do; the resolver
            # takes it from there when it leaves.
            response.answer.append(alias)
            name = alias[0].target
            if not name.is_subdomain(data.origin) or data.cut_above(name) is not None:
                return response
        if name not in data.names:
            response.set_rcode(dns.rcode.NXDOMAIN)
        response.authority.append(data.soa_for_negative_answer())
        return response


@dataclass
class _Cached:
    stored_at: float
    ttl: int
    rcode: dns.rcode.Rcode
    answers: tuple[str, ...]
    authority: tuple[str, ...]


class RecursiveResolver(_DnsServer):
    """What an ISP's resolver does, on loopback: the iterative walk for each recursive query,
    and a cache that keeps final answers (and "no such name") for their TTL.

    `clock` (seconds, monotonic) is injectable so tests can age the cache without sleeping."""

    def __init__(
        self,
        roots: Sequence[NameServer],
        port_for: Callable[[str], int] | None,
        host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = 2.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(host, port)
        self.roots = list(roots)
        self.port_for = port_for
        self.timeout = timeout
        self.clock = clock
        self.cache_hits = 0
        self.walks = 0
        self.last_walk: DnsWalk | None = None  # the latest cache miss's walk, for the screen
        self._cache: dict[tuple[dns.name.Name, dns.rdatatype.RdataType], _Cached] = {}
        self._lock = threading.Lock()

    def flush(self) -> None:
        with self._lock:
            self._cache.clear()

    def respond(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query, recursion_available=True)
        if not query.flags & dns.flags.RD:
            # A resolver serves recursion; the iterative kind of query belongs to servers.
            response.set_rcode(dns.rcode.REFUSED)
            return response
        question = query.question[0]
        key = (question.name, question.rdtype)
        now = self.clock()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and now - cached.stored_at < cached.ttl:
            self.cache_hits += 1
        else:
            cached = self._walk(question.name, question.rdtype, now)
            if cached.ttl > 0:  # failures carry no TTL: they are never cached
                with self._lock:
                    self._cache[key] = cached
        age = int(now - cached.stored_at)
        response.set_rcode(cached.rcode)
        response.answer.extend(_rrsets_from_lines(cached.answers, age))
        response.authority.extend(_rrsets_from_lines(cached.authority, age))
        return response

    def _walk(self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType, now: float) -> _Cached:
        self.walks += 1
        result = walk(
            name.to_text(),
            dns.rdatatype.to_text(rdtype),
            self.roots,
            port_for=self.port_for,
            timeout=self.timeout,
        )
        self.last_walk = result
        rcode = _RCODES.get(result.outcome, dns.rcode.SERVFAIL)  # a failed walk: SERVFAIL
        return _Cached(now, result.ttl or 0, rcode, result.answers, result.authority)


def _rrsets_from_lines(lines: Sequence[str], age: int) -> list[dns.rrset.RRset]:
    """Rendered records back into RRsets, each TTL lowered by the time spent in the cache."""
    groups: dict[tuple[str, str, str], tuple[int, list[str]]] = {}
    for line in lines:
        name, ttl, rdclass, rdtype, data = line.split(None, 4)
        key = (name, rdclass, rdtype)
        smallest, datas = groups.get(key, (int(ttl), []))
        groups[key] = (min(smallest, int(ttl)), [*datas, data])
    return [
        dns.rrset.from_text_list(name, max(0, ttl - age), rdclass, rdtype, datas)
        for (name, rdclass, rdtype), (ttl, datas) in groups.items()
    ]


class DemoDns(StartStop):
    """The loopback name system of the demo internet: a root, the TLD and one zone, each its own
    authoritative server on 127.0.0.1, plus a recursive resolver that walks them.

    Root "." delegates the TLD to "ns.nic.<tld>."; the TLD delegates `zone` to "ns1.<zone>";
    the zone holds `hosts` (label → IPv4 or IPv6 address) and "web" as a CNAME of "www".
    Every server shares the address 127.0.0.1, so `port_for` tells them apart."""

    def __init__(
        self,
        hosts: Mapping[str, str] | None = None,
        zone: str = "demo.test.",
        tld_ttl: int = 86400,
        host_ttl: int = 300,
        *,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 2.0,
    ) -> None:
        hosts = {"www": "127.0.0.1"} if hosts is None else dict(hosts)
        try:
            origin = dns.name.from_text(zone)
        except dns.exception.DNSException as exc:
            raise ValueError(f"bad demo zone {zone!r}: {exc}") from None
        if len(origin.labels) < 3:
            raise ValueError(f"the demo zone {zone!r} needs a TLD above it, like 'demo.test.'")
        self.zone, loopback = origin.to_text(), "127.0.0.1"
        tld = dns.name.Name(origin.labels[-2:]).to_text()
        self._ns_names = {
            "root": "a.root-servers.test.",
            "tld": f"ns.nic.{tld}",
            "zone": f"ns1.{self.zone}",
        }
        root_zone = Zone(
            ".",
            [
                Record(".", "NS", self._ns_names["root"], tld_ttl),
                Record(self._ns_names["root"], "A", loopback, tld_ttl),
            ],
            {tld: [(self._ns_names["tld"], loopback)]},
            delegation_ttl=tld_ttl,
        )
        tld_zone = Zone(
            tld,
            [Record(tld, "NS", self._ns_names["tld"], tld_ttl)],
            {self.zone: [(self._ns_names["zone"], loopback)]},
            delegation_ttl=tld_ttl,
        )
        demo_records = [
            Record(self.zone, "NS", self._ns_names["zone"], tld_ttl),
            Record(self._ns_names["zone"], "A", loopback, tld_ttl),
        ]
        for label, address in hosts.items():
            rtype = "AAAA" if ":" in address else "A"
            demo_records.append(Record(label, rtype, address, host_ttl))
        if "www" in hosts and "web" not in hosts:
            demo_records.append(Record("web", "CNAME", "www", host_ttl))
        self.servers = [
            AuthoritativeServer(root_zone, loopback),
            AuthoritativeServer(tld_zone, loopback),
            AuthoritativeServer(Zone(self.zone, demo_records, negative_ttl=host_ttl), loopback),
        ]
        self.recursive = RecursiveResolver(
            [], self.port_for, loopback, clock=clock, timeout=timeout
        )
        self._ports: dict[str, int] = {}

    @property
    def roots(self) -> list[NameServer]:
        """The demo root server, as root hints for `walk`."""
        name = self._ns_names["root"]
        return [NameServer(name, "127.0.0.1", self.port_for(name))]

    @property
    def resolver(self) -> tuple[str, int]:
        return self.recursive.address

    def port_for(self, ns_name: str) -> int:
        """The port of a demo name server by its name; 53 for any other name."""
        name = ns_name.lower() if ns_name.endswith(".") else ns_name.lower() + "."
        return self._ports.get(name, 53)

    def start(self) -> Self:
        try:
            for role, server in zip(("root", "tld", "zone"), self.servers, strict=True):
                server.start()
                self._ports[self._ns_names[role]] = server.address[1]
            self.recursive.roots = self.roots
            self.recursive.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self.recursive.stop()
        for server in reversed(self.servers):
            server.stop()
        self._ports.clear()


