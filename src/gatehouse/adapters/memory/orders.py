"""In-memory orders and idempotency keys, over the same state as the other in-memory twins."""

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from gatehouse.adapters.memory.state import MemoryState, OverState, built_from, checked, copy_of
from gatehouse.application.errors import ConflictError
from gatehouse.application.ports.idempotency import IdempotencyRecord, IdempotencyRepository, StoredResponse
from gatehouse.application.ports.orders import (
    NewOrder,
    OrderFilter,
    OrderKeysetQuery,
    OrderPageQuery,
    OrderQueries,
    OrderRepository,
)
from gatehouse.application.ports.paging import After, KeysetPage, Page
from gatehouse.domain.order import Order, OrderStatus


class InMemoryOrderRepository(OverState, OrderRepository):
    async def add(self, new: NewOrder) -> Order:
        order = built_from(
            Order, new, id=self._s.new_id("orders"), status=OrderStatus.PENDING, updated_at=new.created_at
        )
        self._s.orders[order.id] = order
        return replace(order)

    async def get(self, order_id: int) -> Order | None:
        return copy_of(self._s.orders, order_id)

    async def lock(self, order_id: int) -> Order | None:
        return await self.get(order_id)  # units of work run one at a time here

    async def update(self, order: Order, *, expected_versions: Sequence[int] | None) -> Order:
        stored = self._checked(order.id, expected_versions)
        saved = replace(order, version=stored.version + 1)
        self._s.orders[order.id] = saved
        return replace(saved)

    async def delete(self, order_id: int, *, expected_versions: Sequence[int] | None) -> None:
        self._checked(order_id, expected_versions)
        del self._s.orders[order_id]

    def _checked(self, order_id: int, expected_versions: Sequence[int] | None) -> Order:
        return checked(self._s.orders, order_id, expected_versions, "Order")


class InMemoryIdempotencyRepository(OverState, IdempotencyRepository):
    async def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        return self._s.idempotency.get((scope, key))

    async def start(
        self, scope: str, key: str, fingerprint: str, now: datetime, replacing: IdempotencyRecord | None
    ) -> None:
        if self._s.idempotency.get((scope, key)) != replacing:
            raise ConflictError("A request with this Idempotency-Key is still running")
        self._s.idempotency[(scope, key)] = IdempotencyRecord(fingerprint, now, None)

    async def finish(self, scope: str, key: str, response: StoredResponse) -> None:
        record = self._s.idempotency[(scope, key)]
        self._s.idempotency[(scope, key)] = replace(record, response=response)

    async def release(self, scope: str, key: str) -> None:
        record = self._s.idempotency.get((scope, key))
        if record is not None and record.response is None:
            del self._s.idempotency[(scope, key)]


class InMemoryOrderQueries(OrderQueries):
    """Reads the committed state of an in-memory database (`state()` returns it)."""

    def __init__(self, state: Callable[[], MemoryState]) -> None:
        self._state = state

    async def get(self, order_id: int) -> Order | None:
        return copy_of(self._state().orders, order_id)

    def _matching(self, where: OrderFilter) -> list[Order]:
        found = [
            o
            for o in self._state().orders.values()
            if o.user_id == where.user_id and (where.status is None or o.status is where.status)
        ]
        return sorted(found, key=lambda o: o.id)

    async def page(self, query: OrderPageQuery) -> Page[Order]:
        found = self._matching(query.filter)
        start = (query.page - 1) * query.page_size
        return Page([replace(o) for o in found[start : start + query.page_size]], len(found))

    async def keyset(self, query: OrderKeysetQuery) -> KeysetPage[Order]:
        after, limit = query.after, query.limit
        found = [o for o in self._matching(query.filter) if after is None or o.id > after.id]
        page = [replace(o) for o in found[:limit]]
        more = len(found) > limit
        return KeysetPage(page, After(page[-1].id, page[-1].id) if more and page else None)
