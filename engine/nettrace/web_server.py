"""Small web servers on loopback: the far end of the URL trace when there is no network.

`WebServer` speaks HTTP/1.1, and HTTP/2 when TLS's ALPN picks "h2", with certificates chosen
per host by SNI — the pieces a browser meets at a real site, on 127.0.0.1 and a random port.
`SilentServer` accepts and never answers (the "timeout" failure) and `closed_port` gives a port
where nothing listens (the "connection refused" failure).

Threads, not asyncio: the tracer and the tests are plain blocking code, and a thread per
connection keeps each exchange readable top to bottom. `stop()` wakes every blocked thread by
shutting its socket down and joins them all, so tests leave nothing behind.
"""

from __future__ import annotations

import html
import re
import selectors
import socket
import ssl
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

import h2.events
import h2.exceptions
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes

from microgpt_tui.engine.nettrace.demo_ca import IssuedCert

from .running import StartStop

SERVER_NAME = "microgpt-tui-demo"
# A client that goes quiet this long loses its connection (and its thread) even before stop().
IDLE_TIMEOUT_S = 30.0
MAX_HEAD_BYTES = 64 * 1024  # request line + headers: real servers allow 8–64 KiB
MAX_BODY_BYTES = 1024 * 1024  # request bodies are read and dropped, up to this size
DATA_FRAME_BYTES = 16 * 1024  # HTTP/2's default SETTINGS_MAX_FRAME_SIZE
JOIN_TIMEOUT_S = 5.0  # per thread at stop(): bounds a bug, never reached in normal use

# Headers the server writes itself; a route's own copies would duplicate or contradict them.
_SERVER_SET = {"server", "date", "content-length", "connection"}
# RFC 9113 §8.2.2: connection-specific headers are forbidden in HTTP/2.
_NOT_IN_H2 = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}
_REDIRECTS = {301, 302, 303, 307, 308}

_REQUEST_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP/(\d)\.(\d)")
_HEADER_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\r\n]*?)[ \t]*")
# Anything outside visible ASCII and space cannot begin a request: answer 400 at once.
_NOT_REQUEST_LINE = re.compile(rb"[^\x20-\x7e\r]")

DEFAULT_CSS = (
    "body { font-family: sans-serif; margin: 0 auto; max-width: 40em; }\n"
    "header, footer { padding: 1em; background: #eef; }\n"
    "nav a { margin-right: 1em; }\n"
)


@dataclass(frozen=True)
class Response:
    """What a route answers. The server adds Server, Date and Content-Length itself."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


def _response(status: int, body: bytes, content_type: str, *extra: tuple[str, str]) -> Response:
    headers = (("Content-Type", content_type), *extra)
    return Response(status, HTTPStatus(status).phrase, headers, body)


def html_page(
    title: str,
    *,
    heading: str | None = None,
    paragraphs: Sequence[str] = (),
    links: Sequence[tuple[str, str]] = (("/", "Home"),),
    stylesheet_href: str = "/style.css",
    status: int = 200,
) -> Response:
    """A small, real HTML page: head (title, stylesheet link), header/nav, main with a list of
    links and paragraphs, footer — enough nesting for the client to draw a DOM outline.
    `links` are (href, text) pairs; all text is HTML-escaped."""
    esc = html.escape
    nav = "".join(f'<a href="{esc(href)}">{esc(text)}</a>' for href, text in links)
    items = "".join(f'<li><a href="{esc(href)}">{esc(text)}</a></li>' for href, text in links)
    body_text = "".join(f"<p>{esc(text)}</p>\n" for text in paragraphs)
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n"
        f'<link rel="stylesheet" href="{esc(stylesheet_href)}">\n'
        "</head>\n"
        "<body>\n"
        f"<header><h1>{esc(heading or title)}</h1><nav>{nav}</nav></header>\n"
        f"<main>\n{body_text}<ul>{items}</ul>\n</main>\n"
        f"<footer><p>Served by {SERVER_NAME} on loopback</p></footer>\n"
        "</body>\n"
        "</html>\n"
    )
    return _response(status, page.encode(), "text/html; charset=utf-8")


def stylesheet(css: str = DEFAULT_CSS) -> Response:
    """A CSS file, for the route that `html_page`'s stylesheet link points at."""
    return _response(200, css.encode(), "text/css; charset=utf-8")


def redirect(location: str, status: int = 301) -> Response:
    """A redirect to `location` (absolute URL or path) with status 301, 302, 303, 307 or 308."""
    if status not in _REDIRECTS:
        raise ValueError(f"redirect status must be one of {sorted(_REDIRECTS)}, not {status}")
    if not location or any(ch in location for ch in "\r\n"):
        raise ValueError(f"not a redirect location: {location!r}")
    body = f'<!DOCTYPE html>\n<p>Moved to <a href="{html.escape(location)}">here</a>.</p>\n'
    return _response(status, body.encode(), "text/html; charset=utf-8", ("Location", location))


def _error(status: int, detail: str) -> Response:
    return html_page(f"{status} {HTTPStatus(status).phrase}", paragraphs=[detail], status=status)


def _shutdown(conn: socket.socket) -> None:
    """Wake whatever thread is blocked on `conn`: close() alone leaves a blocked recv() waiting.
    The base-class method on purpose: SSLSocket.shutdown also drops its SSL object, under the
    feet of the thread still reading through it."""
    try:
        socket.socket.shutdown(conn, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or never connected: nothing to wake


class _TcpServer(StartStop):
    """A listener and a thread per accepted connection; subclasses say what `_serve` does."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._address: tuple[str, int] | None = None  # kept after stop(), for reports
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._threads: list[threading.Thread] = []
        self._open: set[socket.socket] = set()
        self._counts = {"connections": 0, "requests": 0, "tls_resumed": 0, "errors": 0}

    # -- counters ------------------------------------------------------------------------------

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        return self._counts["connections"]

    @property
    def errors(self) -> int:
        """Failed handshakes, malformed requests and clients that left mid-exchange."""
        return self._counts["errors"]

    # -- life cycle ----------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the server listens on; the port is chosen by the OS when 0 was asked."""
        if self._address is None:
            raise RuntimeError("the server is not started")
        return self._address

    def start(self) -> None:
        """Bind, listen and start accepting in a daemon thread. A server starts once."""
        if self._listener is not None:
            raise RuntimeError("the server was already started")
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.bind((self._host, self._port))
            listener.listen(64)
        except OSError:
            listener.close()
            raise
        # Non-blocking: a connection that vanishes between select() and accept() must not hang.
        listener.setblocking(False)
        self._listener = listener
        self._address = listener.getsockname()[:2]
        # select() on the listener and this pair: stop() writes one byte to end the accept loop.
        self._wake_r, self._wake_w = socket.socketpair()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"{type(self).__name__}-accept", daemon=True
        )
        self._accept_thread.start()

    def stop(self) -> None:
        """Stop accepting, wake and close every open connection, join every thread. Idempotent."""
        with self._lock:
            if self._listener is None or self._stopping.is_set():
                return
            self._stopping.set()
        assert self._wake_w is not None and self._accept_thread is not None
        self._wake_w.send(b"x")
        self._accept_thread.join(JOIN_TIMEOUT_S)
        with self._lock:
            # Under the lock: a handler removes its socket under it before closing, so none of
            # these can be closed (and its descriptor reused) while being shut down here.
            for conn in self._open:
                _shutdown(conn)
            threads = list(self._threads)
        for thread in threads:
            thread.join(JOIN_TIMEOUT_S)
        for sock in (self._listener, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()



    # -- connections ---------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None and self._wake_r is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r:
                        return
                    try:
                        conn, _peer = self._listener.accept()
                    except (BlockingIOError, ConnectionAbortedError):
                        continue
                    # A response goes out in several small writes (HTTP/2: HEADERS, then
                    # DATA): with Nagle's algorithm the second waits for the client's delayed
                    # ACK, ~40 ms on Linux, which the trace would show as server time.
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    if not self._adopt(conn):
                        return

    def _adopt(self, conn: socket.socket) -> bool:
        """Track `conn` and start its thread; False (and `conn` closed) once stopping."""
        with self._lock:
            if self._stopping.is_set():
                conn.close()
                return False
            self._counts["connections"] += 1
            self._open.add(conn)
            self._threads = [thread for thread in self._threads if thread.is_alive()]
            thread = threading.Thread(
                target=self._handle, args=(conn,), name=f"{type(self).__name__}-conn", daemon=True
            )
            self._threads.append(thread)
            # Started under the lock, so stop() never finds a thread it cannot join yet.
            thread.start()
        return True

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(self._idle_timeout())
            self._serve(conn)
        except Exception:
            # Reset, timeout, TLS alert, a socket shut by stop(), or a case this code never
            # foresaw: one connection fails, the server lives on.
            if not self._stopping.is_set():
                self._count("errors")
        finally:
            self._release(conn)

    def _release(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.discard(conn)
        conn.close()

    def _idle_timeout(self) -> float | None:
        return IDLE_TIMEOUT_S

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError


class SilentServer(_TcpServer):
    """Accepts TCP connections and never sends a byte: what a client's timeout is for."""

    def _idle_timeout(self) -> float | None:
        return None  # silent for as long as the client cares to wait, until stop()

    def _serve(self, conn: socket.socket) -> None:
        while conn.recv(65536):
            pass


def closed_port(host: str = "127.0.0.1") -> int:
    """A port on `host` where nothing listens, so connecting is refused. (Another program could
    take it in between; on loopback in a test that is vanishingly rare.)"""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


class _BadRequest(Exception):
    """The client's bytes are not HTTP/1.1 we can answer; `status` says why (400, 501, 505)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    keep_alive: bool


class _Http1Reader:
    """Buffers a connection's bytes and cuts them into requests."""

    def __init__(self, conn: socket.socket) -> None:
        self._conn = conn
        self._buffer = bytearray()

    def _fill(self) -> bool:
        data = self._conn.recv(65536)
        self._buffer += data
        return bool(data)

    def read_request(self) -> _Request | None:
        """The next request, its body read and dropped; None when the client closed cleanly
        between requests. Raises _BadRequest for bytes that are not a request."""
        while True:
            # RFC 9112 §2.2: ignore empty lines before a request line.
            while self._buffer[:2] == b"\r\n":
                del self._buffer[:2]
            end = self._buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            # Judge the request line as soon as we have it (or bytes it cannot contain), rather
            # than wait for a blank line that garbage may never send.
            line_end = self._buffer.find(b"\r\n")
            first = self._buffer if line_end < 0 else self._buffer[:line_end]
            if _NOT_REQUEST_LINE.search(first) or (
                line_end >= 0 and not _REQUEST_LINE.fullmatch(first)
            ):
                raise _BadRequest(400, "malformed request line")
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise _BadRequest(400, "request head too large")
            if not self._fill():
                if self._buffer:
                    raise ConnectionAbortedError("the client closed mid-request")
                return None
        head = bytes(self._buffer[:end])
        del self._buffer[: end + 4]
        request, body_length = _parse_head(head)
        while len(self._buffer) < body_length:
            if not self._fill():
                raise ConnectionAbortedError("the client closed mid-body")
        del self._buffer[:body_length]
        return request


def _parse_head(head: bytes) -> tuple[_Request, int]:
    """(request, body length) from a request head without its final blank line."""
    lines = head.split(b"\r\n")
    match = _REQUEST_LINE.fullmatch(lines[0])
    if match is None:
        raise _BadRequest(400, "malformed request line")
    method, target, major, minor = match.groups()
    if (major, minor) not in ((b"1", b"1"), (b"1", b"0")):
        raise _BadRequest(505, f"HTTP/{major.decode()}.{minor.decode()} is not served here")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        header = _HEADER_LINE.fullmatch(line)
        if header is None:  # also obsolete line folding, which RFC 9112 says to reject
            raise _BadRequest(400, "malformed header line")
        name = header[1].decode("ascii").lower()
        value = header[2].decode("latin-1")
        if name in headers and name in ("content-length", "host"):
            raise _BadRequest(400, f"duplicate {name} header")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    if "transfer-encoding" in headers:
        raise _BadRequest(501, "request bodies with Transfer-Encoding are not supported")
    length_text = headers.get("content-length", "0")
    if not length_text.isdigit() or int(length_text) > MAX_BODY_BYTES:
        raise _BadRequest(400, "bad or too large Content-Length")
    http11 = minor == b"1"
    if http11 and "host" not in headers:
        raise _BadRequest(400, "HTTP/1.1 requests must carry Host")  # RFC 9112 §3.2
    path = _route_path(target.decode("ascii"))
    if path is None:
        raise _BadRequest(400, "malformed request target")
    tokens = {token.strip().lower() for token in headers.get("connection", "").split(",")}
    keep_alive = "close" not in tokens if http11 else "keep-alive" in tokens
    return _Request(method.decode("ascii"), path, keep_alive), int(length_text)


def _route_path(target: str) -> str | None:
    """The path part of an origin-form ("/a?b") or absolute-form ("http://h/a") target."""
    if target.startswith("/"):
        # Not urlsplit: it would read "//x/y" as a host; an origin-form target is all path.
        return target.split("?", 1)[0].split("#", 1)[0]
    if target.lower().startswith(("http://", "https://")):
        return urlsplit(target).path or "/"
    return None


def _date() -> str:
    return formatdate(usegmt=True)


def _http1_bytes(response: Response, *, head_only: bool, close: bool) -> bytes:
    lines = [
        f"HTTP/1.1 {response.status} {response.reason}",
        f"Server: {SERVER_NAME}",
        f"Date: {_date()}",
        *(
            f"{name}: {value}"
            for name, value in response.headers
            if name.lower() not in _SERVER_SET
        ),
        f"Content-Length: {len(response.body)}",
    ]
    if close:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if head_only else head + response.body


class WebServer(_TcpServer):
    """HTTP/1.1 and HTTP/2 on loopback, over TLS when given certificates, plain HTTP otherwise.

    `routes` maps paths ("/", "/old") to responses; other paths get 404. With `certs` (host →
    certificate) and/or `default_cert`, each TLS handshake picks its certificate by SNI, the
    default serving unknown or absent names. ALPN offers "h2" (when `http2`) and "http/1.1".
    Plain HTTP speaks HTTP/1.1 only (no cleartext h2c, as browsers do).
    """

    def __init__(
        self,
        routes: Mapping[str, Response],
        *,
        certs: Mapping[str, IssuedCert] | None = None,
        default_cert: IssuedCert | None = None,
        http2: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        for path in routes:
            if not path.startswith("/"):
                raise ValueError(f"route paths start with '/': {path!r}")
        self._routes = dict(routes)
        self._http2 = http2
        if certs is not None and not certs and default_cert is None:
            raise ValueError(
                "certs is empty and there is no default_cert: nothing to serve TLS with"
            )
        self._sni_contexts: dict[str, ssl.SSLContext] = {}
        for name, cert in (certs or {}).items():
            if not name.isascii():
                raise ValueError(f"certs keys are names as SNI carries them (A-labels): {name!r}")
            self._sni_contexts[name.lower()] = self._tls_context(cert)
        self._has_default = default_cert is not None
        self._context: ssl.SSLContext | None = None
        if certs is not None or default_cert is not None:
            self._context = self._tls_context(default_cert)
            self._context.sni_callback = self._pick_certificate

    @property
    def tls(self) -> bool:
        """True when the server speaks HTTPS, False for plain HTTP."""
        return self._context is not None

    @property
    def requests(self) -> int:
        """Requests answered (HTTP/1.1 requests and HTTP/2 streams), 404s and 405s included."""
        return self._counts["requests"]

    @property
    def tls_resumed(self) -> int:
        """Handshakes that resumed an earlier TLS session (from a ticket) instead of a full one."""
        return self._counts["tls_resumed"]

    def _tls_context(self, cert: IssuedCert | None) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_alpn_protocols(["h2", "http/1.1"] if self._http2 else ["http/1.1"])
        if cert is not None:
            # The ssl module loads certificates from files only; the directory is private (0700)
            # and gone as soon as the context holds the key.
            with tempfile.TemporaryDirectory(prefix="microgpt-tui-cert-") as folder:
                chain, key = Path(folder, "chain.pem"), Path(folder, "key.pem")
                chain.write_bytes(cert.chain_pem)
                key.write_bytes(cert.key_pem)
                context.load_cert_chain(chain, key)
        return context

    def _pick_certificate(
        self, tls: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, _context: ssl.SSLContext
    ) -> int | None:
        """SNI: switch the handshake to the named host's certificate, or keep the default."""
        chosen = self._sni_contexts.get((server_name or "").lower())
        if chosen is not None:
            tls.context = chosen
            return None
        if self._has_default:
            return None
        return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME

    def _serve(self, conn: socket.socket) -> None:
        if self._context is None:
            self._serve_http1(conn)
            return
        with self._lock:
            if self._stopping.is_set():
                return
            # wrap_socket takes over conn's descriptor: swap the tracked socket under the lock
            # so that stop() always shuts down the one a thread is blocked on.
            tls = self._context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
            self._open.discard(conn)
            self._open.add(tls)
        try:
            tls.do_handshake()
            if tls.session_reused:
                self._count("tls_resumed")
            if self._http2 and tls.selected_alpn_protocol() == "h2":
                self._serve_http2(tls)
            else:
                self._serve_http1(tls)
        finally:
            self._release(tls)

    def _answer(self, method: str, path: str) -> Response:
        self._count("requests")
        if method not in ("GET", "HEAD"):
            refusal = _error(405, f"{method} is not served here; GET and HEAD are.")
            return replace(refusal, headers=(*refusal.headers, ("Allow", "GET, HEAD")))
        return self._routes.get(path) or _error(404, f"Nothing is served at {path}.")

    # -- HTTP/1.1 ------------------------------------------------------------------------------

    def _serve_http1(self, conn: socket.socket) -> None:
        reader = _Http1Reader(conn)
        while True:
            try:
                request = reader.read_request()
            except _BadRequest as bad:
                self._count("errors")
                # The framing is lost after bad bytes: answer once and close.
                conn.sendall(
                    _http1_bytes(_error(bad.status, str(bad)), head_only=False, close=True)
                )
                return
            if request is None:
                return
            response = self._answer(request.method, request.path)
            conn.sendall(
                _http1_bytes(
                    response, head_only=request.method == "HEAD", close=not request.keep_alive
                )
            )
            if not request.keep_alive:
                return

    # -- HTTP/2 --------------------------------------------------------------------------------

    def _serve_http2(self, conn: socket.socket) -> None:
        h2_conn = H2Connection(config=H2Configuration(client_side=False, header_encoding=None))
        h2_conn.initiate_connection()  # our SETTINGS: the server's half of the preface
        conn.sendall(h2_conn.data_to_send())
        requests: dict[int, list[tuple[bytes, bytes]]] = {}  # streams whose request is open
        unsent: dict[int, memoryview] = {}  # response bodies waiting for flow-control window
        while True:
            data = conn.recv(65536)
            if not data:
                return
            try:
                events = h2_conn.receive_data(data)
            except h2.exceptions.ProtocolError:
                self._count("errors")
                conn.sendall(self._goaway(h2_conn))
                return
            client_left = False
            for event in events:
                if isinstance(event, h2.events.RequestReceived) and event.stream_id is not None:
                    requests[event.stream_id] = list(event.headers or [])
                    if event.stream_ended is not None:
                        self._answer_h2(
                            h2_conn, event.stream_id, requests.pop(event.stream_id), unsent
                        )
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id in requests:
                    self._answer_h2(h2_conn, event.stream_id, requests.pop(event.stream_id), unsent)
                elif isinstance(event, h2.events.DataReceived) and event.stream_id is not None:
                    # Request bodies are dropped, but their bytes must be credited back or the
                    # client's window to us shrinks to nothing.
                    try:
                        h2_conn.acknowledge_received_data(
                            event.flow_controlled_length or 0, event.stream_id
                        )
                    except h2.exceptions.StreamClosedError:
                        pass
                elif isinstance(event, h2.events.StreamReset) and event.stream_id is not None:
                    requests.pop(event.stream_id, None)
                    unsent.pop(event.stream_id, None)
                elif isinstance(event, h2.events.ConnectionTerminated):
                    client_left = True
                # SETTINGS and PING are acknowledged by h2 itself; WINDOW_UPDATE only grows the
                # windows that _send_bodies reads below.
            self._send_bodies(h2_conn, unsent)
            conn.sendall(h2_conn.data_to_send())
            if client_left:
                return

    @staticmethod
    def _goaway(h2_conn: H2Connection) -> bytes:
        """The GOAWAY that tells a misbehaving client why we hang up. h2 queues one for most
        protocol errors; for a bad connection preface it does not (RFC 9113 §3.4 lets it be
        omitted), and we send one anyway, so the client learns what went wrong."""
        queued = h2_conn.data_to_send()
        if queued:
            return queued
        try:
            h2_conn.close_connection(ErrorCodes.PROTOCOL_ERROR)
        except h2.exceptions.ProtocolError:
            return b""  # the connection state machine is already closed
        return h2_conn.data_to_send()

    def _answer_h2(
        self,
        h2_conn: H2Connection,
        stream_id: int,
        headers: list[tuple[bytes, bytes]],
        unsent: dict[int, memoryview],
    ) -> None:
        fields = dict(headers)
        method = fields.get(b":method", b"").decode("ascii", "replace")
        path = _route_path(fields.get(b":path", b"").decode("ascii", "replace"))
        if path is None:
            self._count("errors")
            response = _error(400, "malformed :path")
        else:
            response = self._answer(method, path)
        head_only = method == "HEAD"
        out = [
            (b":status", str(response.status).encode()),
            *(
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in response.headers
                if name.lower() not in _SERVER_SET | _NOT_IN_H2
            ),
            (b"content-length", str(len(response.body)).encode()),
            (b"server", SERVER_NAME.encode()),
            (b"date", _date().encode()),
        ]
        try:
            h2_conn.send_headers(stream_id, out, end_stream=head_only or not response.body)
        except h2.exceptions.StreamClosedError:
            return  # the client reset the stream before we answered
        if response.body and not head_only:
            unsent[stream_id] = memoryview(response.body)

    @staticmethod
    def _send_bodies(h2_conn: H2Connection, unsent: dict[int, memoryview]) -> None:
        """Send as much of each body as the stream's and the connection's windows allow, in
        frames of at most 16 KiB; the rest waits for the client's WINDOW_UPDATE."""
        for stream_id in list(unsent):
            body = unsent[stream_id]
            try:
                while body:
                    size = min(
                        len(body),
                        h2_conn.local_flow_control_window(stream_id),
                        h2_conn.max_outbound_frame_size,
                        DATA_FRAME_BYTES,
                    )
                    if size <= 0:
                        break
                    h2_conn.send_data(
                        stream_id, body[:size].tobytes(), end_stream=size == len(body)
                    )
                    body = body[size:]
            except h2.exceptions.StreamClosedError:
                body = memoryview(b"")
            if body:
                unsent[stream_id] = body
            else:
                del unsent[stream_id]
