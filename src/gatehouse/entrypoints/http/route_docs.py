"""The OpenAPI arguments the route decorators of a resource share."""

from collections.abc import Sequence
from typing import Any

from litestar.openapi import ResponseSpec

from gatehouse.domain.scopes import Scope
from gatehouse.entrypoints.http.docs import errors
from gatehouse.entrypoints.http.openapi import API_TOKEN, SIGNED_IN, describe

# The error statuses most routes share, by what the route does (each adds its own where it differs).
READ_ERRORS = (400, 401, 403, 404, 429, 503)
BODY_ERRORS = (400, 401, 403, 413, 422, 429, 503)
CREATE_ERRORS = (400, 401, 403, 404, 409, 413, 422, 429, 503)
CHANGE_ERRORS = (400, 401, 403, 404, 409, 412, 413, 422, 429, 503)

# A route handler's `opt` key naming the scopes an API token may call it with; a route without it
# answers 403 to every API token (auth.py), so a new route is closed to them until it says so.
TOKEN_SCOPES = "token_scopes"  # noqa: S105 - a key name


def token_access(
    scopes: Sequence[Scope], security: list[dict[str, list[str]]] | None = SIGNED_IN, **opt: Any
) -> dict[str, Any]:
    """The `security` and `opt` of a route that API tokens may call with one of `scopes` (which one
    the rules of the use case decide, e.g. `profile:read` for one's own account, `users:read` for
    another's)."""
    named = [scope.value for scope in scopes]
    return {"security": [*(security or []), {API_TOKEN: named}], "opt": {**opt, TOKEN_SCOPES: tuple(scopes)}}


def documented_by(
    use_case: type,
    *statuses: int,
    tags: list[str],
    security: list[dict[str, list[str]]] | None = SIGNED_IN,
    responses: dict[int, ResponseSpec] | None = None,
    scopes: Sequence[Scope] = (),
) -> dict[str, Any]:
    """A route's tags, security (a bearer token unless told; an API token too with `scopes`),
    responses (`responses`, then the error envelope of each of `statuses`) and description (the
    rules in `use_case`'s docstring)."""
    documented = {
        "tags": tags,
        "security": security,
        "responses": {**(responses or {}), **errors(*statuses)},
        "description": describe(use_case.__doc__),
    }
    return {**documented, **token_access(scopes, security)} if scopes else documented
