"""The account lists of `GET /users`: numbered pages (v1) and cursors (v2) over the same filters."""

from dataclasses import replace
from typing import Annotated, Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from gatehouse.application.ports.users import UserFilter, UserKeysetQuery, UserPageQuery, UserSortField
from gatehouse.application.use_cases.read_users import BrowseUsers, ListUsers
from gatehouse.domain.scopes import Scope
from gatehouse.domain.values import Role
from gatehouse.entrypoints.http.auth import require_actor
from gatehouse.entrypoints.http.cursors import CursorCodec
from gatehouse.entrypoints.http.paging import (
    Cursor,
    Limit,
    PageNumber,
    PageSize,
    numbered_page,
    require_plain_integers,
)
from gatehouse.entrypoints.http.problems import BadRequestError
from gatehouse.entrypoints.http.route_docs import documented_by
from gatehouse.entrypoints.http.schemas.users import UserCursorPageOut, UserPageOut, user_out

RoleFilter = Annotated[str | None, QueryParameter(pattern="^(admin|moderator|user)$")]
ActiveFilter = Annotated[bool | None, QueryParameter()]
Search = Annotated[
    str | None,
    QueryParameter(
        max_length=254,
        pattern=r"^[^\u0000]*$",  # a NUL character: 400, the same on every engine
        description="Substring of email, username or name (no NUL character)",
    ),
]
SORTS = [f"{sign}{name}" for name in ("id", "created_at", "username", "email") for sign in ("", "-")]
Sort = Annotated[
    str,
    QueryParameter(
        description="id, created_at, username or email; prefix '-' to reverse",
        # What parse_sort accepts (anything else: 400), named (openapi_document.py) to be one enum in clients.
        schema_extra={"enum": SORTS, "title": "UserSort"},
    ),
]
LIST_ERRORS = (400, 401, 403, 404, 429, 503)


def parse_sort(raw: str) -> tuple[UserSortField, bool]:
    """`id`, `created_at`, `username` or `email`, optionally prefixed with `-` for descending."""
    try:
        return UserSortField(raw.removeprefix("-")), raw.startswith("-")
    except ValueError:
        raise BadRequestError(
            "sort must be one of id, created_at, username, email, optionally with a - prefix"
        ) from None


def user_filter(role: str | None, is_active: bool | None, search: str | None) -> UserFilter:
    return UserFilter(role=Role(role) if role else None, is_active=is_active, search=search or None)


@get(
    "/users",
    summary="List accounts (numbered pages)",
    **documented_by(ListUsers, *LIST_ERRORS, tags=["users"], scopes=[Scope.USERS_READ]),
)
async def list_users_v1(
    request: Request[Any, Any, Any],
    list_users: NamedDependency[ListUsers],
    page: PageNumber = 1,
    page_size: PageSize = 50,
    role: RoleFilter = None,
    is_active: ActiveFilter = None,
    search: Search = None,
    sort: Sort = "id",
) -> UserPageOut:
    actor = await require_actor(request)
    require_plain_integers(request, "page", "page_size")
    field, descending = parse_sort(sort)
    query = UserPageQuery(
        filter=user_filter(role, is_active, search),
        sort=field,
        descending=descending,
        page=page,
        page_size=page_size,
    )
    result = await list_users.execute(ListUsers.Query(actor=actor, page=query))
    return numbered_page(UserPageOut, [user_out(u) for u in result.items], result.total, page, page_size)


@get(
    "/users",
    summary="List accounts (cursor pages)",
    **documented_by(BrowseUsers, *LIST_ERRORS, tags=["users"], scopes=[Scope.USERS_READ]),
)
async def list_users_v2(
    request: Request[Any, Any, Any],
    browse_users: NamedDependency[BrowseUsers],
    cursors: NamedDependency[CursorCodec],
    limit: Limit = 50,
    cursor: Cursor = None,
    role: RoleFilter = None,
    is_active: ActiveFilter = None,
    search: Search = None,
    sort: Sort = "id",
) -> UserCursorPageOut:
    actor = await require_actor(request)
    require_plain_integers(request, "limit")
    field, descending = parse_sort(sort)
    walk = UserKeysetQuery(
        filter=user_filter(role, is_active, search), sort=field, descending=descending, limit=limit
    )
    keyset = replace(walk, after=cursors.resume(cursor, walk))
    result = await browse_users.execute(BrowseUsers.Query(actor=actor, keyset=keyset))
    next_cursor = cursors.next_cursor(result, walk)
    return UserCursorPageOut(items=[user_out(u) for u in result.items], next_cursor=next_cursor)


V1_ROUTES = [list_users_v1]
V2_ROUTES = [list_users_v2]
