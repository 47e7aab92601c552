"""Log in: credentials for a new session, bounded by the throttle and the credential's lock."""

from dataclasses import dataclass, field
from datetime import datetime

from gatehouse.application.attempts import GuardedAttempts
from gatehouse.application.audit_log import record as audit
from gatehouse.application.credential_checks import LOGIN_WINDOW_SECONDS, login_throttle_key
from gatehouse.application.errors import AuthenticationError, RateLimitedError
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.counters import Counters
from gatehouse.application.ports.credentials import PasswordHasher, SecretTokens, TokenIssuer
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.ports.users import UserQueries
from gatehouse.application.throttle_notice import ThrottleNotice
from gatehouse.application.use_cases.mfa_login import issue_challenge
from gatehouse.application.use_cases.sessions import TokenPair, open_session
from gatehouse.domain.errors import InvalidValueError, PermissionDeniedError
from gatehouse.domain.user import User
from gatehouse.domain.values import RawPassword

WRONG_CREDENTIALS = "Invalid credentials"
IDENTIFIER_MAX_LENGTH = 254  # the longest email; usernames are shorter


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
      `max_failures` fail, and simultaneous right passwords all get through. The account is told
      once per window (a security notice).
    - An identifier longer than any account's (254) is refused (422) before it is counted.
    - The session is written only while the password that was checked is still the account's and
      the account is still active: a concurrent password change, reset or deactivation wins.
    - A hash made with outdated parameters is replaced on success.
    - With MFA on, a right password opens no session: 403 `MfaRequiredError` carries an
      `mfa_token` for `CompleteMfaLogin` (after the deactivated and unverified checks).
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
        secret_tokens: SecretTokens,
        require_verified_email: bool = False,
    ) -> None:
        self._uow = uow
        self._secret_tokens = secret_tokens
        self._notice = ThrottleNotice(uow, queries, counters, clock)
        self._queries = queries
        self._hasher = hasher
        self._tokens = tokens
        self._attempts = GuardedAttempts(counters, max_failures, LOGIN_WINDOW_SECONDS)
        self._clock = clock
        self._require_verified = require_verified_email

    async def execute(self, command: Command) -> TokenPair:
        identifier = _identifier(command.identifier)
        try:
            async with self._attempts.attempt(login_throttle_key(identifier)) as outcome:
                user = await self._queries.find_for_login(identifier)
                password = _as_password(command.password)
                if user is None or password is None:
                    await self._hasher.verify_dummy(password or RawPassword(""))
                    outcome.failed = True
                else:
                    outcome.failed = not await self._hasher.verify(user.password_hash, password)
        except RateLimitedError:
            await self._notice.throttled(identifier)
            raise
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
        """The session, or, when the account uses MFA, a challenge for the second step (403)."""
        if rehashed is not None:
            await uow.users.set_password_hash(user.id, rehashed)
        if user.mfa_enabled:
            challenge = await issue_challenge(
                uow, self._secret_tokens, user, _identifier(command.identifier), now
            )
            await uow.commit()
            raise challenge
        return await open_session(
            uow, self._tokens, user.id, now, ip=command.ip, user_agent=command.user_agent
        )

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


def _as_password(value: str) -> RawPassword | None:
    """A submitted password, or None when it could never be valid (it then fails like a wrong one)."""
    try:
        return RawPassword(value)
    except InvalidValueError:
        return None
