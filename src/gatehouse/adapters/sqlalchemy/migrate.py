"""Run the Alembic revisions that ship inside the package, and tell whether a schema is current."""

import socket
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError as AlembicError
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.application.errors import ApplicationError, ServiceUnavailableError
from gatehouse.application.ports.operations import Schema, SchemaState, Upgrade

MIGRATIONS = Path(__file__).with_name("migrations")


class UnknownRevisionError(ApplicationError):
    """The database carries a revision this release does not ship (a newer release migrated it)."""


class AlembicSchema(Schema):
    """The schema port over one database, with the revisions packaged beside this module."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def describe(self) -> str:
        return _shown(self._database)

    async def state(self) -> SchemaState:
        return await schema_state(self._database)

    async def upgrade(self) -> Upgrade:
        return await upgrade(self._database)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


async def upgrade(database: Database) -> Upgrade:
    """Create or migrate the schema to the newest revision, in one transaction.

    A SQLite file is created, but never its folder: a folder that does not exist is more likely
    a typo in the path than a wish for a new tree. That, and a database that can't be opened,
    is a `ServiceUnavailableError` whose message says why in one line."""
    folder = _sqlite_folder(database)
    if folder is not None and not folder.is_dir():
        raise ServiceUnavailableError(
            f"cannot create the database {_shown(database)}: the folder {folder} does not exist"
        )
    before = await _revision(database)
    if before is not None and not _known(before):
        raise UnknownRevisionError(
            f"the database {_shown(database)} is at revision {before}, which this release does not "
            f"know (its newest is {head_revision()}): a newer Gatehouse migrated it; run that release"
        )

    def run(connection: Connection) -> None:
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with database.write_engine.begin() as conn:
        await conn.run_sync(run)
    return Upgrade(before=before, after=head_revision())


async def schema_state(database: Database) -> SchemaState:
    """Whether the database exists and carries the newest revision; never creates a file."""
    if database.is_sqlite:
        path = database.url.database
        if not path or path == ":memory:" or not Path(path).exists():  # noqa: ASYNC240 - one stat at start-up
            return SchemaState.MISSING

    revision = await _revision(database)
    if revision is None:
        return SchemaState.MISSING
    if revision == head_revision():
        return SchemaState.CURRENT
    return SchemaState.OUTDATED if _known(revision) else SchemaState.NEWER


def _known(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except AlembicError:
        return False


def _sqlite_folder(database: Database) -> Path | None:
    path = database.url.database if database.is_sqlite else None
    return Path(path).parent if path and path != ":memory:" else None


def _shown(database: Database) -> str:
    return database.url.render_as_string(hide_password=True)


async def _revision(database: Database) -> str | None:
    """The schema's revision (None: no schema); a database that can't be opened (down, refused,
    unknown host, bad login, no such database, unreadable file) is a `ServiceUnavailableError`
    with a short reason. Only a connection and one read of `alembic_version` happen here, so
    every error is about reaching the database, never a statement's fault."""

    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    try:
        async with database.read_engine.connect() as conn:
            return await conn.run_sync(current)
    except (SQLAlchemyError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise ServiceUnavailableError(f"cannot open the database {_shown(database)}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    """Short and safe: the driver's own words about the connection, never a statement's parameters."""
    cause: BaseException = getattr(exc, "orig", None) or exc
    while cause.__cause__ is not None and not isinstance(cause, OSError | asyncpg.PostgresError):
        cause = cause.__cause__
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, socket.gaierror):
        return "host name not found"
    if isinstance(cause, TimeoutError):
        return "no answer in time"
    text = " ".join(str(cause).split())[:200]
    return f"{text} ({type(cause).__name__})" if text else type(cause).__name__
