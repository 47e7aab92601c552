"""Strict JSON bodies: decoded by msgspec straight into a Struct, and described in OpenAPI."""

import re
from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.openapi.spec import Operation

from gatehouse.entrypoints.http.problems import BadRequestError, BodyValidationError

T = TypeVar("T")
_LOCATION = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")
_NAMED_FIELD = re.compile(r"(?:missing required field|unknown field) `(?P<name>[^`]+)`")


async def decode_body(request: Request[Any, Any, Any], kind: type[T], *, allow_empty: bool = False) -> T:
    """Decode the request body as `kind`: malformed JSON is 400, a schema violation 422."""
    raw = await request.body()
    if allow_empty and not raw.strip():
        raw = b"{}"
    return decode_json(raw, kind)


def decode_json(raw: bytes, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(raw, type=kind, strict=True)
    except msgspec.ValidationError as exc:  # a subclass of DecodeError: catch it first
        _require_well_formed(raw)
        field, message = _describe(str(exc))
        raise BodyValidationError(field, message) from None
    except msgspec.DecodeError:
        raise BadRequestError("Malformed JSON body") from None


def _require_well_formed(raw: bytes) -> None:
    """msgspec validates while it parses, so a schema error can mask later malformed JSON: 400 wins."""
    try:
        msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise BadRequestError("Malformed JSON body") from None


def _describe(text: str) -> tuple[str, str]:
    """Field and message from msgspec's error text, e.g. "Expected `int`, got `str` - at `$.age`"."""
    location = _LOCATION.search(text)
    path = location.group("path") if location else ""
    message = _LOCATION.sub("", text)
    named = _NAMED_FIELD.search(message)
    if named:
        path = f"{path}.{named.group('name')}" if path else named.group("name")
    if "matching regex" in message:
        message = "Invalid format"
    message = message.replace("Object missing required field", "Missing required field")
    message = message.replace("Object contains unknown field", "Unknown field")
    return path or "body", message


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """Resolve `$defs` references so the schema stands alone inside the OpenAPI document."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    return schema


def json_schema(kind: type[Any]) -> dict[str, Any]:
    schema = msgspec.json.schema(kind)
    inlined: dict[str, Any] = _inline(schema, schema.get("$defs", {}))
    return inlined


def body_operation(*kinds: tuple[str, type[Any]], required: bool = True) -> type[Operation]:
    """An OpenAPI `Operation` whose request body is the given media types and Structs."""
    content = {media: {"schema": json_schema(kind)} for media, kind in kinds}

    class BodyOperation(Operation):
        def to_schema(self) -> dict[str, Any]:
            document = super().to_schema()
            document["requestBody"] = {"required": required, "content": content}
            return document

    return BodyOperation


def json_body(kind: type[Any], *, required: bool = True) -> type[Operation]:
    return body_operation(("application/json", kind), required=required)
