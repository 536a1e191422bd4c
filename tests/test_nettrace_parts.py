"""The tracer's parts one by one: the address bar, Happy Eyeballs, TLS, HTTP/1.1 and HTTP/2,
the DOM outline, the speed of light and the percentiles.

Every server is started here on 127.0.0.1 and a random port: raw sockets that answer with
canned bytes (HTTP/1.1's framing cases), the demo's WebServer (TLS and HTTP/2), a listener
whose accept queue is full (a SYN that is never answered). Timeouts are short and only bound a
failure; nothing asserts how long anything took.
"""

from __future__ import annotations

import gzip
import json
import math
import select
import socket
import tempfile
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import pytest

from microgpt_tui.engine.light import (
    SPEED_IN_FIBRE_KM_S,
    SPEED_OF_LIGHT_KM_S,
    farthest_km,
    round_trip_floor,
)
from microgpt_tui.engine.nettrace import report
from microgpt_tui.engine.nettrace.browser import Pooled
from microgpt_tui.engine.nettrace.connect import Address, connect, interleave
from microgpt_tui.engine.nettrace.demo_ca import DemoCA, IssuedCert, self_signed
from microgpt_tui.engine.nettrace.dom import dom_outline
from microgpt_tui.engine.nettrace.http1 import (
    KEEP_BODY,
    HttpError,
    exchange,
    request_bytes,
)
from microgpt_tui.engine.nettrace.http2 import Http2Connection, frames_table
from microgpt_tui.engine.nettrace.steps import Hop, Step, Visit
from microgpt_tui.engine.nettrace.tls_step import (
    cert_info,
    handshake,
    make_context,
    offered_chain,
)
from microgpt_tui.engine.nettrace.url_parse import DEFAULT_PORTS, parse_url
from microgpt_tui.engine.nettrace.web_server import (
    SilentServer,
    WebServer,
    closed_port,
    html_page,
)
from microgpt_tui.engine.stats import nearest_rank

HOST = "www.demo.test"
BOUND_S = 2.0  # bounds a failure only: a passing test never waits this long


@pytest.fixture(autouse=True, scope="module")
def _no_leaked_threads() -> Iterator[None]:
    """Checked once the module's servers have stopped: a server's connection thread ends a
    moment after its client leaves, so a check after each test would race it."""
    before = set(threading.enumerate())
    yield
    leaked = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"


# -- the address bar ---------------------------------------------------------------------------


@pytest.mark.parametrize("typed, url, reason", [
    ("example.com", "https://example.com/", "host name"),
    ("example.com/a?b=1#top", "https://example.com/a?b=1", "host name"),
    ("localhost", "https://localhost/", "host name"),
    ("localhost:8080/x", "https://localhost:8080/x", "host name"),
    ("127.0.0.1", "https://127.0.0.1/", "host name"),
    ("[::1]:8443/a", "https://[::1]:8443/a", "host name"),
    ("::1", "https://[::1]/", "host name"),
    ("https://example.com/a b", "https://example.com/a%20b", "scheme"),
    ("HTTP://EXAMPLE.COM:80", "http://example.com/", "scheme"),
    ("https://example.com:443/", "https://example.com/", "scheme"),
    ("http://example.com:8080", "http://example.com:8080/", "scheme"),
])
def test_what_the_address_bar_fetches(typed, url, reason):
    parsed = parse_url(typed)
    assert not parsed.is_search
    assert parsed.url == url and reason in parsed.reason


@pytest.mark.parametrize("typed, query, reason", [
    ("what is dns", "what%20is%20dns", "space"),
    ("a.b c", "a.b%20c", "space"),
    ("hello", "hello", "no dot"),
    ("?example.com", "example.com", "leading ?"),
])
def test_what_the_address_bar_searches(typed, query, reason):
    parsed = parse_url(typed)
    assert parsed.is_search and reason in parsed.reason
    assert parsed.url == f"https://duckduckgo.com/?q={query}"
    assert parsed.ascii_host == "duckduckgo.com"


def test_a_url_splits_into_its_parts():
    parsed = parse_url("  https://Example.com:8443/path?q=1  ")
    assert (parsed.scheme, parsed.host, parsed.ascii_host, parsed.port, parsed.path) == (
        "https", "example.com", "example.com", 8443, "/path?q=1")
    assert parsed.typed == "https://Example.com:8443/path?q=1"
    assert parsed.origin == "https://example.com:8443"
    assert parse_url("http://example.com/").origin == "http://example.com"
    assert parse_url("https://[::1]:9/").origin == "https://[::1]:9"
    assert parse_url("https://[::1]/").is_ip and parse_url("https://10.0.0.1/").is_ip
    assert DEFAULT_PORTS == {"http": 80, "https": 443}
    assert parse_url("http://example.com").port == 80
    assert parse_url("example.com").port == 443


@pytest.mark.parametrize("typed, ascii_host", [
    ("bücher.example", "xn--bcher-kva.example"),
    ("https://café.fr/menu", "xn--caf-dma.fr"),
    ("https://BÜCHER.example", "xn--bcher-kva.example"),  # UTS 46 maps case first
])
def test_international_names_become_a_labels(typed, ascii_host):
    parsed = parse_url(typed)
    assert parsed.ascii_host == ascii_host and parsed.international
    assert parsed.url.startswith(f"https://{ascii_host}/")


@pytest.mark.parametrize("typed, words", [
    ("", "nothing typed"),
    ("   ", "nothing typed"),
    ("ftp://example.com/file", "not ftp://"),
    ("mailto:someone@example.com", "not mailto:"),
    ("https://example.com:0/", "port 0"),
    ("https://example.com:99999/", "1 to 65535"),
    ("https://example.com:http/", "1 to 65535"),
    ("https://", "no host name"),
    ("https://-bad.example/", "'-bad' is not a valid host name label"),
    ("https://bad-.example/", "'bad-' is not a valid host name label"),
    ("https://a..b/", "'' is not a valid host name label"),
    ("https://" + "a" * 64 + ".example/", "1–63"),
    ("https://☃.net/", "not a valid international name"),
])
def test_what_cannot_be_fetched_is_one_clear_line(typed, words):
    with pytest.raises(ValueError, match=None) as error:
        parse_url(typed)
    message = str(error.value)
    assert words in message and "\n" not in message


def test_a_host_name_has_at_most_253_characters():
    label = "a" * 63
    longest = ".".join([label, label, label, "a" * 61])  # 253 characters
    assert len(longest) == 253 and parse_url(f"https://{longest}/").ascii_host == longest
    with pytest.raises(ValueError, match="at most 253 characters; this one has 254"):
        parse_url(f"https://{longest}a/")
    assert parse_url("https://" + "a" * 63 + ".example/").ascii_host.startswith("a" * 63)


# -- TCP: Happy Eyeballs -----------------------------------------------------------------------


def v4(port: int, host: str = "127.0.0.1") -> Address:
    return Address("IPv4", host, port)


def v6(port: int, host: str = "::1") -> Address:
    return Address("IPv6", host, port)


def test_interleave_alternates_families_starting_with_the_first():
    a6, b6, c6 = v6(1, "2001:db8::a"), v6(1, "2001:db8::b"), v6(1, "2001:db8::c")
    a4, b4 = v4(1, "192.0.2.1"), v4(1, "192.0.2.2")
    assert interleave([a6, b6, c6, a4, b4]) == [a6, a4, b6, b4, c6]
    assert interleave([a4, a6, b6, b4]) == [a4, a6, b4, b6]
    assert interleave([a4, b4]) == [a4, b4]
    assert interleave([]) == []


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A port that accepts connections (the kernel completes the handshake; nobody reads)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A port whose SYNs go unanswered: a listener with backlog 0 whose one queue slot is
    taken, so the kernel drops every new SYN — a server too far or too busy to answer."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=BOUND_S):
            yield port


def test_a_refused_port_is_named():
    port = closed_port()
    result = connect([v4(port)], timeout=BOUND_S)
    assert result.sock is None and result.winner is None
    assert result.error == f"connection refused by 127.0.0.1:{port}"
    assert [a.outcome for a in result.attempts] == ["refused"]


def test_after_a_refused_address_the_next_one_wins(listener):
    port = listener.getsockname()[1]
    result = connect([v4(closed_port()), v4(port)], timeout=BOUND_S)
    with result.sock:
        assert [a.outcome for a in result.attempts] == ["refused", "connected"]
        assert result.winner is result.attempts[1] and result.error == ""
        assert result.why == "the earlier attempts failed (refused)"
        assert result.sock.getpeername() == ("127.0.0.1", port)
        assert result.sock.gettimeout() == BOUND_S  # blocking again, with the step's timeout


def test_ipv6_first_then_ipv4_when_ipv6_fails(listener):
    """[::1] on a port nobody holds there: refused, or unreachable on a machine without IPv6;
    either way IPv4, interleaved second, connects."""
    result = connect([v6(closed_port()), v4(listener.getsockname()[1])], timeout=BOUND_S)
    with result.sock:
        first, second = result.attempts
        assert first.address.family == "IPv6" and first.outcome in ("refused", "unreachable")
        assert second.outcome == "connected" and "earlier attempts failed" in result.why


def test_a_silent_address_is_raced_and_abandoned(blackhole, listener):
    result = connect([v4(blackhole), v4(listener.getsockname()[1])], timeout=BOUND_S,
                     delay=0.05)
    with result.sock:
        assert [a.outcome for a in result.attempts] == ["abandoned", "connected"]
        assert "Happy Eyeballs" in result.why
        assert result.attempts[1].started >= 0.05  # the next one waited its turn


def test_an_address_that_fails_at_once_starts_the_next_at_once(blackhole, listener,
                                                               monkeypatch):
    """RFC 8305: a failure starts the next attempt without waiting out the delay. TCP to the
    broadcast address fails inside connect() itself (ENETUNREACH; no packet leaves, so offline
    mode, which would refuse the address before connect(), is off here)."""
    monkeypatch.delenv("MICROGPT_TUI_OFFLINE")
    probe = socket.socket()
    probe.setblocking(False)
    with probe:
        if probe.connect_ex(("255.255.255.255", 9)) in (0, 115):  # 115: EINPROGRESS
            pytest.skip("this kernel does not refuse TCP to the broadcast address at once")
    addresses = [v4(blackhole), v4(9, "255.255.255.255"), v4(listener.getsockname()[1])]
    result = connect(addresses, timeout=0.5, delay=0.3)  # not at 0.6 s: too late
    assert [a.outcome for a in result.attempts] == ["abandoned", "unreachable", "connected"]
    result.sock.close()


def test_a_silent_address_times_out(blackhole):
    result = connect([v4(blackhole)], timeout=0.2)
    assert result.sock is None
    assert result.error == "timed out after 0.2 s waiting for the SYN-ACK"
    assert [a.outcome for a in result.attempts] == ["timeout"]


def test_a_cancelled_connect_stops_waiting(blackhole):
    cancel = threading.Event()
    cancel.set()
    result = connect([v4(blackhole)], timeout=BOUND_S, cancel=cancel)
    assert result.sock is None and result.error == "cancelled"
    assert [a.outcome for a in result.attempts] == ["abandoned"]

    cancel = threading.Event()
    timer = threading.Timer(0.05, cancel.set)
    timer.start()
    result = connect([v4(blackhole)], timeout=BOUND_S, cancel=cancel)
    timer.join()
    assert result.error == "cancelled"


def test_no_address_no_connection():
    assert connect([]).error == "no address to connect to"


# -- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> DemoCA:
    return DemoCA()


@pytest.fixture(scope="module")
def good(ca) -> IssuedCert:
    return ca.issue([HOST, "127.0.0.1"])


@pytest.fixture(scope="module")
def tls_servers(ca, good) -> Iterator[dict[str, WebServer]]:
    now = datetime.now(UTC)
    certs = {HOST: good,
             "expired.demo.test": ca.issue(["expired.demo.test"],
                                           not_before=now - timedelta(days=60),
                                           not_after=now - timedelta(days=30)),
             "wrong.demo.test": ca.issue(["other.demo.test"])}
    routes = {"/": html_page("TLS")}
    servers = {"h2": WebServer(routes, certs=certs, default_cert=good),
               "http1": WebServer(routes, default_cert=good, http2=False),
               "self-signed": WebServer(routes, default_cert=self_signed([HOST]))}
    for server in servers.values():
        server.start()
    yield servers
    for server in servers.values():
        server.stop()


def trusting(ca: DemoCA):
    return make_context(cadata=ca.ca_pem.decode())


def tls_to(server: WebServer, name: str, context, session=None, timeout: float = BOUND_S):
    sock = socket.create_connection(server.address, timeout=BOUND_S)
    return handshake(sock, name, context, session, timeout)


def test_cert_info_reads_a_demo_leaf(good):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = x509.load_pem_x509_certificate(good.cert_pem).public_bytes(Encoding.DER)
    info = cert_info(der)
    assert info.sans == (HOST, "127.0.0.1")
    assert info.key == "EC secp256r1" and not info.is_ca and not info.self_signed
    assert "CN=www.demo.test" in info.subject and "Intermediate" in info.issuer
    assert info.not_before < info.not_after and len(info.sha256) == 16


def test_a_verified_handshake_agrees_on_h2(ca, tls_servers):
    result = tls_to(tls_servers["h2"], HOST, trusting(ca))
    with result.sock:
        assert result.error == "" and result.verified
        assert result.version == "TLSv1.3" and result.round_trips == 1
        assert result.alpn == "h2" and result.sni == HOST and result.bits >= 128
        assert result.chain_source == "verified chain"
        assert [c.is_ca for c in result.chain] == [False, True, True]
        assert result.chain[-1].self_signed and HOST in result.chain[0].sans
        detail = result.detail()
        json.dumps(detail)
        assert detail["verify_error"] is None and detail["alpn"] == "h2"


def test_a_server_without_h2_gets_http_1_1(ca, tls_servers):
    result = tls_to(tls_servers["http1"], HOST, trusting(ca))
    with result.sock:
        assert result.alpn == "http/1.1"


@pytest.mark.parametrize("server, name, trust, words", [
    ("h2", "expired.demo.test", True, "certificate has expired"),
    ("h2", "wrong.demo.test", True, "Hostname mismatch"),
    ("h2", HOST, False, "unable to get local issuer certificate"),
    ("self-signed", HOST, False, "self-signed certificate"),
])
def test_verification_failures_say_which_check_failed(ca, tls_servers, server, name, trust,
                                                      words):
    context = trusting(ca) if trust else make_context()  # the system's trust store alone
    result = tls_to(tls_servers[server], name, context)
    assert result.sock is None and not result.verified
    assert words in result.verify_message
    assert result.error == f"certificate not trusted: {result.verify_message}"
    assert result.round_trips == 1


def test_insecure_skips_verification_and_says_so(tls_servers):
    result = tls_to(tls_servers["h2"], "expired.demo.test", make_context(insecure=True))
    with result.sock:
        assert not result.verified and result.chain_source == "as sent by the server"
        assert result.chain[0].sans == ("expired.demo.test",)


def test_the_offered_chain_is_read_after_a_refusal(tls_servers):
    sock = socket.create_connection(tls_servers["h2"].address, timeout=BOUND_S)
    chain = offered_chain(sock, HOST, BOUND_S)
    assert [c.is_ca for c in chain] == [False, True]  # servers never send the root
    assert sock.fileno() == -1


def test_a_second_handshake_resumes_the_session(ca, tls_servers):
    server, context = tls_servers["http1"], trusting(ca)
    first = tls_to(server, HOST, context)
    with first.sock:
        # TLS 1.3 sends its session tickets after the handshake: read a response to get them.
        exchange(first.sock, request_bytes(HOST, "/"), BOUND_S)
        session = first.sock.session
    assert not first.session_reused
    again = tls_to(server, HOST, context, session)
    with again.sock:
        assert again.session_reused and again.round_trips == 1
        assert again.detail()["session_reused"] is True


def test_a_silent_server_times_the_handshake_out(ca):
    with SilentServer() as silent:
        sock = socket.create_connection(silent.address, timeout=BOUND_S)
        result = handshake(sock, HOST, trusting(ca), timeout=0.3)
    assert result.sock is None and result.error == "no answer to the ClientHello within 0.3 s"


def test_a_bad_cafile_is_an_error_at_once(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(OSError):  # ssl.SSLError
        make_context(cafile=str(bad))


# -- HTTP/1.1 against canned bytes -------------------------------------------------------------


class CannedServer:
    """Accepts one connection on loopback, reads the request's head, writes `replies` (one
    sendall each), then closes — or, with `hold`, keeps the connection open until stop()."""

    def __init__(self, replies: Sequence[bytes], hold: bool = False) -> None:
        self.replies, self.hold = list(replies), hold
        self.request = b""
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(BOUND_S)
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._run, name="canned-server")
        self.thread.start()

    def _run(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(BOUND_S)
            while b"\r\n\r\n" not in self.request:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                self.request += chunk
            for reply in self.replies:
                conn.sendall(reply)
            if self.hold:
                self.release.wait(BOUND_S)

    def connect(self) -> socket.socket:
        return socket.create_connection(self.listener.getsockname(), timeout=BOUND_S)

    def stop(self) -> None:
        self.release.set()
        self.thread.join(BOUND_S)
        self.listener.close()


@pytest.fixture
def canned() -> Iterator:
    servers: list[CannedServer] = []

    def start(*replies: bytes, hold: bool = False) -> socket.socket:
        server = CannedServer(replies, hold)
        servers.append(server)
        return server.connect()

    yield start
    for server in servers:
        server.stop()


def get(sock: socket.socket, timeout: float = BOUND_S):
    with sock:
        return exchange(sock, request_bytes("example.test", "/"), timeout)


def test_the_request_is_what_a_browser_sends():
    sent = request_bytes("example.test:8080", "/a?b=1").decode("latin-1")
    lines = sent.split("\r\n")
    assert lines[0] == "GET /a?b=1 HTTP/1.1" and lines[1] == "Host: example.test:8080"
    assert sent.endswith("\r\n\r\n") and "Connection: keep-alive" in lines


def test_a_content_length_body(canned):
    result = get(canned(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n"
                        b"\r\nhello", hold=True))
    assert (result.version, result.status, result.reason) == ("HTTP/1.1", 200, "OK")
    assert result.body == b"hello" and result.body_size == 5 and result.keep_alive
    assert result.header("content-type") == "text/html" and result.header("X-None") is None
    assert result.request_bytes.startswith(b"GET / HTTP/1.1\r\nHost: example.test\r\n")
    assert 0 <= result.ttfb <= result.elapsed


def test_a_chunked_body_with_a_trailer(canned):
    result = get(canned(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                        b"5\r\nhello\r\n6;name=value\r\n world\r\n",
                        b"0\r\nX-Checksum: 1\r\nX-More: 2\r\n\r\n", hold=True))
    assert result.body == b"hello world" and result.body_size == 11 and result.keep_alive


class ScriptedSocket:
    """A socket whose recv() returns the given pieces one by one: a TCP stream cut exactly
    where a test needs it."""

    def __init__(self, *pieces: bytes) -> None:
        self.pieces = list(pieces)
        self.sent = b""

    def settimeout(self, _timeout: float) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def recv(self, _size: int) -> bytes:
        return self.pieces.pop(0) if self.pieces else b""


def test_every_trailer_line_is_read_before_the_next_response():
    """The blank line that ends the trailers arrives in a later read: it must be consumed by
    this response, not left to be taken for the next response's status line."""
    sock = ScriptedSocket(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-A: 1\r\n",
        b"X-B: 2\r\n", b"\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n")
    first = exchange(sock, request_bytes("example.test", "/"))  # type: ignore[arg-type]
    second = exchange(sock, request_bytes("example.test", "/"))  # type: ignore[arg-type]
    assert first.body == b"hi" and second.status == 204


def test_a_body_that_ends_when_the_server_closes(canned):
    result = get(canned(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", b"until ",
                        b"the end"))
    assert result.body == b"until the end" and result.body_size == 13
    assert not result.keep_alive


def test_a_gzip_body_is_decoded_and_its_wire_size_counted(canned):
    page = b"<p>compressible</p>" * 200
    packed = gzip.compress(page)
    result = get(canned(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                        b"Content-Length: %d\r\n\r\n" % len(packed) + packed, hold=True))
    assert result.body == page and result.body_size == len(packed)


def test_connection_close_is_not_kept_alive(canned):
    result = get(canned(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
                        hold=True))
    assert result.body == b"ok" and not result.keep_alive


def test_a_huge_body_is_counted_fully_and_kept_in_part(canned):
    size = 3_000_000
    result = get(canned(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size,
                        b"x" * size, hold=True))
    assert result.body_size == size and len(result.body) == KEEP_BODY


@pytest.mark.parametrize("replies, words", [
    ([b"HELLO THERE\r\n\r\n"], "not an HTTP status line: 'HELLO THERE'"),
    ([b"HTTP/1.1 2000 OK\r\n\r\n"], "not an HTTP status line"),
    ([b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"], "a header line without a colon"),
    ([b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"], "a bad Content-Length"),
    ([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"], "a bad chunk size"),
    ([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"], "before the body ended"),
    ([b"HTTP/1.1 200 OK\r\n"], "closed the connection mid-response"),
    ([], "closed the connection without answering"),
])
def test_a_broken_answer_is_an_http_error(canned, replies, words):
    with pytest.raises(HttpError, match=words):
        get(canned(*replies))


def test_a_silent_server_is_an_http_error_after_the_timeout(canned):
    with pytest.raises(HttpError, match=r"no response within 0\.3 s"):
        get(canned(hold=True), timeout=0.3)


def test_a_cancelled_exchange_stops(canned):
    cancel = threading.Event()
    cancel.set()
    with canned(hold=True) as sock, pytest.raises(HttpError, match="cancelled"):
        exchange(sock, request_bytes("example.test", "/"), BOUND_S, cancel)


# -- is a kept connection still good for the next request? -------------------------------------


class Goodbye:
    """Accepts one connection (TLS when given a certificate), answers nothing, and ends it the
    way servers end an idle connection: `how` is "close" (a FIN alone), "408" (a last response),
    "close_notify" (TLS's alert) or "goaway" (HTTP/2's), each then a FIN; or "idle": nothing,
    the connection kept open. `said` is set once it has."""

    def __init__(self, how: str, cert: IssuedCert | None = None, alpn: str = "http/1.1") -> None:
        self.how, self.cert, self.alpn = how, cert, alpn
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(BOUND_S)
        self.said, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, name="goodbye")
        self.thread.start()

    def _run(self) -> None:
        import ssl

        conn, _ = self.listener.accept()
        conn.settimeout(BOUND_S)
        if self.cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.set_alpn_protocols([self.alpn])
            with tempfile.TemporaryDirectory() as folder:
                chain, key = Path(folder, "chain.pem"), Path(folder, "key.pem")
                chain.write_bytes(self.cert.chain_pem)
                key.write_bytes(self.cert.key_pem)
                context.load_cert_chain(chain, key)
            conn = context.wrap_socket(conn, server_side=True)
        with conn:
            if self.how == "goaway":
                server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
                server.initiate_connection()
                server.close_connection()
                conn.sendall(server.data_to_send())
            elif self.how == "408":
                conn.sendall(b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n")
            elif self.how == "close_notify":
                conn.setblocking(False)  # send the alert; do not wait for the client's reply
                try:
                    conn.unwrap()
                except ssl.SSLWantReadError:
                    pass
            if self.how != "idle":  # the FIN, after every byte said before it
                socket.socket.shutdown(conn, socket.SHUT_WR)
            self.said.set()
            self.release.wait(BOUND_S)

    def client(self, ca: DemoCA | None = None) -> Pooled:
        sock = socket.create_connection(self.listener.getsockname(), timeout=BOUND_S)
        if ca is None:
            return Pooled(sock, "http/1.1")
        result = handshake(sock, HOST, trusting(ca), timeout=BOUND_S)
        assert result.sock is not None, result.error
        pooled = Pooled(result.sock, result.alpn or "http/1.1")
        if pooled.alpn == "h2":
            pooled.http2 = Http2Connection(result.sock)
        return pooled

    def stop(self) -> None:
        self.release.set()
        self.thread.join(BOUND_S)
        self.listener.close()


@pytest.mark.parametrize("how, tls, alpn, alive", [
    ("idle", False, "http/1.1", True),
    ("idle", True, "http/1.1", True),
    ("idle", True, "h2", True),
    ("close", False, "http/1.1", False),
    ("408", False, "http/1.1", False),  # a last word, then gone: not a reply to our request
    ("close", True, "http/1.1", False),
    ("close_notify", True, "http/1.1", False),
    ("goaway", True, "h2", False),
])
def test_a_kept_connection_is_reused_only_while_the_server_keeps_it(ca, good, how, tls, alpn,
                                                                      alive):
    server = Goodbye(how, good if tls else None, alpn)
    try:
        pooled = server.client(ca if tls else None)
        assert server.said.wait(BOUND_S)
        if how != "idle":  # wait for the FIN: then every byte before it has arrived too
            poll = select.poll()
            poll.register(pooled.sock, select.POLLRDHUP)
            assert poll.poll(BOUND_S * 1e3)
        assert pooled.alive() is alive
        assert pooled.sock.gettimeout() == BOUND_S  # left as the request will want it
        pooled.close()
    finally:
        server.stop()


# -- HTTP/2 ------------------------------------------------------------------------------------


def test_http2_frames_both_ways_and_two_streams(ca, tls_servers):
    result = tls_to(tls_servers["h2"], HOST, trusting(ca))
    assert result.alpn == "h2"
    connection = Http2Connection(result.sock)
    try:
        first = connection.request(HOST, "/", BOUND_S)
        second = connection.request(HOST, "/missing", BOUND_S)
    finally:
        connection.close()
    assert (first.version, first.status, first.reason) == ("HTTP/2", 200, "OK")
    assert b"<title>TLS</title>" in first.body and first.keep_alive
    assert first.body_size == len(first.body) == int(first.header("content-length"))
    kinds = [(f["direction"], f["type"], f["stream"]) for f in first.frames]
    assert kinds[0] == ("sent", "PREFACE", 0)
    assert ("sent", "SETTINGS", 0) in kinds and ("received", "SETTINGS", 0) in kinds
    assert kinds.index(("sent", "HEADERS", 1)) < kinds.index(("received", "HEADERS", 1))
    last = [f for f in first.frames if f["type"] == "DATA"][-1]
    assert last["direction"] == "received" and "END_STREAM" in last["flags"]
    acks = [f for f in first.frames if f["type"] == "SETTINGS" and "ACK" in f["flags"]]
    assert {f["direction"] for f in acks} == {"sent", "received"}
    assert ":authority: www.demo.test" in first.request_bytes.decode()
    assert frames_table(first.frames)[0].startswith("→ PREFACE       s0 24 B")
    # The second request: the next odd stream, no preface or SETTINGS again.
    assert second.status == 404 and second.reason == "Not Found"
    streams = {f["stream"] for f in second.frames if f["type"] in ("HEADERS", "DATA")}
    assert streams == {3}
    assert "PREFACE" not in [f["type"] for f in second.frames]


class H2AfterAck:
    """A plain-TCP HTTP/2 server that sends its SETTINGS at once but answers only after the
    client has acknowledged them: so the first bytes the client reads are not the response."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(BOUND_S)
        self.thread = threading.Thread(target=self._run, name="h2-after-ack")
        self.thread.start()

    def _run(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            conn.settimeout(BOUND_S)
            server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
            server.initiate_connection()
            conn.sendall(server.data_to_send())
            stream, acked = None, False
            while stream is None or not acked:
                for event in server.receive_data(conn.recv(65536)):
                    if isinstance(event, h2.events.RequestReceived):
                        stream = event.stream_id
                    acked = acked or isinstance(event, h2.events.SettingsAcknowledged)
            server.send_headers(stream, [(":status", "200")])
            server.send_data(stream, b"late", end_stream=True)
            conn.sendall(server.data_to_send())
            conn.recv(65536)  # until the client closes

    def stop(self) -> None:
        self.thread.join(BOUND_S)
        self.listener.close()


def test_http2_time_to_first_byte_is_the_response_not_the_servers_settings():
    server = H2AfterAck()
    sock = socket.create_connection(server.listener.getsockname(), timeout=BOUND_S)
    connection = Http2Connection(sock)
    try:
        result = connection.request("example.test", "/", BOUND_S, scheme="http")
    finally:
        connection.close()
        server.stop()
    assert result.status == 200 and result.body == b"late"
    our_ack = next(f for f in result.frames
                   if f["direction"] == "sent" and f["type"] == "SETTINGS" and "ACK" in f["flags"])
    # The response was sent only after our ACK arrived: its first byte came later still.
    assert result.ttfb * 1e3 > our_ack["at_ms"]


# -- the DOM outline ---------------------------------------------------------------------------


def test_the_outline_of_a_page():
    html = ("<!DOCTYPE html><html><head><title>A &amp; B</title>"
            "<link rel='stylesheet' href='/s.css'><script src='/app.js'></script></head>"
            "<body><main id='content' class='card wide extra'><p>one<br>two</p>"
            "<img src='/cat.png'></main></body></html>")
    outline = dom_outline(html)
    assert outline.title == "A & B"
    assert outline.lines == ["html", "  head", "    title", "    link", "    script",
                             "  body", "    main#content.card.wide", "      p", "        br",
                             "      img"]
    assert outline.elements == 10 and outline.depth == 5 and not outline.truncated
    assert outline.subresources == ["stylesheet /s.css", "script /app.js", "img /cat.png"]


def test_unclosed_tags_are_tolerated():
    outline = dom_outline("<div><ul><li>one<li>two</ul><p>after</div><footer>")
    assert outline.lines[:2] == ["div", "  ul"] and outline.lines[-1] == "footer"
    assert outline.elements == 6


def test_a_long_page_is_truncated_at_max_lines():
    outline = dom_outline("<ul>" + "<li>item</li>" * 50 + "</ul>", max_lines=10)
    assert len(outline.lines) == 10 and outline.truncated and outline.elements == 51


# -- the speed of light and the percentiles ---------------------------------------------------


def test_light_in_fibre():
    assert SPEED_OF_LIGHT_KM_S == 299_792.458
    assert round_trip_floor(0) == 0.0
    assert round_trip_floor(SPEED_IN_FIBRE_KM_S / 2) == pytest.approx(1.0)
    assert round_trip_floor(1000) == pytest.approx(2000 / SPEED_IN_FIBRE_KM_S)
    assert farthest_km(1.0) == pytest.approx(SPEED_IN_FIBRE_KM_S / 2)
    assert farthest_km(round_trip_floor(5000)) == pytest.approx(5000)


@pytest.mark.parametrize("call", [
    lambda: round_trip_floor(-1), lambda: round_trip_floor(math.nan),
    lambda: round_trip_floor(math.inf), lambda: farthest_km(-0.5),
    lambda: farthest_km(math.nan),
])
def test_light_refuses_impossible_numbers(call):
    with pytest.raises(ValueError):
        call()


def test_nearest_rank_returns_a_measured_sample():
    samples = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert nearest_rank(samples, 50) == 3.0
    assert nearest_rank(samples, 95) == 5.0 and nearest_rank(samples, 100) == 5.0
    assert nearest_rank(samples, 0) == 1.0 and nearest_rank(samples, 20) == 1.0
    assert nearest_rank(samples, 21) == 2.0
    assert nearest_rank(list(range(1, 21)), 95) == 19
    assert nearest_rank([7.0], 50) == 7.0


@pytest.mark.parametrize("samples, percentile", [([], 50), ([1.0], -1), ([1.0], 101),
                                                 ([1.0], math.nan)])
def test_nearest_rank_refuses_what_has_no_answer(samples, percentile):
    with pytest.raises(ValueError):
        nearest_rank(samples, percentile)


def _visit(*phases: tuple[str, float, bool]) -> Visit:
    """A visit made of (phase, seconds, skipped) steps, one after another."""
    visit, hop, now = Visit("https://example.test/"), Hop("https://example.test/"), 0.0
    for phase, seconds, skipped in phases:
        hop.steps.append(Step(phase, 0, phase, now, 0.0 if skipped else seconds,
                              skipped="reused" if skipped else ""))
        now += 0.0 if skipped else seconds
    visit.hops.append(hop)
    return visit


def test_phase_percentiles_count_runs_and_skips():
    cold = _visit(("parse", 0.001, False), ("tcp", 0.010, False), ("http", 0.040, False))
    warm = [_visit(("parse", 0.001, False), ("tcp", 0, True), ("http", t, False))
            for t in (0.010, 0.020, 0.030)]
    rows = {row["phase"]: row for row in report.phase_percentiles([cold, *warm])}
    assert list(rows) == ["parse", "tcp", "http", "total"]
    assert rows["tcp"] == {"phase": "tcp", "runs": 1, "skipped": 3, "p50_ms": 10.0,
                           "p95_ms": 10.0}
    assert rows["http"]["runs"] == 4 and rows["http"]["skipped"] == 0
    assert rows["http"]["p50_ms"] == 20.0 and rows["http"]["p95_ms"] == 40.0
    assert rows["total"]["p50_ms"] == 21.0 and rows["total"]["p95_ms"] == 51.0
    lines = report.percentile_lines(list(rows.values()))
    assert lines[0].split() == ["phase", "p50", "p95", "runs"]
    assert any(line.startswith("TCP") and "(skipped in 3)" in line for line in lines)
    only_skipped = report.phase_percentiles([warm[0]])
    assert {"phase": "tcp", "runs": 0, "skipped": 1, "p50_ms": None,
            "p95_ms": None} in only_skipped


def test_the_waterfall_and_the_comparison():
    visit = _visit(("parse", 0.001, False), ("dns", 0.0, True), ("http", 0.009, False))
    rows = report.waterfall(visit, width=10)
    assert len(rows) == 3 and all(row.endswith("|") for row in rows)
    assert rows[1].split("|")[1].strip() == "·" and "█" * 9 in rows[2]
    lines = report.compare_lines([visit, visit], ["cold", "warm"])
    assert lines[0].split() == ["phase", "cold", "warm"]
    assert [line.split()[0] for line in lines[1:]] == [
        "URL", "DNS", "DNS", "TCP", "TLS", "HTTP", "Render", "total"]
    assert "skipped" in lines[2] and "—" in lines[4]
