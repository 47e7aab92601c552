"""A signed-in user's credentials: re-checking the password under the log-in throttle, replacing it."""

from datetime import datetime

from gatehouse.application.attempts import GuardedAttempts
from gatehouse.application.audit_log import record
from gatehouse.application.errors import AuthenticationError
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.credentials import PasswordHasher
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.security_notices import Notice, send_notice
from gatehouse.domain.errors import InvalidValueError, PermissionDeniedError
from gatehouse.domain.passwords import PasswordPolicy
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import User
from gatehouse.domain.values import RawPassword

LOGIN_WINDOW_SECONDS = 15 * 60


THROTTLE_PREFIX = "login-failures:"


def login_throttle_key(identifier: str) -> str:
    """The log-in throttle's key for a submitted email or username (lower-cased)."""
    return THROTTLE_PREFIX + identifier


def identifier_of(throttle_key: str) -> str:
    """The email or username a log-in throttle key counts for."""
    return throttle_key.removeprefix(THROTTLE_PREFIX)


async def confirm_password(
    attempts: GuardedAttempts, hasher: PasswordHasher, user: User, raw: str, message: str
) -> RawPassword:
    """The password, when it is the account's; else 403 with `message`. A wrong one counts as a
    failed log-in of the account's email (§5's throttle): a stolen session can't be used to guess
    the password without limit; past the limit, 429."""
    async with attempts.attempt(login_throttle_key(user.email.value)) as outcome:
        try:
            password: RawPassword | None = RawPassword(raw)
        except InvalidValueError:
            password = None
        outcome.failed = password is None or not await hasher.verify(user.password_hash, password)
    if password is None or outcome.failed:
        raise PermissionDeniedError(message)
    return password


def still_there(user: User | None) -> User:
    """The signed-in user's account as read; 401 when it was deleted since the token was issued."""
    if user is None:
        raise AuthenticationError("Account no longer exists")
    return user


async def session_still_live(uow: UnitOfWork, actor: Actor, now: datetime) -> None:
    """The caller's session, checked again under the account's lock: a password change or reset (or
    a sign-out everywhere) that committed while this request waited has ended it, and what it did
    must not be followed by a change made on its strength (401). The operator has no session."""
    if actor.is_operator:
        return
    session = await uow.sessions.get(actor.session_id)
    if session is None or session.user_id != actor.user_id or not session.is_live(now):
        raise AuthenticationError("Session has ended")


async def new_password_hash(policy: PasswordPolicy, hasher: PasswordHasher, user: User, raw: str) -> str:
    """`raw` as the account's next password: checked by the policy (422 naming `new_password`),
    then hashed."""
    try:
        password = RawPassword(raw)
        policy.check(password, email=user.email, username=user.username)
    except InvalidValueError as exc:
        raise InvalidValueError("new_password", exc.message) from None
    return await hasher.hash(password)


async def replace_password(
    uow: UnitOfWork, user: User, new_hash: str, now: datetime, action: AuditAction, actor: Actor | None = None
) -> None:
    """The new hash, in `uow`: every session of the account ends, and any log-in waiting for its
    code (it was on the old password); `action` is recorded and the account told."""
    await uow.users.set_password_hash(user.id, new_hash)
    ended = await uow.sessions.revoke_all(user.id, now)
    await uow.mfa.end_challenges(user.id)
    await record(uow, action, at=now, user_id=user.id, actor=actor, details={"sessions_ended": ended})
    await send_notice(uow, Notice.PASSWORD_CHANGED, user, at=now)
