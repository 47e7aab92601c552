"""The per-IP rate limit as an ASGI layer inside the outer middleware (so 429s get the common headers)."""

from typing import Any

import msgspec

from gatehouse.application.use_cases.rate_limit import CheckRateLimit, RateDecision
from gatehouse.entrypoints.http.context import context_of
from gatehouse.entrypoints.http.errors import error_body

EXEMPT_PREFIXES = ("/health/", "/metrics", "/docs", "/redoc", "/openapi.json", "/static/")


def is_exempt(path: str) -> bool:
    return path == "/" or path.startswith(EXEMPT_PREFIXES)


def _headers(decision: RateDecision) -> list[tuple[bytes, bytes]]:
    return [
        (b"ratelimit-limit", str(decision.limit).encode()),
        (b"ratelimit-remaining", str(decision.remaining).encode()),
        (b"ratelimit-reset", str(decision.reset_after).encode()),
    ]


class RateLimitMiddleware:
    """Counts every request but the operations paths; over the budget: 429 with Retry-After."""

    def __init__(self, app: Any, check: CheckRateLimit) -> None:
        self.app = app
        self.check = check

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or is_exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        ctx = context_of(scope)
        decision = await self.check.execute(CheckRateLimit.Command(client=ctx.ip or "unknown"))
        extra = _headers(decision)
        if not decision.allowed:
            body = msgspec.json.encode(
                error_body(scope, 429, "Rate limit exceeded; retry after the window resets")
            )
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(decision.reset_after).encode()),
                *extra,
            ]
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
