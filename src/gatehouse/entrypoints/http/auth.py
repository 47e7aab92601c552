"""Bearer authentication, called by the handlers that need a signed-in caller.

The handler calls it (rather than declaring it as a Litestar dependency) so that each route
resolves a single dependency — Litestar resolves several in an anyio task group, which costs
more than the database look-up on the hot read path (see ADR 0011).
"""

from typing import Any

from litestar import Request

from gatehouse.application.errors import AuthenticationError
from gatehouse.application.use_cases.authenticate import Authenticate
from gatehouse.domain.errors import PermissionDeniedError
from gatehouse.domain.policy import Actor, check_mfa_enrolment
from gatehouse.entrypoints.http.context import context_of
from gatehouse.entrypoints.http.openapi import ANYONE_OR_SIGNED_IN, SIGNED_IN
from gatehouse.entrypoints.http.route_docs import TOKEN_SCOPES

# The security requirements in the document: a bearer token (however obtained), or optionally one.
BEARER_SECURITY = SIGNED_IN
OPTIONAL_BEARER = ANYONE_OR_SIGNED_IN
STATE_KEY = "authenticate"
MFA_ROLES_KEY = "mfa_required_roles"
# The routes an account that must enrol in MFA may still call before it has (CONTRACT §12):
# `GET /users/me`, the MFA routes themselves and log-out; refresh sends no bearer token at all.
ENROLMENT_ROUTE = {"mfa_enrolment": True}


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    """The token of an `Authorization: Bearer …` header; None when no header was sent."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Authorization must be a Bearer token")
    return token.strip()


async def optional_actor(request: Request[Any, Any, Any]) -> Actor | None:
    """The caller when a token was sent (a bad token is still 401), else None."""
    token = bearer_token(request)
    if token is None:
        return None
    authenticator: Authenticate = request.app.state[STATE_KEY]
    actor, user = await authenticator.execute(Authenticate.Query(token=token))
    ctx = context_of(request.scope)
    ctx.user_id, ctx.user = actor.user_id, user
    opt = request.route_handler.opt
    if not opt.get("mfa_enrolment"):
        check_mfa_enrolment(user, request.app.state[MFA_ROLES_KEY])
    if actor.by_api_token and TOKEN_SCOPES not in opt:
        # Closed unless the route says which scope opens it: credentials (password, MFA, sessions,
        # API tokens) are managed with a session only.
        raise PermissionDeniedError("API tokens can't call this route; use a session")
    return actor


async def require_actor(request: Request[Any, Any, Any]) -> Actor:
    """The signed-in caller, or 401."""
    actor = await optional_actor(request)
    if actor is None:
        raise AuthenticationError("Missing bearer token")
    return actor
