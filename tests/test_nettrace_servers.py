"""The loopback web side of the small internet: the demo CA, the web servers, the failure cases.

Clients here are plain stdlib (socket + ssl) and h2 for HTTP/2, written in the tests on purpose:
the servers are checked against standard clients, not against the project's own tracer.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import h2.config
import h2.connection
import h2.errors
import h2.events
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from microgpt_tui.engine.nettrace.demo_ca import DemoCA, IssuedCert, self_signed
from microgpt_tui.engine.nettrace.web_server import (
    Response,
    SilentServer,
    WebServer,
    closed_port,
    html_page,
    redirect,
    stylesheet,
)

HOST = "demo.test"
TIMEOUT_S = 2.0  # bounds a failure only; nothing here waits this long when it passes
MOMENT = datetime(2030, 1, 1, tzinfo=UTC)
BIG_BODY = bytes(range(256)) * 800  # 200 KiB: three times HTTP/2's initial 64 KiB window


@pytest.fixture(scope="module")
def ca() -> DemoCA:
    return DemoCA()


@pytest.fixture(scope="module")
def leaf(ca: DemoCA) -> IssuedCert:
    return ca.issue([HOST, "127.0.0.1"])


def _routes() -> dict[str, Response]:
    return {
        "/": html_page("Demo home", paragraphs=["Hello from loopback."]),
        "/style.css": stylesheet(),
        "/old": redirect("/"),
        "/big": Response(200, "OK", (("Content-Type", "application/octet-stream"),), BIG_BODY),
    }


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leaked = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"


@pytest.fixture
def https_server(leaf: IssuedCert) -> Iterator[WebServer]:
    with WebServer(_routes(), default_cert=leaf) as server:
        yield server


@pytest.fixture
def http_server() -> Iterator[WebServer]:
    with WebServer(_routes()) as server:
        yield server


def _trusting(ca: DemoCA, alpn: tuple[str, ...] = ("http/1.1",)) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=ca.ca_pem.decode())
    context.set_alpn_protocols(list(alpn))
    return context


def _tls(context: ssl.SSLContext, server: WebServer, name: str = HOST, **kw) -> ssl.SSLSocket:
    raw = socket.create_connection(server.address, timeout=TIMEOUT_S)
    try:
        return context.wrap_socket(raw, server_hostname=name, **kw)
    except BaseException:
        raw.close()
        raise


def _verify_error(context: ssl.SSLContext, server: WebServer, name: str = HOST) -> str:
    with pytest.raises(ssl.SSLCertVerificationError) as failure:
        _tls(context, server, name).close()
    return failure.value.verify_message


def _wait_until(condition: Callable[[], bool]) -> None:
    """Counters are updated on the server's threads: give them a moment, bounded."""
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def _read_to_end(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


class _Http1Client:
    """Just enough HTTP/1.1 to read Content-Length responses off one connection."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def get(
        self, path: str, *, close: bool = False, method: str = "GET"
    ) -> tuple[int, dict, bytes]:
        connection = "Connection: close\r\n" if close else ""
        self.sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n{connection}\r\n".encode())
        return self.read_response(head_only=method == "HEAD")

    def read_response(self, head_only: bool = False) -> tuple[int, dict, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines)}
        length = 0 if head_only else int(headers["content-length"])
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), headers, body

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        assert data, "the server closed the connection early"
        self.buffer += data


# -- the demo CA ---------------------------------------------------------------------------------


def test_chain_verifies_for_the_right_host(ca: DemoCA, https_server: WebServer) -> None:
    with _tls(_trusting(ca), https_server) as sock:
        sent = (getattr(sock, "get_unverified_chain", None) or sock._sslobj.get_unverified_chain)()
        verified = (getattr(sock, "get_verified_chain", None) or sock._sslobj.get_verified_chain)()
        assert len(sent) == 2  # leaf + intermediate: servers never send the root
        assert len(verified) == 3  # the client completed it with the root it trusts
        root = x509.load_pem_x509_certificate(verified[-1].public_bytes().encode())
        assert root == x509.load_pem_x509_certificate(ca.ca_pem)
        assert sock.version() in ("TLSv1.2", "TLSv1.3")


def test_an_ip_address_san_verifies(ca: DemoCA, https_server: WebServer) -> None:
    with _tls(_trusting(ca), https_server, "127.0.0.1") as sock:
        assert sock.getpeercert()["subjectAltName"] == (
            ("DNS", HOST),
            ("IP Address", "127.0.0.1"),
        )


def test_wrong_host_is_a_hostname_mismatch(ca: DemoCA, https_server: WebServer) -> None:
    assert "Hostname mismatch" in _verify_error(_trusting(ca), https_server, "other.test")


def test_expired_leaf_fails(ca: DemoCA) -> None:
    expired = ca.issue([HOST], not_after=datetime.now(UTC) - timedelta(days=2))
    with WebServer(_routes(), default_cert=expired) as server:
        assert "certificate has expired" in _verify_error(_trusting(ca), server)
        _wait_until(lambda: server.errors == 1)  # the client's alert ends the server's handshake


def test_the_system_trust_store_does_not_know_the_demo_ca(https_server: WebServer) -> None:
    message = _verify_error(ssl.create_default_context(), https_server)
    assert "unable to get local issuer certificate" in message


def test_trusting_the_written_root_file_verifies(
    ca: DemoCA, https_server: WebServer, tmp_path: Path
) -> None:
    cafile = ca.write_ca(tmp_path / "demo-ca.pem")
    assert cafile.read_bytes() == ca.ca_pem
    with _tls(ssl.create_default_context(cafile=str(cafile)), https_server) as sock:
        assert sock.getpeercert()


def test_self_signed_leaf_fails(ca: DemoCA) -> None:
    with WebServer(_routes(), default_cert=self_signed([HOST])) as server:
        message = _verify_error(_trusting(ca), server)
    assert re.search("self[- ]signed certificate", message)


def test_certificate_shapes(ca: DemoCA, leaf: IssuedCert) -> None:
    root = x509.load_pem_x509_certificate(ca.ca_pem)
    cert, intermediate = x509.load_pem_x509_certificates(leaf.chain_pem)
    assert cert == x509.load_pem_x509_certificate(leaf.cert_pem)
    for ca_cert, path_length in ((root, 1), (intermediate, 0)):
        constraints = ca_cert.extensions.get_extension_for_class(x509.BasicConstraints)
        assert constraints.critical and constraints.value.ca
        assert constraints.value.path_length == path_length
        assert ca_cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert intermediate.issuer == root.subject and cert.issuer == intermediate.subject
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH]
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = intermediate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert timedelta(days=30) <= lifetime <= timedelta(days=30, hours=1)
    assert b"BEGIN PRIVATE KEY" in leaf.key_pem  # PKCS#8, unencrypted


def test_international_names_become_a_labels(ca: DemoCA) -> None:
    cert = x509.load_pem_x509_certificate(ca.issue(["bücher.test"]).cert_pem)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["xn--bcher-kva.test"]


@pytest.mark.parametrize(
    ("hosts", "kwargs"),
    [
        ([], {}),
        ("demo.test", {}),  # a bare string, not a list of names
        (["bad host"], {}),
        ([HOST], {"not_after": datetime(2030, 1, 1)}),  # naive
        ([HOST], {"not_before": MOMENT, "not_after": MOMENT}),  # empty validity
    ],
)
def test_issue_rejects_bad_input(ca: DemoCA, hosts, kwargs) -> None:
    with pytest.raises(ValueError):
        ca.issue(hosts, **kwargs)


# -- TLS: SNI, ALPN, resumption ------------------------------------------------------------------


def test_sni_picks_the_certificate(ca: DemoCA) -> None:
    certs = {"a.test": ca.issue(["a.test"]), "b.test": ca.issue(["b.test"])}
    with WebServer(_routes(), certs=certs, default_cert=ca.issue(["default.test"])) as server:
        for name in ("a.test", "b.test"):
            with _tls(_trusting(ca), server, name) as sock:
                assert sock.getpeercert()["subjectAltName"] == (("DNS", name),)
        unknown = _trusting(ca)
        unknown.check_hostname = False
        with _tls(unknown, server, "nobody.test") as sock:
            assert sock.getpeercert()["subjectAltName"] == (("DNS", "default.test"),)


def test_unknown_sni_without_a_default_is_refused(ca: DemoCA) -> None:
    with WebServer(_routes(), certs={"a.test": ca.issue(["a.test"])}) as server:
        with pytest.raises(ssl.SSLError):
            _tls(_trusting(ca), server, "b.test").close()
        _wait_until(lambda: server.errors == 1)


def test_tls_session_resumption(ca: DemoCA, https_server: WebServer) -> None:
    context = _trusting(ca)
    with _tls(context, https_server) as first:
        # TLS 1.3 sends its session tickets after the handshake: read before taking the session.
        assert _Http1Client(first).get("/")[0] == 200
        session = first.session
        assert not first.session_reused
    with _tls(context, https_server, session=session) as second:
        assert second.session_reused
        assert _Http1Client(second).get("/")[0] == 200  # the server has counted by now
    assert https_server.tls_resumed == 1
    assert https_server.connections == 2


def test_alpn_without_http2_offers_only_http11(ca: DemoCA, leaf: IssuedCert) -> None:
    with WebServer(_routes(), default_cert=leaf, http2=False) as server:
        with _tls(_trusting(ca, ("h2", "http/1.1")), server) as sock:
            assert sock.selected_alpn_protocol() == "http/1.1"
            assert _Http1Client(sock).get("/")[0] == 200


# -- HTTP/1.1 ------------------------------------------------------------------------------------


def test_get_serves_the_page_with_server_headers(ca: DemoCA, https_server: WebServer) -> None:
    with _tls(_trusting(ca), https_server) as sock:
        status, headers, body = _Http1Client(sock).get("/", close=True)
        assert sock.recv(1) == b""  # "Connection: close" honoured
    assert status == 200
    assert body == _routes()["/"].body
    assert headers["server"] == "microgpt-tui-demo"
    assert headers["date"].endswith(" GMT")
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["connection"] == "close"


def test_keep_alive_serves_two_requests_on_one_connection(
    ca: DemoCA, https_server: WebServer
) -> None:
    with _tls(_trusting(ca), https_server) as sock:
        client = _Http1Client(sock)
        assert client.get("/")[0] == 200
        status, headers, body = client.get("/style.css")
    assert (status, headers["content-type"]) == (200, "text/css; charset=utf-8")
    assert b"body" in body
    assert (https_server.connections, https_server.requests) == (1, 2)


def test_unknown_path_is_404_and_redirect_has_location(http_server: WebServer) -> None:
    with socket.create_connection(http_server.address, timeout=TIMEOUT_S) as sock:
        client = _Http1Client(sock)
        status, _, body = client.get("/missing")
        assert status == 404 and b"/missing" in body
        status, headers, _ = client.get("/old")
        assert (status, headers["location"]) == (301, "/")


def test_head_and_other_methods(http_server: WebServer) -> None:
    with socket.create_connection(http_server.address, timeout=TIMEOUT_S) as sock:
        client = _Http1Client(sock)
        status, headers, body = client.get("/", method="HEAD")
        assert (status, body) == (200, b"")
        assert int(headers["content-length"]) == len(_routes()["/"].body)
        sock.sendall(b"POST / HTTP/1.1\r\nHost: demo.test\r\nContent-Length: 5\r\n\r\nhello")
        status, headers, _ = client.read_response()
        assert (status, headers["allow"]) == (405, "GET, HEAD")
        assert client.get("/")[0] == 200  # the POST's body was read past, not taken as a request


def test_plain_http_mode_has_no_tls(http_server: WebServer) -> None:
    assert not http_server.tls
    with socket.create_connection(http_server.address, timeout=TIMEOUT_S) as sock:
        assert _Http1Client(sock).get("/")[:3:2] == (200, _routes()["/"].body)


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x00\xff\x16\x03\x01 not http at all",  # binary, no line end: judged at once
        b"HELLO THERE\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost demo.test\r\n\r\n",  # a header line without its colon
        b"GET / HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
    ],
)
def test_garbage_gets_400_and_the_server_lives_on(http_server: WebServer, garbage: bytes) -> None:
    with socket.create_connection(http_server.address, timeout=TIMEOUT_S) as sock:
        sock.sendall(garbage)
        client = _Http1Client(sock)
        status, headers, _ = client.read_response()
        assert (status, headers["connection"]) == (400, "close")
        assert sock.recv(1) == b""
    with socket.create_connection(http_server.address, timeout=TIMEOUT_S) as sock:
        assert _Http1Client(sock).get("/")[0] == 200
    assert http_server.errors == 1


def test_a_client_that_leaves_early_is_only_an_error(http_server: WebServer) -> None:
    with socket.create_connection(http_server.address, timeout=TIMEOUT_S) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHo")
    _wait_until(lambda: http_server.errors == 1)
    with socket.create_connection(http_server.address, timeout=TIMEOUT_S) as sock:
        assert _Http1Client(sock).get("/")[0] == 200


# -- HTTP/2 --------------------------------------------------------------------------------------


class _H2Client:
    """An h2 client connection over TLS; collects events until a stream ends."""

    def __init__(self, sock: ssl.SSLSocket) -> None:
        self.sock = sock
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
        self.conn.initiate_connection()
        self.flush()

    def flush(self) -> None:
        self.sock.sendall(self.conn.data_to_send())

    def events(self) -> list[h2.events.Event]:
        data = self.sock.recv(65536)
        assert data, "the server closed the connection"
        events = self.conn.receive_data(data)
        self.flush()  # SETTINGS and PING acknowledgements
        return events

    def request(self, path: str) -> int:
        stream_id = self.conn.get_next_available_stream_id()
        headers = [(":method", "GET"), (":scheme", "https"), (":authority", HOST), (":path", path)]
        self.conn.send_headers(stream_id, headers, end_stream=True)
        self.flush()
        return stream_id


def test_http2_get_exchanges_settings_headers_and_data(ca: DemoCA, https_server: WebServer) -> None:
    with _tls(_trusting(ca, ("h2", "http/1.1")), https_server) as sock:
        assert sock.selected_alpn_protocol() == "h2"
        client = _H2Client(sock)
        stream_id = client.request("/")
        seen: list[h2.events.Event] = []
        while not any(isinstance(e, h2.events.StreamEnded) for e in seen):
            seen += client.events()
    kinds = {type(e) for e in seen}
    assert {h2.events.RemoteSettingsChanged, h2.events.SettingsAcknowledged} <= kinds
    response = next(e for e in seen if isinstance(e, h2.events.ResponseReceived))
    headers = dict(response.headers)
    assert response.stream_id == stream_id
    assert headers[":status"] == "200" and headers["server"] == "microgpt-tui-demo"
    assert headers["content-type"] == "text/html; charset=utf-8" and "date" in headers
    body = b"".join(e.data for e in seen if isinstance(e, h2.events.DataReceived))
    assert body == _routes()["/"].body
    assert headers["content-length"] == str(len(body))
    assert https_server.requests == 1


def test_http2_unknown_path_and_method(ca: DemoCA, https_server: WebServer) -> None:
    with _tls(_trusting(ca, ("h2",)), https_server) as sock:
        client = _H2Client(sock)
        missing = client.request("/missing")
        post = client.conn.get_next_available_stream_id()
        client.conn.send_headers(
            post,
            [(":method", "POST"), (":scheme", "https"), (":authority", HOST), (":path", "/")],
            end_stream=True,
        )
        client.flush()
        statuses: dict[int, dict[str, str]] = {}
        while len(statuses) < 2:
            for event in client.events():
                if isinstance(event, h2.events.ResponseReceived):
                    statuses[event.stream_id] = dict(event.headers)
    assert statuses[missing][":status"] == "404"
    assert (statuses[post][":status"], statuses[post]["allow"]) == ("405", "GET, HEAD")


def test_http2_large_body_waits_for_window_updates(ca: DemoCA, https_server: WebServer) -> None:
    with _tls(_trusting(ca, ("h2",)), https_server) as sock:
        client = _H2Client(sock)
        stream_id = client.request("/big")
        initial_window = client.conn.local_settings.initial_window_size
        received, unacknowledged, window_updates, ended = bytearray(), 0, 0, False
        while not ended:
            for event in client.events():
                if isinstance(event, h2.events.DataReceived):
                    assert len(event.data) <= 16 * 1024
                    received += event.data
                    unacknowledged += event.flow_controlled_length
                    # Credit nothing until the first window is used up: the server must stop
                    # there (h2 raises FlowControlError if it sends more) and wait for us.
                    if len(received) >= initial_window:
                        client.conn.acknowledge_received_data(unacknowledged, stream_id)
                        unacknowledged = 0
                        pending = client.conn.data_to_send()
                        window_updates += bool(pending)
                        sock.sendall(pending)
                ended = ended or isinstance(event, h2.events.StreamEnded)
    assert bytes(received) == BIG_BODY
    assert window_updates > 0


def test_http2_ping_and_goaway(ca: DemoCA, https_server: WebServer) -> None:
    with _tls(_trusting(ca, ("h2",)), https_server) as sock:
        client = _H2Client(sock)
        client.conn.ping(b"12345678")
        client.flush()
        seen: list[h2.events.Event] = []
        while not any(isinstance(e, h2.events.PingAckReceived) for e in seen):
            seen += client.events()
        client.conn.close_connection()
        client.flush()
        assert sock.recv(1) == b""  # the server closes once told the client is going away


def test_http2_protocol_garbage_gets_goaway(ca: DemoCA, https_server: WebServer) -> None:
    with _tls(_trusting(ca, ("h2",)), https_server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: demo.test\r\n\r\n")  # not the HTTP/2 preface
        data = _read_to_end(sock)
    client = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    goaway = [e for e in client.receive_data(data) if isinstance(e, h2.events.ConnectionTerminated)]
    assert goaway[0].error_code == h2.errors.ErrorCodes.PROTOCOL_ERROR
    _wait_until(lambda: https_server.errors == 1)


# -- failure servers and stopping ----------------------------------------------------------------


def test_silent_server_accepts_and_never_answers() -> None:
    with SilentServer() as server:
        with socket.create_connection(server.address, timeout=TIMEOUT_S) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: demo.test\r\n\r\n")
            sock.settimeout(0.3)
            with pytest.raises(TimeoutError):
                sock.recv(1)
            _wait_until(lambda: server.connections == 1)


def test_closed_port_refuses() -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", closed_port()), timeout=TIMEOUT_S)


def test_stop_wakes_open_connections_and_joins_every_thread(ca: DemoCA, leaf: IssuedCert) -> None:
    before = set(threading.enumerate())
    web, silent = WebServer(_routes(), default_cert=leaf), SilentServer()
    web.start()
    silent.start()
    idle_h1 = _tls(_trusting(ca), web)
    assert _Http1Client(idle_h1).get("/")[0] == 200  # keep-alive: its thread waits for more
    idle_h2 = _tls(_trusting(ca, ("h2",)), web)
    _H2Client(idle_h2)
    half_open = socket.create_connection(web.address, timeout=TIMEOUT_S)  # never says hello
    waiting = socket.create_connection(silent.address, timeout=TIMEOUT_S)
    _wait_until(lambda: web.connections == 3 and silent.connections == 1)
    assert set(threading.enumerate()) - before  # the servers' threads are running
    web.stop()
    silent.stop()
    web.stop()  # idempotent
    assert not [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for sock in (idle_h1, idle_h2, half_open, waiting):
        with sock:
            leftover = _read_to_end(sock)  # ends (no timeout): the server's side closed
        assert leftover == b"" or sock is idle_h2  # the h2 client left the server's SETTINGS unread
    with pytest.raises(RuntimeError):
        web.start()  # a server starts once


def test_address_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        _ = WebServer(_routes()).address


# -- pages and bad configuration ---------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "link" and ("rel", "stylesheet") in attrs:
            self.stylesheets.append(dict(attrs)["href"] or "")


def test_html_page_is_a_small_real_page() -> None:
    page = html_page("A <b> title", paragraphs=["one", "two"], links=[("/a", "A"), ("/b", "B")])
    assert (page.status, page.reason) == (200, "OK")
    parser = _Tags()
    parser.feed(page.body.decode())
    for tag in ("html", "head", "title", "body", "header", "nav", "main", "ul", "li", "p", "a"):
        assert tag in parser.tags
    assert parser.tags.count("li") == 2 and "footer" in parser.tags
    assert parser.stylesheets == ["/style.css"]
    assert b"A &lt;b&gt; title" in page.body


@pytest.mark.parametrize(
    "make",
    [
        lambda: redirect("/", status=200),
        lambda: redirect("/\r\nSet-Cookie: x=1"),
        lambda: WebServer({"no-slash": html_page("x")}),
        lambda: WebServer(_routes(), certs={}),
    ],
)
def test_bad_configuration_is_a_value_error(make) -> None:
    with pytest.raises(ValueError):
        make()
