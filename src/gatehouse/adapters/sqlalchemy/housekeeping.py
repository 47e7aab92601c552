"""Housekeeping on SQLite and PostgreSQL: bounded batches of deletes, and leases on periodic chores."""

from datetime import datetime
from typing import Any

from sqlalchemy import Delete, and_, delete, insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from gatehouse.adapters.sqlalchemy.database import Database, unavailable_as_503
from gatehouse.adapters.sqlalchemy.tables import (
    account_tokens,
    api_tokens,
    idempotency_keys,
    mail_outbox,
    mfa_challenges,
    refresh_tokens,
    sessions,
    task_leases,
)
from gatehouse.application.ports.housekeeping import Housekeeping, TaskLease


def _session_ended(before: datetime) -> Any:
    return or_(sessions.c.revoked_at < before, sessions.c.expires_at < before)


class SqlAlchemyHousekeeping(Housekeeping):
    """Each batch is `DELETE … WHERE key IN (SELECT key … WHERE … LIMIT n)` in a transaction of its
    own: both engines run that form (SQLite's `DELETE … LIMIT` is a compile-time option, and
    PostgreSQL has none). No ORDER BY: which rows go first does not matter, all of them go."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def delete_refresh_tokens_of_ended_sessions(self, *, ended_before: datetime, limit: int) -> int:
        doomed = (
            select(refresh_tokens.c.fingerprint)
            .join(sessions, sessions.c.id == refresh_tokens.c.session_id)
            .where(_session_ended(ended_before))
            .limit(limit)
        )
        return await self._run(delete(refresh_tokens).where(refresh_tokens.c.fingerprint.in_(doomed)))

    async def delete_ended_sessions(self, *, ended_before: datetime, limit: int) -> int:
        doomed = select(sessions.c.id).where(_session_ended(ended_before)).limit(limit)
        return await self._run(delete(sessions).where(sessions.c.id.in_(doomed)))

    async def delete_spent_account_tokens(self, *, ended_before: datetime, limit: int) -> int:
        c = account_tokens.c
        doomed = select(c.id).where(or_(c.used_at < ended_before, c.expires_at < ended_before)).limit(limit)
        return await self._run(delete(account_tokens).where(c.id.in_(doomed)))

    async def delete_ended_mfa_challenges(self, *, ended_before: datetime, limit: int) -> int:
        c = mfa_challenges.c
        doomed = select(c.id).where(or_(c.used_at < ended_before, c.expires_at < ended_before)).limit(limit)
        return await self._run(delete(mfa_challenges).where(c.id.in_(doomed)))

    async def delete_ended_api_tokens(
        self, *, revoked_before: datetime, expired_before: datetime, limit: int
    ) -> int:
        c = api_tokens.c
        ended = or_(c.revoked_at < revoked_before, c.expires_at < expired_before)
        return await self._run(delete(api_tokens).where(c.id.in_(select(c.id).where(ended).limit(limit))))

    async def delete_idempotency_records(self, *, started_before: datetime, limit: int) -> int:
        c = idempotency_keys.c
        doomed = select(c.scope, c.key).where(c.started_at < started_before).limit(limit)
        return await self._run(delete(idempotency_keys).where(tuple_(c.scope, c.key).in_(doomed)))

    async def delete_finished_mail(self, *, finished_before: datetime, limit: int) -> int:
        c = mail_outbox.c
        finished = or_(
            and_(c.status == "sent", c.sent_at < finished_before),
            # Dropped mails carry no time of their own; they were queued over 24 hours ago.
            and_(c.status.in_(("dead", "suppressed")), c.created_at < finished_before),
        )
        doomed = select(c.id).where(finished).limit(limit)
        return await self._run(delete(mail_outbox).where(c.id.in_(doomed)))

    async def _run(self, stmt: Delete) -> int:
        async with unavailable_as_503(self._db), self._db.write_engine.begin() as conn:
            return (await conn.execute(stmt)).rowcount


class SqlAlchemyTaskLease(TaskLease):
    """A row per lease, created by the first claim; taken over by a conditional UPDATE once it ran
    out. Racing claimers are settled by the row lock (PostgreSQL re-checks the condition after
    the winner commits), the primary key (two first inserts), or SQLite's single writer."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def acquire(self, name: str, *, holder: str, now: datetime, until: datetime) -> bool:
        c = task_leases.c
        take = (
            update(task_leases)
            .where(c.name == name, c.leased_until <= now)
            .values(holder=holder, leased_until=until)
        )
        try:
            async with unavailable_as_503(self._db), self._db.write_engine.begin() as conn:
                if (await conn.execute(take)).rowcount == 1:
                    return True
                if (await conn.execute(select(c.name).where(c.name == name))).first() is not None:
                    return False  # held by someone until later
                await conn.execute(insert(task_leases).values(name=name, holder=holder, leased_until=until))
                return True
        except IntegrityError:
            return False  # another claimer inserted the row first
