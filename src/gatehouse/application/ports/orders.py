"""The order aggregate: its repository and its read-side queries."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gatehouse.application.ports.paging import After, KeysetPage, Page
from gatehouse.domain.order import Currency, LineItem, Order, OrderStatus


@dataclass(frozen=True, slots=True)
class NewOrder:
    user_id: int
    currency: Currency
    items: tuple[LineItem, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OrderFilter:
    user_id: int
    status: OrderStatus | None = None


@dataclass(frozen=True, slots=True)
class OrderPageQuery:
    """A numbered page of one user's orders by id: `page` ≥ 1, `page_size` 1–100."""

    filter: OrderFilter
    page: int = 1
    page_size: int = 50


@dataclass(frozen=True, slots=True)
class OrderKeysetQuery:
    """A cursor page of one user's orders: up to `limit` with an id above `after`'s."""

    filter: OrderFilter
    limit: int = 50
    after: After | None = None

    def scope(self) -> str:
        status = self.filter.status.value if self.filter.status is not None else None
        return f"orders|{self.filter.user_id}|{status}"


class OrderRepository(Protocol):
    async def add(self, new: NewOrder) -> Order: ...

    async def get(self, order_id: int) -> Order | None: ...

    async def lock(self, order_id: int) -> Order | None:
        """The order, locked until the transaction ends: a status read to check a move is still the
        status when the move is written (no two moves from one status both succeed)."""
        ...

    async def update(self, order: Order, *, expected_versions: Sequence[int] | None) -> Order:
        """Store as version + 1; 412 on a version mismatch (checked in the UPDATE), 404 when gone."""
        ...

    async def delete(self, order_id: int, *, expected_versions: Sequence[int] | None) -> None: ...


class OrderQueries(Protocol):
    async def get(self, order_id: int) -> Order | None: ...

    async def page(self, query: OrderPageQuery) -> Page[Order]:
        """One numbered page (newest id last) and the total matching."""
        ...

    async def keyset(self, query: OrderKeysetQuery) -> KeysetPage[Order]: ...
