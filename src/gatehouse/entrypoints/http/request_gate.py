"""The refusals made before routing: request headers over 16 KiB (431), an unsupported API version (400)."""

from typing import Any

import msgspec

from gatehouse.entrypoints.http.context import context_of
from gatehouse.entrypoints.http.envelope import MAX_HEADER_BYTES, Send, json_response_messages
from gatehouse.entrypoints.http.errors import error_body


def header_bytes(scope: dict[str, Any]) -> int:
    """The size of the request's headers in all: every name and value, each line counted."""
    return sum(len(name) + len(value) for name, value in scope.get("headers", ()))


class RequestGate:
    """The refusals made before routing: 431 for request headers over 16 KiB in all, then 400
    for an unsupported `X-API-Version`. It runs inside the rate limit, so these answers are
    counted and carry the RateLimit headers like any other response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        size = header_bytes(scope)
        requested = context_of(scope).unsupported_version
        if size > MAX_HEADER_BYTES:
            status, message = 431, f"Request headers of {size} bytes; at most {MAX_HEADER_BYTES} in all"
        elif requested is not None:
            status, message = 400, f"Unsupported API version {requested[:16]!r}; use 1 or 2"
        else:
            await self.app(scope, receive, send)
            return
        body = msgspec.json.encode(error_body(scope, status, message))
        for part in json_response_messages(status, body, []):
            await send(part)
