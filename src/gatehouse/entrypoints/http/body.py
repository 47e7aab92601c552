"""Strict JSON bodies: decoded by msgspec straight into a Struct (described in OpenAPI by openapi.py)."""

import re
from itertools import accumulate
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import msgspec
from litestar import Request

from gatehouse.entrypoints.http.problems import BadRequestError, BodyValidationError

T = TypeVar("T")
_LOCATION = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")
_NAMED_FIELD = re.compile(r"(?:missing required field|unknown field) `(?P<name>[^`]+)`")
MAX_DEPTH = 32
MAX_FORM_FIELDS = 16
NUL_ESCAPE = b"\\u0000"  # the only way a NUL can stand in valid JSON text
# A string literal, dropped whole so that brackets inside it don't count (an unterminated one runs
# to the end, so the scan stays linear whatever the quotes and backslashes).
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"?')
# Opening brackets as the signed byte 1, closing ones as -1; every other byte dropped.
_AS_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_ALL_BUT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


async def decode_body(request: Request[Any, Any, Any], kind: type[T], *, allow_empty: bool = False) -> T:
    """Decode the request body as `kind`: malformed JSON is 400, a schema violation 422."""
    raw = await request.body()
    if allow_empty and not raw.strip():
        raw = b"{}"
    return decode_json(raw, kind)


def decode_json(raw: bytes, kind: type[T]) -> T:
    """Bytes that are not JSON, not UTF-8 or nested deeper than 32 levels: 400 (checked before the
    shape); a schema violation, or a NUL character in any string: 422."""
    _require_shallow(raw)
    try:
        value = msgspec.json.decode(raw, type=kind, strict=True)
    except msgspec.ValidationError as exc:  # a subclass of DecodeError: catch it first
        _require_well_formed(raw)
        value = _with_integral_floats(raw, kind, exc)
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise _malformed(raw) from None
    if NUL_ESCAPE in raw:
        _refuse_nul(msgspec.json.decode(raw), "")
    return value


def _with_integral_floats(raw: bytes, kind: type[T], error: msgspec.ValidationError) -> T:
    """JSON has one kind of number: `2.0` is the integer 2, as JSON Schema's `integer` (and so the
    document) says. msgspec refuses a float where an int is due, so such a body is converted again
    with its integral floats as ints; any other schema violation stays one (422)."""
    message = str(error)  # "Expected `int`, got `float`", or "`int | null`" for an optional one
    if message.startswith("Expected `int") and "got `float`" in message:
        try:
            return msgspec.convert(_integral(msgspec.json.decode(raw)), type=kind, strict=True)
        except msgspec.ValidationError as again:
            error = again
    raise BodyValidationError(*_describe(str(error))) from None


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral(item) for item in value]
    return value


def decode_form(raw: bytes, kind: type[T]) -> T:
    """An `application/x-www-form-urlencoded` body as `kind`, with the same rules as a JSON body:
    bytes that are not UTF-8 (raw or percent-encoded) or too many fields: 400; a field out of its
    bounds, missing, or holding a NUL character: 422. A repeated field counts once (the first)."""
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=MAX_FORM_FIELDS
        )
    except UnicodeDecodeError:
        raise BadRequestError("Body is not valid UTF-8") from None
    except ValueError:
        raise BadRequestError(f"Form has more than {MAX_FORM_FIELDS} fields") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    _refuse_nul(fields, "")
    try:
        return msgspec.convert(fields, type=kind, strict=True)
    except msgspec.ValidationError as exc:
        raise BodyValidationError(*_describe(str(exc))) from None


def _require_well_formed(raw: bytes) -> None:
    """msgspec validates while it parses, so a schema error can mask later malformed JSON: 400 wins."""
    try:
        msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise _malformed(raw) from None


def _malformed(raw: bytes) -> BadRequestError:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return BadRequestError("Body is not valid UTF-8")
    return BadRequestError("Malformed JSON body")


def _require_shallow(raw: bytes) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH before any decoder recurses into it.

    Only a body with more brackets than the limit is looked at: the running sum of its brackets
    outside strings (+1 opening, -1 closing) is the depth a decoder reaches at each point, so its
    maximum is the body's depth. Linear and mostly in C: about 50 ms for a hostile 1 MiB body.
    """
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return
    steps = _STRING.sub(b"", raw).translate(_AS_STEPS, _ALL_BUT_BRACKETS)
    if max(accumulate(memoryview(steps).cast("b")), default=0) > MAX_DEPTH:
        raise BadRequestError(f"JSON body is nested deeper than {MAX_DEPTH} levels")


def _refuse_nul(value: Any, path: str) -> None:
    """A NUL character anywhere in a string (or a key) of the decoded body: 422 naming the field."""
    if isinstance(value, str):
        if "\x00" in value:
            raise BodyValidationError(path or "body", "Must not contain a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                raise BodyValidationError(path or "body", "Must not contain a NUL character")
            _refuse_nul(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_nul(item, f"{path}[{index}]")


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
