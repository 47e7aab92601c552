"""SQLite's durability settings, write locking, and the migrations on both engines."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.adapters.sqlalchemy.migrate import schema_state, upgrade
from gatehouse.adapters.sqlalchemy.queries import SqlAlchemyUserQueries
from gatehouse.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from gatehouse.application.ports.operations import SchemaState
from tests.integration.builders import new_user
from tests.integration.conftest import open_database


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    async with open_database("sqlite", tmp_path, migrated=True) as db:
        yield db


def _engines(db: Database) -> dict[str, AsyncEngine]:
    return {"write": db.write_engine, "read": db.read_engine}


async def _pragma(engine: AsyncEngine, name: str) -> object:
    async with engine.connect() as conn:
        return (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one()


@pytest.mark.parametrize("engine", ["write", "read"])
async def test_every_sqlite_connection_is_wal_full_sync_with_foreign_keys_and_busy_timeout(
    sqlite_db: Database, engine: str
) -> None:
    chosen = _engines(sqlite_db)[engine]

    assert await _pragma(chosen, "journal_mode") == "wal"
    assert await _pragma(chosen, "synchronous") == 2
    assert await _pragma(chosen, "foreign_keys") == 1
    busy_timeout = await _pragma(chosen, "busy_timeout")
    assert isinstance(busy_timeout, int)
    assert busy_timeout > 0


async def test_the_two_sqlite_engines_are_distinct(sqlite_db: Database) -> None:
    # Reads need their own deferred engine so they never queue behind the write lock.
    assert sqlite_db.read_engine is not sqlite_db.write_engine


async def test_a_unit_of_work_takes_the_write_lock_when_it_begins(sqlite_db: Database) -> None:
    path = sqlite_db.url.database
    assert path is not None
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        async with SqlAlchemyUnitOfWork(sqlite_db):
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again once the unit of work has ended
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_a_second_unit_of_work_waits_for_the_first_instead_of_failing(sqlite_db: Database) -> None:
    events: list[str] = []

    async def second() -> None:
        async with SqlAlchemyUnitOfWork(sqlite_db) as uow:
            events.append("second began")
            await uow.users.add(new_user("bob"))
            await uow.commit()

    async with SqlAlchemyUnitOfWork(sqlite_db) as first:
        await first.users.add(new_user("ada"))
        waiting = asyncio.create_task(second())
        # Bounded: long enough for a deferred BEGIN to have returned many times over.
        done, _ = await asyncio.wait({waiting}, timeout=0.3)
        assert not done
        events.append("first committing")
        await first.commit()
    await asyncio.wait_for(waiting, timeout=10)

    assert events == ["first committing", "second began"]
    queries = SqlAlchemyUserQueries(sqlite_db)
    assert await queries.find_for_login("ada") is not None
    assert await queries.find_for_login("bob") is not None


async def test_reads_do_not_wait_for_an_open_write_transaction(sqlite_db: Database) -> None:
    async with SqlAlchemyUnitOfWork(sqlite_db) as uow:
        await uow.users.add(new_user("ada"))
        await uow.commit()
    queries = SqlAlchemyUserQueries(sqlite_db)

    async with SqlAlchemyUnitOfWork(sqlite_db) as writer:
        await writer.users.add(new_user("bob"))
        found = await asyncio.wait_for(queries.find_for_login("ada"), timeout=2)
        unseen = await asyncio.wait_for(queries.find_for_login("bob"), timeout=2)

    assert found is not None
    assert unseen is None  # the uncommitted row is invisible to the read engine


async def test_checking_a_missing_sqlite_database_creates_no_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "gatehouse.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        assert await schema_state(database) is SchemaState.MISSING
        assert not path.exists()
        assert not path.parent.exists()
    finally:
        await database.dispose()


async def test_schema_is_missing_before_upgrade_and_current_after(empty_database: Database) -> None:
    assert await schema_state(empty_database) is SchemaState.MISSING

    await upgrade(empty_database)

    assert await schema_state(empty_database) is SchemaState.CURRENT


async def test_upgrade_is_idempotent_and_keeps_the_data(database: Database) -> None:
    async with SqlAlchemyUnitOfWork(database) as uow:
        ada = await uow.users.add(new_user("ada"))
        await uow.commit()

    await upgrade(database)

    assert await schema_state(database) is SchemaState.CURRENT
    assert await SqlAlchemyUserQueries(database).get(ada.id) == ada


async def test_schema_at_an_older_revision_is_outdated(database: Database) -> None:
    async with database.write_engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0003'"))

    assert await schema_state(database) is SchemaState.OUTDATED


async def test_schema_at_a_revision_this_release_does_not_ship_is_newer(database: Database) -> None:
    async with database.write_engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))

    assert await schema_state(database) is SchemaState.NEWER
