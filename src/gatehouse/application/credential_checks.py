"""Re-checking a signed-in user's password before a sensitive change, under the log-in throttle."""

from gatehouse.application.attempts import GuardedAttempts
from gatehouse.application.ports.credentials import PasswordHasher
from gatehouse.domain.errors import InvalidValueError, PermissionDeniedError
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
