"""The write-side repositories, bound to one transaction's connection."""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse.adapters.sqlalchemy.rows import to_session, to_user, user_values
from gatehouse.adapters.sqlalchemy.tables import refresh_tokens, sessions, users
from gatehouse.application.errors import ConflictError, NotFoundError, PreconditionFailedError
from gatehouse.application.ports.sessions import NewSession, RefreshRecord, SessionRepository
from gatehouse.application.ports.users import NewUser, UserRepository
from gatehouse.domain.user import Session, User
from gatehouse.domain.values import Email, Role, Username

TAKEN = "Email or username is already taken"


class SqlAlchemyUserRepository(UserRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, new: NewUser) -> User:
        values = {
            "email": new.email.value,
            "username": new.username.value,
            "full_name": new.full_name.value if new.full_name else None,
            "role": new.role.value,
            "is_active": new.is_active,
            "password_hash": new.password_hash,
            "created_at": new.created_at,
            "updated_at": new.created_at,
            "version": 1,
            "email_verified": new.email_verified,
            "mfa_enabled": False,
        }
        try:
            result = await self._conn.execute(insert(users).values(values).returning(users.c.id))
        except IntegrityError:
            raise ConflictError(TAKEN) from None
        return to_user({**values, "id": result.scalar_one()})

    async def get(self, user_id: int) -> User | None:
        return await self._one(select(users).where(users.c.id == user_id))

    async def lock(self, user_id: int, *, exclusive: bool = False) -> User | None:
        # PostgreSQL: FOR SHARE / FOR UPDATE; SQLite renders neither, and needs neither: a write
        # transaction there begins IMMEDIATE, so no other writer runs until it ends.
        stmt = select(users).where(users.c.id == user_id).with_for_update(read=not exclusive)
        return await self._one(stmt)

    async def get_by_email(self, email: Email) -> User | None:
        return await self._one(select(users).where(users.c.email == email.value))

    async def get_by_username(self, username: Username) -> User | None:
        return await self._one(select(users).where(func.lower(users.c.username) == username.canonical))

    async def update(
        self, user: User, *, fields: Collection[str], expected_versions: Sequence[int] | None
    ) -> User:
        values = {k: v for k, v in user_values(user).items() if k in fields or k == "updated_at"}
        stmt = (
            update(users)
            .where(users.c.id == user.id)
            .values(**values, version=users.c.version + 1)
            .returning(*users.c)
        )
        if expected_versions is not None:
            stmt = stmt.where(users.c.version.in_(list(expected_versions)))
        try:
            row = (await self._conn.execute(stmt)).first()
        except IntegrityError:
            raise ConflictError(TAKEN) from None
        if row is None:
            await self._missing_or_stale(user.id)
        return to_user(row)

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        await self._conn.execute(
            update(users).where(users.c.id == user_id).values(password_hash=password_hash)
        )

    async def delete(self, user_id: int, *, expected_versions: Sequence[int] | None) -> None:
        stmt = delete(users).where(users.c.id == user_id)
        if expected_versions is not None:
            stmt = stmt.where(users.c.version.in_(list(expected_versions)))
        if (await self._conn.execute(stmt)).rowcount == 0:
            await self._missing_or_stale(user_id)

    async def count_active_admins(self) -> int:
        stmt = (
            select(users.c.id)
            .where(users.c.role == Role.ADMIN.value, users.c.is_active.is_(True))
            .with_for_update()
        )
        return len((await self._conn.execute(stmt)).all())

    async def _one(self, stmt: object) -> User | None:
        row = (await self._conn.execute(stmt)).first()  # type: ignore[call-overload]
        return to_user(row) if row is not None else None

    async def _missing_or_stale(self, user_id: int) -> None:
        exists = (await self._conn.execute(select(users.c.id).where(users.c.id == user_id))).first()
        if exists is None:
            raise NotFoundError(f"User with id {user_id} not found")
        raise PreconditionFailedError("The resource has changed since it was read (If-Match)")


class SqlAlchemySessionRepository(SessionRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, new: NewSession) -> Session:
        values: dict[str, Any] = {
            "user_id": new.user_id,
            "created_at": new.created_at,
            "last_used_at": new.created_at,
            "expires_at": new.expires_at,
            "ip": new.ip,
            "user_agent": (new.user_agent or "")[:512] or None,
        }
        result = await self._conn.execute(insert(sessions).values(values).returning(sessions.c.id))
        return Session(id=result.scalar_one(), **values)

    async def get(self, session_id: int) -> Session | None:
        row = (await self._conn.execute(select(sessions).where(sessions.c.id == session_id))).first()
        return to_session(row) if row is not None else None

    async def add_refresh_token(self, session_id: int, fingerprint: str, expires_at: datetime) -> None:
        await self._conn.execute(
            insert(refresh_tokens).values(
                fingerprint=fingerprint, session_id=session_id, expires_at=expires_at
            )
        )

    async def find_refresh_token(self, fingerprint: str) -> RefreshRecord | None:
        stmt = select(refresh_tokens).where(refresh_tokens.c.fingerprint == fingerprint)
        row = (await self._conn.execute(stmt)).first()
        if row is None:
            return None
        return RefreshRecord(session_id=row.session_id, expires_at=row.expires_at, spent_at=row.spent_at)

    async def spend_refresh_token(self, fingerprint: str, now: datetime) -> bool:
        stmt = (
            update(refresh_tokens)
            .where(refresh_tokens.c.fingerprint == fingerprint, refresh_tokens.c.spent_at.is_(None))
            .values(spent_at=now)
        )
        return (await self._conn.execute(stmt)).rowcount == 1

    async def touch(self, session_id: int, now: datetime, expires_at: datetime) -> None:
        await self._conn.execute(
            update(sessions)
            .where(sessions.c.id == session_id)
            .values(last_used_at=now, expires_at=expires_at)
        )

    async def revoke(self, session_id: int, now: datetime) -> bool:
        stmt = (
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return (await self._conn.execute(stmt)).rowcount == 1

    async def revoke_all(self, user_id: int, now: datetime) -> int:
        stmt = (
            update(sessions)
            .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return (await self._conn.execute(stmt)).rowcount
