"""Run the Alembic revisions that ship inside the package, and tell whether a schema is current."""

from enum import StrEnum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from gatehouse.adapters.sqlalchemy.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaState(StrEnum):
    MISSING = "missing"
    OUTDATED = "outdated"
    CURRENT = "current"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


async def upgrade(database: Database) -> None:
    """Create or migrate the schema to the newest revision, in one transaction."""
    if database.is_sqlite and database.url.database not in (None, "", ":memory:"):
        Path(database.url.database).parent.mkdir(parents=True, exist_ok=True)

    def run(connection: Connection) -> None:
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with database.write_engine.begin() as conn:
        await conn.run_sync(run)


async def schema_state(database: Database) -> SchemaState:
    """Whether the database exists and carries the newest revision; never creates a file."""
    if database.is_sqlite:
        path = database.url.database
        if not path or path == ":memory:" or not Path(path).exists():  # noqa: ASYNC240 - one stat at start-up
            return SchemaState.MISSING

    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with database.read_engine.connect() as conn:
        revision = await conn.run_sync(current)
    if revision is None:
        return SchemaState.MISSING
    return SchemaState.CURRENT if revision == head_revision() else SchemaState.OUTDATED
