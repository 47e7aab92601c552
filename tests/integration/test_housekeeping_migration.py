"""Migration 0004 (the task lease) up from a populated 0003 database and back, on SQLite and PostgreSQL."""

from datetime import timedelta

from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection

from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.adapters.sqlalchemy.housekeeping import SqlAlchemyTaskLease
from gatehouse.adapters.sqlalchemy.migrate import schema_state, upgrade
from gatehouse.adapters.sqlalchemy.tables import users
from gatehouse.application.ports.operations import SchemaState
from tests.integration.builders import T0
from tests.integration.test_migration_0003 import add_user, migrate

HOUR = timedelta(hours=1)


async def tables(database: Database) -> set[str]:
    def look(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names())

    async with database.read_engine.connect() as conn:
        return await conn.run_sync(look)


async def usernames(database: Database) -> list[str]:
    async with database.read_engine.connect() as conn:
        return list((await conn.execute(select(users.c.username).order_by(users.c.id))).scalars())


async def test_0004_adds_the_lease_table_and_keeps_the_rows(empty_database: Database) -> None:
    await migrate(empty_database, "upgrade", "0003")
    await add_user(empty_database, "ada")
    assert "task_leases" not in await tables(empty_database)
    assert await schema_state(empty_database) is SchemaState.OUTDATED

    await upgrade(empty_database)

    assert await schema_state(empty_database) is SchemaState.CURRENT
    assert "task_leases" in await tables(empty_database)
    assert await usernames(empty_database) == ["ada"]
    lease = SqlAlchemyTaskLease(empty_database)
    assert await lease.acquire("housekeeping", holder="a", now=T0, until=T0 + HOUR) is True
    assert await lease.acquire("housekeeping", holder="b", now=T0, until=T0 + HOUR) is False


async def test_0004_downgrades_to_0003_and_upgrades_again(empty_database: Database) -> None:
    await migrate(empty_database, "upgrade", "0003")
    await add_user(empty_database, "ada")
    await upgrade(empty_database)
    await SqlAlchemyTaskLease(empty_database).acquire("housekeeping", holder="a", now=T0, until=T0 + HOUR)

    await migrate(empty_database, "downgrade", "0003")

    found = await tables(empty_database)
    assert "task_leases" not in found
    assert {"users", "sessions", "account_tokens", "mail_outbox"} <= found
    assert await usernames(empty_database) == ["ada"]
    assert await schema_state(empty_database) is SchemaState.OUTDATED

    await upgrade(empty_database)

    assert await schema_state(empty_database) is SchemaState.CURRENT
    # The table comes back empty: the lease held before the downgrade is gone with it.
    assert await SqlAlchemyTaskLease(empty_database).acquire(
        "housekeeping", holder="b", now=T0, until=T0 + HOUR
    )
