"""Log in, refresh and log out: the life of a session and its tokens."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gatehouse.application.account_mail import record as audit
from gatehouse.application.attempts import GuardedAttempts
from gatehouse.application.errors import AuthenticationError
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
from gatehouse.domain.user import Session, User
from gatehouse.domain.values import RawPassword

LOGIN_WINDOW_SECONDS = 15 * 60
WRONG_CREDENTIALS = "Invalid credentials"
IDENTIFIER_MAX_LENGTH = 254  # the longest email; usernames are shorter


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
      until the window passes; counted whether or not an account matches, and held under
      concurrency (`GuardedAttempts`): of any number of simultaneous guesses at most
      `max_failures` fail, and simultaneous right passwords all get through.
    - An identifier longer than any account's (254) is refused (422) before it is counted.
    - The session is written only while the password that was checked is still the account's and
      the account is still active: a concurrent password change, reset or deactivation wins.
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
        self._attempts = GuardedAttempts(counters, max_failures, LOGIN_WINDOW_SECONDS)
        self._clock = clock
        self._require_verified = require_verified_email

    async def execute(self, command: Command) -> TokenPair:
        identifier = _identifier(command.identifier)
        async with self._attempts.attempt(f"login-failures:{identifier}") as outcome:
            user = await self._queries.find_for_login(identifier)
            password = _as_password(command.password)
            if user is None or password is None:
                await self._hasher.verify_dummy(password or RawPassword(""))
                outcome.failed = True
            else:
                outcome.failed = not await self._hasher.verify(user.password_hash, password)
        if user is None or password is None or outcome.failed:
            await self._failed(identifier, user.id if user else None, "invalid_credentials")
            raise AuthenticationError(WRONG_CREDENTIALS)
        try:
            self._check_may_log_in(user)
        except _RefusedError as refused:
            await self._failed(identifier, refused.user_id, refused.reason)
            raise PermissionDeniedError(refused.message) from None
        return await self._open_session(command, user, password)

    def _check_may_log_in(self, user: User) -> None:
        if not user.is_active:
            raise _RefusedError(user.id, "deactivated", "Account is deactivated")
        if self._require_verified and not user.email_verified:
            raise _RefusedError(
                user.id,
                "email_not_verified",
                "Email address is not verified; confirm it with the link we sent",
            )

    async def _open_session(self, command: Command, user: User, password: RawPassword) -> TokenPair:
        """Write the session only while the password that was checked is still the account's.

        The account row is locked for the transaction (a concurrent password change, reset or
        deactivation commits before it, and is then seen here, or waits for it, and then ends the
        new session too). A hash that changed since it was checked is checked again, once: a rehash
        of the same password passes, a new password fails like a wrong one.
        """
        checked_hash = user.password_hash
        for _ in range(2):
            rehashed = await self._hasher.hash(password) if self._hasher.needs_rehash(checked_hash) else None
            now = self._clock.now()
            async with self._uow as uow:
                current = await uow.users.lock(user.id, exclusive=rehashed is not None)
                if current is None:
                    raise AuthenticationError(WRONG_CREDENTIALS)
                if current.password_hash == checked_hash:
                    try:
                        self._check_may_log_in(current)
                    except _RefusedError as refused:
                        await self._failed_in(uow, command.identifier, refused)
                        await uow.commit()
                        raise PermissionDeniedError(refused.message) from None
                    pair = await self._write_session(uow, command, current, rehashed, now)
                    await uow.commit()
                    return pair
            if not await self._hasher.verify(current.password_hash, password):
                break
            checked_hash = current.password_hash
        await self._failed(_identifier(command.identifier), user.id, "invalid_credentials")
        raise AuthenticationError(WRONG_CREDENTIALS)

    async def _write_session(
        self, uow: UnitOfWork, command: Command, user: User, rehashed: str | None, now: datetime
    ) -> TokenPair:
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
        return _pair(self._tokens, session, refresh, now)

    async def _failed(self, identifier: str, user_id: int | None, reason: str) -> None:
        """Record a refused log-in; for an unknown account the submitted identifier says who was tried."""
        async with self._uow as uow:
            await _record_failure(uow, self._clock.now(), identifier, user_id, reason)
            await uow.commit()

    async def _failed_in(self, uow: UnitOfWork, identifier: str, refused: "_RefusedError") -> None:
        await _record_failure(
            uow, self._clock.now(), _identifier(identifier), refused.user_id, refused.reason
        )


class _RefusedError(Exception):
    """A right password on an account that may not log in now (403)."""

    def __init__(self, user_id: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.user_id = user_id
        self.reason = reason
        self.message = message


async def _record_failure(
    uow: UnitOfWork, at: datetime, identifier: str, user_id: int | None, reason: str
) -> None:
    kind = "email" if "@" in identifier else "username"
    await audit(
        uow,
        AuditAction.LOGIN_FAILED,
        at=at,
        user_id=user_id,
        details={kind: identifier[:IDENTIFIER_MAX_LENGTH], "reason": reason},
    )


def _identifier(raw: str) -> str:
    """The submitted email or username, lower-cased; one that no account could have is refused
    (422) before it is counted, looked up or stored."""
    identifier = raw.strip().lower()
    if len(identifier) > IDENTIFIER_MAX_LENGTH or "\x00" in identifier:
        raise InvalidValueError("email", "Not an email address or username of any account")
    return identifier


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
