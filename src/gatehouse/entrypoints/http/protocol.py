"""The HTTP/1.1 protocol `gatehouse serve` runs uvicorn with: httptools, with a bounded request head.

uvicorn's httptools protocol feeds the parser whatever arrives, and the parser buffers a header
of any size before the app sees it (a single 50 MiB header is read whole into memory). This
protocol counts the bytes of each request head as they arrive and, once a head passes
MAX_HEAD_BYTES without ending, answers 431 in the contract's envelope and closes the connection,
so a connection never holds more than that bound and one read. Heads over 16 KiB in all that fit
under the bound reach the app, which answers them 431 itself (`RequestGate`), with the request's
own id and the usual headers. It keeps httptools (C) on the hot path; h11 would bound the head
too, but is pure Python and slower on every request.
"""

import asyncio
import os
from typing import Any
from urllib.parse import unquote

import msgspec
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from gatehouse.entrypoints.http.envelope import MAX_HEADER_BYTES
from gatehouse.entrypoints.http.errors import STATUS_NAMES, ErrorBody

# The most of an unfinished request head a connection buffers: room for a long request line
# beside 16 KiB of headers, so that such requests still get the app's own 431.
MAX_HEAD_BYTES = 4 * MAX_HEADER_BYTES
# A request head (or a new connection's first one) must have arrived whole by then: a client that
# trickles a byte at a time (slow-loris) holds a connection this long at most.
HEAD_TIMEOUT_S = 20.0
STATUS_LINES = {
    400: b"HTTP/1.1 400 Bad Request\r\n",
    431: b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
}


def _path(head: bytes) -> str:
    """The path of the request line at the start of a cut-off head; "" when it has not ended."""
    line, found, _ = head.partition(b"\r\n")
    parts = line.split(b" ")
    if not found or len(parts) != 3:
        return ""
    return unquote(parts[1].split(b"?", 1)[0].decode("latin-1"))


def refusal(head_start: bytes, status: int = 431) -> bytes:
    """A whole answer in the envelope, with `connection: close`, for a request the server itself
    refuses before the app sees it: a head that never ended within the bound (431) or bytes
    that are not HTTP (400)."""
    request_id = os.urandom(16).hex()
    message = (
        f"Request headers over {MAX_HEADER_BYTES} bytes in all" if status == 431 else "Malformed HTTP request"
    )
    body = msgspec.json.encode(
        ErrorBody(error=STATUS_NAMES[status], message=message, path=_path(head_start), request_id=request_id)
    )
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (b"x-request-id", request_id.encode()),
        (b"x-api-version", b"1"),
        (b"x-content-type-options", b"nosniff"),
    ]
    head = STATUS_LINES[status] + b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    return head + b"\r\n" + body


class BoundedHeadHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with each request head bounded by MAX_HEAD_BYTES and by
    `head_timeout_s` (from the connection's start, or from a later head's first byte)."""

    head_timeout_s = HEAD_TIMEOUT_S

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._in_body = False  # between a head's end and its message's end: bytes are body
        self._head_bytes = 0  # bytes received since the current head began
        self._head_start = b""  # its first bytes, for the path of the refusal
        self._head_clock: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_clock()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._in_body:
            if self._head_bytes == 0:
                self._head_start = data[:2048]
                if self._head_clock is None:
                    self._start_head_clock()
            self._head_bytes += len(data)
        super().data_received(data)
        if not self._in_body and self._head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing():
            self.transport.write(refusal(self._head_start))
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to bytes httptools can't parse (a control character in a header, a
        bare NUL, Content-Length beside Transfer-Encoding…), in the envelope instead of plain text."""
        self.transport.write(refusal(self._head_start, 400))
        self.transport.close()

    def on_headers_complete(self) -> None:
        self._stop_head_clock()
        self._in_body = True
        self._head_bytes = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_body = False
        super().on_message_complete()

    def _start_head_clock(self) -> None:
        self._head_clock = self.loop.call_later(self.head_timeout_s, self._head_too_slow)

    def _stop_head_clock(self) -> None:
        if self._head_clock is not None:
            self._head_clock.cancel()
            self._head_clock = None

    def _head_too_slow(self) -> None:
        self._head_clock = None
        if not self._in_body and not self.transport.is_closing():
            self.transport.close()
