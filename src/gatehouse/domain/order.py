"""The order aggregate: line items, a computed total and the status machine."""

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from gatehouse.domain.errors import IllegalTransitionError, InvalidValueError

CURRENCY = re.compile(r"^[A-Z]{3}$")
SKU = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_ITEMS = 100
MAX_QUANTITY = 1000
MAX_UNIT_PRICE_CENTS = 1_000_000_000


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


ALLOWED_MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


def parse_status(value: str) -> OrderStatus:
    try:
        return OrderStatus(value)
    except ValueError:
        names = ", ".join(s.value for s in OrderStatus)
        raise InvalidValueError("status", f"Status must be one of {names}") from None


def is_legal_move(current: OrderStatus, target: OrderStatus) -> bool:
    return target in ALLOWED_MOVES[current]


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217-shaped code: three upper-case letters."""

    code: str

    def __post_init__(self) -> None:
        if not CURRENCY.fullmatch(self.code):
            raise InvalidValueError("currency", "Currency must be three upper-case letters")


@dataclass(frozen=True, slots=True)
class LineItem:
    sku: str
    quantity: int
    unit_price_cents: int

    def __post_init__(self) -> None:
        if not SKU.fullmatch(self.sku):
            raise InvalidValueError("sku", "SKU must be 1-64 characters of letters, digits, '.', '_' or '-'")
        if not 1 <= self.quantity <= MAX_QUANTITY:
            raise InvalidValueError("quantity", "Quantity must be 1-1000")
        if not 0 <= self.unit_price_cents <= MAX_UNIT_PRICE_CENTS:
            raise InvalidValueError("unit_price_cents", "Unit price must be 0-1,000,000,000 cents")

    @property
    def subtotal_cents(self) -> int:
        return self.quantity * self.unit_price_cents


def line_items(items: Sequence[LineItem]) -> tuple[LineItem, ...]:
    """1–100 items, as an immutable tuple."""
    if not 1 <= len(items) <= MAX_ITEMS:
        raise InvalidValueError("items", "An order has 1-100 items")
    return tuple(items)


@dataclass(kw_only=True, eq=False)
class Order:
    """An order of one user. The total is always derived from the items, never stored from input."""

    id: int
    user_id: int
    status: OrderStatus
    currency: Currency
    items: tuple[LineItem, ...]
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Order) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def total_cents(self) -> int:
        return sum(item.subtotal_cents for item in self.items)

    def transition_to(self, target: OrderStatus, now: datetime) -> "Order":
        """A copy in `target` status; an illegal move raises `IllegalTransitionError`."""
        if not is_legal_move(self.status, target):
            raise IllegalTransitionError(f"An order can't move from {self.status.value} to {target.value}")
        return replace(self, status=target, updated_at=now)
