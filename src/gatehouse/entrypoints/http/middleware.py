"""The outer ASGI layer: request ids, version routing, common headers, the access log.

It wraps the whole Litestar app, so it sees every request — unknown routes included —
and every response, errors included.
"""

import asyncio
import logging
from collections.abc import Callable
from time import perf_counter
from typing import Any

from gatehouse.application.ports.audit import Origin, OriginScope
from gatehouse.entrypoints.http.client_ip import Network, client_ip
from gatehouse.entrypoints.http.context import SCOPE_KEY, RequestContext, request_id_from
from gatehouse.entrypoints.http.envelope import MAX_HEADER_BYTES, envelope_errors, send_deadline_exceeded
from gatehouse.entrypoints.http.metrics import UNMATCHED, Metrics

access_log = logging.getLogger("gatehouse.access")
REQUEST_DEADLINE_S = 9.5
UNVERSIONED_ROOTS = ("/users", "/auth", "/audit-events")
VERSIONS = ("1", "2")
Scope = dict[str, Any]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _header_list(scope: Scope, name: bytes) -> str | None:
    """A list-valued header sent in several lines: every line, in order, joined with "," into one
    list (RFC 9110 §5.3). None when absent, and when longer than all headers may be (the request
    is refused 431 anyway): the list is then never split, however long it is."""
    lines = [value for key, value in scope.get("headers", ()) if key == name]
    if not lines or sum(len(line) for line in lines) > MAX_HEADER_BYTES:
        return None
    return str(b",".join(lines).decode("latin-1"))


def _is_unversioned_api(path: str) -> bool:
    return any(path == root or path.startswith(root + "/") for root in UNVERSIONED_ROOTS)


class GatehouseMiddleware:
    def __init__(
        self,
        app: Any,
        metrics: Metrics,
        origin: OriginScope,
        trusted_proxies: tuple[Network, ...] = (),
        route_template: Callable[[str, str], str] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.trusted_proxies = trusted_proxies
        self.origin = origin
        # The route of a request answered before Litestar routed it (e.g. a 429), for the metrics.
        self.route_template = route_template or (lambda _method, _path: UNMATCHED)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        client = scope.get("client")
        ctx = RequestContext(
            request_id=request_id_from(_header(scope, b"x-request-id")),
            api_version="1",
            path=path,
            ip=client_ip(
                client[0] if client else None, _header_list(scope, b"x-forwarded-for"), self.trusted_proxies
            ),
        )
        scope[SCOPE_KEY] = ctx
        status = 500
        ctx.unsupported_version = self._route_version(scope, ctx)

        async def send_with_headers(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = self._headers(ctx, list(message.get("headers", [])))
            await send(message)

        started = False
        guarded = envelope_errors(scope, send_with_headers)

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await guarded(message)

        # Audit events written while this request runs carry its client IP and request id.
        origin = Origin(ip=ctx.ip, request_id=ctx.request_id)
        try:
            with self.origin.binding(origin):
                async with asyncio.timeout(REQUEST_DEADLINE_S):
                    await self.app(scope, receive, tracking_send)
        except TimeoutError:
            # A dependency that neither answers nor fails (a frozen database): never hang a client.
            if not started:
                await send_deadline_exceeded(scope, send_with_headers)
        finally:
            self._log(scope, ctx, status)
            route = scope.get("path_template") or self.route_template(scope["method"], scope["path"])
            self.metrics.observe(scope["method"], route, status, perf_counter() - ctx.started)

    def _route_version(self, scope: Scope, ctx: RequestContext) -> str | None:
        """Pick the API version; rewrite unversioned API paths. Returns a bad header value."""
        path: str = scope["path"]
        if path.startswith("/api/v2/") or path == "/api/v2":
            ctx.api_version = "2"
        elif _is_unversioned_api(path):
            requested = _header(scope, b"x-api-version")
            version = "1" if requested is None else requested.strip()
            if version not in VERSIONS:
                return requested or ""
            ctx.api_version = version
            scope["path"] = f"/api/v{version}{path}"
            scope["raw_path"] = scope["path"].encode()
        return None

    @staticmethod
    def _headers(ctx: RequestContext, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        names = {name.lower() for name, _ in headers}
        headers.append((b"x-request-id", ctx.request_id.encode()))
        headers.append((b"x-api-version", ctx.api_version.encode()))
        headers.append((b"x-content-type-options", b"nosniff"))
        if b"cache-control" not in names and ctx.user_id is not None:
            headers.append((b"cache-control", b"private, no-cache"))
        return headers

    @staticmethod
    def _log(scope: Scope, ctx: RequestContext, status: int) -> None:
        access_log.info(
            "api_request",
            extra={
                "event": "api_request",
                "method": scope.get("method"),
                "path": ctx.path,
                "status": status,
                "duration_ms": round((perf_counter() - ctx.started) * 1000, 2),
                "user_id": ctx.user_id,
                "ip": ctx.ip,
                "request_id": ctx.request_id,
            },
        )
