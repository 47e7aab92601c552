"""A signed-in user changes their own password."""

from dataclasses import dataclass, field

from gatehouse.application.attempts import GuardedAttempts
from gatehouse.application.audit_log import record
from gatehouse.application.errors import AuthenticationError
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.counters import Counters
from gatehouse.application.ports.credentials import PasswordHasher
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.ports.users import UserQueries
from gatehouse.application.use_cases.login import LOGIN_WINDOW_SECONDS
from gatehouse.domain.errors import InvalidValueError, PermissionDeniedError
from gatehouse.domain.passwords import PasswordPolicy
from gatehouse.domain.policy import Actor
from gatehouse.domain.values import RawPassword


class ChangePassword:
    """Change one's own password.

    - A wrong current password is refused with 403 (the caller is authenticated). It counts as a
      failed log-in of the account's email (§5's throttle): a stolen session can't be used to guess
      the password without limit; past the limit, 429.
    - The new password must satisfy the password policy (422).
    - Every session of the user ends, this one included.
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        actor: Actor
        current_password: str = field(repr=False)
        new_password: str = field(repr=False)

    def __init__(
        self,
        uow: UnitOfWork,
        queries: UserQueries,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        clock: Clock,
        counters: Counters,
        max_failures: int,
    ) -> None:
        self._attempts = GuardedAttempts(counters, max_failures, LOGIN_WINDOW_SECONDS)
        self._uow = uow
        self._queries = queries
        self._hasher = hasher
        self._policy = policy
        self._clock = clock

    async def execute(self, command: Command) -> None:
        user = await self._queries.get(command.actor.user_id)
        if user is None:
            raise AuthenticationError("Account no longer exists")
        async with self._attempts.attempt(f"login-failures:{user.email.value}") as outcome:
            try:
                current = RawPassword(command.current_password)
            except InvalidValueError:
                current = None
            outcome.failed = current is None or not await self._hasher.verify(user.password_hash, current)
        if current is None or outcome.failed:
            raise PermissionDeniedError("Current password is wrong")
        try:
            new = RawPassword(command.new_password)
            self._policy.check(new, email=user.email, username=user.username)
        except InvalidValueError as exc:
            raise InvalidValueError("new_password", exc.message) from None
        new_hash = await self._hasher.hash(new)
        now = self._clock.now()
        async with self._uow as uow:
            await uow.users.set_password_hash(user.id, new_hash)
            ended = await uow.sessions.revoke_all(user.id, now)
            await record(
                uow,
                AuditAction.PASSWORD_CHANGED,
                at=now,
                user_id=user.id,
                actor=command.actor,
                details={"sessions_ended": ended},
            )
            await uow.commit()
