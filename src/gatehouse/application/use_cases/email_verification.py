"""Prove an email address: confirm a verification token, or ask for a new one."""

from dataclasses import dataclass, field
from datetime import datetime

from gatehouse.application.account_mail import AccountMailer
from gatehouse.application.audit_log import record
from gatehouse.application.credential_checks import still_there
from gatehouse.application.errors import (
    ConflictError,
    InvalidTokenError,
    RateLimitedError,
)
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.counters import Counters
from gatehouse.application.ports.credentials import SecretTokens, TokenPurpose
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.ports.users import UserQueries
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import User
from gatehouse.domain.values import Email

RESEND_WINDOW_SECONDS = 3600
MAX_RESENDS = 3
INVALID = "The verification link is invalid, already used or expired"


@dataclass(frozen=True, slots=True)
class VerifyEmail:
    """Confirm an email address with the token from a verification mail.

    - The account's `email_verified` becomes true; the token is spent.
    - A token that is unknown, spent, expired (24 h), replaced by a newer one, or sent to an
      address the account no longer has: 400.
    - `auth.email_verified` is recorded.
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        token: str = field(repr=False)

    uow: UnitOfWork
    tokens: SecretTokens
    clock: Clock

    async def execute(self, command: Command) -> None:
        fingerprint = self.tokens.fingerprint(command.token)
        now = self.clock.now()
        async with self.uow as uow:
            found = await uow.account_tokens.find(TokenPurpose.VERIFY_EMAIL, fingerprint)
            if found is None or found.user_id is None or not found.is_usable(now):
                raise InvalidTokenError(INVALID)
            user = await uow.users.get(found.user_id)
            if user is None or user.email.value != found.email:
                raise InvalidTokenError(INVALID)
            if not await uow.account_tokens.spend(found.id, now):
                raise InvalidTokenError(INVALID)
            if not user.email_verified:
                await uow.users.update(
                    user.changed(now, email_verified=True), fields=("email_verified",), expected_versions=None
                )
            await record(
                uow, AuditAction.EMAIL_VERIFIED, at=now, user_id=user.id, details={"email": found.email}
            )
            await uow.commit()


@dataclass(frozen=True, slots=True)
class ResendVerification:
    """Send the signed-in user a new verification mail.

    - Older verification links stop working.
    - Already verified: 409. A 4th resend within an hour (the sign-up mail does not count): 429.
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        actor: Actor

    uow: UnitOfWork
    queries: UserQueries
    counters: Counters
    clock: Clock
    mailer: AccountMailer

    async def execute(self, command: Command) -> None:
        user = still_there(await self.queries.get(command.actor.user_id))
        if user.email_verified:
            raise ConflictError("Email address is already verified")
        await throttle(self.counters, f"verify-resend:user:{user.id}")
        async with self.uow as uow:
            current = still_there(await uow.users.get(user.id))
            if current.email_verified:
                raise ConflictError("Email address is already verified")
            await self.mailer.send_verification(uow, current, self.clock.now())
            await uow.commit()


@dataclass(frozen=True, slots=True)
class MailByAddress:
    """A mail asked for with an email address alone (no token): the request is throttled per
    submitted address (`THROTTLE`: the key's prefix), then `_send` runs in one transaction with
    the account of that address, if any."""

    THROTTLE = ""
    LIMIT = MAX_RESENDS

    @dataclass(frozen=True, kw_only=True)
    class Command:
        email: str

    uow: UnitOfWork
    counters: Counters
    clock: Clock
    mailer: AccountMailer

    async def execute(self, command: Command) -> None:
        address = Email(command.email)
        await throttle(self.counters, f"{self.THROTTLE}:{address.value}", self.LIMIT)
        now = self.clock.now()
        async with self.uow as uow:
            await self._send(uow, await uow.users.get_by_email(address), address, now)
            await uow.commit()

    async def _send(self, uow: UnitOfWork, user: User | None, address: Email, now: datetime) -> None:
        raise NotImplementedError


class ResendVerificationByEmail(MailByAddress):
    """Send a new verification mail to an unverified account, knowing only its email.

    - The answer and the work are the same whatever the address: the same look-up, token write and
      outbox write in one transaction. Only an active, unverified account gets a mail (older
      verification links stop working); for an unknown, verified or deactivated account the token
      can never be used and the mail is stored as suppressed, never sent.
    - A 4th request within an hour for one submitted email: 429.
    """

    THROTTLE = "verify-resend:email"

    async def _send(self, uow: UnitOfWork, user: User | None, address: Email, now: datetime) -> None:
        waiting = user is not None and user.is_active and not user.email_verified
        await self.mailer.send_verification_to(uow, user if waiting else None, address.value, now)


async def throttle(counters: Counters, key: str, limit: int = MAX_RESENDS) -> None:
    """Count one request in this hour's window; the one past `limit` gets 429."""
    seen = await counters.increment(key, RESEND_WINDOW_SECONDS)
    if seen.count > limit:
        raise RateLimitedError("Too many requests for this account; try again later", seen.reset_after)
