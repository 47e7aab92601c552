"""What a change writes beside itself (mails in the outbox, one-time account tokens, audit events)
on memory, SQLite and PostgreSQL, for the contract tests that hold each alike."""

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from gatehouse.adapters.memory.audit_trail import InMemoryAuditQueries
from gatehouse.adapters.memory.mail_outbox import InMemoryMailQueue
from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.adapters.sqlalchemy.audit_trail import SqlAlchemyAuditQueries
from gatehouse.adapters.sqlalchemy.database import Database
from gatehouse.adapters.sqlalchemy.mail_outbox import SqlAlchemyMailQueue
from gatehouse.adapters.sqlalchemy.queries import SqlAlchemyUserQueries
from gatehouse.adapters.sqlalchemy.tables import account_tokens, mail_outbox
from gatehouse.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from gatehouse.application.ports.audit import AuditQueries, OriginSource
from gatehouse.application.ports.mail import MailQueue
from gatehouse.application.ports.unit_of_work import UnitOfWork
from tests.databases import ENGINES
from tests.integration.conftest import Backend, open_database

ALL_BACKENDS = ["memory", *ENGINES]
# The per-run PostgreSQL database is emptied between tests by `tests.databases`; these two
# tables have no foreign key to `users`, so its TRUNCATE … CASCADE does not reach them.
UNLINKED_TABLES = ("mail_outbox", "audit_events")


@dataclass(frozen=True)
class MailRow:
    """What the outbox holds of one mail, read past the ports."""

    status: str
    body: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class Records:
    """One backend: units of work (optionally stamped with an origin), the relay's queue, the
    audit trail's read side, a second sender over the same data, and a look past the ports."""

    name: str
    backend: Backend
    uow_with_origin: Callable[[OriginSource], UnitOfWork]
    queue: MailQueue
    audit: AuditQueries
    # Another relay over the same data; on SQLite and PostgreSQL over a second `Database` (pool).
    other_sender: Callable[[], AbstractAsyncContextManager[MailQueue]]
    # The stored mail with this subject, or None (a test gives each of its mails its own subject).
    mail_row: Callable[[str], Awaitable[MailRow | None]]
    # How many stored tokens have this fingerprint, whatever `find` would answer.
    token_rows: Callable[[str], Awaitable[int]]

    def new_uow(self) -> UnitOfWork:
        return self.backend.new_uow()


def fingerprint(name: str) -> str:
    """A 64-hex-digit fingerprint, one per `name`."""
    return hashlib.sha256(name.encode()).hexdigest()


@asynccontextmanager
async def open_records(kind: str, tmp_path: Path) -> AsyncIterator[Records]:
    if kind == "memory":
        yield _memory_records()
        return
    async with open_database(kind, tmp_path, migrated=True) as db:
        if not db.is_sqlite:
            async with db.write_engine.begin() as conn:
                await conn.exec_driver_sql(f"TRUNCATE {', '.join(UNLINKED_TABLES)} RESTART IDENTITY")
        yield _sql_records(kind, db)


def _memory_records() -> Records:
    memory = InMemoryDatabase()

    @asynccontextmanager
    async def other_sender() -> AsyncIterator[MailQueue]:
        yield InMemoryMailQueue(memory)

    async def mail_row(subject: str) -> MailRow | None:
        for mail in memory.state.mails.values():
            if mail.subject == subject:
                return MailRow(mail.status, mail.body, mail.attempts, mail.last_error, mail.sent_at)
        return None

    async def token_rows(fp: str) -> int:
        return 1 if fp in memory.state.account_tokens else 0

    return Records(
        name="memory",
        backend=Backend("memory", lambda: InMemoryUnitOfWork(memory), InMemoryUserQueries(memory)),
        uow_with_origin=lambda origin: InMemoryUnitOfWork(memory, origin=origin),
        queue=InMemoryMailQueue(memory),
        audit=InMemoryAuditQueries(memory),
        other_sender=other_sender,
        mail_row=mail_row,
        token_rows=token_rows,
    )


def _sql_records(kind: str, db: Database) -> Records:
    @asynccontextmanager
    async def other_sender() -> AsyncIterator[MailQueue]:
        other = Database(db.url.render_as_string(hide_password=False))
        try:
            yield SqlAlchemyMailQueue(other)
        finally:
            await other.dispose()

    async def mail_row(subject: str) -> MailRow | None:
        c = mail_outbox.c
        stmt = select(c.status, c.body, c.attempts, c.last_error, c.sent_at).where(c.subject == subject)
        async with db.read_engine.connect() as conn:
            row = (await conn.execute(stmt)).one_or_none()
        return (
            None if row is None else MailRow(row.status, row.body, row.attempts, row.last_error, row.sent_at)
        )

    async def token_rows(fp: str) -> int:
        stmt = select(func.count()).select_from(account_tokens).where(account_tokens.c.fingerprint == fp)
        async with db.read_engine.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    return Records(
        name=kind,
        backend=Backend(kind, lambda: SqlAlchemyUnitOfWork(db), SqlAlchemyUserQueries(db)),
        uow_with_origin=lambda origin: SqlAlchemyUnitOfWork(db, origin=origin),
        queue=SqlAlchemyMailQueue(db),
        audit=SqlAlchemyAuditQueries(db),
        other_sender=other_sender,
        mail_row=mail_row,
        token_rows=token_rows,
    )
