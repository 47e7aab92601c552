"""Bearer authentication as Litestar dependencies over the `Authenticate` use case."""

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from gatehouse.application.errors import AuthenticationError
from gatehouse.application.use_cases.authenticate import Authenticate
from gatehouse.domain.policy import Actor
from gatehouse.entrypoints.http.context import context_of

BEARER_SECURITY: list[dict[str, list[str]]] = [{"BearerAuth": []}]


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    """The token of an `Authorization: Bearer …` header; None when no header was sent."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Authorization must be a Bearer token")
    return token.strip()


async def authenticated(request: Request[Any, Any, Any], authenticator: Authenticate) -> Actor | None:
    token = bearer_token(request)
    if token is None:
        return None
    actor = await authenticator.execute(token)
    context_of(request.scope).user_id = actor.user_id
    return actor


async def require_actor(
    request: Request[Any, Any, Any], authenticate: NamedDependency[Authenticate]
) -> Actor:
    """The signed-in caller, or 401."""
    actor = await authenticated(request, authenticate)
    if actor is None:
        raise AuthenticationError("Missing bearer token")
    return actor


async def optional_actor(
    request: Request[Any, Any, Any], authenticate: NamedDependency[Authenticate]
) -> Actor | None:
    """The caller when a token was sent (a bad token is still 401), else None."""
    return await authenticated(request, authenticate)
