"""The read side of orders: one statement per look-up on the read engine."""

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select

from gatehouse.adapters.sqlalchemy.database import Database, unavailable_as_503
from gatehouse.adapters.sqlalchemy.order_repositories import to_order
from gatehouse.adapters.sqlalchemy.tables import orders
from gatehouse.application.ports.orders import OrderFilter, OrderKeysetQuery, OrderPageQuery, OrderQueries
from gatehouse.application.ports.paging import KeysetPage, Page, after_id, keyset_page
from gatehouse.domain.order import Order


def _where(f: OrderFilter) -> ColumnElement[bool]:
    clause = orders.c.user_id == f.user_id
    if f.status is not None:
        clause = and_(clause, orders.c.status == f.status.value)
    return clause


class SqlAlchemyOrderQueries(OrderQueries):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, order_id: int) -> Order | None:
        rows = await self._fetch(select(orders).where(orders.c.id == order_id))
        return to_order(rows[0]) if rows else None

    async def page(self, query: OrderPageQuery) -> Page[Order]:
        clause = _where(query.filter)
        total_stmt = select(func.count()).select_from(orders).where(clause)
        offset = (query.page - 1) * query.page_size
        items_stmt = select(orders).where(clause).order_by(orders.c.id).limit(query.page_size).offset(offset)
        async with unavailable_as_503(self._db), self._db.read_engine.connect() as conn:
            total = (await conn.execute(total_stmt)).scalar_one()
            rows = (await conn.execute(items_stmt)).all() if total else []
        return Page([to_order(r) for r in rows], total)

    async def keyset(self, query: OrderKeysetQuery) -> KeysetPage[Order]:
        clause, after, limit = _where(query.filter), query.after, query.limit
        if after is not None:
            clause = and_(clause, orders.c.id > after.id)
        rows = await self._fetch(select(orders).where(clause).order_by(orders.c.id).limit(limit + 1))
        return keyset_page([to_order(r) for r in rows], limit, after_id)

    async def _fetch(self, stmt: Select[Any]) -> list[Any]:
        async with unavailable_as_503(self._db), self._db.read_engine.connect() as conn:
            return list((await conn.execute(stmt)).all())
