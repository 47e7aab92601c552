"""`BoundedHeadHttpToolsProtocol` closes a connection whose request head does not arrive in time
(slow-loris), and leaves alone one whose head did."""

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

from gatehouse.entrypoints.http.protocol import BoundedHeadHttpToolsProtocol

CLOCK_S = 0.05


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def answer_ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def connection() -> tuple[BoundedHeadHttpToolsProtocol, FakeTransport]:
    config = Config(app=answer_ok, log_config=None, lifespan="off")
    config.load()
    protocol = BoundedHeadHttpToolsProtocol(config, ServerState(), {}, asyncio.get_running_loop())
    protocol.head_timeout_s = CLOCK_S
    transport = FakeTransport()
    protocol.connection_made(transport)
    return protocol, transport


async def test_a_head_trickling_in_past_the_clock_closes_the_connection() -> None:
    protocol, transport = connection()
    protocol.data_received(b"GET /health/live HTTP/1.1\r\nHo")

    await asyncio.sleep(CLOCK_S * 4)

    assert transport.closed
    assert transport.written == b""


async def test_a_connection_that_sends_nothing_is_closed_too() -> None:
    _, transport = connection()

    await asyncio.sleep(CLOCK_S * 4)

    assert transport.closed


async def test_a_head_that_arrived_in_time_is_answered_and_the_clock_stops() -> None:
    protocol, transport = connection()
    protocol.data_received(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")

    await asyncio.sleep(CLOCK_S * 4)

    assert transport.written.startswith(b"HTTP/1.1 200 ")
    assert not transport.closed
    protocol.connection_lost(None)
