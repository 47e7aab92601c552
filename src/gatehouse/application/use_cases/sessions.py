"""Refresh and log out: the life of a session and its tokens after log-in (`login.py`)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gatehouse.application.audit_log import record as audit
from gatehouse.application.errors import AuthenticationError
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.credentials import TokenIssuer
from gatehouse.application.ports.sessions import NewSession
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import Session


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int


@dataclass(frozen=True, slots=True)
class RefreshSession:
    """Trade a refresh token for a new pair; the old refresh token is spent.

    - Unknown, expired or revoked: 401.
    - A spent token presented again is treated as theft: the whole session ends, 401.
    - The user must still exist and be active (401).
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        refresh_token: str = field(repr=False)

    uow: UnitOfWork
    tokens: TokenIssuer
    clock: Clock

    async def execute(self, command: Command) -> TokenPair:
        fingerprint = self.tokens.fingerprint(command.refresh_token)
        now = self.clock.now()
        async with self.uow as uow:
            record = await uow.sessions.find_refresh_token(fingerprint)
            session = await uow.sessions.get(record.session_id) if record else None
            if record is None or session is None or not session.is_live(now):
                raise AuthenticationError("Invalid refresh token")
            if record.spent_at is not None or not await uow.sessions.spend_refresh_token(fingerprint, now):
                await uow.sessions.revoke(session.id, now)
                await audit(
                    uow,
                    AuditAction.REFRESH_REUSE_DETECTED,
                    at=now,
                    user_id=session.user_id,
                    details={"session_id": session.id},
                )
                await uow.commit()
                raise AuthenticationError("Refresh token was already used; the session has ended")
            user = await uow.users.get(session.user_id)
            if record.expires_at <= now or user is None or not user.is_active:
                raise AuthenticationError("Invalid refresh token")
            expires_at = now + timedelta(seconds=self.tokens.refresh_ttl)
            await uow.sessions.touch(session.id, now, expires_at)
            session.expires_at = expires_at
            refresh = await store_refresh_token(uow, self.tokens, session)
            await uow.commit()
        return token_pair(self.tokens, session, refresh, now)


@dataclass(frozen=True, slots=True)
class Logout:
    """End the caller's session: its access and refresh tokens stop working.

    - A refresh token sent along that belongs to another session of the same user ends that one too.
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        actor: Actor
        refresh_token: str | None = field(default=None, repr=False)

    uow: UnitOfWork
    tokens: TokenIssuer
    clock: Clock

    async def execute(self, command: Command) -> None:
        command.actor.require_session("log out (revoke the token instead)")
        now = self.clock.now()
        async with self.uow as uow:
            await uow.sessions.revoke(command.actor.session_id, now)
            await audit(
                uow,
                AuditAction.LOGOUT,
                at=now,
                user_id=command.actor.user_id,
                actor=command.actor,
                details={"session_id": command.actor.session_id},
            )
            if command.refresh_token:
                record = await uow.sessions.find_refresh_token(self.tokens.fingerprint(command.refresh_token))
                other = await uow.sessions.get(record.session_id) if record else None
                if other is not None and other.user_id == command.actor.user_id:
                    await uow.sessions.revoke(other.id, now)
            await uow.commit()


async def store_refresh_token(uow: UnitOfWork, tokens: TokenIssuer, session: Session) -> str:
    refresh = tokens.new_opaque_token()
    await uow.sessions.add_refresh_token(session.id, tokens.fingerprint(refresh), session.expires_at)
    return refresh


def token_pair(tokens: TokenIssuer, session: Session, refresh: str, now: datetime) -> TokenPair:
    access = tokens.issue_access(user_id=session.user_id, session_id=session.id, now=now)
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=tokens.access_ttl)


async def open_session(
    uow: UnitOfWork,
    tokens: TokenIssuer,
    user_id: int,
    now: datetime,
    *,
    ip: str | None,
    user_agent: str | None,
    details: Mapping[str, str] | None = None,
) -> TokenPair:
    """A new session of `user_id` in `uow`, audited as a log-in (its id, then `details`), and the
    token pair that speaks for it."""
    session = await uow.sessions.add(
        NewSession(
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(seconds=tokens.refresh_ttl),
            ip=ip,
            user_agent=user_agent,
        )
    )
    refresh = await store_refresh_token(uow, tokens, session)
    await audit(
        uow,
        AuditAction.LOGIN_SUCCEEDED,
        at=now,
        user_id=user_id,
        actor_id=user_id,
        details={"session_id": session.id, **(details or {})},
    )
    return token_pair(tokens, session, refresh, now)
