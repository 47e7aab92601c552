"""Guards that keep every error in the contract's envelope, whoever produced it."""

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from gatehouse.entrypoints.http.errors import error_body

Send = Callable[[dict[str, Any]], Awaitable[None]]
KEPT_HEADERS = {b"allow", b"retry-after", b"www-authenticate", b"vary"}
# Request headers over this many bytes in all (names and values) are refused with 431 (§2).
MAX_HEADER_BYTES = 16 * 1024


def json_response_messages(
    status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> list[dict[str, Any]]:
    start_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    return [
        {"type": "http.response.start", "status": status, "headers": start_headers},
        {"type": "http.response.body", "body": body},
    ]


def envelope_errors(scope: dict[str, Any], send: Send) -> Send:
    """Rewrite an error response that is not JSON (a framework's or a middleware's plain-text
    answer, e.g. Litestar's CORS refusal) into the envelope, keeping its status and key headers."""
    held: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def guarded(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
            if message["status"] >= 400 and not content_type.startswith(b"application/json"):
                held["start"] = {**message, "headers": headers}
                return
        elif message["type"] == "http.response.body" and held:
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            start = held["start"]
            text = b"".join(chunks).decode("utf-8", "replace").strip()
            reason = text if 0 < len(text) <= 200 and "<" not in text else "The request could not be served"
            body = msgspec.json.encode(error_body(scope, start["status"], reason))
            kept = [(k, v) for k, v in start["headers"] if k.lower() in KEPT_HEADERS]
            for part in json_response_messages(start["status"], body, kept):
                await send(part)
            return
        await send(message)

    return guarded


async def send_deadline_exceeded(scope: dict[str, Any], send: Send) -> None:
    body = msgspec.json.encode(error_body(scope, 503, "The service did not finish in time; retry shortly"))
    for part in json_response_messages(503, body, [(b"retry-after", b"2")]):
        await send(part)
