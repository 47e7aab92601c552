"""The hot read path on PostgreSQL: Core statements compiled once, run on raw asyncpg connections.

Through the async engine a statement is a checkout, a prepared execute, a fetch and a
rollback; on the raw connections it is one round trip on a prepared statement.
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
from gatehouse.adapters.sqlalchemy.read_connections import ReadConnections
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
    """The hot reads' own connections beside the engine's pool (`ReadConnections`)."""

    def __init__(self, database: Database) -> None:
        dsn = database.url.set(drivername="postgresql").render_as_string(hide_password=False)
        options = database.options
        self._slow_s = options.slow_query_ms / 1000
        self._database = database
        # The whole look-up (a wait for a connection, opening one, the statement) within the
        # deadline of any database step, so a frozen database is a 503 well within 10 seconds.
        self.connections = ReadConnections(
            dsn,
            size=options.pool_size,
            connect_timeout_s=options.connect_timeout_s,
            command_timeout_s=STATEMENT_DEADLINE_S,
        )

    async def fetch(self, statement: Statement, values: dict[str, Any]) -> list[Any]:
        started = time.perf_counter()
        try:
            rows = await self.connections.fetch(statement.sql, statement.params(values))
        except Exception as exc:
            if not isinstance(exc, UNAVAILABLE) and not is_unavailable(exc):
                raise
            self._database.report_unavailable(exc)
            raise ServiceUnavailableError("The database is busy or unreachable; retry shortly", 2) from exc
        self._database.report_available()
        elapsed = time.perf_counter() - started
        if elapsed >= self._slow_s:
            log_slow_query(statement.sql, elapsed)
        return rows

    async def close(self) -> None:
        await self.connections.close()


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
