"""Engines for one database URL: SQLite tuned for durability, or a PostgreSQL pool."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gatehouse.application.errors import ServiceUnavailableError

log = logging.getLogger("gatehouse.db")
SQLITE_BUSY_TIMEOUT_MS = 4000
# Any one database step (a read, or a whole unit of work) gives up after this long, so a request
# that meets a frozen or unreachable database answers 503 well within 10 seconds.
STATEMENT_DEADLINE_S = 4.5
# SQLite's lower() folds ASCII only; searches call this one so "ÅDÅ" finds "ådå" as on PostgreSQL.
UNICODE_LOWER = "unicode_lower"
PROBE_TIMEOUT_S = 2.0


def unicode_lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class DatabaseOptions:
    pool_size: int = 10
    slow_query_ms: float = 200.0
    connect_timeout_s: float = 3.0


def asyncpg_connect_args(url: URL) -> tuple[URL, dict[str, Any]]:
    """libpq's `sslmode` (the read pool's asyncpg DSN parser takes it) becomes the `ssl` keyword
    of asyncpg's connect(), which takes the same modes; SQLAlchemy would pass `sslmode` as is."""
    sslmode = url.query.get("sslmode")
    if url.get_driver_name() != "asyncpg" or not isinstance(sslmode, str):
        return url, {}
    return url.difference_update_query(["sslmode"]), {"ssl": sslmode}


class Database:
    """Owns the engines. On SQLite, writes begin with `BEGIN IMMEDIATE` on their own engine
    so a read-then-write transaction never fails with SQLITE_BUSY midway; reads use a
    second engine with deferred transactions so they never wait for the write lock."""

    def __init__(self, url: str, options: DatabaseOptions | None = None) -> None:
        self.options = options or DatabaseOptions()
        self.url: URL = make_url(url)
        self.dialect = self.url.get_dialect().name
        self._on_dispose: list[Callable[[], Awaitable[None]]] = []
        self._down = False
        if self.is_sqlite:
            self.write_engine = self._sqlite_engine(begin="BEGIN IMMEDIATE")
            self.read_engine = self._sqlite_engine(begin="BEGIN")
        else:
            engine_url, connect_args = asyncpg_connect_args(self.url)
            self.write_engine = self.read_engine = create_async_engine(
                engine_url,
                pool_size=self.options.pool_size,
                max_overflow=self.options.pool_size,
                pool_pre_ping=True,
                hide_parameters=True,  # error texts never quote a statement's parameters
                pool_timeout=self.options.connect_timeout_s,
                connect_args={
                    "timeout": self.options.connect_timeout_s,
                    "command_timeout": 4,
                    **connect_args,
                },
            )
            self._watch_slow_queries(self.write_engine)

    def report_unavailable(self, exc: BaseException) -> None:
        """One `dependency_down` line per outage, however many requests meet it."""
        if not self._down:
            self._down = True
            log.error(
                "dependency_down",
                extra={"event": "dependency_down", "dependency": "database", "error": type(exc).__name__},
            )

    def report_available(self) -> None:
        if self._down:
            self._down = False
            log.warning("dependency_up", extra={"event": "dependency_up", "dependency": "database"})

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    async def answers(self) -> bool:
        """The readiness probe's question: does a `SELECT 1` come back within a couple of seconds?"""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S), self.read_engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # any failure means "not ready"; the reason goes to the logs elsewhere
            return False
        return True

    def on_dispose(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run `callback` when the engines are disposed (for resources built beside them)."""
        self._on_dispose.append(callback)

    async def dispose(self) -> None:
        for callback in self._on_dispose:
            await callback()
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()

    def _sqlite_engine(self, *, begin: str) -> AsyncEngine:
        engine = create_async_engine(
            self.url,
            pool_size=self.options.pool_size,
            max_overflow=0,
            pool_timeout=self.options.connect_timeout_s,
            hide_parameters=True,  # error texts never quote a statement's parameters
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take over transaction control from the driver, so that `begin` below decides.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in (
                "journal_mode=WAL",
                "synchronous=FULL",
                "foreign_keys=ON",
                f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            ):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()
            dbapi_connection.create_function(UNICODE_LOWER, 1, unicode_lower, deterministic=True)

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Connection) -> None:
            connection.exec_driver_sql(begin)

        self._watch_slow_queries(engine)
        return engine

    def _watch_slow_queries(self, engine: AsyncEngine) -> None:
        threshold = self.options.slow_query_ms / 1000

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _start(conn: Connection, _c: Any, _s: str, _p: Any, _ctx: Any, _many: bool) -> None:
            conn.info.setdefault("query_started", []).append(time.perf_counter())

        @event.listens_for(engine.sync_engine, "after_cursor_execute")
        def _end(conn: Connection, _c: Any, statement: str, _p: Any, _ctx: Any, _many: bool) -> None:
            elapsed = time.perf_counter() - conn.info["query_started"].pop()
            if elapsed >= threshold:
                log_slow_query(statement, elapsed)


def log_slow_query(statement: str, elapsed_s: float) -> None:
    """One `slow_query` line: the SQL text and its duration, never its parameters."""
    log.warning(
        "slow_query",
        extra={"event": "slow_query", "duration_ms": round(elapsed_s * 1000, 2), "sql": statement},
    )


# SQLSTATE classes that say "not now" rather than "wrong SQL": connection exceptions (08),
# insufficient resources (53), operator intervention such as shutting down or starting up (57),
# and transaction rollbacks — serialization failures and deadlocks (40).
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "40", "53", "57")
# asyncpg's own "the connection is gone or unusable" errors, which carry no SQLSTATE.
DRIVER_CONNECTION_ERRORS = (
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
)


def sqlstate(exc: BaseException) -> str | None:
    for candidate in (
        exc,
        getattr(exc, "orig", None),
        getattr(getattr(exc, "orig", None), "__cause__", None),
    ):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def is_unavailable(exc: BaseException) -> bool:
    """True for errors that mean the database is busy or out of reach, not that the SQL is wrong."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    code = sqlstate(exc)
    if code is not None and code.startswith(UNAVAILABLE_SQLSTATE_CLASSES):
        return True
    cause = getattr(exc, "orig", None) or exc.__cause__
    cause = getattr(cause, "__cause__", None) or cause
    if isinstance(cause, DRIVER_CONNECTION_ERRORS):
        return True
    return isinstance(exc, OSError | TimeoutError | ConnectionError)


@asynccontextmanager
async def unavailable_as_503(database: Database | None = None) -> AsyncIterator[None]:
    """Turn a busy or unreachable database into `ServiceUnavailableError` (503 + Retry-After)."""
    try:
        async with asyncio.timeout(STATEMENT_DEADLINE_S):
            yield
    except Exception as exc:
        if is_unavailable(exc):
            if database is not None:
                database.report_unavailable(exc)
            raise ServiceUnavailableError("The database is busy or unreachable; retry shortly", 2) from exc
        raise
    if database is not None:
        database.report_available()
