"""Write-side repositories of orders and idempotency keys, bound to one transaction."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse.adapters.sqlalchemy.tables import idempotency_keys, orders
from gatehouse.application.errors import ConflictError, NotFoundError, PreconditionFailedError
from gatehouse.application.ports.idempotency import IdempotencyRecord, IdempotencyRepository, StoredResponse
from gatehouse.application.ports.orders import NewOrder, OrderRepository
from gatehouse.domain.order import Currency, LineItem, Order, OrderStatus


def to_order(row: Any) -> Order:
    m = row._mapping if hasattr(row, "_mapping") else row
    return Order(
        id=m["id"],
        user_id=m["user_id"],
        status=OrderStatus(m["status"]),
        currency=Currency(m["currency"]),
        items=tuple(LineItem(i["sku"], i["quantity"], i["unit_price_cents"]) for i in m["items"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        version=m["version"],
    )


def items_document(items: Sequence[LineItem]) -> list[dict[str, Any]]:
    return [{"sku": i.sku, "quantity": i.quantity, "unit_price_cents": i.unit_price_cents} for i in items]


class SqlAlchemyOrderRepository(OrderRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, new: NewOrder) -> Order:
        values = {
            "user_id": new.user_id,
            "status": OrderStatus.PENDING.value,
            "currency": new.currency.code,
            "items": items_document(new.items),
            "created_at": new.created_at,
            "updated_at": new.created_at,
            "version": 1,
        }
        result = await self._conn.execute(insert(orders).values(values).returning(orders.c.id))
        return to_order({**values, "id": result.scalar_one()})

    async def get(self, order_id: int) -> Order | None:
        row = (await self._conn.execute(select(orders).where(orders.c.id == order_id))).first()
        return to_order(row) if row is not None else None

    async def lock(self, order_id: int) -> Order | None:
        # FOR UPDATE on PostgreSQL; SQLite renders none and needs none (writes begin IMMEDIATE).
        stmt = select(orders).where(orders.c.id == order_id).with_for_update()
        row = (await self._conn.execute(stmt)).first()
        return to_order(row) if row is not None else None

    async def update(self, order: Order, *, expected_versions: Sequence[int] | None) -> Order:
        stmt = (
            update(orders)
            .where(orders.c.id == order.id)
            .values(status=order.status.value, updated_at=order.updated_at, version=orders.c.version + 1)
            .returning(orders.c.version)
        )
        if expected_versions is not None:
            stmt = stmt.where(orders.c.version.in_(list(expected_versions)))
        version = (await self._conn.execute(stmt)).scalar_one_or_none()
        if version is None:
            await self._missing_or_stale(order.id)
        order.version = version
        return order

    async def delete(self, order_id: int, *, expected_versions: Sequence[int] | None) -> None:
        stmt = delete(orders).where(orders.c.id == order_id)
        if expected_versions is not None:
            stmt = stmt.where(orders.c.version.in_(list(expected_versions)))
        if (await self._conn.execute(stmt)).rowcount == 0:
            await self._missing_or_stale(order_id)

    async def _missing_or_stale(self, order_id: int) -> None:
        if (await self._conn.execute(select(orders.c.id).where(orders.c.id == order_id))).first() is None:
            raise NotFoundError(f"Order with id {order_id} not found")
        raise PreconditionFailedError("The resource has changed since it was read (If-Match)")


class SqlAlchemyIdempotencyRepository(IdempotencyRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    def _this(self, scope: str, key: str) -> Any:
        return (idempotency_keys.c.scope == scope) & (idempotency_keys.c.key == key)

    async def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        stmt = select(idempotency_keys).where(self._this(scope, key)).with_for_update()
        row = (await self._conn.execute(stmt)).first()
        if row is None:
            return None
        response = None
        if row.response_status is not None:
            response = StoredResponse(row.response_status, bytes(row.response_body), row.response_location)
        return IdempotencyRecord(row.fingerprint, row.started_at, response)

    async def start(
        self, scope: str, key: str, fingerprint: str, now: datetime, replacing: IdempotencyRecord | None
    ) -> None:
        if replacing is not None:
            stale = self._this(scope, key) & (idempotency_keys.c.started_at == replacing.started_at)
            if (await self._conn.execute(delete(idempotency_keys).where(stale))).rowcount != 1:
                raise ConflictError("A request with this Idempotency-Key is still running")
        try:
            await self._conn.execute(
                insert(idempotency_keys).values(scope=scope, key=key, fingerprint=fingerprint, started_at=now)
            )
        except IntegrityError:
            raise ConflictError("A request with this Idempotency-Key is still running") from None

    async def finish(self, scope: str, key: str, response: StoredResponse) -> None:
        await self._conn.execute(
            update(idempotency_keys)
            .where(self._this(scope, key))
            .values(
                response_status=response.status,
                response_body=response.body,
                response_location=response.location,
            )
        )

    async def release(self, scope: str, key: str) -> None:
        stmt = delete(idempotency_keys).where(
            self._this(scope, key), idempotency_keys.c.response_status.is_(None)
        )
        await self._conn.execute(stmt)
