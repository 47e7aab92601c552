"""Create an account: a public sign-up, or an admin's creation with a chosen role."""

from dataclasses import dataclass, field

from gatehouse.application.account_mail import AccountMailer
from gatehouse.application.audit_log import record
from gatehouse.application.errors import ConflictError
from gatehouse.application.idempotency import AfterCreate
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.credentials import PasswordHasher
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.ports.users import NewUser
from gatehouse.domain.passwords import PasswordPolicy
from gatehouse.domain.policy import Actor, check_can_create_with
from gatehouse.domain.user import User
from gatehouse.domain.values import Email, FullName, RawPassword, Role, Username, parse_role


@dataclass(frozen=True, slots=True)
class RegisterUser:
    """Create an account.

    - Anyone may sign up; only an admin may also set `role` or `is_active` (else 403).
    - The email is stored lower-cased; email and username (regardless of case) are unique (409).
    - The password must satisfy the configured password policy (422); only its hash is stored.
    - A sign-up gets the `user` role and is active.
    - An account created by an admin (API or CLI) starts with a verified email; a sign-up starts
      unverified and is sent a verification mail, queued in the same transaction.
    - `user.created` is recorded in the audit trail in the same transaction.
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        email: str
        username: str
        password: str = field(repr=False)
        full_name: str | None = None
        role: str | None = None
        is_active: bool | None = None
        actor: Actor | None = None

    uow: UnitOfWork
    hasher: PasswordHasher
    policy: PasswordPolicy
    clock: Clock
    mailer: AccountMailer

    async def execute(self, command: Command, after_create: AfterCreate[User] | None = None) -> User:
        """`after_create` runs in the same transaction, after the account is written."""
        privileged = {name for name in ("role", "is_active") if getattr(command, name) is not None}
        check_can_create_with(command.actor, privileged)
        email = Email(command.email)
        username = Username(command.username)
        full_name = FullName(command.full_name) if command.full_name is not None else None
        role = parse_role(command.role) if command.role is not None else Role.USER
        password = RawPassword(command.password)
        self.policy.check(password, email=email, username=username)
        password_hash = await self.hasher.hash(password)
        by_admin = command.actor is not None and command.actor.is_admin
        now = self.clock.now()
        async with self.uow as uow:
            await ensure_unique(uow, email=email, username=username, user_id=None)
            user = await uow.users.add(
                NewUser(
                    email=email,
                    username=username,
                    full_name=full_name,
                    role=role,
                    is_active=command.is_active if command.is_active is not None else True,
                    password_hash=password_hash,
                    created_at=now,
                    email_verified=by_admin,
                )
            )
            if not by_admin:
                await self.mailer.send_verification(uow, user, now)
            await record(
                uow,
                AuditAction.USER_CREATED,
                at=now,
                user_id=user.id,
                actor=command.actor,
                details={"email": user.email.value, "username": user.username.value, "role": user.role.value},
            )
            if after_create is not None:
                await after_create(uow, user)
            await uow.commit()
        return user


async def ensure_unique(
    uow: UnitOfWork, *, email: Email | None, username: Username | None, user_id: int | None
) -> None:
    """409 when another account (not `user_id`) already has this email or username."""
    if email is not None:
        holder = await uow.users.get_by_email(email)
        if holder is not None and holder.id != user_id:
            raise ConflictError("Email is already registered")
    if username is not None:
        holder = await uow.users.get_by_username(username)
        if holder is not None and holder.id != user_id:
            raise ConflictError("Username is already taken")
