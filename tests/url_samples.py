"""Stand-ins for the URL screen's tests: a loopback internet that starts nothing (fixed URLs,
for snapshots) and a recorded visit with fixed times (no measured number reaches a snapshot)."""

from __future__ import annotations

from microgpt_tui.engine.nettrace.browser import Settings
from microgpt_tui.engine.nettrace.demo import DemoUrl
from microgpt_tui.engine.nettrace.steps import Hop, Step, Visit

HOME = "https://www.demo.test:4433/"


class StillDemo:
    """What the screen reads of a DemoInternet, with fixed ports and no servers."""

    def __init__(self) -> None:
        self.urls = {u.name: u for u in (
            DemoUrl("home", HOME, "the whole walk"),
            DemoUrl("expired", "https://expired.demo.test:4433/", "an expired certificate"),
        )}
        self.stopped = False

    def settings(self, trust_ca: bool = False, **overrides) -> Settings:
        # Nothing listens: a visit through these settings fails fast at DNS (port 9).
        values = dict(resolver=("127.0.0.1", 9), roots=(), walk=False, timeout=0.5)
        values.update(overrides)
        return Settings(**values)

    def stop(self) -> None:
        self.stopped = True


CHAIN = [
    {"subject": "CN=www.demo.test,O=microgpt-tui demo",
     "issuer": "CN=microgpt-tui Demo Root CA - Intermediate,O=microgpt-tui demo",
     "sans": ["www.demo.test", "web.demo.test"], "not_before": "2026-11-30T09:00:00+00:00",
     "not_after": "2026-12-30T09:00:00+00:00", "key": "EC secp256r1", "is_ca": False,
     "self_signed": False, "sha256": "0123456789abcdef"},
    {"subject": "CN=microgpt-tui Demo Root CA - Intermediate,O=microgpt-tui demo",
     "issuer": "CN=microgpt-tui Demo Root CA,O=microgpt-tui demo", "sans": [],
     "not_before": "2026-11-29T09:00:00+00:00", "not_after": "2036-11-27T09:00:00+00:00",
     "key": "EC secp256r1", "is_ca": True, "self_signed": False, "sha256": "fedcba9876543210"},
    {"subject": "CN=microgpt-tui Demo Root CA,O=microgpt-tui demo",
     "issuer": "CN=microgpt-tui Demo Root CA,O=microgpt-tui demo", "sans": [],
     "not_before": "2026-11-29T09:00:00+00:00", "not_after": "2036-11-27T09:00:00+00:00",
     "key": "EC secp256r1", "is_ca": True, "self_signed": True, "sha256": "00ff00ff00ff00ff"},
]
FRAMES = [
    {"direction": "sent", "type": "PREFACE", "stream": 0, "flags": [], "length": 24,
     "summary": "PRI * HTTP/2.0 — the client speaks HTTP/2", "at_ms": 0.01},
    {"direction": "sent", "type": "HEADERS", "stream": 1, "flags": ["END_HEADERS", "END_STREAM"],
     "length": 91, "summary": "91 bytes of HPACK-compressed headers", "at_ms": 0.05},
    {"direction": "received", "type": "SETTINGS", "stream": 0, "flags": [], "length": 42,
     "summary": "MAX_CONCURRENT_STREAMS=100", "at_ms": 1.2},
    {"direction": "received", "type": "HEADERS", "stream": 1, "flags": ["END_HEADERS"],
     "length": 65, "summary": "65 bytes of HPACK-compressed headers", "at_ms": 2.9},
    {"direction": "received", "type": "DATA", "stream": 1, "flags": ["END_STREAM"],
     "length": 362, "summary": "362 bytes of body (last)", "at_ms": 3.0},
]


def recorded_visit(tls_ok: bool = True) -> Visit:
    """A visit to HOME with fixed times: 0.1 ms parse … 0.2 ms render."""
    def step(phase, title, started, elapsed, **fields):
        return Step(phase, 0, title, started / 1e3, elapsed / 1e3, **fields)

    steps = [
        step("parse", "https · www.demo.test · port 4433 · /", 0.0, 0.1,
             detail={"fetch_url": HOME, "scheme": "https", "host": "www.demo.test",
                     "ascii_host": "www.demo.test", "port": 4433, "path": "/",
                     "search": False, "reason": "it starts with a scheme",
                     "international": False}),
        step("dns", "www.demo.test → 127.0.0.1", 0.1, 5.5, round_trips=1,
             detail={"source": "recursive resolver at 127.0.0.1:5353", "ttl": 300,
                     "addresses": ["IPv4 127.0.0.1"],
                     "records": ["www.demo.test. 300 IN A 127.0.0.1"]}),
        step("walk", "root → test. → demo.test. → answer in 3 queries", 0.1, 1.5, round_trips=3,
             aside=True,
             detail={"queries": [
                 {"server": "a.root-servers.test. (127.0.0.1:5301)", "qname": "www.demo.test.",
                  "qtype": "A", "kind": "referral", "zone": "test.", "answers": [],
                  "referral": ["ns.nic.test. 127.0.0.1"], "elapsed_ms": 0.5},
                 {"server": "ns.nic.test. (127.0.0.1:5302)", "qname": "www.demo.test.",
                  "qtype": "A", "kind": "referral", "zone": "demo.test.", "answers": [],
                  "referral": ["ns1.demo.test. 127.0.0.1"], "elapsed_ms": 0.5},
                 {"server": "ns1.demo.test. (127.0.0.1:5303)", "qname": "www.demo.test.",
                  "qtype": "A", "kind": "answer", "zone": "demo.test.",
                  "answers": ["www.demo.test. 300 IN A 127.0.0.1"], "referral": [],
                  "elapsed_ms": 0.4}]}),
        step("tcp", "connected to 127.0.0.1:4433 (SYN, SYN-ACK, ACK)", 7.1, 0.3, round_trips=1,
             detail={"attempts": [{"address": "127.0.0.1:4433", "family": "IPv4",
                                   "started_ms": 0.0, "elapsed_ms": 0.2,
                                   "outcome": "connected", "error": None}],
                     "why": "the only address tried", "local": "127.0.0.1:50000",
                     "remote": "127.0.0.1:4433", "rtt_ms": 0.2, "farthest_km": 20,
                     "distance_km": 0.0, "light_floor_ms": 0.0, "light_share": 0.0}),
    ]
    if not tls_ok:
        steps.append(step("tls", "handshake with www.demo.test failed", 7.4, 3.0, ok=False,
                          error="certificate not trusted: unable to get local issuer "
                                "certificate", round_trips=1,
                          detail={"verify_error": "unable to get local issuer certificate",
                                  "chain": CHAIN[:2],
                                  "chain_source": "as offered, read again without verifying"}))
        visit = Visit(HOME, [Hop(HOME, steps)], error="TLS: certificate not trusted: unable "
                      "to get local issuer certificate", failed_phase="tls")
        return visit
    steps += [
        step("tls", "TLSv1.3 · TLS_AES_256_GCM_SHA384 · ALPN h2", 7.4, 3.0, round_trips=1,
             detail={"sni": "www.demo.test", "version": "TLSv1.3",
                     "cipher": "TLS_AES_256_GCM_SHA384", "bits": 256, "alpn": "h2",
                     "group": None, "verified": True, "session_reused": False,
                     "verify_error": None, "chain_source": "verified chain", "chain": CHAIN}),
        step("http", "GET / → HTTP/2 200 OK", 10.4, 3.1, round_trips=1,
             detail={"version": "HTTP/2", "status": 200, "reason": "OK",
                     "request": ":method: GET\n:scheme: https\n:authority: www.demo.test:4433\n"
                                ":path: /\n", "headers": ["content-type: text/html",
                                                          "content-length: 362"],
                     "ttfb_ms": 2.9, "body_bytes": 362, "keep_alive": True, "frames": FRAMES,
                     "rtt_ms": 2.9, "farthest_km": 296, "distance_km": 0.0}),
        step("render", "DOM of 16 elements, depth 6, 1 more request", 13.5, 0.2,
             detail={"page_title": "The demo internet", "elements": 16, "depth": 6,
                     "outline": ["html", "  head", "    title", "  body", "    main"],
                     "subresources": ["stylesheet /style.css"], "truncated": False,
                     "stages": ["DOM: the HTML parsed into a tree of elements"]}),
    ]
    return Visit(HOME, [Hop(HOME, steps)])
