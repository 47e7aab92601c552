"""A signed-in user changes their own password."""

from dataclasses import dataclass, field

from gatehouse.application.attempts import GuardedAttempts
from gatehouse.application.credential_checks import (
    LOGIN_WINDOW_SECONDS,
    confirm_password,
    new_password_hash,
    replace_password,
    session_still_live,
    still_there,
)
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.counters import Counters
from gatehouse.application.ports.credentials import PasswordHasher
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.ports.users import UserQueries
from gatehouse.domain.passwords import PasswordPolicy
from gatehouse.domain.policy import Actor


class ChangePassword:
    """Change one's own password.

    - A wrong current password is refused with 403 (the caller is authenticated). It counts as a
      failed log-in of the account's email (§5's throttle): a stolen session can't be used to guess
      the password without limit; past the limit, 429.
    - The new password must satisfy the password policy (422).
    - Every session of the user ends, this one included, and any log-in waiting for its second
      factor; the account is told (a security notice).
    - The new hash is written under the account's lock, and only while the caller's session is
      live: a change or reset that committed while this one checked the current password ended
      it (401), and its password stands. Of simultaneous changes on one session, one wins.
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
        command.actor.require_session("change a password")
        user = still_there(await self._queries.get(command.actor.user_id))
        await confirm_password(
            self._attempts, self._hasher, user, command.current_password, "Current password is wrong"
        )
        new_hash = await new_password_hash(self._policy, self._hasher, user, command.new_password)
        now = self._clock.now()
        async with self._uow as uow:
            still_there(await uow.users.lock(user.id, exclusive=True))
            await session_still_live(uow, command.actor, now)
            await replace_password(uow, user, new_hash, now, AuditAction.PASSWORD_CHANGED, command.actor)
            await uow.commit()
