"""The mails of the account lifecycle, and the one-time tokens their links carry."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from gatehouse.application.ports.credentials import NewAccountToken, SecretTokens, TokenPurpose
from gatehouse.application.ports.mail import MailMessage
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.domain.user import User

VERIFY_TTL = timedelta(hours=24)
RESET_TTL = timedelta(minutes=30)
RESET_TTL_MINUTES = int(RESET_TTL.total_seconds() // 60)

VERIFY_TEXT = """Hello {username},

please confirm that {email} is your email address by opening this link:

{link}

The link works once and expires in 24 hours. If you did not create an account, ignore this mail.
"""

RESET_TEXT = """Hello {username},

someone (hopefully you) asked to reset the password of your account. Choose a new one here:

{link}

The link works once and expires in {minutes} minutes. Every session of the account ends when the
password is reset. If you did not ask for this, ignore this mail: your password stays as it is.
"""


@dataclass(frozen=True, slots=True)
class AccountLinks:
    """Links into the account pages, under `GATEHOUSE_PUBLIC_URL`."""

    public_url: str

    def verify_email(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/account/verify-email?token={quote(token)}"

    def reset_password(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/account/reset-password?token={quote(token)}"


class AccountMailer:
    """Issues a token and queues its mail in the caller's unit of work (both commit or neither)."""

    def __init__(self, tokens: SecretTokens, links: AccountLinks) -> None:
        self.tokens = tokens
        self._links = links

    async def send_verification(self, uow: UnitOfWork, user: User, now: datetime) -> None:
        """Older verification tokens of the user die; the new one is bound to the current address."""
        await self.send_verification_to(uow, user, user.email.value, now)

    async def send_verification_to(
        self, uow: UnitOfWork, user: User | None, email: str, now: datetime
    ) -> None:
        """As `send_verification`; for `user=None` (no account to verify at `email`) the same writes
        happen, but the token can never be used and the mail is stored as suppressed."""
        token = await self._issue(uow, TokenPurpose.VERIFY_EMAIL, VERIFY_TTL, user, email, now)
        link = self._links.verify_email(token)
        body = VERIFY_TEXT.format(username=user.username.value if user else "", email=email, link=link)
        await _queue(
            uow, MailMessage(recipient=email, subject="Confirm your email address", body=body), user, now
        )

    async def send_reset(self, uow: UnitOfWork, user: User | None, email: str, now: datetime) -> None:
        """For `user=None` (no active account has `email`) the same writes happen, but the token can
        never be used and the mail is stored as suppressed: the request does the same work either way."""
        token = await self._issue(uow, TokenPurpose.RESET_PASSWORD, RESET_TTL, user, email, now)
        link = self._links.reset_password(token)
        username = user.username.value if user else ""
        body = RESET_TEXT.format(username=username, link=link, minutes=RESET_TTL_MINUTES)
        await _queue(uow, MailMessage(recipient=email, subject="Reset your password", body=body), user, now)

    async def _issue(
        self,
        uow: UnitOfWork,
        purpose: TokenPurpose,
        ttl: timedelta,
        user: User | None,
        email: str,
        now: datetime,
    ) -> str:
        """A new token of `purpose` for `user` at `email`, stored by its fingerprint."""
        token, fingerprint = self.tokens.new()
        user_id = user.id if user else None
        await uow.account_tokens.issue(NewAccountToken(purpose, user_id, email, fingerprint, now, now + ttl))
        return token


async def _queue(uow: UnitOfWork, message: MailMessage, user: User | None, now: datetime) -> None:
    """Into the outbox; stored as suppressed, never sent, when there is no account to mail."""
    await uow.outbox.add(message, now=now, deliver=user is not None)
