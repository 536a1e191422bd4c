"""Step 5 over HTTP/1.1: the exact bytes of the request, and the response read back in full.

Text on the wire: a request line, headers, a blank line. The response's status line and
headers come back first (time to first byte: one round trip after the request left, plus the
server's work), then a body sized by Content-Length, chunked, or ended by the server closing.
"""

from __future__ import annotations

import socket
import time
import zlib
from dataclasses import dataclass, field

USER_AGENT = "microgpt-tui (what happens when you type a URL)"
KEEP_BODY = 1 << 20  # bytes of the body kept for the DOM outline; the rest is only counted
MAX_HEAD = 64 << 10  # a status line and headers larger than this are refused
READ_SIZE = 64 << 10
RECEIVE_SLICE = 0.05  # seconds a read waits before looking at the cancel flag again


class HttpError(Exception):
    """The server broke HTTP (or went silent): one line for the trace."""


@dataclass
class HttpResult:
    version: str  # "HTTP/1.1" or "HTTP/2"
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes  # decoded (gzip/deflate undone), at most KEEP_BODY bytes
    body_size: int  # bytes of body received on the wire
    request_bytes: bytes  # exactly what was sent (HTTP/2: the headers as a pseudo-text)
    ttfb: float  # from sending the request to the first byte of the response, seconds
    elapsed: float  # from sending the request to the last byte
    keep_alive: bool = True
    frames: list[dict] = field(default_factory=list)  # HTTP/2 frames, both directions

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)


def request_bytes(host: str, path: str, extra: list[tuple[str, str]] | None = None) -> bytes:
    """A browser-like GET: Host first (HTTP/1.1 requires it), then what a browser says."""
    headers = [("Host", host), ("User-Agent", USER_AGENT),
               ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
               ("Accept-Encoding", "gzip, deflate"), ("Connection", "keep-alive")]
    headers += extra or []
    lines = [f"GET {path} HTTP/1.1"] + [f"{key}: {value}" for key, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def exchange(sock: socket.socket, request: bytes, timeout: float = 5.0,
             cancel=None) -> HttpResult:
    """Send `request` and read one response. HttpError for a silent or broken server."""
    sock.settimeout(timeout)
    began = time.perf_counter()
    sock.sendall(request)
    reader = _Reader(sock, timeout, cancel)
    head = reader.until(b"\r\n\r\n", MAX_HEAD)
    ttfb = reader.first_byte_at - began
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    version, status, reason = _status(status_line)
    headers = []
    for line in header_lines:
        key, colon, value = line.partition(":")
        if not colon:
            raise HttpError(f"a header line without a colon: {line[:60]!r}")
        headers.append((key.strip(), value.strip()))
    result = HttpResult(version, status, reason, headers, b"", 0, request, ttfb, 0.0)
    raw, result.body_size = _body(reader, result)
    result.body = _decode(raw, result.header("content-encoding"))
    result.elapsed = time.perf_counter() - began
    connection = (result.header("connection") or "").lower()
    result.keep_alive = version == "HTTP/1.1" and connection != "close" and not reader.closed
    return result


def _status(line: str) -> tuple[str, int, str]:
    version, _, rest = line.partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/") or not code.isdigit() or len(code) != 3:
        raise HttpError(f"not an HTTP status line: {line[:60]!r}")
    return version, int(code), reason


def _body(reader: _Reader, result: HttpResult) -> tuple[bytes, int]:
    """The body's kept bytes and its size on the wire."""
    if result.status in (204, 304) or 100 <= result.status < 200:
        return b"", 0
    if (result.header("transfer-encoding") or "").lower().endswith("chunked"):
        parts: list[bytes] = []
        total = 0
        while True:
            size_line = reader.until(b"\r\n", 1024).decode("latin-1")
            try:
                size = int(size_line.split(";")[0].strip() or "0", 16)
            except ValueError:
                raise HttpError(f"a bad chunk size: {size_line[:40]!r}") from None
            if size == 0:
                # Trailer lines, if any, then a blank line: all of it belongs to this response,
                # or the next response on the connection would start with what is left.
                while reader.until(b"\r\n", MAX_HEAD):
                    pass
                return b"".join(parts)[:KEEP_BODY], total
            parts.append(reader.exactly(size))
            total += size
            reader.exactly(2)
    length = result.header("content-length")
    if length is not None:
        if not length.isdigit():
            raise HttpError(f"a bad Content-Length: {length!r}")
        return reader.exactly(int(length)), int(length)
    return reader.rest()  # HTTP/1.0 style: the body ends when the server closes


def _decode(body: bytes, encoding: str | None) -> bytes:
    kept = body[:KEEP_BODY]
    try:
        if encoding == "gzip":
            return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(kept, KEEP_BODY)
        if encoding == "deflate":
            return zlib.decompressobj().decompress(kept, KEEP_BODY)
    except zlib.error:
        return b""
    return kept


def receive(sock: socket.socket, timeout: float, cancel=None) -> bytes:
    """The next bytes from `sock` (b"" when the peer closed), waiting at most `timeout` s of
    silence. The wait is cut into short slices so a cancel is seen at once, and this thread
    is done with the socket before anyone else closes it."""
    deadline = time.perf_counter() + timeout
    sock.settimeout(RECEIVE_SLICE)
    try:
        while True:
            if cancel is not None and cancel.is_set():
                raise HttpError("cancelled")
            try:
                return sock.recv(READ_SIZE)
            except TimeoutError:
                if time.perf_counter() >= deadline:
                    raise HttpError(f"no response within {timeout:g} s") from None
            except OSError as error:
                raise HttpError(f"the connection broke: {error}") from None
    finally:
        try:
            sock.settimeout(timeout)
        except OSError:
            pass  # closed meanwhile


class _Reader:
    """Buffered reads from a socket, bounded by a timeout, a size and the cancel flag."""

    def __init__(self, sock: socket.socket, timeout: float, cancel) -> None:
        self.sock, self.timeout, self.cancel = sock, timeout, cancel
        self.buffer = bytearray()
        self.first_byte_at = 0.0
        self.closed = False

    def _more(self) -> bool:
        chunk = receive(self.sock, self.timeout, self.cancel)
        if not chunk:
            self.closed = True
            return False
        if not self.first_byte_at:
            self.first_byte_at = time.perf_counter()
        self.buffer += chunk
        return True

    def until(self, marker: bytes, limit: int) -> bytes:
        while (end := self.buffer.find(marker)) < 0:
            if len(self.buffer) > limit:
                raise HttpError(f"no {marker!r} within {limit} bytes")
            if not self._more():
                raise HttpError("the server closed the connection mid-response"
                                if self.buffer or self.first_byte_at
                                else "the server closed the connection without answering")
        line = bytes(self.buffer[:end])
        del self.buffer[:end + len(marker)]
        return line

    def exactly(self, size: int) -> bytes:
        """The next `size` bytes, of which at most KEEP_BODY are kept (the rest only read)."""
        kept = bytearray()
        remaining = size
        while remaining:
            if not self.buffer and not self._more():
                raise HttpError("the server closed the connection before the body ended")
            take = min(remaining, len(self.buffer))
            kept += self.buffer[:max(0, min(take, KEEP_BODY - len(kept)))]
            del self.buffer[:take]
            remaining -= take
        return bytes(kept)

    def rest(self) -> tuple[bytes, int]:
        """Everything until the server closes: (the kept bytes, how many there were)."""
        kept, size = bytearray(), 0
        while self.buffer or self._more():
            size += len(self.buffer)
            kept += self.buffer[:max(0, KEEP_BODY - len(kept))]
            self.buffer.clear()
        return bytes(kept), size
