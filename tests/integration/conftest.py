"""Real databases for adapter tests: a SQLite file per test, a fresh PostgreSQL database per test."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from gatehouse.adapters.memory.queries import InMemorySessionQueries, InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.adapters.sqlalchemy.migrate import upgrade
from gatehouse.adapters.sqlalchemy.queries import SqlAlchemySessionQueries, SqlAlchemyUserQueries
from gatehouse.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from gatehouse.application.ports.sessions import SessionQueries
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.ports.users import UserQueries
from tests.databases import ENGINES, migrated_postgres_url, postgres_database_url


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'gatehouse.db'}"


@asynccontextmanager
async def open_database(engine: str, tmp_path: Path, *, migrated: bool) -> AsyncIterator[Database]:
    """A `Database` over a new SQLite file or PostgreSQL database; engines disposed after."""
    if engine == "sqlite":
        async with _opened(sqlite_url(tmp_path), migrated=migrated) as database:
            yield database
    elif migrated:
        async with migrated_postgres_url() as url, _opened(url, migrated=False) as database:
            yield database
    else:
        async with postgres_database_url() as url, _opened(url, migrated=False) as database:
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
    sessions: SessionQueries | None = None


@pytest.fixture(params=["memory", *ENGINES])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """Every implementation the repository contract tests hold to the same rules."""
    if request.param == "memory":
        memory = InMemoryDatabase()
        yield Backend(
            "memory",
            lambda: InMemoryUnitOfWork(memory),
            InMemoryUserQueries(memory),
            InMemorySessionQueries(memory),
        )
        return
    async with open_database(request.param, tmp_path, migrated=True) as db:
        yield Backend(
            request.param,
            lambda: SqlAlchemyUnitOfWork(db),
            SqlAlchemyUserQueries(db),
            SqlAlchemySessionQueries(db),
        )
