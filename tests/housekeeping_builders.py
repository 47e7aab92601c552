"""Builders of rows that have served their purpose or not, planted through the ports' units of work.

Shared by the unit tests (in-memory), the contract tests (every engine) and the end-to-end tests
(the real container's unit of work).
"""

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from gatehouse.application.ports.credentials import NewAccountToken, TokenPurpose
from gatehouse.application.ports.idempotency import StoredResponse
from gatehouse.application.ports.mail import MailMessage, MailQueue
from gatehouse.application.ports.sessions import NewSession
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.ports.users import NewUser
from gatehouse.domain.user import Session, User
from gatehouse.domain.values import Email, Role, Username

NewUow = Callable[[], UnitOfWork]
HASH = "$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$aGFzaA"
SCOPE = "user:1"


def fingerprint(name: str) -> str:
    """A 64-hex-digit fingerprint, one per `name`."""
    return hashlib.sha256(name.encode()).hexdigest()


async def plant_user(new_uow: NewUow, name: str, created_at: datetime) -> User:
    """An account named `name` (letters, digits and underscores), email `<name>@example.com`."""
    new = NewUser(
        email=Email(f"{name.lower()}@example.com"),
        username=Username(name),
        full_name=None,
        role=Role.USER,
        is_active=True,
        password_hash=HASH,
        created_at=created_at,
    )
    async with new_uow() as uow:
        user = await uow.users.add(new)
        await uow.commit()
    return user


async def plant_session(
    new_uow: NewUow,
    user: User,
    *,
    created_at: datetime,
    expires_at: datetime,
    revoked_at: datetime | None = None,
    refresh_tokens: tuple[str, ...] = (),
) -> Session:
    """A session with refresh tokens (by name), the first of them spent; revoked if `revoked_at`."""
    async with new_uow() as uow:
        session = await uow.sessions.add(NewSession(user.id, created_at, expires_at, None, None))
        for name in refresh_tokens:
            await uow.sessions.add_refresh_token(session.id, fingerprint(name), expires_at)
        if refresh_tokens:
            await uow.sessions.spend_refresh_token(fingerprint(refresh_tokens[0]), created_at)
        if revoked_at is not None:
            await uow.sessions.revoke(session.id, revoked_at)
        await uow.commit()
    return session


async def session_stored(new_uow: NewUow, session_id: int) -> bool:
    async with new_uow() as uow:
        return await uow.sessions.get(session_id) is not None


async def plant_account_token(
    new_uow: NewUow,
    name: str,
    *,
    user_id: int | None,
    created_at: datetime,
    expires_at: datetime,
    spent_at: datetime | None = None,
) -> None:
    """A reset token named `name`; issuing it kills the user's older unspent reset tokens."""
    async with new_uow() as uow:
        await uow.account_tokens.issue(
            NewAccountToken(
                purpose=TokenPurpose.RESET_PASSWORD,
                user_id=user_id,
                email=f"{name}@example.com",
                fingerprint=fingerprint(name),
                created_at=created_at,
                expires_at=expires_at,
            )
        )
        if spent_at is not None:
            token = await uow.account_tokens.find(TokenPurpose.RESET_PASSWORD, fingerprint(name))
            assert token is not None
            assert await uow.account_tokens.spend(token.id, spent_at)
        await uow.commit()


async def plant_idempotency_record(
    new_uow: NewUow, key: str, started_at: datetime, *, answered: bool
) -> None:
    async with new_uow() as uow:
        await uow.idempotency.start(SCOPE, key, "f" * 64, started_at, replacing=None)
        if answered:
            await uow.idempotency.finish(SCOPE, key, StoredResponse(201, b"{}", "/api/v1/users/1"))
        await uow.commit()


async def idempotency_stored(new_uow: NewUow, key: str) -> bool:
    async with new_uow() as uow:
        return await uow.idempotency.get(SCOPE, key) is not None


async def plant_mail(new_uow: NewUow, subject: str, created_at: datetime, *, deliver: bool = True) -> None:
    async with new_uow() as uow:
        message = MailMessage(recipient=f"{subject}@example.com", subject=subject, body="a link")
        await uow.outbox.add(message, now=created_at, deliver=deliver)
        await uow.commit()


async def plant_sent_mail(new_uow: NewUow, queue: MailQueue, subject: str, sent_at: datetime) -> None:
    """A mail queued a minute before `sent_at` and sent then. Plant it before any pending mail
    queued earlier: its claim would lease that one too."""
    created_at = sent_at - timedelta(minutes=1)
    await plant_mail(new_uow, subject, created_at)
    claimed = await queue.claim(now=created_at, lease_until=sent_at, limit=100)
    [mail] = [m for m in claimed if m.message.subject == subject]
    await queue.mark_sent(mail.id, sent_at)
