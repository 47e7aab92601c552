"""MFA enrolments, recovery codes and log-in challenges, in the unit of work's transaction."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse.adapters.sqlalchemy.rows import from_row
from gatehouse.adapters.sqlalchemy.tables import mfa_challenges, mfa_enrolments, mfa_recovery_codes
from gatehouse.application.ports.mfa import MfaChallenge, MfaEnrolment, MfaRepository


class SqlAlchemyMfaRepository(MfaRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, user_id: int) -> MfaEnrolment | None:
        row = (
            await self._conn.execute(select(mfa_enrolments).where(mfa_enrolments.c.user_id == user_id))
        ).first()
        if row is None:
            return None
        return from_row(MfaEnrolment, row, sealed_secret=bytes(row.sealed_secret))

    async def start(self, user_id: int, sealed_secret: bytes, now: datetime) -> None:
        # Only a pending enrolment is replaced; the caller holds the account's lock and has seen
        # that MFA is off, so no confirmed row can be here.
        await self._conn.execute(
            delete(mfa_enrolments).where(
                mfa_enrolments.c.user_id == user_id, mfa_enrolments.c.confirmed_at.is_(None)
            )
        )
        await self._conn.execute(
            insert(mfa_enrolments).values(user_id=user_id, sealed_secret=sealed_secret, created_at=now)
        )

    async def confirm(self, user_id: int, step: int, now: datetime) -> bool:
        stmt = (
            update(mfa_enrolments)
            .where(mfa_enrolments.c.user_id == user_id, mfa_enrolments.c.confirmed_at.is_(None))
            .values(confirmed_at=now, last_step=step)
        )
        return (await self._conn.execute(stmt)).rowcount == 1

    async def claim_step(self, user_id: int, step: int) -> bool:
        # The check and the write are one statement: a concurrent claim of the same step waits for
        # this row's lock and then finds `last_step` already at it.
        stmt = (
            update(mfa_enrolments)
            .where(
                mfa_enrolments.c.user_id == user_id,
                mfa_enrolments.c.confirmed_at.is_not(None),
                or_(mfa_enrolments.c.last_step.is_(None), mfa_enrolments.c.last_step < step),
            )
            .values(last_step=step)
        )
        return (await self._conn.execute(stmt)).rowcount == 1

    async def remove(self, user_id: int) -> bool:
        await self._conn.execute(delete(mfa_recovery_codes).where(mfa_recovery_codes.c.user_id == user_id))
        result = await self._conn.execute(delete(mfa_enrolments).where(mfa_enrolments.c.user_id == user_id))
        return result.rowcount == 1

    async def replace_recovery_codes(self, user_id: int, digests: Sequence[str], now: datetime) -> None:
        await self._conn.execute(delete(mfa_recovery_codes).where(mfa_recovery_codes.c.user_id == user_id))
        if digests:
            await self._conn.execute(
                insert(mfa_recovery_codes),
                [{"user_id": user_id, "digest": d, "created_at": now} for d in digests],
            )

    async def spend_recovery_code(self, user_id: int, digest: str, now: datetime) -> bool:
        stmt = (
            update(mfa_recovery_codes)
            .where(
                mfa_recovery_codes.c.user_id == user_id,
                mfa_recovery_codes.c.digest == digest,
                mfa_recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return (await self._conn.execute(stmt)).rowcount == 1

    async def unused_recovery_codes(self, user_id: int) -> int:
        stmt = select(func.count()).where(
            mfa_recovery_codes.c.user_id == user_id, mfa_recovery_codes.c.used_at.is_(None)
        )
        return int((await self._conn.execute(stmt)).scalar_one())

    async def add_challenge(
        self, *, user_id: int, fingerprint: str, throttle_key: str, now: datetime, expires_at: datetime
    ) -> None:
        await self._conn.execute(
            insert(mfa_challenges).values(
                user_id=user_id,
                fingerprint=fingerprint,
                throttle_key=throttle_key,
                created_at=now,
                expires_at=expires_at,
            )
        )

    async def find_challenge(self, fingerprint: str) -> MfaChallenge | None:
        stmt = select(mfa_challenges).where(mfa_challenges.c.fingerprint == fingerprint)
        row = (await self._conn.execute(stmt)).first()
        if row is None:
            return None
        return from_row(MfaChallenge, row)

    async def attempt_challenge(self, challenge_id: int, now: datetime, max_failures: int) -> int | None:
        # The check and the count are one statement, and the row stays locked until the end of
        # the transaction: a concurrent attempt waits, then sees this one's count.
        c = mfa_challenges.c
        stmt = (
            update(mfa_challenges)
            .where(c.id == challenge_id, c.used_at.is_(None), c.expires_at > now, c.failures < max_failures)
            .values(failures=c.failures + 1)
            .returning(c.failures)
        )
        failures = (await self._conn.execute(stmt)).scalar_one_or_none()
        return None if failures is None else int(failures)

    async def spend_challenge(self, challenge_id: int, now: datetime) -> None:
        c = mfa_challenges.c
        stmt = update(mfa_challenges).where(c.id == challenge_id).values(used_at=now, failures=c.failures - 1)
        await self._conn.execute(stmt)

    async def end_challenges(self, user_id: int) -> None:
        await self._conn.execute(delete(mfa_challenges).where(mfa_challenges.c.user_id == user_id))
