"""The audit trail: events written in a change's own transaction, their read side and their pruning."""

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse.adapters.sqlalchemy.database import Database, unavailable_as_503
from gatehouse.adapters.sqlalchemy.rows import from_row
from gatehouse.adapters.sqlalchemy.tables import audit_events
from gatehouse.application.ports.audit import (
    AuditEvent,
    AuditQueries,
    AuditQuery,
    AuditTrail,
    NewAuditEvent,
    OriginSource,
)
from gatehouse.application.ports.paging import KeysetPage, after_id, keyset_page


class SqlAlchemyAuditTrail(AuditTrail):
    """Stamps each event with the request's origin (client IP, request id)."""

    def __init__(self, conn: AsyncConnection, origin: OriginSource) -> None:
        self._conn = conn
        self._origin = origin

    async def record(self, event: NewAuditEvent) -> None:
        origin = self._origin.current()
        await self._conn.execute(insert(audit_events).values(**event.stored_fields(origin)))


def to_event(row: Any) -> AuditEvent:
    return from_row(AuditEvent, row, details=row.details or {})


class SqlAlchemyAuditQueries(AuditQueries):
    """Newest first by id: ids grow with every insert, so an id cursor never skips or repeats."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def keyset(self, query: AuditQuery) -> KeysetPage[AuditEvent]:
        c = audit_events.c
        stmt = select(audit_events).order_by(c.id.desc()).limit(query.limit + 1)
        if query.after is not None:
            stmt = stmt.where(c.id < query.after.id)
        if query.action is not None:
            stmt = stmt.where(c.action == query.action.value)
        if query.user_id is not None:
            stmt = stmt.where(c.user_id == query.user_id)
        if query.since is not None:
            stmt = stmt.where(c.at >= query.since)
        async with unavailable_as_503(self._db), self._db.read_engine.connect() as conn:
            found = [to_event(r) for r in (await conn.execute(stmt)).all()]
        return keyset_page(found, query.limit, after_id)

    async def prune(self, before: datetime) -> int:
        async with unavailable_as_503(self._db), self._db.write_engine.begin() as conn:
            return (await conn.execute(delete(audit_events).where(audit_events.c.at < before))).rowcount
