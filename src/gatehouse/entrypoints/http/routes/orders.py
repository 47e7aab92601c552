"""Routes of `/users/{uid}/orders…`: place, read, move, delete; the lists (v1 numbered, v2 by cursor)."""

from dataclasses import replace
from typing import Annotated, Any

from litestar import Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from gatehouse.application.idempotency import IdempotentCreation
from gatehouse.application.ports.orders import OrderFilter, OrderKeysetQuery, OrderPageQuery
from gatehouse.application.use_cases.orders import (
    BrowseOrders,
    ChangeOrderStatus,
    CreateOrder,
    DeleteOrder,
    GetOrder,
    ItemInput,
    ListOrders,
)
from gatehouse.domain.order import OrderStatus
from gatehouse.domain.scopes import Scope
from gatehouse.entrypoints.http.auth import require_actor
from gatehouse.entrypoints.http.body import decode_body
from gatehouse.entrypoints.http.conditional import (
    IfMatch,
    IfNoneMatch,
    conditional_get,
    expected_versions,
    with_etag,
)
from gatehouse.entrypoints.http.context import context_of
from gatehouse.entrypoints.http.cursors import CursorCodec
from gatehouse.entrypoints.http.docs import NOT_MODIFIED, returns
from gatehouse.entrypoints.http.idempotency import create_once, created, creating, stored_under
from gatehouse.entrypoints.http.ids import OrderIdPath, UserIdPath, parse_id
from gatehouse.entrypoints.http.openapi import documented, json_body
from gatehouse.entrypoints.http.paging import (
    Cursor,
    Limit,
    PageNumber,
    PageSize,
    numbered_page,
    require_plain_integers,
)
from gatehouse.entrypoints.http.route_docs import CHANGE_ERRORS, CREATE_ERRORS, READ_ERRORS, documented_by
from gatehouse.entrypoints.http.schemas.orders import (
    OrderCursorPageOut,
    OrderIn,
    OrderOut,
    OrderPageOut,
    OrderStatusIn,
    order_out,
)

AnyRequest = Request[Any, Any, Any]
ORDERS = "/users/{user_id:str}/orders"
ORDER = "/users/{user_id:str}/orders/{order_id:str}"
TAG = ["orders"]
StatusFilter = Annotated[str | None, QueryParameter(pattern="^(pending|paid|shipped|delivered|cancelled)$")]
LIST_ERRORS = (400, 401, 403, 404, 429, 503)


@post(
    ORDERS,
    status_code=201,
    operation_class=creating(OrderIn),
    summary="Place an order",
    **documented_by(
        CreateOrder, *CREATE_ERRORS, tags=TAG, responses=created(OrderOut), scopes=[Scope.ORDERS_WRITE]
    ),
)
async def create_order(
    request: AnyRequest,
    create_order: NamedDependency[CreateOrder],
    idempotency: NamedDependency[IdempotentCreation],
    user_id: UserIdPath,
) -> Response[bytes]:
    actor = await require_actor(request)
    uid = parse_id(user_id)
    body = await decode_body(request, OrderIn)
    items = [ItemInput(i.sku, i.quantity, i.unit_price_cents) for i in body.items]
    render = stored_under(f"/api/v{context_of(request.scope).api_version}/users/{uid}/orders", order_out)
    command = CreateOrder.Command(actor=actor, user_id=uid, currency=body.currency, items=items)
    return await create_once(request, actor, idempotency, create_order, command, render)


@get(
    ORDER,
    operation_class=documented(response_headers={200: ["ETag"], 304: ["ETag"]}),
    summary="Read an order",
    **documented_by(
        GetOrder,
        *READ_ERRORS,
        tags=TAG,
        responses={**returns(200, OrderOut, "The order, with its ETag"), **NOT_MODIFIED},
        scopes=[Scope.ORDERS_READ],
    ),
)
async def read_order(
    request: AnyRequest,
    get_order: NamedDependency[GetOrder],
    user_id: UserIdPath,
    order_id: OrderIdPath,
    if_none_match: IfNoneMatch,
) -> Response[Any]:
    actor = await require_actor(request)
    query = GetOrder.Query(actor=actor, user_id=parse_id(user_id), order_id=parse_id(order_id, "order_id"))
    order = await get_order.execute(query)
    return conditional_get(order, order_out, if_none_match)


@patch(
    ORDER,
    operation_class=json_body(OrderStatusIn, response_headers={200: ["ETag"]}),
    summary="Move an order to another status",
    **documented_by(ChangeOrderStatus, *CHANGE_ERRORS, tags=TAG, scopes=[Scope.ORDERS_WRITE]),
)
async def change_order_status(
    request: AnyRequest,
    change_order_status: NamedDependency[ChangeOrderStatus],
    user_id: UserIdPath,
    order_id: OrderIdPath,
    if_match: IfMatch,
) -> Response[OrderOut]:
    actor = await require_actor(request)
    uid, oid = parse_id(user_id), parse_id(order_id, "order_id")
    body = await decode_body(request, OrderStatusIn)
    order = await change_order_status.execute(
        ChangeOrderStatus.Command(
            actor=actor,
            user_id=uid,
            order_id=oid,
            status=body.status,
            expected_versions=expected_versions(if_match),
        )
    )
    return with_etag(order, order_out)


@delete(
    ORDER,
    status_code=204,
    summary="Delete an order",
    **documented_by(DeleteOrder, 400, 401, 403, 404, 412, 429, 503, tags=TAG, scopes=[Scope.ORDERS_WRITE]),
)
async def delete_order(
    request: AnyRequest,
    delete_order: NamedDependency[DeleteOrder],
    user_id: UserIdPath,
    order_id: OrderIdPath,
    if_match: IfMatch,
) -> None:
    actor = await require_actor(request)
    await delete_order.execute(
        DeleteOrder.Command(
            actor=actor,
            user_id=parse_id(user_id),
            order_id=parse_id(order_id, "order_id"),
            expected_versions=expected_versions(if_match),
        )
    )


@get(
    ORDERS,
    summary="List a user's orders (numbered pages)",
    **documented_by(ListOrders, *LIST_ERRORS, tags=TAG, scopes=[Scope.ORDERS_READ]),
)
async def list_orders_v1(
    request: AnyRequest,
    list_orders: NamedDependency[ListOrders],
    user_id: UserIdPath,
    page: PageNumber = 1,
    page_size: PageSize = 50,
    status: StatusFilter = None,
) -> OrderPageOut:
    actor = await require_actor(request)
    require_plain_integers(request, "page", "page_size")
    where = OrderFilter(parse_id(user_id), OrderStatus(status) if status else None)
    query = OrderPageQuery(filter=where, page=page, page_size=page_size)
    result = await list_orders.execute(ListOrders.Query(actor=actor, page=query))
    return numbered_page(OrderPageOut, [order_out(o) for o in result.items], result.total, page, page_size)


@get(
    ORDERS,
    summary="List a user's orders (cursor pages)",
    **documented_by(ListOrders, *LIST_ERRORS, tags=TAG, scopes=[Scope.ORDERS_READ]),
)
async def list_orders_v2(
    request: AnyRequest,
    browse_orders: NamedDependency[BrowseOrders],
    cursors: NamedDependency[CursorCodec],
    user_id: UserIdPath,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: StatusFilter = None,
) -> OrderCursorPageOut:
    actor = await require_actor(request)
    require_plain_integers(request, "limit")
    where = OrderFilter(parse_id(user_id), OrderStatus(status) if status else None)
    walk = OrderKeysetQuery(filter=where, limit=limit)
    keyset = replace(walk, after=cursors.resume(cursor, walk))
    result = await browse_orders.execute(BrowseOrders.Query(actor=actor, keyset=keyset))
    next_cursor = cursors.next_cursor(result, walk)
    return OrderCursorPageOut(items=[order_out(o) for o in result.items], next_cursor=next_cursor)


ROUTES = [create_order, read_order, change_order_status, delete_order]
V1_ROUTES = [list_orders_v1]
V2_ROUTES = [list_orders_v2]
