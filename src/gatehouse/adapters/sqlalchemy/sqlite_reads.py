"""The hot read path on SQLite: Core statements compiled once, run on raw aiosqlite connections.

Through the async engine every statement costs 5–6 thread hops (connect, execute, fetch,
close, rollback); `execute_fetchall` on a kept-open aiosqlite connection is one. The
statements are still written in Core, so they stay the same SQL as the portable path.
"""

import asyncio
import sqlite3
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect

from gatehouse.adapters.sqlalchemy.database import UNICODE_LOWER, Database, log_slow_query, unicode_lower
from gatehouse.adapters.sqlalchemy.queries import SqlAlchemyUserQueries
from gatehouse.adapters.sqlalchemy.tables import sessions, users
from gatehouse.application.errors import ServiceUnavailableError
from gatehouse.application.ports import Page, UserPageQuery
from gatehouse.domain.user import User
from gatehouse.domain.values import Email, FullName, Role, Username

DIALECT = sqlite.dialect()
SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's SQLite DateTime stores values


class Statement:
    """A Core statement compiled once for one driver, and the order of its parameters."""

    def __init__(self, stmt: Select[Any], dialect: Dialect = DIALECT) -> None:
        compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup or ())

    def params(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(values[name] for name in self.names)


def stored_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(SQLITE_FORMAT)


V = TypeVar("V", Email, Username, FullName)
ROLES = {role.value: role for role in Role}


def stored(kind: type[V], value: str) -> V:
    """A value object read back from our own table: it was validated when it was written, so
    the check is not repeated (50 rows a page × 3 regexes is a fifth of a page's CPU)."""
    obj = object.__new__(kind)
    object.__setattr__(obj, "value", value)
    return obj


def user_from_row(row: Sequence[Any]) -> User:
    """A row of `select(users)` in column order."""
    return User(
        id=row[0],
        email=stored(Email, row[1]),
        username=stored(Username, row[2]),
        full_name=stored(FullName, row[3]) if row[3] is not None else None,
        role=ROLES[row[4]],
        is_active=bool(row[5]),
        password_hash=row[6],
        created_at=datetime.fromisoformat(row[7]).replace(tzinfo=UTC),
        updated_at=datetime.fromisoformat(row[8]).replace(tzinfo=UTC),
        version=row[9],
    )


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
                await conn.create_function(UNICODE_LOWER, 1, unicode_lower, deterministic=True)
                await conn.execute("PRAGMA busy_timeout=5000")
                await conn.execute("PRAGMA query_only=1")
            except (sqlite3.Error, OSError) as exc:
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


GET_USER = select(users).where(users.c.id == bindparam("user_id"))
LOGIN_USER = select(users).where(
    or_(users.c.email == bindparam("ident"), func.lower(users.c.username) == bindparam("ident"))
)
PRINCIPAL = (
    select(users)
    .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
    .where(
        sessions.c.id == bindparam("session_id"),
        sessions.c.user_id == bindparam("user_id"),
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > bindparam("now"),
        users.c.is_active.is_(True),
    )
)
_GET, _LOGIN, _PRINCIPAL = Statement(GET_USER), Statement(LOGIN_USER), Statement(PRINCIPAL)


class SqliteUserQueries(SqlAlchemyUserQueries):
    """The portable queries, with the per-request ones on the one-hop path."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        path = database.url.database or ""
        self._pool = SqliteReadPool(path, database.options.pool_size, database.options.slow_query_ms)
        database.on_dispose(self._pool.close)
        self._pages: dict[tuple[Any, ...], Statement] = {}

    async def get(self, user_id: int) -> User | None:
        rows = await self._pool.fetch_point(_GET, {"user_id": user_id})
        return user_from_row(rows[0]) if rows else None

    async def find_for_login(self, identifier: str) -> User | None:
        rows = await self._pool.fetch_point(_LOGIN, {"ident": identifier})
        return user_from_row(rows[0]) if rows else None

    async def find_principal(self, *, session_id: int, user_id: int, now: datetime) -> User | None:
        values = {"session_id": session_id, "user_id": user_id, "now": stored_time(now)}
        rows = await self._pool.fetch_point(_PRINCIPAL, values)
        return user_from_row(rows[0]) if rows else None

    async def page(self, query: UserPageQuery) -> Page[User]:
        """Items and the total in one statement (`COUNT(*) OVER ()`); a count only past the end."""
        statement = self._page_statement(query)
        values = self.filter_values(query.filter)
        values["limit"], values["offset"] = query.page_size, (query.page - 1) * query.page_size
        rows = await self._pool.fetch(statement, values)
        if rows:
            return Page(items=[user_from_row(r) for r in rows], total=rows[0][-1])
        return await super().page(query)

    def _page_statement(self, query: UserPageQuery) -> Statement:
        shape = page_shape(query)
        if shape not in self._pages:
            self._pages[shape] = Statement(self.page_select(query))
        return self._pages[shape]


def page_shape(query: UserPageQuery) -> tuple[Any, ...]:
    """What decides a page statement's SQL (values aside): one compiled statement per shape."""
    f = query.filter
    return (f.role is not None, f.is_active is not None, bool(f.search), query.sort, query.descending)
