"""The hot read path on PostgreSQL: Core statements compiled once, run on a raw asyncpg pool.

Through the async engine a statement is a checkout, a prepared execute, a fetch and a
rollback; on the raw pool it is one round trip on a prepared statement.
"""

import asyncio
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from gatehouse.adapters.sqlalchemy.database import STATEMENT_DEADLINE_S, Database, log_slow_query
from gatehouse.adapters.sqlalchemy.queries import SqlAlchemyUserQueries
from gatehouse.adapters.sqlalchemy.sqlite_reads import (
    GET_USER,
    LOGIN_USER,
    PRINCIPAL,
    Statement,
    page_shape,
    stored,
)
from gatehouse.application.errors import ServiceUnavailableError
from gatehouse.application.ports import Page, UserPageQuery
from gatehouse.domain.user import User
from gatehouse.domain.values import Email, FullName, Role, Username

DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]
ROLES = {role.value: role for role in Role}
_GET, _LOGIN, _PRINCIPAL = (Statement(s, DIALECT) for s in (GET_USER, LOGIN_USER, PRINCIPAL))
UNAVAILABLE = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,  # starting up or shutting down (57P03)
    asyncpg.AdminShutdownError,
)


def user_from_record(row: Sequence[Any]) -> User:
    return User(
        id=row[0],
        email=stored(Email, row[1]),
        username=stored(Username, row[2]),
        full_name=stored(FullName, row[3]) if row[3] is not None else None,
        role=ROLES[row[4]],
        is_active=row[5],
        password_hash=row[6],
        created_at=row[7],
        updated_at=row[8],
        version=row[9],
    )


class AsyncpgReadPool:
    """A small asyncpg pool beside the engine's, created on first use."""

    def __init__(self, database: Database) -> None:
        self._dsn = database.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._size = database.options.pool_size
        self._timeout = database.options.connect_timeout_s
        self._slow_s = database.options.slow_query_ms / 1000
        self._database = database
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def fetch(self, statement: Statement, values: dict[str, Any]) -> list[Any]:
        started = time.perf_counter()
        try:
            pool = await self._get_pool()
            async with asyncio.timeout(STATEMENT_DEADLINE_S):
                rows = await pool.fetch(statement.sql, *statement.params(values), timeout=4)
        except UNAVAILABLE as exc:
            self._database.report_unavailable(exc)
            raise ServiceUnavailableError("The database is busy or unreachable; retry shortly", 2) from exc
        self._database.report_available()
        elapsed = time.perf_counter() - started
        if elapsed >= self._slow_s:
            log_slow_query(statement.sql, elapsed)
        return list(rows)

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self._dsn, min_size=1, max_size=self._size, timeout=self._timeout, command_timeout=4
                    )
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


class PostgresUserQueries(SqlAlchemyUserQueries):
    """The portable queries, with the per-request look-ups on one asyncpg round trip."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self._pool = AsyncpgReadPool(database)
        database.on_dispose(self._pool.close)
        self._pages: dict[tuple[Any, ...], Statement] = {}

    async def get(self, user_id: int) -> User | None:
        rows = await self._pool.fetch(_GET, {"user_id": user_id})
        return user_from_record(rows[0]) if rows else None

    async def find_for_login(self, identifier: str) -> User | None:
        rows = await self._pool.fetch(_LOGIN, {"ident": identifier})
        return user_from_record(rows[0]) if rows else None

    async def find_principal(self, *, session_id: int, user_id: int, now: datetime) -> User | None:
        rows = await self._pool.fetch(_PRINCIPAL, {"session_id": session_id, "user_id": user_id, "now": now})
        return user_from_record(rows[0]) if rows else None

    async def page(self, query: UserPageQuery) -> Page[User]:
        """Items and the total in one round trip (`COUNT(*) OVER ()`); a count only past the end."""
        statement = self._pages.get(page_shape(query))
        if statement is None:
            statement = self._pages[page_shape(query)] = Statement(self.page_select(query), DIALECT)
        values = self.filter_values(query.filter)
        values["limit"], values["offset"] = query.page_size, (query.page - 1) * query.page_size
        rows = await self._pool.fetch(statement, values)
        if rows:
            return Page(items=[user_from_record(r) for r in rows], total=rows[0][-1])
        return await super().page(query)
