"""Routes of `/auth`: log in, refresh, log out."""

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency

from gatehouse.application.use_cases.login import Login
from gatehouse.application.use_cases.sessions import Logout, RefreshSession, TokenPair
from gatehouse.entrypoints.http.auth import BEARER_SECURITY, require_actor
from gatehouse.entrypoints.http.body import decode_body, decode_form
from gatehouse.entrypoints.http.context import context_of
from gatehouse.entrypoints.http.docs import errors
from gatehouse.entrypoints.http.openapi import JSON, describe, documented, json_body
from gatehouse.entrypoints.http.schemas import LoginForm, LoginIn, LogoutIn, RefreshIn, TokenOut

AnyRequest = Request[Any, Any, Any]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM = "application/x-www-form-urlencoded"
TAG = ["auth"]


def tokens_response(pair: TokenPair) -> Response[TokenOut]:
    body = TokenOut(
        access_token=pair.access_token,
        token_type="bearer",  # noqa: S106 - the OAuth2 token type, not a secret
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
    )
    return Response(body, headers=NO_STORE)


async def credentials(request: AnyRequest) -> tuple[str, str]:
    """(identifier, password) from the JSON body or the OAuth2 password form."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM:
        form = decode_form(await request.body(), LoginForm)
        return form.username, form.password
    body = await decode_body(request, LoginIn)
    return body.email, body.password


@post(
    "/auth/token",
    status_code=200,
    operation_class=documented((JSON, LoginIn), (FORM, LoginForm)),
    tags=TAG,
    summary="Log in",
    responses=errors(400, 401, 403, 413, 422, 429, 503),
    description=describe(Login.__doc__),
)
async def issue_token(request: AnyRequest, login: NamedDependency[Login]) -> Response[TokenOut]:
    identifier, password = await credentials(request)
    ctx = context_of(request.scope)
    pair = await login.execute(
        Login.Command(
            identifier=identifier, password=password, ip=ctx.ip, user_agent=request.headers.get("user-agent")
        )
    )
    return tokens_response(pair)


@post(
    "/auth/refresh",
    status_code=200,
    operation_class=json_body(RefreshIn),
    tags=TAG,
    summary="Trade a refresh token",
    responses=errors(400, 401, 413, 422, 429, 503),
    description=describe(RefreshSession.__doc__),
)
async def refresh_token(request: AnyRequest, refresh: NamedDependency[RefreshSession]) -> Response[TokenOut]:
    body = await decode_body(request, RefreshIn)
    return tokens_response(await refresh.execute(body.refresh_token))


@post(
    "/auth/logout",
    status_code=204,
    operation_class=json_body(LogoutIn, required=False),
    tags=TAG,
    summary="Log out",
    security=BEARER_SECURITY,
    responses=errors(400, 401, 413, 422, 429, 503),
    description=describe(Logout.__doc__),
)
async def logout(request: AnyRequest, logout: NamedDependency[Logout]) -> None:
    actor = await require_actor(request)
    body = await decode_body(request, LogoutIn, allow_empty=True)
    await logout.execute(Logout.Command(actor=actor, refresh_token=body.refresh_token))


ROUTES = [issue_token, refresh_token, logout]
