"""Routes of `/users`: sign-up, reads, replace, patch, delete, password change."""

from typing import Annotated, Any

from litestar import Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, PathParameter, QueryParameter
from msgspec import UNSET as MSGSPEC_UNSET

from gatehouse.application.ports import Page, UserFilter, UserPageQuery, UserSortField
from gatehouse.application.unset import UNSET
from gatehouse.application.use_cases.change_password import ChangePassword
from gatehouse.application.use_cases.delete_user import DeleteUser
from gatehouse.application.use_cases.read_users import GetUser, ListUsers
from gatehouse.application.use_cases.register_user import RegisterUser
from gatehouse.application.use_cases.update_user import PatchUser, ReplaceUser
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import User
from gatehouse.domain.values import Role
from gatehouse.entrypoints.http.auth import BEARER_SECURITY
from gatehouse.entrypoints.http.body import decode_body, json_body
from gatehouse.entrypoints.http.conditional import etag, expected_versions, not_modified, parse_id
from gatehouse.entrypoints.http.context import context_of
from gatehouse.entrypoints.http.docs import errors
from gatehouse.entrypoints.http.problems import BadRequestError
from gatehouse.entrypoints.http.schemas import (
    ChangePasswordIn,
    PatchUserIn,
    ReplaceUserIn,
    SignUpIn,
    UserOut,
    UserPageOut,
    user_out,
)

AnyRequest = Request[Any, Any, Any]
UserIdPath = Annotated[str, PathParameter(description="The account id (a positive integer)")]
IfMatch = Annotated[str | None, HeaderParameter(name="If-Match", required=False)]
IfNoneMatch = Annotated[str | None, HeaderParameter(name="If-None-Match", required=False)]
USER_PATH = "/users/{user_id:str}"
TAG = ["users"]


def with_etag(user: User, status_code: int = 200) -> Response[UserOut]:
    return Response(user_out(user), status_code=status_code, headers={"ETag": etag(user.version)})


def parse_sort(raw: str) -> tuple[UserSortField, bool]:
    """`id`, `created_at`, `username` or `email`, optionally prefixed with `-` for descending."""
    descending = raw.startswith("-")
    try:
        return UserSortField(raw.removeprefix("-")), descending
    except ValueError:
        raise BadRequestError(
            "sort must be one of id, created_at, username, email, optionally prefixed with -"
        ) from None


def user_filter(role: str | None, is_active: bool | None, search: str | None) -> UserFilter:
    return UserFilter(role=Role(role) if role else None, is_active=is_active, search=search or None)


@post(
    "/users",
    status_code=201,
    operation_class=json_body(SignUpIn),
    tags=TAG,
    summary="Create an account",
    responses=errors(400, 401, 403, 409, 413, 422, 429, 503),
    description=RegisterUser.__doc__,
)
async def create_user(
    request: AnyRequest,
    register_user: NamedDependency[RegisterUser],
    maybe_actor: NamedDependency[Actor | None],
) -> Response[UserOut]:
    body = await decode_body(request, SignUpIn)
    user = await register_user.execute(
        RegisterUser.Command(
            email=body.email,
            username=body.username,
            password=body.password,
            full_name=body.full_name,
            role=body.role,
            is_active=body.is_active,
            actor=maybe_actor,
        )
    )
    response = with_etag(user, 201)
    response.headers["Location"] = f"/api/v{context_of(request.scope).api_version}/users/{user.id}"
    return response


@get(
    "/users",
    tags=TAG,
    summary="List accounts (numbered pages)",
    security=BEARER_SECURITY,
    responses=errors(400, 401, 403, 429, 503),
    description=ListUsers.__doc__,
)
async def list_users(
    actor: NamedDependency[Actor],
    list_users: NamedDependency[ListUsers],
    page: Annotated[int, QueryParameter(ge=1, le=10**9)] = 1,
    page_size: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
    role: Annotated[str | None, QueryParameter(pattern="^(admin|moderator|user)$")] = None,
    is_active: Annotated[bool | None, QueryParameter()] = None,
    search: Annotated[str | None, QueryParameter(max_length=254)] = None,
    sort: Annotated[
        str, QueryParameter(description="id, created_at, username or email; '-' for descending")
    ] = "id",
) -> UserPageOut:
    field, descending = parse_sort(sort)
    query = UserPageQuery(
        filter=user_filter(role, is_active, search),
        sort=field,
        descending=descending,
        page=page,
        page_size=page_size,
    )
    result: Page[User] = await list_users.execute(ListUsers.Query(actor=actor, page=query))
    return UserPageOut(
        items=[user_out(u) for u in result.items],
        total=result.total,
        page=page,
        page_size=page_size,
        total_pages=-(-result.total // page_size),
    )


@get(
    "/users/me",
    tags=TAG,
    summary="The signed-in account",
    security=BEARER_SECURITY,
    responses=errors(401, 429, 503),
)
async def read_me(
    actor: NamedDependency[Actor], get_user: NamedDependency[GetUser], if_none_match: IfNoneMatch
) -> Response[UserOut]:
    user = await get_user.execute(GetUser.Query(actor=actor, user_id=actor.user_id))
    return conditional_get(user, if_none_match)


@get(
    USER_PATH,
    tags=TAG,
    summary="Read an account",
    security=BEARER_SECURITY,
    responses=errors(400, 401, 403, 404, 429, 503),
    description=GetUser.__doc__,
)
async def read_user(
    actor: NamedDependency[Actor],
    get_user: NamedDependency[GetUser],
    user_id: UserIdPath,
    if_none_match: IfNoneMatch,
) -> Response[UserOut]:
    user = await get_user.execute(GetUser.Query(actor=actor, user_id=parse_id(user_id)))
    return conditional_get(user, if_none_match)


def conditional_get(user: User, if_none_match: str | None) -> Response[Any]:
    if not_modified(if_none_match, user.version):
        return Response(None, status_code=304, headers={"ETag": etag(user.version)})
    return with_etag(user)


@put(
    USER_PATH,
    operation_class=json_body(ReplaceUserIn),
    tags=TAG,
    summary="Replace an account",
    security=BEARER_SECURITY,
    responses=errors(400, 401, 403, 404, 409, 412, 413, 422, 429, 503),
    description=ReplaceUser.__doc__,
)
async def replace_user(
    request: AnyRequest,
    actor: NamedDependency[Actor],
    replace_user: NamedDependency[ReplaceUser],
    user_id: UserIdPath,
    if_match: IfMatch,
) -> Response[UserOut]:
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
    return with_etag(user)


@patch(
    USER_PATH,
    operation_class=json_body(PatchUserIn),
    tags=TAG,
    summary="Change some fields of an account",
    security=BEARER_SECURITY,
    responses=errors(400, 401, 403, 404, 409, 412, 413, 422, 429, 503),
    description=PatchUser.__doc__,
)
async def patch_user(
    request: AnyRequest,
    actor: NamedDependency[Actor],
    patch_user: NamedDependency[PatchUser],
    user_id: UserIdPath,
    if_match: IfMatch,
) -> Response[UserOut]:
    uid = parse_id(user_id)
    body = await decode_body(request, PatchUserIn)
    sent = {name: getattr(body, name) for name in PatchUser.FIELDS}
    changes = {name: (UNSET if value is MSGSPEC_UNSET else value) for name, value in sent.items()}
    user = await patch_user.execute(
        PatchUser.Command(actor=actor, user_id=uid, expected_versions=expected_versions(if_match), **changes)
    )
    return with_etag(user)


@delete(
    USER_PATH,
    status_code=204,
    tags=TAG,
    summary="Delete an account",
    security=BEARER_SECURITY,
    responses=errors(400, 401, 403, 404, 409, 412, 429, 503),
    description=DeleteUser.__doc__,
)
async def delete_user(
    actor: NamedDependency[Actor],
    delete_user: NamedDependency[DeleteUser],
    user_id: UserIdPath,
    if_match: IfMatch,
) -> None:
    await delete_user.execute(
        DeleteUser.Command(
            actor=actor, user_id=parse_id(user_id), expected_versions=expected_versions(if_match)
        )
    )


@post(
    "/users/me/password",
    status_code=204,
    operation_class=json_body(ChangePasswordIn),
    tags=TAG,
    summary="Change one's own password",
    security=BEARER_SECURITY,
    responses=errors(400, 401, 403, 413, 422, 429, 503),
    description=ChangePassword.__doc__,
)
async def change_password(
    request: AnyRequest, actor: NamedDependency[Actor], change_password: NamedDependency[ChangePassword]
) -> None:
    body = await decode_body(request, ChangePasswordIn)
    await change_password.execute(
        ChangePassword.Command(
            actor=actor, current_password=body.current_password, new_password=body.new_password
        )
    )


ROUTES = [create_user, list_users, read_me, read_user, replace_user, patch_user, delete_user, change_password]
