"""The OpenAPI arguments the route decorators of a resource share."""

from typing import Any

from litestar.openapi import ResponseSpec

from gatehouse.entrypoints.http.docs import errors
from gatehouse.entrypoints.http.openapi import SIGNED_IN, describe


def documented_by(
    use_case: type,
    *statuses: int,
    tags: list[str],
    security: list[dict[str, list[str]]] | None = SIGNED_IN,
    responses: dict[int, ResponseSpec] | None = None,
) -> dict[str, Any]:
    """A route's tags, security (a bearer token unless told), responses (`responses`, then the
    error envelope of each of `statuses`) and description (the rules in `use_case`'s docstring)."""
    return {
        "tags": tags,
        "security": security,
        "responses": {**(responses or {}), **errors(*statuses)},
        "description": describe(use_case.__doc__),
    }
