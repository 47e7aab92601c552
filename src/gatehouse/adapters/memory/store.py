"""An in-memory database with transactional units of work over it."""

import asyncio
import copy
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Self

from gatehouse.adapters.memory.account_tokens import InMemoryAccountTokenRepository
from gatehouse.adapters.memory.api_tokens import InMemoryApiTokenRepository
from gatehouse.adapters.memory.audit_trail import InMemoryAuditTrail
from gatehouse.adapters.memory.mail_outbox import InMemoryMailOutbox
from gatehouse.adapters.memory.mfa import InMemoryMfaRepository
from gatehouse.adapters.memory.orders import InMemoryIdempotencyRepository, InMemoryOrderRepository
from gatehouse.adapters.memory.state import MemoryState, OverState, built_from, checked, copy_of
from gatehouse.application.errors import ConflictError
from gatehouse.application.ports.audit import OriginSource
from gatehouse.application.ports.sessions import NewSession, RefreshRecord, SessionRepository
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.ports.users import NewUser, UserRepository
from gatehouse.domain.user import Session, User
from gatehouse.domain.values import Email, Username


class InMemoryDatabase:
    """The committed state; a unit of work edits a copy and swaps it in on commit.

    Units of work run one at a time (as SQLite's `BEGIN IMMEDIATE` makes them), so two that
    overlap see each other's committed changes instead of overwriting them.
    """

    def __init__(self) -> None:
        self.state = MemoryState()
        self.commits = 0
        self.writer = asyncio.Lock()


class InMemoryUserRepository(OverState, UserRepository):
    async def add(self, new: NewUser) -> User:
        if await self.get_by_email(new.email) or await self.get_by_username(new.username):
            raise ConflictError("Email or username is already taken")
        user = built_from(User, new, id=self._s.new_id("users"), updated_at=new.created_at)
        self._s.users[user.id] = user
        return replace(user)

    async def get(self, user_id: int) -> User | None:
        return copy_of(self._s.users, user_id)

    async def lock(self, user_id: int, *, exclusive: bool = False) -> User | None:
        return await self.get(user_id)  # units of work run one at a time here

    async def get_by_email(self, email: Email) -> User | None:
        return next((replace(u) for u in self._s.users.values() if u.email == email), None)

    async def get_by_username(self, username: Username) -> User | None:
        found = (u for u in self._s.users.values() if u.username.canonical == username.canonical)
        return next((replace(u) for u in found), None)

    async def update(
        self, user: User, *, fields: Collection[str], expected_versions: Sequence[int] | None
    ) -> User:
        stored = self._checked(user.id, expected_versions)
        changes = {name: getattr(user, name) for name in fields}
        saved = replace(stored, **changes, updated_at=user.updated_at, version=stored.version + 1)
        for other in self._s.users.values():
            if other.id != user.id and (
                other.email == saved.email or other.username.canonical == saved.username.canonical
            ):
                raise ConflictError("Email or username is already taken")
        self._s.users[user.id] = saved
        return replace(saved)

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        user = self._s.users[user_id]
        self._s.users[user_id] = replace(user, password_hash=password_hash)

    async def delete(self, user_id: int, *, expected_versions: Sequence[int] | None) -> None:
        self._checked(user_id, expected_versions)
        del self._s.users[user_id]
        for sid in [s.id for s in self._s.sessions.values() if s.user_id == user_id]:
            del self._s.sessions[sid]
        for oid in [o.id for o in self._s.orders.values() if o.user_id == user_id]:
            del self._s.orders[oid]

    async def count_active_admins(self) -> int:
        return sum(1 for u in self._s.users.values() if u.is_active_admin)

    def _checked(self, user_id: int, expected_versions: Sequence[int] | None) -> User:
        return checked(self._s.users, user_id, expected_versions, "User")


class InMemorySessionRepository(OverState, SessionRepository):
    async def add(self, new: NewSession) -> Session:
        session = built_from(Session, new, id=self._s.new_id("sessions"), last_used_at=new.created_at)
        self._s.sessions[session.id] = session
        return replace(session)

    async def get(self, session_id: int) -> Session | None:
        return copy_of(self._s.sessions, session_id)

    async def add_refresh_token(self, session_id: int, fingerprint: str, expires_at: datetime) -> None:
        self._s.refresh_tokens[fingerprint] = RefreshRecord(session_id, expires_at, None)

    async def find_refresh_token(self, fingerprint: str) -> RefreshRecord | None:
        record = self._s.refresh_tokens.get(fingerprint)
        return record if record and record.session_id in self._s.sessions else None

    async def spend_refresh_token(self, fingerprint: str, now: datetime) -> bool:
        record = self._s.refresh_tokens.get(fingerprint)
        if record is None or record.spent_at is not None or record.session_id not in self._s.sessions:
            return False
        self._s.refresh_tokens[fingerprint] = replace(record, spent_at=now)
        return True

    async def touch(self, session_id: int, now: datetime, expires_at: datetime) -> None:
        session = self._s.sessions[session_id]
        self._s.sessions[session_id] = replace(session, last_used_at=now, expires_at=expires_at)

    async def revoke(self, session_id: int, now: datetime) -> bool:
        session = self._s.sessions.get(session_id)
        if session is None or session.revoked_at is not None:
            return False
        self._s.sessions[session_id] = replace(session, revoked_at=now)
        return True

    async def revoke_all(self, user_id: int, now: datetime) -> int:
        live = [s.id for s in self._s.sessions.values() if s.user_id == user_id and s.revoked_at is None]
        for sid in live:
            await self.revoke(sid, now)
        return len(live)


class InMemoryUnitOfWork(UnitOfWork):
    """Edits a deep copy of the state; `commit()` publishes it, leaving the block discards it."""

    def __init__(self, database: InMemoryDatabase, origin: OriginSource | None = None) -> None:
        self._db = database
        self._origin = origin
        self._draft: MemoryState | None = None

    async def __aenter__(self) -> Self:
        await self._db.writer.acquire()
        self._draft = copy.deepcopy(self._db.state)
        self.users = InMemoryUserRepository(self._draft)
        self.sessions = InMemorySessionRepository(self._draft)
        self.orders = InMemoryOrderRepository(self._draft)
        self.idempotency = InMemoryIdempotencyRepository(self._draft)
        self.audit = InMemoryAuditTrail(self._draft, self._origin)
        self.outbox = InMemoryMailOutbox(self._draft)
        self.account_tokens = InMemoryAccountTokenRepository(self._draft)
        self.mfa = InMemoryMfaRepository(self._draft)
        self.api_tokens = InMemoryApiTokenRepository(self._draft)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._draft = None
        self._db.writer.release()

    async def commit(self) -> None:
        if self._draft is None:
            raise RuntimeError("commit() outside the unit of work")
        self._db.state = copy.deepcopy(self._draft)
        self._db.commits += 1
