"""Step 5 over HTTP/2 (when ALPN chose "h2"): binary frames on streams, every frame listed.

The client sends the connection preface and SETTINGS, then the request as a HEADERS frame on
stream 1 (HPACK-compressed: `:method`, `:scheme`, `:authority`, `:path` and the rest); the
server answers SETTINGS (and ACKs ours), HEADERS with `:status`, then DATA frames. `h2` keeps
the protocol's state; the frames are also decoded from the raw bytes each way (`hyperframe`),
so the list shows what really crossed the wire, in order, with its time.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from .http1 import KEEP_BODY, USER_AGENT, HttpError, HttpResult, receive

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class FrameLog:
    """Splits a byte stream into frames and records each: direction, type, stream, flags,
    length, a short summary, and when (seconds since `began`)."""

    def __init__(self, direction: str, began: float, frames: list[dict]) -> None:
        self.direction, self.began, self.frames = direction, began, frames
        self.buffer = bytearray()

    def feed(self, data: bytes) -> None:
        from hyperframe.exceptions import HyperframeError
        from hyperframe.frame import Frame

        self.buffer += data
        if self.direction == "sent" and self.buffer.startswith(PREFACE):
            del self.buffer[:len(PREFACE)]
            self._add({"type": "PREFACE", "stream": 0, "flags": [], "length": len(PREFACE),
                       "summary": "PRI * HTTP/2.0 — the client speaks HTTP/2"})
        while len(self.buffer) >= 9:
            try:
                frame, length = Frame.parse_frame_header(memoryview(bytes(self.buffer[:9])))
            except HyperframeError:
                self.buffer.clear()
                return
            if len(self.buffer) < 9 + length:
                return
            body = bytes(self.buffer[9:9 + length])
            del self.buffer[:9 + length]
            try:
                frame.parse_body(memoryview(body))
            except HyperframeError:
                pass
            self._add({"type": frame_name(frame), "stream": frame.stream_id,
                       "flags": sorted(frame.flags), "length": length,
                       "summary": summary(frame)})

    def _add(self, entry: dict) -> None:
        entry["direction"] = self.direction
        entry["at_ms"] = round((time.perf_counter() - self.began) * 1e3, 3)
        self.frames.append(entry)


_FRAME_NAMES = {"WindowUpdate": "WINDOW_UPDATE", "RstStream": "RST_STREAM",
                "PushPromise": "PUSH_PROMISE", "GoAway": "GOAWAY", "AltSvc": "ALTSVC"}


def frame_name(frame) -> str:
    """The frame type as RFC 9113 spells it: DATA, HEADERS, WINDOW_UPDATE, …"""
    name = type(frame).__name__.removesuffix("Frame")
    return _FRAME_NAMES.get(name, name.upper())


def summary(frame) -> str:
    """A few words on what the frame carried (HEADERS stay HPACK-encoded: their size is shown;
    the decoded headers appear in the response)."""
    name = frame_name(frame)
    if name == "SETTINGS":
        if "ACK" in frame.flags:
            return "ACK of the peer's settings"
        from h2.settings import SettingCodes

        parts = []
        for code, value in frame.settings.items():
            try:
                label = SettingCodes(code).name
            except ValueError:
                label = f"0x{code:x}"
            parts.append(f"{label}={value}")
        return ", ".join(parts) or "(defaults)"
    if name == "WINDOW_UPDATE":
        return f"+{frame.window_increment:,} bytes of flow-control window"
    if name == "DATA":
        return f"{len(frame.data):,} bytes of body" + (" (last)" if "END_STREAM" in frame.flags
                                                     else "")
    if name == "HEADERS":
        return f"{len(frame.data)} bytes of HPACK-compressed headers"
    if name == "GOAWAY":
        return f"last stream {frame.last_stream_id}, error {frame.error_code}"
    if name == "PING":
        return "ACK" if "ACK" in frame.flags else "are you there?"
    if name == "RST_STREAM":
        return f"stream reset, error {frame.error_code}"
    return ""


class Http2Connection:
    """An HTTP/2 connection that can carry one request after another (a warm visit reuses it)."""

    def __init__(self, sock: socket.socket) -> None:
        import h2.config
        import h2.connection

        self.sock = sock
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.started = False
        self.closed = False

    def request(self, authority: str, path: str, timeout: float = 5.0, cancel=None,
                scheme: str = "https") -> HttpResult:
        import h2.events
        import h2.exceptions

        began = time.perf_counter()
        frames: list[dict] = []
        sent, received = FrameLog("sent", began, frames), FrameLog("received", began, frames)
        if not self.started:
            self.conn.initiate_connection()
            self.started = True
        stream = self.conn.get_next_available_stream_id()
        headers = [(":method", "GET"), (":scheme", scheme), (":authority", authority),
                   (":path", path), ("user-agent", USER_AGENT),
                   ("accept", "text/html,application/xhtml+xml,*/*;q=0.8")]
        self.conn.send_headers(stream, headers, end_stream=True)
        self._flush(sent)
        self.sock.settimeout(timeout)
        status, response_headers, body, size = 0, [], bytearray(), 0
        first_byte, ended = 0.0, False
        while not ended:
            data = receive(self.sock, timeout, cancel)
            if not data:
                self.closed = True
                raise HttpError("the server closed the HTTP/2 connection mid-response")
            arrived = time.perf_counter()
            received.feed(data)
            try:
                events = self.conn.receive_data(data)
            except h2.exceptions.ProtocolError as error:
                self.closed = True
                raise HttpError(f"HTTP/2 protocol error: {error}") from None
            for event in events:
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream:
                    # The first byte of *this response*: the server's SETTINGS, sent unasked
                    # when the connection opened, may have been waiting before the request left.
                    first_byte = arrived
                    response_headers = [(str(k), str(v)) for k, v in event.headers]
                    status = int(dict(response_headers).get(":status", "0"))
                elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream:
                    size += len(event.data)
                    body += event.data[:max(0, KEEP_BODY - len(body))]
                    # Give the window back, as a browser does, so big bodies keep flowing.
                    self.conn.acknowledge_received_data(event.flow_controlled_length, stream)
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream:
                    ended = True
                elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream:
                    raise HttpError(f"the server reset the stream (error {event.error_code})")
                elif isinstance(event, h2.events.ConnectionTerminated):
                    self.closed = True
                    if not ended:
                        raise HttpError(f"the server sent GOAWAY (error {event.error_code})")
            self._flush(sent)
        request_text = "".join(f"{k}: {v}\n" for k, v in headers)
        return HttpResult("HTTP/2", status, _phrase(status), [(k, v) for k, v in response_headers
                                                 if not k.startswith(":")],
                          bytes(body), size, request_text.encode(), (first_byte or arrived) - began,
                          time.perf_counter() - began, keep_alive=not self.closed, frames=frames)

    def idle_data(self, data: bytes) -> bool:
        """Frames that came between two requests (a PING, new SETTINGS, a GOAWAY): h2 answers
        what needs an answer. False once the server has said it is closing the connection."""
        import h2.events
        import h2.exceptions

        try:
            events = self.conn.receive_data(data)
            self.sock.sendall(self.conn.data_to_send())
        except (h2.exceptions.ProtocolError, OSError):
            self.closed = True
            return False
        if any(isinstance(event, h2.events.ConnectionTerminated) for event in events):
            self.closed = True
        return not self.closed

    def _flush(self, log: FrameLog) -> None:
        data = self.conn.data_to_send()
        if data:
            log.feed(data)
            self.sock.sendall(data)

    def close(self) -> None:
        try:
            self.conn.close_connection()
            self.sock.sendall(self.conn.data_to_send())
        except (OSError, Exception):  # noqa: BLE001 - closing a dead connection is fine
            pass
        self.sock.close()


def _phrase(status: int) -> str:
    """HTTP/2 sends no reason phrase; the standard one is shown beside the code."""
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def frames_table(frames: list[dict[str, Any]]) -> list[str]:
    """The frames as lines: '→ HEADERS  s1 [END_STREAM, END_HEADERS] 37 B — …'."""
    lines = []
    for f in frames:
        arrow = "→" if f["direction"] == "sent" else "←"
        flags = f" [{', '.join(f['flags'])}]" if f["flags"] else ""
        lines.append(f"{arrow} {f['type']:<13} s{f['stream']}{flags} {f['length']} B"
                     + (f" — {f['summary']}" if f["summary"] else ""))
    return lines
