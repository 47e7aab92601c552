"""Replace (PUT) or partially update (PATCH) an account."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from gatehouse.application.account_mail import AccountMailer
from gatehouse.application.audit_log import record
from gatehouse.application.errors import NotFoundError
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.security_notices import Notice, send_notice
from gatehouse.application.unset import UNSET, Unset
from gatehouse.application.use_cases.register_user import ensure_unique
from gatehouse.domain.policy import (
    Actor,
    check_can_change_email,
    check_can_patch,
    check_can_replace,
    check_can_see,
    check_keeps_an_admin,
)
from gatehouse.domain.user import User
from gatehouse.domain.values import Email, FullName, Username, parse_role


async def load_visible(uow: UnitOfWork, actor: Actor, user_id: int) -> User:
    """The target account, after the visibility rule: 403 for a plain user's other ids, then 404."""
    check_can_see(actor, user_id)
    user = await uow.users.get(user_id)
    if user is None:
        raise NotFoundError(f"User with id {user_id} not found")
    return user


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """Stores a changed account with what follows from the change, in the caller's transaction.

    - A new email address is unverified, and a verification mail goes to it; the old address is
      told (a security notice).
    - A deactivation ends every session and API token of the account (a reactivation revives none), and any
      log-in waiting for its second factor.
    - Audit: `user.role_changed`, `user.deactivated`, and `user.updated` for anything else.
    """

    mailer: AccountMailer

    async def save(
        self, uow: UnitOfWork, actor: Actor, user: User, changed: User, expected: Sequence[int] | None
    ) -> User:
        now = changed.updated_at
        new_email = changed.email != user.email
        if new_email:
            check_can_change_email(actor)
            changed.email_verified = False
        fields = [f for f in (*TRACKED, "email_verified") if getattr(user, f) != getattr(changed, f)]
        saved = await uow.users.update(changed, fields=fields, expected_versions=expected)
        if new_email:
            await self.mailer.send_verification(uow, saved, now)
            # The old address is told, with no link: if it was not the owner's doing, they know.
            await send_notice(uow, Notice.EMAIL_CHANGED, user, at=now)
        # The events say what this change did (`changed`), not what another one running beside it
        # may have written to the row meanwhile (`saved` is the row as stored).
        rest = [f for f in TRACKED if f in fields]
        recorded = False
        if user.role != changed.role:
            rest.remove("role")
            details = {"from": user.role.value, "to": changed.role.value}
            await record(
                uow, AuditAction.USER_ROLE_CHANGED, at=now, user_id=user.id, actor=actor, details=details
            )
            recorded = True
        if user.is_active and not changed.is_active:
            rest.remove("is_active")
            # Every session ends with the deactivation: a reactivation does not revive them.
            ended = await uow.sessions.revoke_all(user.id, now)
            await uow.api_tokens.revoke_all(user.id, now)  # and they stay dead after a reactivation
            await uow.mfa.end_challenges(user.id)
            await record(
                uow,
                AuditAction.USER_DEACTIVATED,
                at=now,
                user_id=user.id,
                actor=actor,
                details={"sessions_ended": ended},
            )
            recorded = True
        if rest or not recorded:
            await record(
                uow, AuditAction.USER_UPDATED, at=now, user_id=user.id, actor=actor, details={"fields": rest}
            )
        return saved


TRACKED = ("email", "username", "full_name", "role", "is_active")


class AccountUpdate:
    """What ReplaceUser and PatchUser share: in one transaction, the account the actor may see,
    its changed version (the subclass's checks, then `User.changed`), saved under `If-Match`."""

    @dataclass(frozen=True, kw_only=True)
    class Command:
        actor: Actor
        user_id: int
        expected_versions: Sequence[int] | None = None

    def __init__(self, uow: UnitOfWork, clock: Clock, mailer: AccountMailer) -> None:
        self._uow = uow
        self._clock = clock
        self._changes = AccountChanges(mailer)

    async def _update(self, command: Command, change: Callable[[UnitOfWork, User], Awaitable[User]]) -> User:
        async with self._uow as uow:
            user = await load_visible(uow, command.actor, command.user_id)
            changed = await change(uow, user)
            saved = await self._changes.save(uow, command.actor, user, changed, command.expected_versions)
            await uow.commit()
        return saved


class ReplaceUser(AccountUpdate):
    """Replace an account's email, username and full name (all required).

    - The account itself and admins only (403).
    - Email and username stay unique (409); `If-Match` must name the current version (412).
    - A new email address is unverified until confirmed; a verification mail goes to it.
    """

    @dataclass(frozen=True, kw_only=True)
    class Command(AccountUpdate.Command):
        email: str
        username: str
        full_name: str | None

    async def execute(self, command: Command) -> User:
        email = Email(command.email)
        username = Username(command.username)
        full_name = FullName(command.full_name) if command.full_name is not None else None

        async def change(uow: UnitOfWork, user: User) -> User:
            check_can_replace(command.actor, user.id)
            await ensure_unique(uow, email=email, username=username, user_id=user.id)
            return user.changed(self._clock.now(), email=email, username=username, full_name=full_name)

        return await self._update(command, change)


class PatchUser(AccountUpdate):
    """Change only the fields sent.

    - The account itself may set email, username and full_name; an admin any field;
      a moderator may set `is_active` of a `user`. A field you may not set: 403.
    - The last active admin can't be demoted or deactivated (409).
    - Email and username stay unique (409); `If-Match` must name the current version (412).
    - A new email address is unverified until confirmed; a verification mail goes to it.
    """

    @dataclass(frozen=True, kw_only=True)
    class Command(AccountUpdate.Command):
        email: str | Unset = UNSET
        username: str | Unset = UNSET
        full_name: str | None | Unset = UNSET
        role: str | Unset = UNSET
        is_active: bool | Unset = UNSET

    FIELDS = ("email", "username", "full_name", "role", "is_active")

    async def execute(self, command: Command) -> User:
        changes = self._parse(command)

        async def change(uow: UnitOfWork, user: User) -> User:
            check_can_patch(command.actor, user, changes.keys())
            email, username = changes.get("email"), changes.get("username")
            await ensure_unique(
                uow,
                email=email if isinstance(email, Email) else None,
                username=username if isinstance(username, Username) else None,
                user_id=user.id,
            )
            changed = user.changed(self._clock.now(), **changes)
            if "role" in changes or "is_active" in changes:
                check_keeps_an_admin(user, changed, await uow.users.count_active_admins())
            return changed

        return await self._update(command, change)

    def _parse(self, command: Command) -> dict[str, object]:
        """The sent fields as validated values, keyed by field name."""
        changes: dict[str, object] = {}
        if command.email is not UNSET:
            changes["email"] = Email(command.email)
        if command.username is not UNSET:
            changes["username"] = Username(command.username)
        if command.full_name is not UNSET:
            name = command.full_name
            changes["full_name"] = FullName(name) if isinstance(name, str) else None
        if command.role is not UNSET:
            changes["role"] = parse_role(command.role)
        if command.is_active is not UNSET:
            changes["is_active"] = command.is_active
        return changes
