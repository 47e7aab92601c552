"""Housekeeping's ports on memory, SQLite and PostgreSQL, for contract tests that run on each alike."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from gatehouse.adapters.memory.housekeeping import InMemoryHousekeeping, InMemoryTaskLease
from gatehouse.adapters.memory.mail_outbox import InMemoryMailQueue
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.adapters.sqlalchemy.housekeeping import SqlAlchemyHousekeeping, SqlAlchemyTaskLease
from gatehouse.adapters.sqlalchemy.mail_outbox import SqlAlchemyMailQueue
from gatehouse.adapters.sqlalchemy.tables import account_tokens, mail_outbox, metadata
from gatehouse.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from gatehouse.application.ports.housekeeping import Housekeeping, TaskLease
from gatehouse.application.ports.mail import MailQueue
from tests.housekeeping_builders import NewUow, fingerprint
from tests.integration.conftest import open_database

# Table names as the SQL schema has them; the in-memory state's attribute for each.
MEMORY_TABLES = {
    "sessions": "sessions",
    "refresh_tokens": "refresh_tokens",
    "account_tokens": "account_tokens",
    "idempotency_keys": "idempotency",
    "mail_outbox": "mails",
    "mfa_challenges": "mfa_challenges",
    "api_tokens": "api_tokens",
}


@dataclass(frozen=True)
class Store:
    """One backend: units of work to plant rows, housekeeping and the lease, and a look past the ports."""

    name: str
    new_uow: NewUow
    rows: Housekeeping
    lease: TaskLease
    queue: MailQueue
    # A lease over the same data through other connections (on SQL, a second `Database`).
    other_lease: Callable[[], AbstractAsyncContextManager[TaskLease]]
    count: Callable[[str], Awaitable[int]]  # rows stored in a table
    mail_status: Callable[[str], Awaitable[str | None]]  # by subject; None when gone
    token_stored: Callable[[str], Awaitable[bool]]  # by name, spent or not


@asynccontextmanager
async def open_store(kind: str, tmp_path: Path) -> AsyncIterator[Store]:
    if kind == "memory":
        yield _memory_store()
        return
    async with open_database(kind, tmp_path, migrated=True) as db:
        yield _sql_store(kind, db)


def _memory_store() -> Store:
    memory = InMemoryDatabase()

    @asynccontextmanager
    async def other_lease() -> AsyncIterator[TaskLease]:
        yield InMemoryTaskLease(memory)

    async def count(table: str) -> int:
        return len(getattr(memory.state, MEMORY_TABLES[table]))

    async def mail_status(subject: str) -> str | None:
        return next((m.status for m in memory.state.mails.values() if m.subject == subject), None)

    async def token_stored(name: str) -> bool:
        return fingerprint(name) in memory.state.account_tokens

    return Store(
        "memory",
        lambda: InMemoryUnitOfWork(memory),
        InMemoryHousekeeping(memory),
        InMemoryTaskLease(memory),
        InMemoryMailQueue(memory),
        other_lease,
        count,
        mail_status,
        token_stored,
    )


def _sql_store(kind: str, db: Database) -> Store:
    @asynccontextmanager
    async def other_lease() -> AsyncIterator[TaskLease]:
        other = Database(db.url.render_as_string(hide_password=False))
        try:
            yield SqlAlchemyTaskLease(other)
        finally:
            await other.dispose()

    async def count(table: str) -> int:
        async with db.read_engine.connect() as conn:
            stmt = select(func.count()).select_from(metadata.tables[table])
            return int((await conn.execute(stmt)).scalar_one())

    async def mail_status(subject: str) -> str | None:
        stmt = select(mail_outbox.c.status).where(mail_outbox.c.subject == subject)
        async with db.read_engine.connect() as conn:
            return (await conn.execute(stmt)).scalar_one_or_none()

    async def token_stored(name: str) -> bool:
        stmt = select(account_tokens.c.id).where(account_tokens.c.fingerprint == fingerprint(name))
        async with db.read_engine.connect() as conn:
            return (await conn.execute(stmt)).first() is not None

    return Store(
        kind,
        lambda: SqlAlchemyUnitOfWork(db),
        SqlAlchemyHousekeeping(db),
        SqlAlchemyTaskLease(db),
        SqlAlchemyMailQueue(db),
        other_lease,
        count,
        mail_status,
        token_stored,
    )
