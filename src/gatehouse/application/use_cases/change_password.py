"""A signed-in user changes their own password."""

from dataclasses import dataclass, field

from gatehouse.application.attempts import GuardedAttempts
from gatehouse.application.audit_log import record
from gatehouse.application.credential_checks import LOGIN_WINDOW_SECONDS, confirm_password
from gatehouse.application.errors import AuthenticationError
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.counters import Counters
from gatehouse.application.ports.credentials import PasswordHasher
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.ports.users import UserQueries
from gatehouse.application.security_notices import Notice, send_notice
from gatehouse.domain.errors import InvalidValueError
from gatehouse.domain.passwords import PasswordPolicy
from gatehouse.domain.policy import Actor
from gatehouse.domain.values import RawPassword


class ChangePassword:
    """Change one's own password.

    - A wrong current password is refused with 403 (the caller is authenticated). It counts as a
      failed log-in of the account's email (§5's throttle): a stolen session can't be used to guess
      the password without limit; past the limit, 429.
    - The new password must satisfy the password policy (422).
    - Every session of the user ends, this one included, and any log-in waiting for its second
      factor; the account is told (a security notice).
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
        await confirm_password(
            self._attempts, self._hasher, user, command.current_password, "Current password is wrong"
        )
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
            await uow.mfa.end_challenges(user.id)  # a log-in waiting for its code was on the old password
            await record(
                uow,
                AuditAction.PASSWORD_CHANGED,
                at=now,
                user_id=user.id,
                actor=command.actor,
                details={"sessions_ended": ended},
            )
            await send_notice(
                uow, Notice.PASSWORD_CHANGED, recipient=user.email.value, username=user.username.value, at=now
            )
            await uow.commit()
