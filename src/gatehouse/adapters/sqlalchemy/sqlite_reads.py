"""The hot read path on SQLite: Core statements compiled once, run on raw aiosqlite connections.

Through the async engine every statement costs 5–6 thread hops (connect, execute, fetch,
close, rollback); `execute_fetchall` on a kept-open aiosqlite connection is one. The
statements are still written in Core, so they stay the same SQL as the portable path.
"""

import asyncio
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

import aiosqlite
from sqlalchemy.dialects import sqlite

from gatehouse.adapters.sqlalchemy.database import UNICODE_LOWER, Database, log_slow_query, unicode_lower
from gatehouse.adapters.sqlalchemy.fast_reads import OneHopUserQueries, Statement
from gatehouse.application.errors import ServiceUnavailableError

DIALECT = sqlite.dialect()
SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's SQLite DateTime stores values


def stored_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(SQLITE_FORMAT)


def read_time(text: str) -> datetime:
    """A timestamp as SQLAlchemy's SQLite `DateTime` stores it (naive UTC text), made aware."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class SqliteReadPool:
    """Read-only connections, opened on first use and reused.

    `fetch` runs a statement on an aiosqlite connection: one thread hop. `fetch_point` runs a
    statement of bounded cost (a primary-key or unique-index look-up returning one row) right
    on the event loop: that costs ~10 µs of CPU, less than any hop. In WAL mode a reader never
    waits for a writer; should it meet a lock anyway (a checkpoint), it gives up after
    `INLINE_BUSY_MS` and takes the thread path instead, so the loop is never held longer.
    """

    INLINE_BUSY_MS = 20

    def __init__(self, path: str, size: int, slow_query_ms: float) -> None:
        self._path = path
        self._size = size
        self._slow_s = slow_query_ms / 1000
        self._idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._opened = 0
        self._all: list[aiosqlite.Connection] = []
        self._inline: sqlite3.Connection | None = None

    async def fetch_point(self, statement: Statement, values: dict[str, Any]) -> list[Any]:
        started = time.perf_counter()
        try:
            if self._inline is None:
                self._inline = self._open_inline()
            rows = self._inline.execute(statement.sql, statement.params(values)).fetchall()
        except sqlite3.OperationalError:
            return await self.fetch(statement, values)
        elapsed = time.perf_counter() - started
        if elapsed >= self._slow_s:
            log_slow_query(statement.sql, elapsed)
        return rows

    def _open_inline(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.create_function(UNICODE_LOWER, 1, unicode_lower, deterministic=True)
        conn.execute(f"PRAGMA busy_timeout={self.INLINE_BUSY_MS}")
        conn.execute("PRAGMA query_only=1")
        return conn

    async def fetch(self, statement: Statement, values: dict[str, Any]) -> list[Any]:
        conn = await self._acquire()
        started = time.perf_counter()
        try:
            rows = await conn.execute_fetchall(statement.sql, statement.params(values))
        except sqlite3.OperationalError as exc:
            raise ServiceUnavailableError("The database is busy or unreachable; retry shortly", 2) from exc
        finally:
            self._idle.put_nowait(conn)
        elapsed = time.perf_counter() - started
        if elapsed >= self._slow_s:
            log_slow_query(statement.sql, elapsed)
        return list(rows)

    async def _acquire(self) -> aiosqlite.Connection:
        if self._idle.empty() and self._opened < self._size:
            self._opened += 1
            try:
                conn = await aiosqlite.connect(self._path, isolation_level=None)
            except (sqlite3.Error, OSError) as exc:
                self._opened -= 1
                raise ServiceUnavailableError("The database can't be opened", 2) from exc
            try:
                await conn.create_function(UNICODE_LOWER, 1, unicode_lower, deterministic=True)
                await conn.execute("PRAGMA busy_timeout=5000")
                await conn.execute("PRAGMA query_only=1")
            except (sqlite3.Error, OSError) as exc:
                # Closed now, on this loop: a connection left open would end its thread later,
                # posting to a loop that may be gone.
                await conn.close()
                self._opened -= 1
                raise ServiceUnavailableError("The database can't be opened", 2) from exc
            self._all.append(conn)
            return conn
        return await self._idle.get()

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()
        self._all.clear()
        if self._inline is not None:
            self._inline.close()
            self._inline = None


class SqliteUserQueries(OneHopUserQueries):
    """Look-ups inline on the loop (sqlite3), pages on an aiosqlite thread."""

    def __init__(self, database: Database) -> None:
        super().__init__(database, DIALECT, read_time)
        path = database.url.database or ""
        self._pool = SqliteReadPool(path, database.options.pool_size, database.options.slow_query_ms)
        database.on_dispose(self._pool.close)

    async def fetch_point(self, statement: Statement, values: dict[str, Any]) -> list[Any]:
        return await self._pool.fetch_point(statement, values)

    async def fetch_many(self, statement: Statement, values: dict[str, Any]) -> list[Any]:
        return await self._pool.fetch(statement, values)

    def moment(self, now: datetime) -> Any:
        return stored_time(now)
