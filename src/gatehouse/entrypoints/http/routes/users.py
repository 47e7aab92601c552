"""Routes of `/users`: sign-up, reads, replace, patch, delete, password change (the lists: user_lists.py)."""

from typing import Any

from litestar import Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from msgspec import UNSET as MSGSPEC_UNSET

from gatehouse.application.idempotency import IdempotentCreation
from gatehouse.application.unset import UNSET
from gatehouse.application.use_cases.change_password import ChangePassword
from gatehouse.application.use_cases.delete_user import DeleteUser
from gatehouse.application.use_cases.read_users import GetUser
from gatehouse.application.use_cases.register_user import RegisterUser
from gatehouse.application.use_cases.update_user import PatchUser, ReplaceUser
from gatehouse.domain.policy import check_can_read
from gatehouse.domain.scopes import Scope
from gatehouse.entrypoints.http.auth import (
    BEARER_SECURITY,
    ENROLMENT_ROUTE,
    OPTIONAL_BEARER,
    optional_actor,
    require_actor,
)
from gatehouse.entrypoints.http.body import decode_body
from gatehouse.entrypoints.http.conditional import (
    IfMatch,
    IfNoneMatch,
    conditional_get,
    expected_versions,
    with_etag,
)
from gatehouse.entrypoints.http.context import context_of
from gatehouse.entrypoints.http.docs import NOT_MODIFIED, errors, returns
from gatehouse.entrypoints.http.idempotency import create_once, created, creating, stored_under
from gatehouse.entrypoints.http.ids import UserIdPath, parse_id
from gatehouse.entrypoints.http.openapi import documented, json_body
from gatehouse.entrypoints.http.route_docs import (
    BODY_ERRORS,
    CHANGE_ERRORS,
    READ_ERRORS,
    documented_by,
    token_access,
)
from gatehouse.entrypoints.http.schemas.users import (
    ChangePasswordIn,
    PatchUserIn,
    ReplaceUserIn,
    SignUpIn,
    UserOut,
    user_out,
)

AnyRequest = Request[Any, Any, Any]
USER_PATH = "/users/{user_id:str}"
TAG = ["users"]
WITH_ETAG = {200: ["ETag"]}


@post(
    "/users",
    status_code=201,
    operation_class=creating(SignUpIn),
    summary="Create an account",
    **documented_by(
        RegisterUser,
        400,
        401,
        403,
        409,
        413,
        422,
        429,
        503,
        tags=TAG,
        security=OPTIONAL_BEARER,
        responses=created(UserOut),
        scopes=[Scope.USERS_WRITE],
    ),
)
async def create_user(
    request: AnyRequest,
    register_user: NamedDependency[RegisterUser],
    idempotency: NamedDependency[IdempotentCreation],
) -> Response[bytes]:
    maybe_actor = await optional_actor(request)
    body = await decode_body(request, SignUpIn)
    render = stored_under(f"/api/v{context_of(request.scope).api_version}/users", user_out)
    command = RegisterUser.Command(
        email=body.email,
        username=body.username,
        password=body.password,
        full_name=body.full_name,
        role=body.role,
        is_active=body.is_active,
        actor=maybe_actor,
    )
    return await create_once(request, maybe_actor, idempotency, register_user, command, render)


@get(
    "/users/me",
    operation_class=documented(response_headers={200: ["ETag"], 304: ["ETag"]}),
    tags=TAG,
    summary="The signed-in account",
    description="The account the access token belongs to, with its `ETag`.",
    responses={
        **returns(200, UserOut, "The account, with its ETag"),
        **NOT_MODIFIED,
        **errors(401, 403, 429, 503),
    },
    **token_access([Scope.PROFILE_READ], BEARER_SECURITY, **ENROLMENT_ROUTE),
)
async def read_me(request: AnyRequest, if_none_match: IfNoneMatch) -> Response[Any]:
    """The account the token belongs to, as read while authenticating (no second look-up)."""
    actor = await require_actor(request)
    check_can_read(actor, actor.user_id)
    user = context_of(request.scope).user
    assert user is not None
    assert user.id == actor.user_id
    return conditional_get(user, user_out, if_none_match)


@get(
    USER_PATH,
    operation_class=documented(response_headers={200: ["ETag"], 304: ["ETag"]}),
    summary="Read an account",
    **documented_by(
        GetUser, *READ_ERRORS, tags=TAG, responses=NOT_MODIFIED, scopes=[Scope.PROFILE_READ, Scope.USERS_READ]
    ),
)
async def read_user(
    request: AnyRequest,
    get_user: NamedDependency[GetUser],
    user_id: UserIdPath,
    if_none_match: IfNoneMatch,
) -> Response[UserOut]:
    actor = await require_actor(request)
    signed_in = context_of(request.scope).user
    user = await get_user.execute(GetUser.Query(actor=actor, user_id=parse_id(user_id), signed_in=signed_in))
    return conditional_get(user, user_out, if_none_match)


@put(
    USER_PATH,
    operation_class=json_body(ReplaceUserIn, response_headers=WITH_ETAG),
    summary="Replace an account",
    **documented_by(ReplaceUser, *CHANGE_ERRORS, tags=TAG, scopes=[Scope.PROFILE_WRITE, Scope.USERS_WRITE]),
)
async def replace_user(
    request: AnyRequest,
    replace_user: NamedDependency[ReplaceUser],
    user_id: UserIdPath,
    if_match: IfMatch,
) -> Response[UserOut]:
    actor = await require_actor(request)
    uid = parse_id(user_id)
    body = await decode_body(request, ReplaceUserIn)
    user = await replace_user.execute(
        ReplaceUser.Command(
            actor=actor,
            user_id=uid,
            email=body.email,
            username=body.username,
            full_name=body.full_name,
            expected_versions=expected_versions(if_match),
        )
    )
    return with_etag(user, user_out)


@patch(
    USER_PATH,
    operation_class=json_body(PatchUserIn, response_headers=WITH_ETAG),
    summary="Change some fields of an account",
    **documented_by(PatchUser, *CHANGE_ERRORS, tags=TAG, scopes=[Scope.PROFILE_WRITE, Scope.USERS_WRITE]),
)
async def patch_user(
    request: AnyRequest,
    patch_user: NamedDependency[PatchUser],
    user_id: UserIdPath,
    if_match: IfMatch,
) -> Response[UserOut]:
    actor = await require_actor(request)
    uid = parse_id(user_id)
    body = await decode_body(request, PatchUserIn)
    sent = {name: getattr(body, name) for name in PatchUser.FIELDS}
    changes = {name: (UNSET if value is MSGSPEC_UNSET else value) for name, value in sent.items()}
    user = await patch_user.execute(
        PatchUser.Command(actor=actor, user_id=uid, expected_versions=expected_versions(if_match), **changes)
    )
    return with_etag(user, user_out)


@delete(
    USER_PATH,
    status_code=204,
    summary="Delete an account",
    **documented_by(DeleteUser, 400, 401, 403, 404, 409, 412, 429, 503, tags=TAG, scopes=[Scope.USERS_WRITE]),
)
async def delete_user(
    request: AnyRequest,
    delete_user: NamedDependency[DeleteUser],
    user_id: UserIdPath,
    if_match: IfMatch,
) -> None:
    actor = await require_actor(request)
    await delete_user.execute(
        DeleteUser.Command(
            actor=actor, user_id=parse_id(user_id), expected_versions=expected_versions(if_match)
        )
    )


@post(
    "/users/me/password",
    status_code=204,
    operation_class=json_body(ChangePasswordIn),
    summary="Change one's own password",
    **documented_by(ChangePassword, *BODY_ERRORS, tags=TAG),
)
async def change_password(request: AnyRequest, change_password: NamedDependency[ChangePassword]) -> None:
    actor = await require_actor(request)
    body = await decode_body(request, ChangePasswordIn)
    await change_password.execute(
        ChangePassword.Command(
            actor=actor, current_password=body.current_password, new_password=body.new_password
        )
    )


ROUTES = [create_user, read_me, read_user, replace_user, patch_user, delete_user, change_password]
