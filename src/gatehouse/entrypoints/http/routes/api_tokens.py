"""Routes of personal API tokens (`/users/me/tokens`, an admin's `/users/{id}/tokens`) and of
introspection (`/auth/introspect`)."""

from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency

from gatehouse.application.use_cases.api_tokens import CreateApiToken, ListApiTokens, RevokeApiToken
from gatehouse.application.use_cases.introspection import IntrospectToken
from gatehouse.domain.policy import Actor
from gatehouse.domain.scopes import Scope
from gatehouse.entrypoints.http.auth import require_actor
from gatehouse.entrypoints.http.body import decode_body, decode_form
from gatehouse.entrypoints.http.docs import returns
from gatehouse.entrypoints.http.ids import UserIdPath, parse_id
from gatehouse.entrypoints.http.openapi import JSON, documented, json_body
from gatehouse.entrypoints.http.route_docs import BODY_ERRORS, CREATE_ERRORS, READ_ERRORS, documented_by
from gatehouse.entrypoints.http.routes.auth import FORM, NO_STORE
from gatehouse.entrypoints.http.schemas.api_tokens import (
    ApiTokenIn,
    ApiTokenListOut,
    IntrospectForm,
    IntrospectIn,
    IntrospectionOut,
    NewApiTokenOut,
    api_token_out,
    introspection_out,
    new_api_token_out,
)

AnyRequest = Request[Any, Any, Any]
TAG = ["API tokens"]
PRIVATE = {"Cache-Control": "private, no-cache"}
ME = "/users/me/tokens"
OF_USER = "/users/{user_id:str}/tokens"
TokenIdPath = UserIdPath  # the same schema: a positive 64-bit integer


async def _owner(request: AnyRequest, user_id: str | None) -> tuple[Actor, int]:
    actor = await require_actor(request)
    return actor, (parse_id(user_id) if user_id is not None else actor.user_id)


@post(
    ME,
    status_code=201,
    operation_class=json_body(ApiTokenIn),
    summary="Create an API token (shown once)",
    **documented_by(
        CreateApiToken,
        *CREATE_ERRORS,
        tags=TAG,
        responses=returns(201, NewApiTokenOut, "The token, with its secret: shown this once"),
    ),
)
async def create_api_token(
    request: AnyRequest, create_api_token: NamedDependency[CreateApiToken]
) -> Response[NewApiTokenOut]:
    actor = await require_actor(request)
    body = await decode_body(request, ApiTokenIn)
    created = await create_api_token.execute(
        CreateApiToken.Command(
            actor=actor,
            user_id=actor.user_id,
            name=body.name,
            scopes=list(body.scopes),
            expires_in_days=body.expires_in_days,
        )
    )
    return Response(new_api_token_out(created.token, created.secret), status_code=201, headers=NO_STORE)


async def _list(
    request: AnyRequest, use_case: ListApiTokens, user_id: str | None
) -> Response[ApiTokenListOut]:
    actor, owner = await _owner(request, user_id)
    tokens = await use_case.execute(ListApiTokens.Query(actor=actor, user_id=owner))
    return Response(ApiTokenListOut(items=[api_token_out(t) for t in tokens]), headers=PRIVATE)


@get(ME, summary="List one's API tokens", **documented_by(ListApiTokens, 400, 401, 403, 429, 503, tags=TAG))
async def list_my_api_tokens(
    request: AnyRequest, list_api_tokens: NamedDependency[ListApiTokens]
) -> Response[ApiTokenListOut]:
    return await _list(request, list_api_tokens, None)


@get(
    OF_USER,
    summary="List an account's API tokens (admin)",
    **documented_by(ListApiTokens, *READ_ERRORS, tags=TAG),
)
async def list_api_tokens(
    request: AnyRequest, list_api_tokens: NamedDependency[ListApiTokens], user_id: UserIdPath
) -> Response[ApiTokenListOut]:
    return await _list(request, list_api_tokens, user_id)


async def _revoke(request: AnyRequest, use_case: RevokeApiToken, user_id: str | None, token_id: str) -> None:
    actor, owner = await _owner(request, user_id)
    await use_case.execute(
        RevokeApiToken.Command(actor=actor, user_id=owner, token_id=parse_id(token_id, "token_id"))
    )


@delete(
    ME + "/{token_id:str}",
    status_code=204,
    summary="Revoke one of one's API tokens",
    **documented_by(RevokeApiToken, *READ_ERRORS, tags=TAG),
)
async def revoke_my_api_token(
    request: AnyRequest, revoke_api_token: NamedDependency[RevokeApiToken], token_id: TokenIdPath
) -> None:
    await _revoke(request, revoke_api_token, None, token_id)


@delete(
    OF_USER + "/{token_id:str}",
    status_code=204,
    summary="Revoke an account's API token (admin)",
    **documented_by(RevokeApiToken, *READ_ERRORS, tags=TAG),
)
async def revoke_api_token(
    request: AnyRequest,
    revoke_api_token: NamedDependency[RevokeApiToken],
    user_id: UserIdPath,
    token_id: TokenIdPath,
) -> None:
    await _revoke(request, revoke_api_token, user_id, token_id)


@post(
    "/auth/introspect",
    status_code=200,
    operation_class=documented((JSON, IntrospectIn), (FORM, IntrospectForm)),
    summary="Introspect a token (RFC 7662)",
    **documented_by(
        IntrospectToken,
        *BODY_ERRORS,
        tags=["auth"],
        security=[],
        responses=returns(200, IntrospectionOut, "Whether the token is live, and whose it is"),
        scopes=[Scope.INTROSPECT],
    ),
)
async def introspect(
    request: AnyRequest, introspect_token: NamedDependency[IntrospectToken]
) -> Response[IntrospectionOut]:
    actor = await require_actor(request)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM:
        token = decode_form(await request.body(), IntrospectForm).token
    else:
        token = (await decode_body(request, IntrospectIn)).token
    result = await introspect_token.execute(IntrospectToken.Query(actor=actor, token=token))
    return Response(introspection_out(result), headers=NO_STORE)


ROUTES = [
    create_api_token,
    list_my_api_tokens,
    list_api_tokens,
    revoke_my_api_token,
    revoke_api_token,
    introspect,
]
