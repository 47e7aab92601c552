"""Email verification, password reset and session use cases wired to the in-memory adapters, with
helpers to read mails and events.

Imported explicitly by the tests of those use cases; the fixtures they build on (`database`, `clock`,
`hasher`, `counters`, `accounts`) come from this folder's conftest.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from gatehouse.adapters.memory.fakes import FixedClock
from gatehouse.adapters.memory.queries import InMemorySessionQueries, InMemoryUserQueries
from gatehouse.adapters.memory.state import StoredMail
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.adapters.random_tokens import RandomSecretTokens
from gatehouse.application.account_mail import AccountLinks, AccountMailer
from gatehouse.application.ports.audit import AuditAction, AuditEvent
from gatehouse.application.ports.counters import Counters
from gatehouse.application.ports.credentials import AccountToken, PasswordHasher, TokenPurpose
from gatehouse.application.use_cases.email_verification import (
    ResendVerification,
    ResendVerificationByEmail,
    VerifyEmail,
)
from gatehouse.application.use_cases.my_sessions import ListMySessions, RevokeAllSessions, RevokeMySession
from gatehouse.application.use_cases.password_reset import ConfirmPasswordReset, RequestPasswordReset
from gatehouse.domain.passwords import ClassicPasswordPolicy
from tests.unit.application.conftest import PUBLIC_URL

NEW_PASSWORD = "Fresh456Pass"
VERIFY_PAGE = "verify-email"
RESET_PAGE = "reset-password"
LINK = re.compile(re.escape(PUBLIC_URL) + r"/account/(verify-email|reset-password)\?token=(\S+)")


@dataclass
class AccountCases:
    """Those use cases over one in-memory database, and what they left in it."""

    database: InMemoryDatabase
    clock: FixedClock
    secret_tokens: RandomSecretTokens
    mailer: AccountMailer
    verify: VerifyEmail
    resend: ResendVerification
    resend_by_email: ResendVerificationByEmail
    request_reset: RequestPasswordReset
    confirm_reset: ConfirmPasswordReset
    list_sessions: ListMySessions
    revoke_session: RevokeMySession
    revoke_all: RevokeAllSessions

    def mails(self, recipient: str | None = None) -> list[StoredMail]:
        """The stored mails in the order they were queued, optionally only those to `recipient`."""
        return [m for m in self.database.state.mails.values() if recipient in (None, m.recipient)]

    def events(self, action: AuditAction | None = None, user_id: int | None = None) -> list[AuditEvent]:
        """The committed audit events, oldest first, optionally filtered."""
        return [
            e
            for e in self.database.state.audit_events.values()
            if (action is None or e.action == action.value) and (user_id is None or e.user_id == user_id)
        ]

    def last_token(self, recipient: str, page: str = VERIFY_PAGE) -> str:
        """The token in the link of the newest mail to `recipient` that links to `page`."""
        for mail in reversed(self.mails(recipient)):
            found = LINK.search(mail.body)
            if found and found.group(1) == page:
                return unquote(found.group(2))
        raise AssertionError(f"no {page} link in any mail to {recipient}")

    def stored_token(self, token: str) -> AccountToken | None:
        """The token as stored (by its fingerprint); None when it never was."""
        return self.database.state.account_tokens.get(self.secret_tokens.fingerprint(token))

    def usable(self, token: str, purpose: TokenPurpose) -> bool:
        stored = self.stored_token(token)
        return stored is not None and stored.purpose is purpose and stored.is_usable(self.clock.now())

    async def confirm(self, token: str, new_password: str = NEW_PASSWORD) -> None:
        await self.confirm_reset.execute(ConfirmPasswordReset.Command(token=token, new_password=new_password))


def account_cases(
    database: InMemoryDatabase,
    clock: FixedClock,
    hasher: PasswordHasher,
    counters: Counters,
    uow_factory: Callable[[InMemoryDatabase], InMemoryUnitOfWork] = InMemoryUnitOfWork,
) -> AccountCases:
    """Wire the use cases; `uow_factory` lets a test watch what each unit of work does."""
    uow = uow_factory(database)
    queries = InMemoryUserQueries(database)
    secret_tokens = RandomSecretTokens()
    mailer = AccountMailer(secret_tokens, AccountLinks(PUBLIC_URL))
    return AccountCases(
        database=database,
        clock=clock,
        secret_tokens=secret_tokens,
        mailer=mailer,
        verify=VerifyEmail(uow, secret_tokens, clock),
        resend=ResendVerification(uow, queries, counters, clock, mailer),
        resend_by_email=ResendVerificationByEmail(uow, counters, clock, mailer),
        request_reset=RequestPasswordReset(uow, counters, clock, mailer),
        confirm_reset=ConfirmPasswordReset(uow, secret_tokens, hasher, ClassicPasswordPolicy(), clock),
        list_sessions=ListMySessions(InMemorySessionQueries(database), clock),
        revoke_session=RevokeMySession(uow, clock),
        revoke_all=RevokeAllSessions(uow, clock),
    )
