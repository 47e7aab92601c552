"""The mail outbox: mails added inside a change's own transaction, and the relay's queue over them.

The relay claims due mails under a lease, then records each outcome. A claim is one short write
transaction that pushes the claimed mails' next attempt to the end of the lease, so another sender
(another worker, the CLI) skips them; the sending itself happens outside any transaction, so an SMTP
server that is slow to answer never holds SQLite's single writer or a PostgreSQL row lock. If the
sender dies mid-way, the lease runs out and the mail is sent again: delivery is at least once, and
the stable Message-ID lets a receiver drop a repeat.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse.adapters.sqlalchemy.database import Database, unavailable_as_503
from gatehouse.adapters.sqlalchemy.tables import mail_outbox
from gatehouse.application.ports.mail import MailMessage, MailOutbox, MailQueue, PendingMail

PENDING = "pending"


class SqlAlchemyMailOutbox(MailOutbox):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, message: MailMessage, *, now: datetime, deliver: bool = True) -> None:
        await self._conn.execute(
            insert(mail_outbox).values(**message.outbox_fields(now, deliver=deliver), attempts=0)
        )


class SqlAlchemyMailQueue(MailQueue):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def has_due(self, now: datetime) -> bool:
        stmt = (
            select(mail_outbox.c.id)
            .where(mail_outbox.c.status == PENDING, mail_outbox.c.next_attempt_at <= now)
            .limit(1)
        )
        async with unavailable_as_503(self._db), self._db.read_engine.connect() as conn:
            return (await conn.execute(stmt)).first() is not None

    async def claim(self, *, now: datetime, lease_until: datetime, limit: int) -> Sequence[PendingMail]:
        due = (
            select(mail_outbox)
            .where(mail_outbox.c.status == PENDING, mail_outbox.c.next_attempt_at <= now)
            .order_by(mail_outbox.c.next_attempt_at, mail_outbox.c.id)
            .limit(limit)
            # PostgreSQL: concurrent senders skip each other's rows; SQLite's writer lock serialises.
            .with_for_update(skip_locked=True)
        )
        async with unavailable_as_503(self._db), self._db.write_engine.begin() as conn:
            rows = (await conn.execute(due)).all()
            if rows:
                await conn.execute(
                    update(mail_outbox)
                    .where(mail_outbox.c.id.in_([r.id for r in rows]))
                    .values(next_attempt_at=lease_until, attempts=mail_outbox.c.attempts + 1)
                )
        return [
            PendingMail(
                id=r.id,
                message=MailMessage(recipient=r.recipient, subject=r.subject, body=r.body),
                created_at=r.created_at,
                attempts=r.attempts + 1,
            )
            for r in rows
        ]

    async def mark_sent(self, mail_id: int, now: datetime) -> None:
        await self._update(mail_id, status="sent", sent_at=now, body="", last_error=None)

    async def retry_later(self, mail_id: int, *, retry_at: datetime, error: str) -> None:
        await self._update(mail_id, next_attempt_at=retry_at, last_error=error[:500])

    async def give_up(self, *, created_before: datetime, now: datetime) -> int:
        stmt = (
            update(mail_outbox)
            .where(mail_outbox.c.status == PENDING, mail_outbox.c.created_at < created_before)
            .values(status="dead", body="")
        )
        async with unavailable_as_503(self._db), self._db.write_engine.begin() as conn:
            return (await conn.execute(stmt)).rowcount

    async def depth(self) -> int:
        stmt = select(func.count()).select_from(mail_outbox).where(mail_outbox.c.status == PENDING)
        async with unavailable_as_503(self._db), self._db.read_engine.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def _update(self, mail_id: int, **values: object) -> None:
        stmt = (
            update(mail_outbox)
            .where(mail_outbox.c.id == mail_id, mail_outbox.c.status == PENDING)
            .values(**values)
        )
        async with unavailable_as_503(self._db), self._db.write_engine.begin() as conn:
            await conn.execute(stmt)
