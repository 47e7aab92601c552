"""Real databases for adapter tests: a SQLite file per test, a fresh PostgreSQL database per test."""

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.adapters.sqlalchemy.migrate import upgrade
from gatehouse.adapters.sqlalchemy.queries import SqlAlchemyUserQueries
from gatehouse.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from gatehouse.application.ports import UnitOfWork, UserQueries

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
ENGINES = ["sqlite", "postgres"]
_unreachable: list[str] = []  # the reason PostgreSQL did not answer, remembered for the session


def postgres_server_url() -> URL:
    """The server named by GATEHOUSE_TEST_POSTGRES_URL (or the local default)."""
    url = make_url(os.environ.get("GATEHOUSE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL)
    return url.set(drivername="postgresql+asyncpg")


def _unreachable_server(url: URL, error: BaseException | None) -> NoReturn:
    """Skip the PostgreSQL parametrizations, or fail them on CI where a server is promised."""
    if error is not None:
        _unreachable.append(f"{type(error).__name__}: {error}".splitlines()[0])
    reason = f"PostgreSQL not reachable at {url.render_as_string()} ({_unreachable[0]})"
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@asynccontextmanager
async def _server_connection() -> AsyncIterator[AsyncConnection]:
    """An AUTOCOMMIT connection to the server's `postgres` database, for CREATE/DROP DATABASE."""
    url = postgres_server_url().set(database="postgres")
    if _unreachable:
        _unreachable_server(url, None)
    engine = create_async_engine(
        url, isolation_level="AUTOCOMMIT", poolclass=NullPool, connect_args={"timeout": 3}
    )
    try:
        try:
            conn = await engine.connect()
        except (OSError, TimeoutError, SQLAlchemyError) as exc:
            _unreachable_server(url, exc)
        try:
            yield conn
        finally:
            await conn.close()
    finally:
        await engine.dispose()


async def _create_database(server: AsyncConnection, name: str) -> None:
    # A linguistic default collation (ICU en-US) where the server has it, so the tests prove
    # that the adapter's ordering does not depend on the database's collation.
    try:
        await server.exec_driver_sql(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        )
    except DBAPIError:
        await server.exec_driver_sql(f'CREATE DATABASE "{name}"')


@asynccontextmanager
async def postgres_database_url() -> AsyncIterator[str]:
    """A fresh, empty database `gh_test_<hex>` on the server, dropped afterwards."""
    name = f"gh_test_{uuid.uuid4().hex}"
    async with _server_connection() as server:
        await _create_database(server, name)
        try:
            yield postgres_server_url().set(database=name).render_as_string(hide_password=False)
        finally:
            await server.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'gatehouse.db'}"


@asynccontextmanager
async def open_database(engine: str, tmp_path: Path, *, migrated: bool) -> AsyncIterator[Database]:
    """A `Database` over a new SQLite file or PostgreSQL database; engines disposed after."""
    if engine == "sqlite":
        async with _opened(sqlite_url(tmp_path), migrated=migrated) as database:
            yield database
    else:
        async with postgres_database_url() as url, _opened(url, migrated=migrated) as database:
            yield database


@asynccontextmanager
async def _opened(url: str, *, migrated: bool) -> AsyncIterator[Database]:
    database = Database(url)
    try:
        if migrated:
            await upgrade(database)
        yield database
    finally:
        await database.dispose()


@pytest.fixture(params=ENGINES)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database on each engine."""
    async with open_database(request.param, tmp_path, migrated=True) as db:
        yield db


@pytest.fixture(params=ENGINES)
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database on each engine that no migration has touched."""
    async with open_database(request.param, tmp_path, migrated=False) as db:
        yield db


@dataclass(frozen=True)
class Backend:
    """One implementation of the persistence ports: units of work and the read side."""

    name: str
    new_uow: Callable[[], UnitOfWork]
    queries: UserQueries


@pytest.fixture(params=["memory", *ENGINES])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """Every implementation the repository contract tests hold to the same rules."""
    if request.param == "memory":
        memory = InMemoryDatabase()
        yield Backend("memory", lambda: InMemoryUnitOfWork(memory), InMemoryUserQueries(memory))
        return
    async with open_database(request.param, tmp_path, migrated=True) as db:
        yield Backend(request.param, lambda: SqlAlchemyUnitOfWork(db), SqlAlchemyUserQueries(db))
