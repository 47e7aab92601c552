"""The OpenAPI document as a contract of its own (§7), for people who generate clients from it.

- The same code serves the same document byte for byte: fixed examples only, nothing from the
  host, port or public URL (only the password policy, which changes what the API accepts, shows).
- Every operation has a short stable `operationId` (`createUser`; `v2CreateUser` under /api/v2)
  and a tag with a description.
- Request bodies are named schemas (`#/components/schemas/SignUpIn`), made by msgspec from the
  Structs the handlers decode, with the rules the API enforces (patterns, lengths, no NUL).
- Request headers are parameters where they apply; response headers are declared on the answers
  that carry them: the route's own (`documented`), and those of every answer (`finalize`, in
  openapi_document.py, which also makes the request bodies' schemas).
"""

import inspect
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import OAuthFlow, OAuthFlows, Operation, Reference, SecurityScheme, Tag
from litestar.types import Method
from litestar.types.internal_types import PathParameterDefinition

Json = dict[str, Any]
JSON = "application/json"
SCHEMA_REF = "#/components/schemas/{name}"
HEADER_REF = "#/components/headers/"
BEARER = "BearerAuth"
OAUTH2 = "OAuth2Password"
API_TOKEN = "ApiToken"  # noqa: S105 - a scheme's name
TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 - a path, not a secret


def package_version() -> str:
    """The installed package's version: the document's `info.version`."""
    return metadata.version("gatehouse")


def describe(*parts: str | None) -> str:
    """Docstrings as Markdown: each dedented (an indented line would render as code), then joined."""
    return "\n\n".join(inspect.cleandoc(part) for part in parts if part)


# --- operation ids, tags, security -----------------------------------------------------------------

# Where the handler's name would make a poor id; the rest are the name in camelCase.
OPERATION_NAMES = {
    "live": "checkLiveness",
    "ready": "checkReadiness",
    "metrics_endpoint": "readMetrics",
    "issue_token": "logIn",
    "refresh_token": "refreshSession",
    "logout": "logOut",
}


def operation_id(
    handler: HTTPRouteHandler, method: Method | HttpMethod, components: list[str | PathParameterDefinition]
) -> str:
    """`createUser` for v1 (and the unversioned paths, which are v1 unless a header says otherwise),
    `v2CreateUser` for v2: the same on every start, and at most 40 characters."""
    name = handler.handler_name.removesuffix("_v1").removesuffix("_v2")
    words = OPERATION_NAMES.get(name) or _camel(name)
    if [str(part) for part in components[:2]] == ["api", "v2"]:
        return f"v2{words[0].upper()}{words[1:]}"
    return words


def _camel(snake: str) -> str:
    first, *rest = snake.split("_")
    return first + "".join(word.capitalize() for word in rest)


TAGS = [
    Tag(
        name="users",
        description="Accounts: sign-up, reading and listing accounts, changing and deleting them, "
        "and changing one's own password. Roles: `admin`, `moderator`, `user`.",
    ),
    Tag(name="orders", description="A user's orders and their moves `pending → paid → shipped → delivered`."),
    Tag(
        name="auth",
        description="Sessions: log in (JSON or the OAuth2 password form) for an access and a refresh "
        "token, trade a refresh token for a new pair, log out.",
    ),
    Tag(
        name="account lifecycle",
        description="Email verification and password reset: the mails' tokens, and new mails.",
    ),
    Tag(name="sessions", description="One's own live sessions, and an admin's sign-out-everywhere."),
    Tag(
        name="multi-factor authentication",
        description="A TOTP app as a second factor: enrol, confirm, recovery codes, turn off; an "
        "admin's reset. With MFA on, `POST /auth/token` answers 403 `MfaRequiredError` with an "
        "`mfa_token`, and `POST /auth/token/mfa` finishes the log-in with a code.",
    ),
    Tag(
        name="API tokens",
        description="Personal API tokens (`gat_…`) for scripts and services: created by a session, shown "
        "once, scoped, revoked at will; an admin lists and revokes anyone's.",
    ),
    Tag(name="audit", description="The audit trail of every change, newest first (admins)."),
    Tag(
        name="keys",
        description="The public keys that verify access tokens (a JWK Set), for services that "
        "verify Gatehouse's tokens offline; never rate-limited, cacheable.",
    ),
    Tag(
        name="operations",
        description="Probes and metrics for the people who run Gatehouse; never rate-limited.",
    ),
]
SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    BEARER: SecurityScheme(
        type="http",
        scheme="bearer",
        bearer_format="JWT",
        description=f"An access token from `POST {TOKEN_URL}`, sent as `Authorization: Bearer …`.",
    ),
    OAUTH2: SecurityScheme(
        type="oauth2",
        description="Log in with an email (or username) and a password: the OAuth2 password flow "
        f"of `POST {TOKEN_URL}`. The access token it returns is sent as a bearer token.",
        flows=OAuthFlows(password=OAuthFlow(token_url=TOKEN_URL, scopes={})),
    ),
}
SECURITY_SCHEMES[API_TOKEN] = SecurityScheme(
    type="http",
    scheme="bearer",
    bearer_format="gat_",
    description="A personal API token (`gat_…`, from `POST /api/v1/users/me/tokens` or `gatehouse tokens "
    "create`), sent as `Authorization: Bearer gat_…`. It acts as its owner, within its scopes: a route "
    "that takes API tokens lists the scope it needs in its security requirement (a scope never grants "
    "more than the owner's role). Routes without this scheme (password, MFA, sessions, API tokens) "
    "answer 403 to an API token.",
)
# Signed in: a bearer token, however it was obtained.
SIGNED_IN: list[dict[str, list[str]]] = [{BEARER: []}, {OAUTH2: []}]
# Anyone; a token changes what the route does (an admin's sign-up, one's own verification mail).
ANYONE_OR_SIGNED_IN: list[dict[str, list[str]]] = [{}, *SIGNED_IN]


# --- headers ---------------------------------------------------------------------------------------

ID_PATTERN = "^[A-Za-z0-9._:/+=-]{1,128}$"  # the request ids we keep (context.SANE_REQUEST_ID)
# Idempotency-Key: 1-255 printable characters (str.isprintable of the latin-1 header), not all blank.
_PRINTABLE = " -~\\u00a1-\\u00ac\\u00ae-\\u00ff"
KEY_PATTERN = f"^[{_PRINTABLE}]*[!-~\\u00a1-\\u00ac\\u00ae-\\u00ff][{_PRINTABLE}]*$"
HEADERS: dict[str, Json] = {
    "X-Request-ID": {
        "description": "The request's id: the client's own `X-Request-ID` when it was 1-128 of "
        "`A-Z a-z 0-9 . _ : / + = -`, else a fresh one. Quote it when reporting a problem.",
        "required": True,
        "schema": {"type": "string", "pattern": ID_PATTERN},
    },
    "X-API-Version": {
        "description": "The API version that answered: `1` or `2`.",
        "required": True,
        "schema": {"type": "string", "enum": ["1", "2"]},
    },
    "RateLimit-Limit": {
        "description": "Requests allowed per client IP in each one-minute window (while the limit is on).",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Remaining": {
        "description": "Requests left in the current window (while the limit is on).",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Reset": {
        "description": "Seconds until the current window resets (while the limit is on).",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    },
    "WWW-Authenticate": {
        "description": "`Bearer`: the route wants an access token.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "The path of the resource created, e.g. `/api/v1/users/7`.",
        "required": True,
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": 'The representation\'s version, e.g. `"v3"`: send it back in `If-Match` '
        "(to change only what you read) or `If-None-Match` (to get 304 while it is current).",
        "required": True,
        "schema": {"type": "string", "pattern": '^"v[0-9]+"$'},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this answer replays the first answer to the same `Idempotency-Key`.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}
REQUEST_ID: Json = {
    "name": "X-Request-ID",
    "in": "header",
    "required": False,
    "description": "Your id for this request, echoed in `X-Request-ID` and in error bodies when it "
    "is 1-128 of `A-Z a-z 0-9 . _ : / + = -` (anything else is replaced by a fresh id).",
    "schema": {"type": "string"},
}
IDEMPOTENCY_KEY: Json = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retry safely: a retry with the same key and body within 24 hours replays the "
    "first answer (with `Idempotent-Replayed: true`) and creates nothing; the same key with another "
    "body: 422; while the first request runs: 409. Keys are scoped to the caller.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
}


def header_refs(*names: str) -> Json:
    return {name: {"$ref": HEADER_REF + name} for name in names}


# --- a route's own documentation -------------------------------------------------------------------


def documented(
    *bodies: tuple[str, type[Any]],
    body_required: bool = True,
    request_headers: Sequence[Json] = (),
    response_headers: Mapping[int, Sequence[str]] | None = None,
) -> type[Operation]:
    """An OpenAPI `Operation` with what Litestar can't see in the handler's signature: the request
    body (media type and Struct, as a named schema: the handler decodes it itself, see body.py),
    request headers the handler reads itself, and the headers of its answers (status → names)."""
    content = {media: {"schema": {"$ref": SCHEMA_REF.format(name=kind.__name__)}} for media, kind in bodies}
    answer_headers = dict(response_headers or {})

    class DocumentedOperation(Operation):
        body_types = tuple(kind for _, kind in bodies)

        def to_schema(self) -> dict[str, Any]:
            document = super().to_schema()
            if content:
                document["requestBody"] = {"required": body_required, "content": content}
            if request_headers:
                document["parameters"] = [*document.get("parameters", []), *request_headers]
            for status, names in answer_headers.items():
                answer = document["responses"][str(status)]
                answer["headers"] = {**answer.get("headers", {}), **header_refs(*names)}
            return document

    return DocumentedOperation


def json_body(kind: type[Any], *, required: bool = True, **headers: Any) -> type[Operation]:
    """A route whose body is one JSON Struct (`documented` with one `application/json` body)."""
    return documented((JSON, kind), body_required=required, **headers)
