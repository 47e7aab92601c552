"""PostgreSQL for the tests: the server named by GATEHOUSE_TEST_POSTGRES_URL, else the local one.

Every test gets a database of its own, created fresh and dropped after. When no server answers,
PostgreSQL parametrizations are skipped with the reason — or fail when CI=true.
"""

import asyncio
import atexit
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NoReturn

import pytest
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.adapters.sqlalchemy.migrate import head_revision, upgrade

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
ENGINES = ["sqlite", "postgres"]
_unreachable: list[str] = []  # the reason PostgreSQL did not answer, remembered for the session


def _loopback_answers(port: int = 5432) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


_throwaway: list[str] = []


def postgres_server_url() -> URL:
    """In order: GATEHOUSE_TEST_POSTGRES_URL; a server on loopback's standard port; else a
    throwaway cluster started from Debian's binaries (installed when missing and we are root)."""
    configured = os.environ.get("GATEHOUSE_TEST_POSTGRES_URL")
    if configured:
        return make_url(configured).set(drivername="postgresql+asyncpg")
    if _throwaway or not _loopback_answers():
        if not _throwaway:
            from tests.servers import ThrowawayPostgres  # only when needed: it may install packages

            server = ThrowawayPostgres()
            server.start()
            atexit.register(server.remove)
            _throwaway.append(server.url)
        return make_url(_throwaway[0])
    return make_url(DEFAULT_POSTGRES_URL)


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


_run_database: dict[str, str] = {}
TABLES = (
    "idempotency_keys",
    "orders",
    "refresh_tokens",
    "sessions",
    "users",
    "account_tokens",
    "mail_outbox",
    "audit_events",
    "task_leases",
)


async def _make_migrated(name: str) -> None:
    async with _server_connection() as server:
        await _create_database(server, name)
    database = Database(postgres_server_url().set(database=name).render_as_string(hide_password=False))
    try:
        await upgrade(database)
    finally:
        await database.dispose()


def _drop(name: str) -> None:
    async def drop() -> None:
        async with _server_connection() as server:
            await server.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    with contextlib.suppress(Exception):  # best effort at interpreter exit
        asyncio.run(drop())


@asynccontextmanager
async def migrated_postgres_url() -> AsyncIterator[str]:
    """This run's own migrated database, emptied before each test (TRUNCATE … RESTART IDENTITY).

    One database per run (dropped when the run ends) rather than one per test: creating and
    dropping a database costs ~0.5 s, emptying five tables a few milliseconds.
    """
    if "name" not in _run_database:
        name = f"gh_run_{uuid.uuid4().hex[:12]}"
        await _make_migrated(name)
        _run_database["name"] = name
        atexit.register(_drop, name)
    url = postgres_server_url().set(database=_run_database["name"])
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
            # A test may have moved the recorded revision (to show an outdated schema): put it back.
            await conn.exec_driver_sql("UPDATE alembic_version SET version_num = $1", (head_revision(),))
    finally:
        await engine.dispose()
    yield url.render_as_string(hide_password=False)
