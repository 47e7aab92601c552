"""List routes: numbered pages (v1) and cursors (v2) over the same use cases and filters."""

from typing import Annotated, Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from gatehouse.application.ports.orders import OrderFilter
from gatehouse.application.ports.users import UserFilter, UserKeysetQuery, UserPageQuery, UserSortField
from gatehouse.application.use_cases.browse_users import BrowseUsers
from gatehouse.application.use_cases.orders import ListOrders
from gatehouse.application.use_cases.read_users import ListUsers
from gatehouse.domain.order import OrderStatus
from gatehouse.domain.values import Role
from gatehouse.entrypoints.http.auth import BEARER_SECURITY, require_actor
from gatehouse.entrypoints.http.conditional import parse_id
from gatehouse.entrypoints.http.cursors import CursorCodec
from gatehouse.entrypoints.http.docs import errors
from gatehouse.entrypoints.http.openapi import describe
from gatehouse.entrypoints.http.params import UserIdPath
from gatehouse.entrypoints.http.problems import BadRequestError, FieldProblem
from gatehouse.entrypoints.http.schemas import (
    OrderCursorPageOut,
    OrderPageOut,
    UserCursorPageOut,
    UserPageOut,
    order_out,
    user_out,
)

Page = Annotated[int, QueryParameter(ge=1, le=10**9, description="1-based page number")]
PageSize = Annotated[int, QueryParameter(ge=1, le=100)]
Limit = Annotated[int, QueryParameter(ge=1, le=100)]
Cursor = Annotated[
    str | None, QueryParameter(max_length=2048, description="next_cursor of the previous page")
]
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
StatusFilter = Annotated[str | None, QueryParameter(pattern="^(pending|paid|shipped|delivered|cancelled)$")]
ORDERS_PATH = "/users/{user_id:str}/orders"
LIST_ERRORS = errors(400, 401, 403, 404, 429, 503)


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


def require_plain_integers(request: Request[Any, Any, Any], *names: str) -> None:
    """Integers in the query are plain decimal digits: `1.0`, `1e1` or `+1` are 400, not coerced."""
    for name in names:
        raw = request.query_params.get(name)
        if raw is not None and not (raw.isascii() and raw.isdigit()):
            raise BadRequestError(f"{name} must be an integer", [FieldProblem(name, "Expected an integer")])


def pages(total: int, page_size: int) -> int:
    return -(-total // page_size)


@get(
    "/users",
    tags=["users"],
    summary="List accounts (numbered pages)",
    security=BEARER_SECURITY,
    responses=LIST_ERRORS,
    description=describe(ListUsers.__doc__),
)
async def list_users_v1(
    request: Request[Any, Any, Any],
    list_users: NamedDependency[ListUsers],
    page: Page = 1,
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
    return UserPageOut(
        items=[user_out(u) for u in result.items],
        total=result.total,
        page=page,
        page_size=page_size,
        total_pages=pages(result.total, page_size),
    )


@get(
    "/users",
    tags=["users"],
    summary="List accounts (cursor pages)",
    security=BEARER_SECURITY,
    responses=LIST_ERRORS,
    description=describe(BrowseUsers.__doc__),
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
    signature = f"users|{role}|{is_active}|{search}|{sort}"
    after = cursors.decode(cursor, signature) if cursor else None
    query = UserKeysetQuery(
        filter=user_filter(role, is_active, search),
        sort=field,
        descending=descending,
        limit=limit,
        after=after,
    )
    result = await browse_users.execute(BrowseUsers.Query(actor=actor, keyset=query))
    next_cursor = cursors.encode(result.next_after, signature) if result.next_after else None
    return UserCursorPageOut(items=[user_out(u) for u in result.items], next_cursor=next_cursor)


@get(
    ORDERS_PATH,
    tags=["orders"],
    summary="List a user's orders (numbered pages)",
    security=BEARER_SECURITY,
    responses=LIST_ERRORS,
    description=describe(ListOrders.__doc__),
)
async def list_orders_v1(
    request: Request[Any, Any, Any],
    list_orders: NamedDependency[ListOrders],
    user_id: UserIdPath,
    page: Page = 1,
    page_size: PageSize = 50,
    status: StatusFilter = None,
) -> OrderPageOut:
    actor = await require_actor(request)
    require_plain_integers(request, "page", "page_size")
    where = OrderFilter(parse_id(user_id), OrderStatus(status) if status else None)
    items, total = await list_orders.execute(actor, where, page, page_size)
    return OrderPageOut(
        items=[order_out(o) for o in items],
        total=total,
        page=page,
        page_size=page_size,
        total_pages=pages(total, page_size),
    )


@get(
    ORDERS_PATH,
    tags=["orders"],
    summary="List a user's orders (cursor pages)",
    security=BEARER_SECURITY,
    responses=LIST_ERRORS,
    description=describe(ListOrders.__doc__),
)
async def list_orders_v2(
    request: Request[Any, Any, Any],
    list_orders: NamedDependency[ListOrders],
    cursors: NamedDependency[CursorCodec],
    user_id: UserIdPath,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: StatusFilter = None,
) -> OrderCursorPageOut:
    actor = await require_actor(request)
    require_plain_integers(request, "limit")
    where = OrderFilter(parse_id(user_id), OrderStatus(status) if status else None)
    signature = f"orders|{where.user_id}|{status}"
    after = cursors.decode(cursor, signature) if cursor else None
    result = await list_orders.after(actor, where, limit, after)
    next_cursor = cursors.encode(result.next_after, signature) if result.next_after else None
    return OrderCursorPageOut(items=[order_out(o) for o in result.items], next_cursor=next_cursor)


V1_ROUTES = [list_users_v1, list_orders_v1]
V2_ROUTES = [list_users_v2, list_orders_v2]
