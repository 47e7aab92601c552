"""The shapes of a user's orders: the order placed, the status move, the order and its pages."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from gatehouse.domain.order import Order
from gatehouse.entrypoints.http.schemas.fields import Strict

SkuText = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$", examples=["BOOK-1"])]
StatusName = Literal["pending", "paid", "shipped", "delivered", "cancelled"]


class ItemIn(Strict):
    sku: SkuText
    quantity: Annotated[int, Meta(ge=1, le=1000)]
    unit_price_cents: Annotated[int, Meta(ge=0, le=1_000_000_000)]


class OrderIn(Strict):
    """The total is computed by Gatehouse; sending one is an unknown field (422)."""

    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
    items: Annotated[list[ItemIn], Meta(min_length=1, max_length=100)]


class OrderStatusIn(Strict):
    status: StatusName


class ItemOut(msgspec.Struct):
    sku: str
    quantity: int
    unit_price_cents: int


class OrderOut(msgspec.Struct):
    id: int
    user_id: int
    status: StatusName
    currency: str
    items: list[ItemOut]
    total_cents: int
    created_at: datetime
    updated_at: datetime


class OrderPageOut(msgspec.Struct):
    items: list[OrderOut]
    total: int
    page: int
    page_size: int
    total_pages: int


class OrderCursorPageOut(msgspec.Struct):
    items: list[OrderOut]
    next_cursor: str | None


def order_out(order: Order) -> OrderOut:
    return OrderOut(
        id=order.id,
        user_id=order.user_id,
        status=order.status.value,
        currency=order.currency.code,
        items=[ItemOut(i.sku, i.quantity, i.unit_price_cents) for i in order.items],
        total_cents=order.total_cents,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )
