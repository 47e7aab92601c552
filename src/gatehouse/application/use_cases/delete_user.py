"""Delete an account together with its sessions (and, by cascade, everything it owns)."""

from collections.abc import Sequence
from dataclasses import dataclass

from gatehouse.application.audit_log import record
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.use_cases import OverUnitOfWork
from gatehouse.application.use_cases.update_user import load_visible
from gatehouse.domain.policy import Actor, check_can_delete, check_keeps_an_admin


class DeleteUser(OverUnitOfWork):
    """Delete an account.

    - Admins only (403); an unknown id is 404 for those who may read other accounts.
    - The last active admin can't be deleted (409).
    - `If-Match` must name the current version (412).
    - `user.deleted` is recorded; the account's earlier audit events are kept.
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        actor: Actor
        user_id: int
        expected_versions: Sequence[int] | None = None

    async def execute(self, command: Command) -> None:
        async with self.uow as uow:
            user = await load_visible(uow, command.actor, command.user_id)
            check_can_delete(command.actor)
            if user.is_active_admin:
                check_keeps_an_admin(user, None, await uow.users.count_active_admins())
            await uow.users.delete(user.id, expected_versions=command.expected_versions)
            await record(
                uow,
                AuditAction.USER_DELETED,
                at=self.clock.now(),
                user_id=user.id,
                actor=command.actor,
                details={"email": user.email.value, "username": user.username.value},
            )
            await uow.commit()
