"""The hot read path on PostgreSQL: Core statements compiled once, run on a raw asyncpg pool.

Through the async engine a statement is a checkout, a prepared execute, a fetch and a
rollback; on the raw pool it is one round trip on a prepared statement.
"""

import asyncio
import time
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from gatehouse.adapters.sqlalchemy.database import (
    STATEMENT_DEADLINE_S,
    Database,
    is_unavailable,
    log_slow_query,
)
from gatehouse.adapters.sqlalchemy.fast_reads import OneHopUserQueries, Statement
from gatehouse.application.errors import ServiceUnavailableError

DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]
UNAVAILABLE = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,  # starting up or shutting down (57P03)
    asyncpg.AdminShutdownError,
    asyncpg.InternalClientError,  # a connection left mid-protocol when the server went away
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
        except Exception as exc:
            if not isinstance(exc, UNAVAILABLE) and not is_unavailable(exc):
                raise
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


class PostgresUserQueries(OneHopUserQueries):
    """Every look-up on one asyncpg round trip."""

    def __init__(self, database: Database) -> None:
        super().__init__(database, DIALECT)
        self._pool = AsyncpgReadPool(database)
        database.on_dispose(self._pool.close)

    async def fetch_point(self, statement: Statement, values: dict[str, Any]) -> list[Any]:
        return await self._pool.fetch(statement, values)

    async def fetch_many(self, statement: Statement, values: dict[str, Any]) -> list[Any]:
        return await self._pool.fetch(statement, values)
