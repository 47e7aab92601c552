"""Recover a forgotten password: ask for a reset link, then set a new password with it."""

from dataclasses import dataclass, field
from datetime import datetime

from gatehouse.application.audit_log import record
from gatehouse.application.credential_checks import new_password_hash, replace_password
from gatehouse.application.errors import InvalidTokenError
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.credentials import AccountToken, PasswordHasher, SecretTokens, TokenPurpose
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.use_cases.email_verification import MailByAddress
from gatehouse.domain.passwords import PasswordPolicy
from gatehouse.domain.user import User
from gatehouse.domain.values import Email

MAX_REQUESTS = 3
INVALID = "The reset link is invalid, already used or expired"


class RequestPasswordReset(MailByAddress):
    """Send a password-reset mail.

    - The answer and the work are the same whether or not an account has the email: the same
      look-up, token write, outbox write and audit event (for an unknown or deactivated account the
      token can never be used and the mail is stored as suppressed, never sent).
    - An existing active account is sent a mail with a link valid for 30 minutes; older reset
      links stop working.
    - More than 3 requests an hour for one submitted email: 429.
    """

    THROTTLE = "password-reset"
    LIMIT = MAX_REQUESTS

    async def _send(self, uow: UnitOfWork, user: User | None, address: Email, now: datetime) -> None:
        target = user if user is not None and user.is_active else None
        await self.mailer.send_reset(uow, target, address.value, now)
        await record(
            uow,
            AuditAction.PASSWORD_RESET_REQUESTED,
            at=now,
            user_id=user.id if user else None,
            details={"email": address.value, "mail_sent": target is not None},
        )


@dataclass(frozen=True, slots=True)
class ConfirmPasswordReset:
    """Set a new password with the token from a reset mail.

    - A bad, spent, replaced or expired (30 min) token: 400.
    - The password policy applies (422), and a rejected password leaves the token unspent.
    - The token is spent, the user's other reset tokens die, every session and API token of the user ends,
      and the address the mail reached counts as verified.
    - A log-in waiting for its second factor dies; MFA itself stays on.
    - `auth.password_reset` is recorded, and the account told (a security notice).
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        token: str = field(repr=False)
        new_password: str = field(repr=False)

    uow: UnitOfWork
    tokens: SecretTokens
    hasher: PasswordHasher
    policy: PasswordPolicy
    clock: Clock

    async def execute(self, command: Command) -> None:
        fingerprint = self.tokens.fingerprint(command.token)
        async with self.uow as uow:
            token, user = await self._usable(uow, fingerprint)
        new_hash = await new_password_hash(self.policy, self.hasher, user, command.new_password)
        async with self.uow as uow:
            token, user = await self._usable(uow, fingerprint)
            now = self.clock.now()
            if not await uow.account_tokens.spend(token.id, now):
                raise InvalidTokenError(INVALID)
            await uow.account_tokens.revoke_all(TokenPurpose.RESET_PASSWORD, user.id, now)
            if not user.email_verified:
                await uow.users.update(
                    user.changed(now, email_verified=True), fields=("email_verified",), expected_versions=None
                )
            await replace_password(uow, user, new_hash, now, AuditAction.PASSWORD_RESET)
            await uow.api_tokens.revoke_all(user.id, now)  # a reset is for a lost password: all go
            await uow.commit()

    async def _usable(self, uow: UnitOfWork, fingerprint: str) -> tuple[AccountToken, User]:
        now = self.clock.now()
        token = await uow.account_tokens.find(TokenPurpose.RESET_PASSWORD, fingerprint)
        if token is None or token.user_id is None or not token.is_usable(now):
            raise InvalidTokenError(INVALID)
        user = await uow.users.get(token.user_id)
        if user is None or not user.is_active or user.email.value != token.email:
            raise InvalidTokenError(INVALID)
        return token, user
