"""The tables and machinery of the hostile-input suite (CONTRACT §2, "Hostile input").

The operations come from the app's own `/openapi.json`: every parameter and every field of every
request body gets the hostile values below; `hostile_probe` sends the cases and judges the answers.

An expectation is a set of statuses, or `ANY` (any status below 500). Every answer must be below
500, and every 4xx must be the contract's envelope. After an answer that refuses the input (400,
404, 405, 412, 413, 422, 431) the database — rows and versions of every table a request can write:
users, orders, sessions, tokens, mails, audit events, idempotency keys — must be as before.
"""

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

Json = Any
ANY: frozenset[int] = frozenset()  # any status below 500
REFUSED = frozenset(range(400, 500))  # refused, for whichever reason comes first
# Answers that refuse the input itself: whatever the case, after one of them nothing has changed.
INPUT_REFUSALS = frozenset({400, 404, 405, 412, 413, 422, 431})
MIB = 1024 * 1024
INT64_MAX = 2**63 - 1
SENTINEL = "@@hostile-value@@"
# Base values of passwords: distinctive, so that the log check can look for them.
NEW_PASSWORD = "Hostile-Pass-7q"
WRONG_PASSWORD = "Wrong-Horse-0z"
ERROR_NAMES: dict[int, set[str]] = {
    400: {"BadRequestError"},
    401: {"AuthenticationError"},
    403: {"PermissionDeniedError", "MfaRequiredError", "MfaEnrollmentRequiredError"},
    404: {"NotFoundError"},
    405: {"MethodNotAllowedError"},
    409: {"ConflictError"},
    412: {"PreconditionFailedError"},
    413: {"PayloadTooLargeError"},
    422: {"ValidationError"},
    429: {"RateLimitError"},
    431: {"RequestHeaderFieldsTooLargeError"},
}


# --- the tables -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    """One hostile value: its id and its text as it goes on the wire (JSON text, or a URL part)."""

    id: str
    text: str


# Raw JSON text, so that a lone surrogate travels as the escape `\ud800` (no encoder would write it).
STRING_VALUES = [
    Hostile("nul", '"a\\u0000b"'),
    Hostile("lone-surrogate", '"a\\ud800b"'),
    Hostile("rtl-override", '"\u202e"'),
    Hostile("million-chars", '"' + "a" * 10**6 + '"'),
    Hostile("superscript-two", '"²"'),
    Hostile("arabic-indic-three", '"٣"'),
]
# Each string field also gets its own valid base value followed by a newline (`$` of a Python
# regular expression matches before a final newline; the contract's patterns don't).
TRAILING_NEWLINE = "base-plus-newline"
NUMBER_VALUES = [
    Hostile("two-pow-63", str(2**63)),
    Hostile("minus-two-pow-63-minus-1", str(-(2**63) - 1)),
    Hostile("ten-pow-26", str(10**26)),
    Hostile("float-1e308", "1e308"),
    Hostile("superscript-two-string", '"²"'),
]
# Already percent-encoded (query values and path segments).
QUERY_VALUES = [
    Hostile("nul", "a%00b"),
    Hostile("two-pow-31", str(2**31)),  # past a 32-bit column
    Hostile("two-pow-63-minus-1", str(INT64_MAX)),  # the largest id there can be
    Hostile("two-pow-63", str(2**63)),
    Hostile("superscript-two", quote("²")),
    Hostile("arabic-indic-three", quote("٣")),
    Hostile("hundred-kb", "a" * 100 * 1024),
]
PATH_VALUES = [
    Hostile("two-pow-31", str(2**31)),
    Hostile("two-pow-63-minus-1", str(INT64_MAX)),
    Hostile("two-pow-63", str(2**63)),
    Hostile("superscript-two", quote("²")),
    Hostile("minus-one", "-1"),
    Hostile("zero", "0"),
    Hostile("arabic-indic-three", quote("٣")),
    Hostile("nul", "1%00"),
]


def nested(depth: int, *, objects: bool) -> bytes:
    """JSON text whose containers nest exactly `depth` levels deep."""
    if objects:
        return ('{"a":' * depth + "1" + "}" * depth).encode()
    return ("[" * depth + "]" * depth).encode()


# --- the operations of the document ---------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path, query, header
    schema: Json


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    parameters: tuple[Parameter, ...]
    body: Json | None  # the JSON body's schema
    body_required: bool
    form: Json | None  # the x-www-form-urlencoded body's schema
    public: bool  # callable without a bearer token

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"

    def params(self, location: str) -> list[Parameter]:
        return [p for p in self.parameters if p.location == location]


def resolve(document: Json, schema: Json) -> Json:
    """Inline every `$ref` (to `#/components/...`) of a schema."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target = document
            for part in ref[2:].split("/"):
                target = target[part]
            return resolve(document, target)
        return {key: resolve(document, value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [resolve(document, item) for item in schema]
    return schema


def operations(document: Json) -> list[Operation]:
    found = []
    for template, item in document["paths"].items():
        for method, spec in item.items():
            if method not in {"get", "put", "post", "patch", "delete"}:
                continue
            content = spec.get("requestBody", {}).get("content", {})
            json_media = content.get("application/json")
            form_media = content.get("application/x-www-form-urlencoded")
            security = spec.get("security", document.get("security"))
            found.append(
                Operation(
                    method=method.upper(),
                    template=template,
                    parameters=tuple(
                        Parameter(p["name"], p["in"], resolve(document, p.get("schema", {})))
                        for p in (resolve(document, raw) for raw in spec.get("parameters", []))
                    ),
                    body=resolve(document, json_media["schema"]) if json_media else None,
                    body_required=bool(spec.get("requestBody", {}).get("required", False)),
                    form=resolve(document, form_media["schema"]) if form_media else None,
                    public=not security or {} in security,
                )
            )
    return found


# --- schemas: valid base values, leaves, and whether a value fits ---------------------------------


def concrete(schema: Json) -> Json:
    """The non-null alternative of an `anyOf`/`oneOf` with null, merged with the outer keywords."""
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            if len(options) == 1:
                outer = {k: v for k, v in schema.items() if k != key}
                return {**outer, **concrete(options[0])}
    return schema


def kind_of(schema: Json) -> str:
    schema = concrete(schema)
    if "enum" in schema:
        values = schema["enum"]
        return "string" if all(isinstance(v, str) for v in values) else "other"
    kind = schema.get("type")
    return kind if isinstance(kind, str) else "other"


BASE_STRINGS = {
    "username": "hostile_{n}",
    "password": NEW_PASSWORD,
    "new_password": NEW_PASSWORD,
    # Never the real one: a body under test must not end the admin's sessions by succeeding.
    "current_password": WRONG_PASSWORD,
    "full_name": "Base Name",
    "currency": "EUR",
    "sku": "BOOK-1",
    "token": "t" * 43,
    "refresh_token": "r" * 43,
}


def base_value(name: str, schema: Json, n: int) -> Json:
    """A valid value of `schema` for a field called `name`; `n` makes emails and usernames unique."""
    schema = concrete(schema)
    kind = kind_of(schema)
    if name == "status" and "enum" in schema and "cancelled" in schema["enum"]:
        return "cancelled"
    if "enum" in schema:
        return "user" if "user" in schema["enum"] else schema["enum"][0]
    if kind == "string":
        if "email" in name:
            return f"hostile{n}@example.com"
        if name in BASE_STRINGS:
            return BASE_STRINGS[name].format(n=n)
        examples = schema.get("examples")
        if examples:
            return examples[0]
        return "x" * max(int(schema.get("minLength", 1)), 1)
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "array":
        return [base_value(name, schema.get("items", {}), n)] * max(int(schema.get("minItems", 1)), 1)
    if kind == "object":
        return {
            key: base_value(key, sub, n)
            for key, sub in schema.get("properties", {}).items()
            if key in schema.get("required", [])
        }
    return None


@dataclass(frozen=True)
class Leaf:
    """A scalar field of a body: its path from the root, and its schema."""

    path: tuple[str | int, ...]
    schema: Json

    @property
    def name(self) -> str:
        return ".".join(str(part) for part in self.path)


def leaves(schema: Json, path: tuple[str | int, ...] = ()) -> list[Leaf]:
    schema = concrete(schema)
    kind = kind_of(schema)
    if kind == "object":
        found = []
        for key, sub in schema.get("properties", {}).items():
            found += leaves(sub, (*path, key))
        return found
    if kind == "array":
        return leaves(schema.get("items", {}), (*path, 0))
    return [Leaf(path, schema)] if path else []


def body_with(schema: Json, n: int, path: tuple[str | int, ...], text: str) -> bytes:
    """The base body of `schema` with the field at `path` (added when optional) set to raw JSON `text`."""
    body = base_value("", schema, n)
    target = body
    walked: tuple[str | int, ...] = ()
    for part in path[:-1]:
        walked += (part,)
        if isinstance(part, str) and part not in target:
            target[part] = base_value(part, schema_at(schema, walked), n)
        target = target[part]
    target[path[-1]] = SENTINEL
    encoded = json.dumps(body, ensure_ascii=False)
    return encoded.replace(json.dumps(SENTINEL), text).encode()


def schema_at(schema: Json, path: tuple[str | int, ...]) -> Json:
    for part in path:
        schema = concrete(schema)
        schema = schema["items"] if isinstance(part, int) else schema["properties"][part]
    return concrete(schema)


def ecma_full(pattern: str) -> str:
    """A JSON Schema pattern for Python: its final `$` must not match before a trailing newline."""
    return pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern


def fits(schema: Json, value: Json) -> bool:
    """Does `value` satisfy the (scalar) schema, integers bounded by a signed 64-bit range?"""
    schema = concrete(schema)
    if "enum" in schema:
        return value in schema["enum"] and isinstance(value, str | None)
    kind = kind_of(schema)
    if kind == "string":
        if not isinstance(value, str):
            return False
        if not int(schema.get("minLength", 0)) <= len(value) <= int(schema.get("maxLength", 10**9)):
            return False
        pattern = schema.get("pattern")
        return pattern is None or re.search(ecma_full(pattern), value) is not None
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        low, high = schema.get("minimum", -INT64_MAX - 1), schema.get("maximum", INT64_MAX)
        return bool(low <= value <= high) and -INT64_MAX - 1 <= value <= INT64_MAX
    if kind == "boolean":
        return isinstance(value, bool)
    return True


def body_field_expectation(leaf: Leaf, hostile: Hostile) -> frozenset[int]:
    """The contract's answer to one hostile value in one body field."""
    if hostile.id == "nul":
        return frozenset({422})
    if hostile.id == "lone-surrogate":  # malformed JSON (400) or a string refused (422), never stored
        return frozenset({400, 422})
    if hostile.id == "million-chars":  # every string the client sends has a bound
        return frozenset({422})
    if fits(leaf.schema, json.loads(hostile.text)):
        return ANY
    # A number that doesn't fit is the body's fault alone; a string may first meet another check
    # (a wrong current password, a spent token), but it is refused either way.
    return REFUSED if kind_of(leaf.schema) == "string" else frozenset({422})


def query_expectation(schema: Json, hostile: Hostile) -> frozenset[int]:
    if hostile.id in {"nul", "hundred-kb"}:
        return frozenset({400})
    schema = concrete(schema)
    kind = kind_of(schema)
    if kind == "integer" and hostile.text.isascii() and hostile.text.isdigit():
        return ANY if fits(schema, int(hostile.text)) else frozenset({400})
    if kind in {"integer", "boolean", "number"} or "enum" in schema or "format" in schema:
        return frozenset({400})  # none of the other hostile values is an integer, a boolean or a name
    pattern = schema.get("pattern")
    if pattern is not None:
        return ANY if re.search(ecma_full(pattern), unquote(hostile.text)) else frozenset({400})
    return ANY


# --- the cases ------------------------------------------------------------------------------------


@dataclass
class Case:
    place: str  # e.g. "body:email", "query:page", "path:user_id", "whole-body", "if-match"
    value: str  # the hostile value's id
    method: str
    url: str
    content: bytes | None = None
    chunked: bool = False
    headers: dict[str, str | bytes] = field(default_factory=dict)
    expect: frozenset[int] = ANY


def post(
    place: str,
    value: str,
    url: str,
    content: bytes,
    headers: Mapping[str, str | bytes],
    expect: frozenset[int] = ANY,
    *,
    chunked: bool = False,
) -> Case:
    return Case(place, value, "POST", url, content, chunked, dict(headers), expect)


JSON_HEADERS = {"Content-Type": "application/json"}


def fill(template: str, ids: dict[str, str], **override: str) -> str:
    """The template with each `{name}` replaced by `override[name]`, else `ids[name]`, else 1."""
    return re.sub(r"\{(\w+)\}", lambda m: override.get(m[1], ids.get(m[1], "1")), template)


def body_cases(op: Operation, ids: dict[str, str], counter: Iterator[int]) -> list[Case]:
    """Every hostile value in every field of the JSON body, then the whole-body hostiles."""
    if op.body is None:
        return []
    url = fill(op.template, ids)
    cases = []

    def case(place: str, value: str, content: bytes, expect: frozenset[int], chunked: bool = False) -> None:
        cases.append(Case(place, value, op.method, url, content, chunked, dict(JSON_HEADERS), expect))

    for leaf in leaves(op.body):
        kind = kind_of(leaf.schema)
        if kind == "string":
            n = next(counter)
            base = base_value(str(leaf.path[-1]), leaf.schema, n)
            table = [*STRING_VALUES, Hostile(TRAILING_NEWLINE, json.dumps(f"{base}\n"))]
        elif kind in {"integer", "number", "boolean"}:
            table = NUMBER_VALUES
        else:
            continue
        for hostile in table:
            n = next(counter)
            content = body_with(op.body, n, leaf.path, hostile.text)
            case(f"body:{leaf.name}", hostile.id, content, body_field_expectation(leaf, hostile))

    n = next(counter)
    base = json.dumps(base_value("", op.body, n)).encode()
    string_leaves = [leaf for leaf in leaves(op.body) if kind_of(leaf.schema) == "string"]
    if string_leaves:
        marked = body_with(op.body, n, string_leaves[0].path, '"@@xff@@"')
        invalid = marked.replace(b"@@xff@@", b"a\xff")
        case("whole-body", "not-utf8-in-field", invalid, frozenset({400}))
    empty = frozenset({400, 422}) if op.body_required else ANY
    padding = MIB + 1 - len(b'{"padding":""}')
    whole = [
        ("not-utf8", b'{"x":"\xff"}', frozenset({400})),
        ("deep-1000-arrays", nested(1000, objects=False), frozenset({400})),
        ("deep-1000-objects", nested(1000, objects=True), frozenset({400})),
        ("deep-33-arrays", nested(33, objects=False), frozenset({400})),
        ("deep-33-objects", nested(33, objects=True), frozenset({400})),
        ("deep-32-arrays", nested(32, objects=False), frozenset({422})),
        ("deep-32-objects", nested(32, objects=True), frozenset({422})),
        ("truncated", base[:-1], frozenset({400})),
        ("empty", b"", empty),
        ("array-not-object", b"[]", frozenset({422})),
        ("array-of-base", b"[" + base + b"]", frozenset({422})),
        ("json-null", b"null", frozenset({422})),
        ("nul-in-key", b'{"a\\u0000b":1}', frozenset({422})),
        ("over-1mib", b'{"padding":"' + b"a" * padding + b'"}', frozenset({413})),
    ]
    for value, content, expect in whole:
        case("whole-body", value, content, expect)
    case("whole-body", "over-1mib-chunked", b'{"padding":"' + b"a" * padding + b'"}', frozenset({413}), True)
    return cases


def query_cases(op: Operation, ids: dict[str, str]) -> list[Case]:
    url = fill(op.template, ids)
    cases = []
    for p in op.params("query"):
        for h in QUERY_VALUES:
            expect = query_expectation(p.schema, h)
            cases.append(Case(f"query:{p.name}", h.id, op.method, f"{url}?{p.name}={h.text}", expect=expect))
    return cases


def path_cases(op: Operation, ids: dict[str, str]) -> list[Case]:
    """Hostile ids in each path parameter: a bad path parameter (400) or no such resource (404)."""
    cases = []
    for p in op.params("path"):
        for h in PATH_VALUES:
            url = fill(op.template, ids, **{p.name: h.text})
            content = None
            headers: dict[str, str | bytes] = {}
            if op.body is not None:  # a valid body, so that only the id is wrong
                content = json.dumps(base_value("", op.body, 0)).encode()
                headers = dict(JSON_HEADERS)
            cases.append(
                Case(f"path:{p.name}", h.id, op.method, url, content, False, headers, frozenset({400, 404}))
            )
    return cases
