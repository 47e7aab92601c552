"""Conditional requests (§3): ETags from version columns, If-Match and If-None-Match."""

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Protocol, TypeVar

from litestar import Response
from litestar.params import HeaderParameter

MAX_VERSION = 2**31 - 1  # version columns are INTEGER on both engines: no tag beyond can match
# An absent header is None in Python, but a header is never JSON null: the schema is a plain string.
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        # `*` (any current version) too: the one value a client that has not read can send.
        schema_extra={"oneOf": None, "type": "string", "examples": ['"v1"', "*"]},
        description='ETags, e.g. "v3", or *; a list none of which is current: 412',
    ),
]
IfNoneMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-None-Match",
        required=False,
        schema_extra={"oneOf": None, "type": "string", "examples": ['"v1"']},
        description='ETags, e.g. "v3", or *; one that is current: 304',
    ),
]


def etag(version: int) -> str:
    """A strong validator: the representation changes exactly when the version does."""
    return f'"v{version}"'


def _tags(header: str) -> list[str]:
    return [part.strip() for part in header.split(",") if part.strip()]


def expected_versions(if_match: str | None) -> Sequence[int] | None:
    """The versions an `If-Match` accepts; None when absent or `*` (any current version).

    A header naming none of our tags matches no version: an empty list, so the use case still
    answers 403/404 first and then 412 (RFC 9110 §13.2.1 evaluates preconditions last).
    """
    if if_match is None or if_match.strip() == "*":
        return None
    versions = []
    for tag in _tags(if_match):
        version = _version_of(tag)
        if version is not None:
            versions.append(version)
    return versions


def _version_of(tag: str) -> int | None:
    """The version a tag of ours names: `"v"` and ASCII digits within the version column's range
    (`"v²"`, `"v2147483648"` or `"v9223372036854775808"` name none, so they match nothing: 412)."""
    digits = tag[2:-1]
    if not (tag.startswith('"v') and tag.endswith('"') and 0 < len(digits) <= 19):
        return None
    if not (digits.isascii() and digits.isdigit()) or int(digits) > MAX_VERSION:
        return None
    return int(digits)


def not_modified(if_none_match: str | None, version: int) -> bool:
    """True when the client's cached copy is current (→ 304)."""
    if if_none_match is None:
        return False
    tags = _tags(if_none_match)
    current = etag(version)
    return "*" in tags or any(t.removeprefix("W/") == current for t in tags)


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=Versioned)
Shown = TypeVar("Shown")


def with_etag(resource: V, render: Callable[[V], Shown]) -> Response[Shown]:
    """`resource` as `render` shows it, with the ETag of its version."""
    return Response(render(resource), headers={"ETag": etag(resource.version)})


def conditional_get(resource: V, render: Callable[[V], Any], if_none_match: str | None) -> Response[Any]:
    """`with_etag`, or 304 with the ETag and no body when the client's copy is current."""
    if not_modified(if_none_match, resource.version):
        return Response(None, status_code=304, headers={"ETag": etag(resource.version)})
    return with_etag(resource, render)
