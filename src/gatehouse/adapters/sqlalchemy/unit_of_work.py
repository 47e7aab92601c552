"""A unit of work: one write transaction on one connection."""

from types import TracebackType
from typing import Self

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse.adapters.sqlalchemy.account_tokens import SqlAlchemyAccountTokenRepository
from gatehouse.adapters.sqlalchemy.api_tokens import SqlAlchemyApiTokenRepository
from gatehouse.adapters.sqlalchemy.audit_trail import SqlAlchemyAuditTrail
from gatehouse.adapters.sqlalchemy.database import Database, is_unavailable, unavailable_as_503
from gatehouse.adapters.sqlalchemy.mail_outbox import SqlAlchemyMailOutbox
from gatehouse.adapters.sqlalchemy.mfa import SqlAlchemyMfaRepository
from gatehouse.adapters.sqlalchemy.order_repositories import (
    SqlAlchemyIdempotencyRepository,
    SqlAlchemyOrderRepository,
)
from gatehouse.adapters.sqlalchemy.repositories import (
    SqlAlchemySessionRepository,
    SqlAlchemyUserRepository,
)
from gatehouse.application.errors import ConflictError, ServiceUnavailableError
from gatehouse.application.ports.audit import Origin, OriginSource
from gatehouse.application.ports.unit_of_work import UnitOfWork


class NoOrigin(OriginSource):
    def current(self) -> Origin:
        return Origin()


class SqlAlchemyUnitOfWork(UnitOfWork):
    """Begins on enter (IMMEDIATE on SQLite); rolls back on exit unless committed."""

    def __init__(self, database: Database, origin: OriginSource | None = None) -> None:
        self._db = database
        self._origin = origin or NoOrigin()
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        async with unavailable_as_503(self._db):
            conn = await self._db.write_engine.connect()
            try:
                await conn.begin()
            except BaseException:
                await conn.close()
                raise
        self._conn = conn
        self.users = SqlAlchemyUserRepository(conn)
        self.sessions = SqlAlchemySessionRepository(conn)
        self.orders = SqlAlchemyOrderRepository(conn)
        self.idempotency = SqlAlchemyIdempotencyRepository(conn)
        self.audit = SqlAlchemyAuditTrail(conn, self._origin)
        self.outbox = SqlAlchemyMailOutbox(conn)
        self.account_tokens = SqlAlchemyAccountTokenRepository(conn)
        self.mfa = SqlAlchemyMfaRepository(conn)
        self.api_tokens = SqlAlchemyApiTokenRepository(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                if conn.in_transaction():
                    await conn.rollback()
                await conn.close()
            except Exception as cleanup_error:
                # A dead connection can't roll back; the pool discards it. Report the first error.
                if exc is None:
                    raise ServiceUnavailableError("The database is unreachable", 2) from cleanup_error
        if isinstance(exc, IntegrityError):
            # A constraint the repository did not translate itself (e.g. a foreign key to a row a
            # concurrent request just deleted): the request lost a race, it is not a server error.
            raise ConflictError("The request conflicts with a concurrent change; retry it") from exc
        if exc is not None and not isinstance(exc, ServiceUnavailableError) and is_unavailable(exc):
            self._db.report_unavailable(exc)
            raise ServiceUnavailableError("The database is busy or unreachable; retry shortly", 2) from exc

    async def commit(self) -> None:
        if self._conn is None:
            raise RuntimeError("commit() outside the unit of work")
        async with unavailable_as_503(self._db):
            await self._conn.commit()
