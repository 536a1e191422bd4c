"""The iterative DNS walk and the loopback name servers it walks: referrals, answers, negative
answers, CNAMEs, glueless delegations, dead servers, truncation, the resolver's cache."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from microgpt_tui.engine.nettrace.dns_server import (
    AuthoritativeServer,
    DemoDns,
    Record,
    RecursiveResolver,
    Zone,
)
from microgpt_tui.engine.nettrace.dns_walk import (
    ROOT_SERVERS,
    DnsQuery,
    NameServer,
    stub_query,
    walk,
)

TIMEOUT = 0.5  # only bounds a failure; every loopback answer comes back in milliseconds
LOOPBACK = "127.0.0.1"


@pytest.fixture
def demo() -> Iterator[DemoDns]:
    with DemoDns({"www": LOOPBACK, "expired": LOOPBACK}) as name_system:
        yield name_system


@pytest.fixture
def silent() -> Iterator[tuple[str, int]]:
    """A UDP socket that is bound but never read: a name server that never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOOPBACK, 0))
    yield sock.getsockname()
    sock.close()


@contextmanager
def serve(zones: dict[str, Zone]) -> Iterator[tuple[list[NameServer], Callable[[str], int]]]:
    """Each zone on its own server, keyed by the name server name that serves it; the zone
    served by "a.root." is the root. Yields (roots, port_for)."""
    ports: dict[str, int] = {}
    with ExitStack() as stack:
        for ns_name, zone in zones.items():
            server = stack.enter_context(AuthoritativeServer(zone))
            ports[ns_name] = server.address[1]
        yield [NameServer("a.root.", LOOPBACK, ports["a.root."])], lambda name: ports.get(name, 53)


def root(delegations: dict[str, list[tuple[str, str]]]) -> Zone:
    return Zone(".", [Record(".", "NS", "a.root.")], delegations)


def kinds(queries: list[DnsQuery]) -> list[str]:
    return [query.kind for query in queries]


def test_the_walk_goes_root_then_tld_then_the_zone(demo):
    seen: list[DnsQuery] = []
    result = walk("www.demo.test", "A", demo.roots, port_for=demo.port_for, on_query=seen.append)
    assert result.ok and result.outcome == "answer"
    assert result.qname == "www.demo.test." and result.qtype == "A"
    assert result.addresses == [LOOPBACK] and result.ttl == 300 and result.cname_chain == []
    assert seen == result.queries
    root_query, tld_query, zone_query = result.queries
    assert kinds(result.queries) == ["referral", "referral", "answer"]
    assert [q.zone for q in result.queries] == ["test.", "demo.test.", "demo.test."]
    assert [q.server.name for q in result.queries] == [
        "a.root-servers.test.",
        "ns.nic.test.",
        "ns1.demo.test.",
    ]
    assert tld_query.server == root_query.referral[0]
    assert zone_query.server == NameServer(
        "ns1.demo.test.", LOOPBACK, demo.port_for("ns1.demo.test.")
    )
    assert root_query.ttl == 86400
    assert zone_query.answers == ("www.demo.test. 300 IN A 127.0.0.1",)
    assert all(q.transport == "udp" and q.qname == "www.demo.test." for q in result.queries)
    assert [q.started for q in result.queries] == sorted(q.started for q in result.queries)
    assert [server.queries for server in demo.servers] == [1, 1, 1]


def test_a_name_that_does_not_exist_is_nxdomain_with_the_zones_negative_ttl(demo):
    result = walk("nx.demo.test.", "A", demo.roots, port_for=demo.port_for)
    assert not result.ok and result.outcome == "nxdomain"
    assert result.error == "NXDOMAIN: nx.demo.test. does not exist"
    assert kinds(result.queries) == ["referral", "referral", "nxdomain"]
    assert result.queries[-1].zone == "demo.test."
    assert result.ttl == 300 and result.addresses == []
    assert result.authority[0].startswith("demo.test. 300 IN SOA ns1.demo.test.")


def test_a_name_without_the_type_asked_is_nodata(demo):
    result = walk("www.demo.test", "aaaa", demo.roots, port_for=demo.port_for)
    assert result.outcome == "nodata" and result.qtype == "AAAA"
    assert result.error == "NODATA: www.demo.test. has no AAAA record"
    assert kinds(result.queries) == ["referral", "referral", "nodata"]


def test_an_alias_inside_the_zone_is_chased_by_the_zones_own_server(demo):
    result = walk("web.demo.test", "A", demo.roots, port_for=demo.port_for)
    assert result.ok and result.addresses == [LOOPBACK]
    assert result.cname_chain == ["web.demo.test.", "www.demo.test."]
    assert kinds(result.queries) == ["referral", "referral", "answer"]
    assert result.answers == (
        "web.demo.test. 300 IN CNAME www.demo.test.",
        "www.demo.test. 300 IN A 127.0.0.1",
    )


def test_an_alias_into_another_zone_restarts_from_the_roots():
    zones = {
        "a.root.": root({"test.": [("ns.test.", LOOPBACK)], "cdn.": [("ns.cdn.", LOOPBACK)]}),
        "ns.test.": Zone("test.", [Record("shop", "CNAME", "edge.cdn.", 60)]),
        "ns.cdn.": Zone("cdn.", [Record("edge", "A", "127.0.0.9", 30)]),
    }
    with serve(zones) as (roots, port_for):
        result = walk("shop.test", "A", roots, port_for=port_for, timeout=TIMEOUT)
    assert result.ok and result.addresses == ["127.0.0.9"]
    assert kinds(result.queries) == ["referral", "cname", "referral", "answer"]
    assert result.queries[1].answers == ("shop.test. 60 IN CNAME edge.cdn.",)
    assert [q.qname for q in result.queries] == [
        "shop.test.",
        "shop.test.",
        "edge.cdn.",
        "edge.cdn.",
    ]
    assert result.queries[2].server.name == "a.root."
    assert result.cname_chain == ["shop.test.", "edge.cdn."]
    assert result.ttl == 30


def test_a_cname_loop_ends_in_an_error():
    zones = {
        "a.root.": root({"test.": [("ns.test.", LOOPBACK)], "cdn.": [("ns.cdn.", LOOPBACK)]}),
        "ns.test.": Zone("test.", [Record("a", "CNAME", "b.cdn.")]),
        "ns.cdn.": Zone("cdn.", [Record("b", "CNAME", "a.test.")]),
    }
    with serve(zones) as (roots, port_for):
        result = walk("a.test", "A", roots, port_for=port_for, timeout=TIMEOUT)
    assert result.outcome == "error" and result.error == "CNAME loop at a.test."


def test_a_referral_without_glue_is_resolved_by_a_nested_walk():
    zones = {
        "a.root.": root(
            {"test.": [("ns.test.", LOOPBACK)], "example.": [("ns.example.", LOOPBACK)]}
        ),
        "ns.test.": Zone("test.", delegations={"demo.test.": [("dns.example.", "")]}),
        "ns.example.": Zone("example.", [Record("dns", "A", LOOPBACK)]),
        "dns.example.": Zone("demo.test.", [Record("www", "A", "127.0.0.7")]),
    }
    with serve(zones) as (roots, port_for):
        result = walk("www.demo.test", "A", roots, port_for=port_for, timeout=TIMEOUT)
    assert result.ok and result.addresses == ["127.0.0.7"]
    assert [(q.qname, q.kind) for q in result.queries] == [
        ("www.demo.test.", "referral"),
        ("www.demo.test.", "referral"),
        ("dns.example.", "referral"),
        ("dns.example.", "answer"),
        ("www.demo.test.", "answer"),
    ]
    assert result.queries[1].referral == (NameServer("dns.example.", "", port_for("dns.example.")),)
    assert result.queries[-1].server.address == LOOPBACK


def test_a_zone_whose_only_server_is_named_inside_it_without_glue_fails_instead_of_looping():
    zones = {
        "a.root.": root({"test.": [("ns.test.", LOOPBACK)]}),
        "ns.test.": Zone("test.", delegations={"demo.test.": [("ns.demo.test.", "")]}),
    }
    with serve(zones) as (roots, port_for):
        result = walk("www.demo.test", "A", roots, port_for=port_for, timeout=TIMEOUT)
    assert result.outcome == "error"
    assert result.error == "no address found for the name servers of demo.test."
    assert len(result.queries) == 4  # the walk, then one nested walk that meets the same wall


def test_a_silent_server_hands_the_query_to_the_next_of_its_set(demo, silent):
    dead = NameServer("x.root-servers.test.", *silent)
    result = walk("www.demo.test", "A", [dead, *demo.roots], port_for=demo.port_for, timeout=0.2)
    assert result.ok
    assert kinds(result.queries) == ["timeout", "referral", "referral", "answer"]
    assert (
        result.queries[0].error == f"timeout asking x.root-servers.test. ({LOOPBACK}:{silent[1]})"
    )


def test_when_every_server_of_a_set_is_silent_the_walk_times_out_naming_them(silent):
    first = NameServer("a.root-servers.net.", *silent)
    second = NameServer("b.root-servers.net.", *silent)
    result = walk("www.demo.test", "A", [first, second], timeout=0.2)
    assert result.outcome == "timeout" and result.addresses == []
    assert kinds(result.queries) == ["timeout", "timeout"]
    assert result.error == (
        f"timeout asking a.root-servers.net. ({LOOPBACK}:{silent[1]}); "
        f"then timeout asking b.root-servers.net. ({LOOPBACK}:{silent[1]})"
    )


def test_a_server_that_refuses_is_skipped_like_a_dead_one(demo):
    zone_server = NameServer("ns1.demo.test.", LOOPBACK, demo.port_for("ns1.demo.test."))
    result = walk("www.example", "A", [zone_server, *demo.roots], port_for=demo.port_for)
    assert kinds(result.queries) == ["error", "nxdomain"]
    assert result.queries[0].error == f"REFUSED from {zone_server.label}"
    assert result.queries[1].zone == "."


def test_an_answer_too_big_for_udp_comes_back_truncated_and_is_asked_again_over_tcp():
    many = [Record("many", "A", f"127.0.{i // 200}.{i % 200 + 1}") for i in range(120)]
    zones = {
        "a.root.": root({"test.": [("ns.test.", LOOPBACK)]}),
        "ns.test.": Zone("test.", many),
    }
    with serve(zones) as (roots, port_for):
        result = walk("many.test", "A", roots, port_for=port_for, timeout=TIMEOUT)
        plain = dns.query.udp(
            dns.message.make_query("many.test.", "A"), LOOPBACK, TIMEOUT, port_for("ns.test.")
        )
    assert plain.flags & dns.flags.TC and not plain.answer
    assert result.ok and len(result.addresses) == 120
    assert [q.transport for q in result.queries] == ["udp", "tcp"]


def test_the_recursive_resolver_caches_answers_for_their_ttl(demo):
    now = [1000.0]
    resolver = RecursiveResolver(demo.roots, demo.port_for, timeout=TIMEOUT, clock=lambda: now[0])
    with resolver:
        first = stub_query("www.demo.test", "A", resolver.address, timeout=TIMEOUT)
        assert first.ok and first.addresses == [LOOPBACK] and first.ttl == 300
        assert (resolver.walks, resolver.cache_hits) == (1, 0)
        assert resolver.last_walk is not None and len(resolver.last_walk.queries) == 3

        now[0] += 100
        second = stub_query("www.demo.test", "A", resolver.address, timeout=TIMEOUT)
        assert second.addresses == [LOOPBACK] and second.ttl == 200
        assert (resolver.walks, resolver.cache_hits) == (1, 1)
        assert demo.servers[0].queries == 1  # the root was not asked again

        now[0] += 200  # 300 s after the first answer: its TTL has run out
        stub_query("www.demo.test", "A", resolver.address, timeout=TIMEOUT)
        assert (resolver.walks, resolver.cache_hits) == (2, 1)

        resolver.flush()
        stub_query("www.demo.test", "A", resolver.address, timeout=TIMEOUT)
        assert resolver.walks == 3


def test_the_resolver_caches_no_such_name_too_and_refuses_iterative_queries(demo):
    now = [0.0]
    resolver = RecursiveResolver(demo.roots, demo.port_for, timeout=TIMEOUT, clock=lambda: now[0])
    with resolver:
        for _ in range(2):
            answer = stub_query("nx.demo.test", "A", resolver.address, timeout=TIMEOUT)
            assert answer.rcode == "NXDOMAIN" and answer.ttl == 300
        assert (resolver.walks, resolver.cache_hits) == (1, 1)
        query = dns.message.make_query("www.demo.test.", "A", flags=0)
        reply = dns.query.udp(query, LOOPBACK, TIMEOUT, resolver.address[1])
    assert reply.rcode() == dns.rcode.REFUSED


def test_a_failed_walk_is_servfail_and_not_cached(silent):
    dead = [NameServer("a.root.", *silent)]
    with RecursiveResolver(dead, None, timeout=0.1) as resolver:
        for _ in range(2):
            answer = stub_query("www.demo.test", "A", resolver.address, timeout=TIMEOUT)
            assert answer.rcode == "SERVFAIL"
            assert answer.error == f"SERVFAIL from {LOOPBACK}:{resolver.address[1]}"
        assert (resolver.walks, resolver.cache_hits) == (2, 0)


def test_stub_query_through_the_demo_resolver(demo):
    answer = stub_query("web.demo.test.", "A", demo.resolver, timeout=TIMEOUT)
    assert answer.ok and answer.rcode == "NOERROR" and answer.addresses == [LOOPBACK]
    assert answer.answers[0] == "web.demo.test. 300 IN CNAME www.demo.test."
    missing = stub_query("www.demo.test", "AAAA", demo.resolver, timeout=TIMEOUT)
    assert missing.rcode == "NOERROR" and missing.addresses == []
    assert missing.error == "NODATA: www.demo.test. has no AAAA record"
    assert demo.recursive.walks == 2


def test_stub_query_to_a_silent_resolver_times_out(silent):
    answer = stub_query("www.demo.test", "A", silent, timeout=0.2)
    assert not answer.ok and answer.rcode == ""
    assert answer.error == f"timeout asking {LOOPBACK}:{silent[1]}"


def test_cancel_stops_the_walk_between_queries(demo):
    cancel = threading.Event()
    result = walk(
        "www.demo.test",
        roots=demo.roots,
        port_for=demo.port_for,
        cancel=cancel,
        on_query=lambda _query: cancel.set(),
    )
    assert result.outcome == "cancelled" and result.error == "cancelled"
    assert kinds(result.queries) == ["referral"]


def test_max_queries_bounds_the_walk(demo):
    result = walk("www.demo.test", roots=demo.roots, port_for=demo.port_for, max_queries=2)
    assert result.error == "gave up after 2 queries" and len(result.queries) == 2


def test_servers_refuse_names_outside_their_zone(demo):
    query = dns.message.make_query("www.example.", "A")
    reply = dns.query.udp(query, LOOPBACK, TIMEOUT, demo.port_for("ns1.demo.test."))
    assert reply.rcode() == dns.rcode.REFUSED


@pytest.mark.parametrize(
    ("name", "qtype", "message"),
    [
        ("www.demo.test", "BOGUS", "unknown DNS record type 'BOGUS'"),
        ("www.demo.test", "ANY", "'ANY' is a query meta-type, not a record type"),
        ("  ", "A", "empty host name"),
        ("a..b", "A", "bad DNS name 'a..b'"),
        ("bücher.example", "A", "is not ASCII: encode it with IDNA first"),
    ],
)
def test_bad_input_is_a_value_error(name, qtype, message):
    with pytest.raises(ValueError, match=message):
        walk(name, qtype, [NameServer("a.root.", LOOPBACK, 9)])
    with pytest.raises(ValueError, match=message):
        stub_query(name, qtype, (LOOPBACK, 9))


def test_bad_zones_are_value_errors():
    with pytest.raises(ValueError, match="outside zone demo.test."):
        AuthoritativeServer(Zone("demo.test.", [Record("www.other.", "A", LOOPBACK)]))
    with pytest.raises(ValueError, match="bad record"):
        AuthoritativeServer(Zone("demo.test.", [Record("www", "A", "not-an-address")]))
    with pytest.raises(ValueError, match="needs a TLD above it"):
        DemoDns(zone="test.")


def test_the_root_hints_are_the_thirteen_root_servers():
    assert [server.name[0] for server in ROOT_SERVERS] == list("abcdefghijklm")
    assert ROOT_SERVERS[0] == NameServer("a.root-servers.net.", "198.41.0.4", 53)
    assert ROOT_SERVERS[0].label == "a.root-servers.net. (198.41.0.4)"


def test_stop_joins_every_thread_and_closes_every_socket():
    def server_threads() -> list[threading.Thread]:
        names = ("AuthoritativeServer", "RecursiveResolver")
        return [thread for thread in threading.enumerate() if thread.name.startswith(names)]

    with DemoDns() as name_system:
        assert len(server_threads()) == 4
        port = name_system.port_for("ns1.demo.test.")
    assert server_threads() == []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, port))  # free again
