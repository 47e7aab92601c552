"""Log in, refresh and log out: the life of a session and its tokens."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gatehouse.application.account_mail import record as audit
from gatehouse.application.errors import AuthenticationError, RateLimitedError
from gatehouse.application.lifecycle_ports import AuditAction
from gatehouse.application.ports import (
    Clock,
    Counters,
    NewSession,
    PasswordHasher,
    TokenIssuer,
    UnitOfWork,
    UserQueries,
)
from gatehouse.domain.errors import InvalidValueError, PermissionDeniedError
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import Session
from gatehouse.domain.values import RawPassword

LOGIN_WINDOW_SECONDS = 15 * 60
WRONG_CREDENTIALS = "Invalid credentials"


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int


class Login:
    """Exchange credentials for a new session and its token pair.

    - The identifier is an email or a username, matched lower-cased.
    - A wrong password and an unknown account give the same 401 after the same work.
    - A correct password on a deactivated account: 403; on an unverified one too, when verified
      emails are required.
    - Every outcome but the throttle's is in the audit trail (`auth.login_succeeded` in the
      session's own transaction, `auth.login_failed` with the submitted identifier).
    - After `max_failures` failures for one submitted identifier within 15 minutes, 429
      until the window passes; counted whether or not an account matches.
    - A hash made with outdated parameters is replaced on success.
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        identifier: str
        password: str = field(repr=False)
        ip: str | None = None
        user_agent: str | None = None

    def __init__(
        self,
        uow: UnitOfWork,
        queries: UserQueries,
        hasher: PasswordHasher,
        tokens: TokenIssuer,
        counters: Counters,
        clock: Clock,
        max_failures: int,
        require_verified_email: bool = False,
    ) -> None:
        self._uow = uow
        self._queries = queries
        self._hasher = hasher
        self._tokens = tokens
        self._counters = counters
        self._clock = clock
        self._max_failures = max_failures
        self._require_verified = require_verified_email

    async def execute(self, command: Command) -> TokenPair:
        identifier = command.identifier.strip().lower()
        key = f"login-failures:{identifier}"
        seen = await self._counters.peek(key, LOGIN_WINDOW_SECONDS)
        if self._max_failures and seen.count >= self._max_failures:
            raise RateLimitedError("Too many failed log-ins; try again later", seen.reset_after)
        user = await self._queries.find_for_login(identifier)
        password = _as_password(command.password)
        if user is None or password is None:
            await self._hasher.verify_dummy(password or RawPassword(""))
            ok = False
        else:
            ok = await self._hasher.verify(user.password_hash, password)
        if user is None or password is None or not ok:
            await self._counters.increment(key, LOGIN_WINDOW_SECONDS)
            await self._failed(identifier, user.id if user else None, "invalid_credentials")
            raise AuthenticationError(WRONG_CREDENTIALS)
        if not user.is_active:
            await self._failed(identifier, user.id, "deactivated")
            raise PermissionDeniedError("Account is deactivated")
        if self._require_verified and not user.email_verified:
            await self._failed(identifier, user.id, "email_not_verified")
            raise PermissionDeniedError("Email address is not verified; confirm it with the link we sent")
        await self._counters.reset(key)
        rehashed = (
            await self._hasher.hash(password) if self._hasher.needs_rehash(user.password_hash) else None
        )
        now = self._clock.now()
        async with self._uow as uow:
            if rehashed is not None:
                await uow.users.set_password_hash(user.id, rehashed)
            session = await uow.sessions.add(
                NewSession(
                    user_id=user.id,
                    created_at=now,
                    expires_at=now + timedelta(seconds=self._tokens.refresh_ttl),
                    ip=command.ip,
                    user_agent=command.user_agent,
                )
            )
            refresh = await _store_refresh_token(uow, self._tokens, session)
            await audit(
                uow,
                AuditAction.LOGIN_SUCCEEDED,
                at=now,
                user_id=user.id,
                actor_id=user.id,
                details={"session_id": session.id},
            )
            await uow.commit()
        return _pair(self._tokens, session, refresh, now)

    async def _failed(self, identifier: str, user_id: int | None, reason: str) -> None:
        """Record a refused log-in; for an unknown account the submitted identifier says who was tried."""
        kind = "email" if "@" in identifier else "username"
        async with self._uow as uow:
            await audit(
                uow,
                AuditAction.LOGIN_FAILED,
                at=self._clock.now(),
                user_id=user_id,
                details={kind: identifier[:254], "reason": reason},
            )
            await uow.commit()


class RefreshSession:
    """Trade a refresh token for a new pair; the old refresh token is spent.

    - Unknown, expired or revoked: 401.
    - A spent token presented again is treated as theft: the whole session ends, 401.
    - The user must still exist and be active (401).
    """

    def __init__(self, uow: UnitOfWork, tokens: TokenIssuer, clock: Clock) -> None:
        self._uow = uow
        self._tokens = tokens
        self._clock = clock

    async def execute(self, refresh_token: str) -> TokenPair:
        fingerprint = self._tokens.fingerprint(refresh_token)
        now = self._clock.now()
        async with self._uow as uow:
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
            expires_at = now + timedelta(seconds=self._tokens.refresh_ttl)
            await uow.sessions.touch(session.id, now, expires_at)
            session.expires_at = expires_at
            refresh = await _store_refresh_token(uow, self._tokens, session)
            await uow.commit()
        return _pair(self._tokens, session, refresh, now)


class Logout:
    """End the caller's session: its access and refresh tokens stop working.

    - A refresh token sent along that belongs to another session of the same user ends that one too.
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        actor: Actor
        refresh_token: str | None = field(default=None, repr=False)

    def __init__(self, uow: UnitOfWork, tokens: TokenIssuer, clock: Clock) -> None:
        self._uow = uow
        self._tokens = tokens
        self._clock = clock

    async def execute(self, command: Command) -> None:
        now = self._clock.now()
        async with self._uow as uow:
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
                record = await uow.sessions.find_refresh_token(
                    self._tokens.fingerprint(command.refresh_token)
                )
                other = await uow.sessions.get(record.session_id) if record else None
                if other is not None and other.user_id == command.actor.user_id:
                    await uow.sessions.revoke(other.id, now)
            await uow.commit()


def _as_password(value: str) -> RawPassword | None:
    """A submitted password, or None when it could never be valid (it then fails like a wrong one)."""
    try:
        return RawPassword(value)
    except InvalidValueError:
        return None


async def _store_refresh_token(uow: UnitOfWork, tokens: TokenIssuer, session: Session) -> str:
    refresh = tokens.new_opaque_token()
    await uow.sessions.add_refresh_token(session.id, tokens.fingerprint(refresh), session.expires_at)
    return refresh


def _pair(tokens: TokenIssuer, session: Session, refresh: str, now: datetime) -> TokenPair:
    access = tokens.issue_access(user_id=session.user_id, session_id=session.id, now=now)
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=tokens.access_ttl)
