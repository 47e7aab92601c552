"""OpenAPI: the document's settings, error responses per route, assets served locally, and the
two docs pages (Swagger UI, ReDoc) with no inline script, under a CSP that forbids framing them."""

from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, Router, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, Server
from litestar.routes import BaseRoute

from gatehouse.entrypoints.http.errors import STATUS_NAMES, ErrorBody
from gatehouse.entrypoints.http.openapi import SECURITY_SCHEMES, TAGS, operation_id
from gatehouse.entrypoints.http.openapi_document import DocumentPlugin

STATIC_DIR = Path(__file__).with_name("static")
VENDOR = "/static/vendor"
# The vendored files, fixed when the package is built: a request naming anything else is a 404
# before the file system is asked (a NUL or a 256-byte name made the lookup itself fail: 500).
VENDOR_FILES = frozenset(
    f"{VENDOR}/{path.relative_to(STATIC_DIR / 'vendor').as_posix()}"
    for path in (STATIC_DIR / "vendor").rglob("*")
    if path.is_file()
)
FAVICON = f'<link rel="icon" type="image/png" href="{VENDOR}/swagger-ui/favicon-32x32.png">'
DOCS_ASSETS = "/static/docs"
# Scripts from this origin alone (the pages have no inline script, nothing is eval'd); inline
# styles, which both UIs set at run time; ReDoc's search runs in a worker made from a blob: URL.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src blob:; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
DOCS_HEADERS = {"Content-Security-Policy": DOCS_CSP, "X-Frame-Options": "DENY"}


def only_vendored_files(connection: ASGIConnection[Any, Any, Any, Any], _: object) -> None:
    """The static router's guard: only a file of `VENDOR_FILES` is looked up."""
    if connection.scope["path"] not in VENDOR_FILES:
        raise NotFoundException()


DOCUMENT_DESCRIPTION = """Accounts, roles, sessions and orders behind a versioned REST API.

Every route is served under `/api/v1` and `/api/v2` (v2 pages lists by cursor), and without the
prefix as v1, or as v2 with `X-API-Version: 2`. Every error has one body, `ErrorBody`. Every
answer carries `X-Request-ID`; send your own to correlate logs.

Sign in with **Authorize**: the OAuth2 password flow logs in at `POST /api/v1/auth/token`."""
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
            data_container=ErrorBody,
            generate_examples=False,  # the document is the same on every start: no random examples
            description=f"{STATUS_NAMES[status]}: {DESCRIPTIONS[status]}",
        )
        for status in sorted({400, *statuses})
    }


def returns(status: int, data_container: Any, description: str) -> dict[int, ResponseSpec]:
    """The success response of a route whose handler returns raw bytes or `Any` (an idempotent
    replay, or a conditional GET), which Litestar can't describe from the annotation."""
    return {
        status: ResponseSpec(data_container=data_container, generate_examples=False, description=description)
    }


NOT_MODIFIED = {
    304: ResponseSpec(
        data_container=None,
        generate_examples=False,
        description="Not Modified: If-None-Match matches the current ETag (no body)",
    )
}


class DocsRouter(Router):
    """Litestar's docs router minus its catch-all HTML 404 (which would also turn an
    unknown `POST /x` into a 405): unknown paths fall through to the JSON 404."""

    def register(self, value: Any) -> list[BaseRoute]:
        if getattr(value, "handler_name", "") == "handle_schema_path_not_found":
            return []
        return super().register(value)


def docs_script(name: str) -> HTTPRouteHandler:
    """One page's start-up script, read once from `static/docs/` and served beside the page."""
    body = (STATIC_DIR / "docs" / name).read_bytes()

    @get(
        f"{DOCS_ASSETS}/{name}",
        media_type="text/javascript",
        include_in_schema=False,
        sync_to_thread=False,
        name=f"docs-script-{name}",
    )
    def script() -> bytes:
        return body

    return script


def docs_page(title: str, head: str, container: str, spec_url: str, script: str) -> bytes:
    """A docs page whose only scripts are files: the UI's bundle (in `head`) and its start-up
    script, which finds the document's URL on the container element."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
{FAVICON}
{head}
</head>
<body>
<div id="{container}" data-spec="{escape(spec_url)}"></div>
<script src="{DOCS_ASSETS}/{script}"></script>
</body>
</html>
""".encode()


class SwaggerPage(SwaggerRenderPlugin):
    """Swagger UI that loads the document from /openapi.json, started by a served script. Only
    the OAuth2 password flow is offered, so Swagger's OAuth2 redirect page is not served."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        head = f'<link rel="stylesheet" href="{self.css_url}">\n<script src="{self.js_url}"></script>'
        head += f"\n{self.style}"
        spec_url = self.get_openapi_json_route(request)
        return docs_page(
            openapi_schema["info"]["title"], head, "swagger-container", spec_url, "swagger-init.js"
        )

    def receive_router(self, router: Router) -> None:
        router.register(docs_script("swagger-init.js"))


class RedocPage(RedocRenderPlugin):
    """ReDoc that loads the document from /openapi.json, started by a served script."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        head = f'<script src="{self.js_url}"></script>\n{self.style}'
        spec_url = self.get_openapi_json_route(request)
        return docs_page(openapi_schema["info"]["title"], head, "redoc-container", spec_url, "redoc-init.js")

    def receive_router(self, router: Router) -> None:
        router.register(docs_script("redoc-init.js"))


def openapi_config(version: str, password_policy: str, max_days: int = 365) -> OpenAPIConfig:
    """The document's settings: the same document on every start, whatever host, port or public
    URL (fixed examples, relative URLs; only the password policy and an API token's longest life,
    which the schema states, show)."""
    return OpenAPIConfig(
        # Every docs route carries the CSP and X-Frame-Options: none of them may be framed.
        openapi_router=DocsRouter(
            "/", route_handlers=[], include_in_schema=False, response_headers=DOCS_HEADERS
        ),
        title="Gatehouse",
        version=version,
        description=DOCUMENT_DESCRIPTION,
        servers=[Server(url="/")],
        tags=TAGS,
        components=Components(security_schemes=SECURITY_SCHEMES),
        operation_id_creator=operation_id,
        create_examples=False,
        render_plugins=[
            SwaggerPage(
                path="/docs",
                js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
                css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
            ),
            RedocPage(path="/redoc", js_url=f"{VENDOR}/redoc/redoc.standalone.js", google_fonts=False),
            DocumentPlugin(path="/openapi.json", password_policy=password_policy, max_days=max_days),
        ],
    )
