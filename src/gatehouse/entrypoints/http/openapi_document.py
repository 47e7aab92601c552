"""The finishing pass over Litestar's OpenAPI document (`finalize`), and the plugin that serves
its result at /openapi.json (the contract it keeps: openapi.py).

- The request bodies' named schemas, made by msgspec from the Structs the handlers decode, with the
  rules the API enforces on what a client sends: no NUL in any string, the password policy in force
  on a new password, at most 16 fields in a form.
- The header components, and the parameters and headers every operation and answer has.
- A parameter schema with a `title` becomes a named schema, shared by both versions of a route.
"""

from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute

from gatehouse.entrypoints.http.body import MAX_FORM_FIELDS
from gatehouse.entrypoints.http.openapi import HEADERS, JSON, REQUEST_ID, SCHEMA_REF, Json, header_refs

# Every string a client sends refuses a NUL character (422 in a body, 400 in a query, §2).
NO_NUL = "^[^\\u0000]*$"

PASSWORD_RULES: dict[str, Json] = {
    "classic": {
        "description": "8-128 characters with an upper-case letter, a lower-case letter and a digit "
        "(the password policy `classic`)",
        "minLength": 8,
        "maxLength": 128,
        "pattern": "^(?=[\\s\\S]*[A-Z])(?=[\\s\\S]*[a-z])(?=[\\s\\S]*[0-9])[^\\u0000]*$",
    },
    "nist": {
        "description": "15-128 characters, not a common password, not containing the username or "
        "the email's local part (the password policy `nist`, NIST SP 800-63B)",
        "minLength": 15,
        "maxLength": 128,
        "pattern": NO_NUL,
    },
}
PASSWORD_MARK = "x-gatehouse-password-policy"  # noqa: S105 - set by schemas.py, replaced here
DAYS_MARK = "x-gatehouse-api-token-max-days"  # set by schemas/api_tokens.py: the setting in force
DEFAULT_MAX_DAYS = 365


def body_types(app: Litestar) -> list[type[Any]]:
    """Every Struct a route of `app` documents as its request body, once, by name."""
    found: dict[str, type[Any]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for kind in getattr(handler.operation_class, "body_types", ()):
                    found[kind.__name__] = kind
    return [found[name] for name in sorted(found)]


def finalize(
    document: Json, bodies: Iterable[type[Any]], password_policy: str, max_days: int = DEFAULT_MAX_DAYS
) -> Json:
    """Litestar's document plus the request bodies' schemas, the header components, the security
    schemes' missing parts, and the parameters and headers every operation and answer has."""
    document = msgspec.json.decode(msgspec.json.encode(document))  # a copy to change
    components = document.setdefault("components", {})
    _, inputs = msgspec.json.schema_components(list(bodies), ref_template=SCHEMA_REF)
    for schema in inputs.values():
        _refine_input(schema, PASSWORD_RULES[password_policy], max_days)
    schemas = {**components.get("schemas", {}), **inputs}
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            _name_parameter_schemas(operation, schemas)
            _finish_operation(operation, api=path.startswith("/api/"))
    components["schemas"] = {name: schemas[name] for name in sorted(schemas)}
    components["headers"] = HEADERS
    for scheme in components.get("securitySchemes", {}).values():
        for flow in scheme.get("flows", {}).values():
            flow.setdefault("scopes", {})  # required, even when empty
    return document


def _name_parameter_schemas(operation: Json, schemas: Json) -> None:
    """A parameter schema with a `title` (e.g. `UserSort`) becomes the named schema it refers to,
    so that both versions of a route share it (one enum in a generated client, not one each)."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        name = schema.pop("title", None)
        if name is not None:
            shared = {key: schema.pop(key) for key in ("type", "enum") if key in schema}
            schemas.setdefault(name, {"title": name, **shared})
            parameter["schema"] = {"$ref": SCHEMA_REF.format(name=name), **schema}


def _finish_operation(operation: Json, *, api: bool) -> None:
    operation["parameters"] = [*operation.get("parameters", []), REQUEST_ID]
    for status, answer in operation.get("responses", {}).items():
        names = ["X-Request-ID"]
        if api:
            names += ["X-API-Version", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]
        if status in {"429", "503"} and _is_error(answer):
            names.append("Retry-After")
        if status == "401":
            names.append("WWW-Authenticate")
        answer["headers"] = {**answer.get("headers", {}), **header_refs(*names)}


def _is_error(answer: Json) -> bool:
    """An answer with the error envelope (a 503 of /health/ready is a readiness report instead)."""
    schema = answer.get("content", {}).get(JSON, {}).get("schema", {})
    return bool(schema.get("$ref") == SCHEMA_REF.format(name="ErrorBody"))


def _refine_input(schema: Any, password: Json, max_days: int = DEFAULT_MAX_DAYS) -> None:
    """The rules the API enforces on what a client sends: every string refuses NUL (a new password
    follows the policy in force), and a body that takes unknown fields (the OAuth2 form, whose
    every value is text) takes at most 16 fields, none named or valued with a NUL (body.py); an API
    token's life is bounded by `GATEHOUSE_API_TOKEN_MAX_DAYS`."""
    for node in _nodes(schema):
        if node.pop(DAYS_MARK, False):
            node["maximum"] = max_days
        if node.pop(PASSWORD_MARK, False):
            node.update(password)
        elif node.get("type") == "string" and "pattern" not in node and "enum" not in node:
            node["pattern"] = NO_NUL
        elif node.get("type") == "object" and "additionalProperties" not in node:
            node["maxProperties"] = MAX_FORM_FIELDS
            node["propertyNames"] = {"pattern": NO_NUL}
            node["additionalProperties"] = {"type": "string", "pattern": NO_NUL}


def _nodes(schema: Any) -> Iterator[Json]:
    if isinstance(schema, dict):
        yield schema
        for value in schema.values():
            yield from _nodes(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _nodes(item)


class DocumentPlugin(JsonRenderPlugin):
    """Serves /openapi.json: `finalize` of Litestar's document, built once per app."""

    def __init__(self, *, password_policy: str, max_days: int = DEFAULT_MAX_DAYS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.password_policy = password_policy
        self.max_days = max_days
        self._rendered: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._rendered is None:
            document = finalize(openapi_schema, body_types(request.app), self.password_policy, self.max_days)
            self._rendered = self.render_json(request, document)
        return self._rendered
