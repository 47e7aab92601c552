"""OpenAPI: the document's settings, error responses per route, assets served locally."""

from pathlib import Path
from typing import Any

from litestar import Router
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, RedocRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Server
from litestar.routes import BaseRoute

from gatehouse.entrypoints.http.errors import STATUS_NAMES, ErrorBody

STATIC_DIR = Path(__file__).with_name("static")
VENDOR = "/static/vendor"
FAVICON = f'<link rel="icon" type="image/png" href="{VENDOR}/swagger-ui/favicon-32x32.png">'
DESCRIPTIONS = {
    400: "Malformed JSON, or a bad query or path parameter",
    401: "No, bad, expired or revoked token; wrong credentials",
    403: "Authenticated but not allowed",
    404: "No such resource",
    405: "Method not allowed (see the Allow header)",
    409: "Conflicts with the current state",
    412: "If-Match does not match the current ETag",
    413: "Body over 1 MiB",
    422: "Well-formed JSON that breaks the rules",
    429: "Too many requests (see Retry-After)",
    503: "Temporarily unavailable (see Retry-After)",
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The error envelope documented for each status a route can answer (400 always: any
    parameter or header can be malformed, and this replaces Litestar's own 400 schema)."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=f"{STATUS_NAMES[status]}: {DESCRIPTIONS[status]}"
        )
        for status in sorted({400, *statuses})
    }


def returns(status: int, data_container: Any, description: str) -> dict[int, ResponseSpec]:
    """The success response of a route whose handler returns raw bytes or `Any` (an idempotent
    replay, or a conditional GET), which Litestar can't describe from the annotation."""
    return {status: ResponseSpec(data_container=data_container, description=description)}


NOT_MODIFIED = {
    304: ResponseSpec(
        data_container=None, description="Not Modified: If-None-Match matches the current ETag (no body)"
    )
}


class DocsRouter(Router):
    """Litestar's docs router minus its catch-all HTML 404 (which would also turn an
    unknown `POST /x` into a 405): unknown paths fall through to the JSON 404."""

    def register(self, value: Any) -> list[BaseRoute]:
        if getattr(value, "handler_name", "") == "handle_schema_path_not_found":
            return []
        return super().register(value)


def openapi_config(version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        openapi_router=DocsRouter("/", route_handlers=[], include_in_schema=False),
        title="Gatehouse",
        version=version,
        description="Accounts, roles, sessions and orders behind a versioned REST API.",
        servers=[Server(url="/")],
        components=Components(
            security_schemes={
                "BearerAuth": SecurityScheme(
                    type="http", scheme="bearer", bearer_format="JWT", description="POST /api/v1/auth/token"
                )
            }
        ),
        render_plugins=[
            SwaggerRenderPlugin(
                path="/docs",
                js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
                css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
                standalone_preset_js_url=f"{VENDOR}/swagger-ui/swagger-ui-standalone-preset.js",
                favicon=FAVICON,
            ),
            RedocRenderPlugin(
                path="/redoc",
                js_url=f"{VENDOR}/redoc/redoc.standalone.js",
                google_fonts=False,
                favicon=FAVICON,
            ),
            JsonRenderPlugin(path="/openapi.json"),
        ],
    )
