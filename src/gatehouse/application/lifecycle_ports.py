"""Ports of the account lifecycle: the mail outbox and its transport, one-time tokens, the audit trail."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from gatehouse.application.order_ports import KeysetPage


@dataclass(frozen=True, slots=True)
class MailMessage:
    """A `text/plain` mail; its body may hold a one-time link, so it never reaches a repr or a log."""

    recipient: str
    subject: str
    body: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class PendingMail:
    """A mail of the outbox claimed for one delivery attempt."""

    id: int
    message: MailMessage
    created_at: datetime
    attempts: int


class MailOutbox(Protocol):
    """Mail written inside a unit of work: it commits or rolls back with the change that caused it."""

    async def add(self, message: MailMessage, *, now: datetime, deliver: bool = True) -> None:
        """Queue `message`. `deliver=False` stores it as suppressed: the same write, never sent
        (so a request about an unknown address does the same work as one about a known one)."""
        ...


class MailQueue(Protocol):
    """The relay's side of the outbox; each method is its own short transaction."""

    async def has_due(self, now: datetime) -> bool:
        """Whether a mail waits for an attempt now (a cheap read, so idle polling costs little)."""
        ...

    async def claim(self, *, now: datetime, lease_until: datetime, limit: int) -> Sequence[PendingMail]:
        """Take up to `limit` due mails for this sender until `lease_until`; no other sender gets them
        meanwhile (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on SQLite)."""
        ...

    async def mark_sent(self, mail_id: int, now: datetime) -> None:
        """Done: the body (and the link in it) is erased."""
        ...

    async def retry_later(self, mail_id: int, *, retry_at: datetime, error: str) -> None: ...

    async def give_up(self, *, created_before: datetime, now: datetime) -> int:
        """Mails still unsent that were queued before `created_before` are dropped (bodies erased)."""
        ...

    async def depth(self) -> int:
        """Mails waiting to be sent."""
        ...


class MailTransport(Protocol):
    """Hands a mail to the world (an SMTP server, a folder of `.eml` files)."""

    async def send(self, mail: PendingMail) -> None:
        """Raises `MailDeliveryError` when this attempt failed; the mail is retried later."""
        ...


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose name, not a secret


@dataclass(frozen=True, slots=True)
class AccountToken:
    """A one-time token as stored: known only by its fingerprint."""

    id: int
    purpose: TokenPurpose
    user_id: int | None
    email: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None

    def is_usable(self, now: datetime) -> bool:
        return self.user_id is not None and self.used_at is None and now < self.expires_at


class AccountTokenRepository(Protocol):
    """One-time tokens inside a unit of work."""

    async def issue(
        self,
        *,
        purpose: TokenPurpose,
        user_id: int | None,
        email: str,
        fingerprint: str,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        """Store a new token; the user's older unused tokens of this purpose die. `user_id=None`
        stores a token that can never be used (the same write for an unknown address)."""
        ...

    async def find(self, purpose: TokenPurpose, fingerprint: str) -> AccountToken | None: ...

    async def spend(self, token_id: int, now: datetime) -> bool:
        """Mark it used; False when it already was (two racing confirmations can't both win)."""
        ...

    async def revoke_all(self, purpose: TokenPurpose, user_id: int, now: datetime) -> None: ...


class SecretTokens(Protocol):
    """Random one-time tokens and the fingerprints they are stored as."""

    def new(self) -> tuple[str, str]:
        """A fresh token (≥ 32 random bytes, URL-safe) and its fingerprint."""
        ...

    def fingerprint(self, token: str) -> str: ...


class AuditAction(StrEnum):
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_DEACTIVATED = "user.deactivated"
    USER_DELETED = "user.deleted"
    LOGIN_SUCCEEDED = "auth.login_succeeded"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    REFRESH_REUSE_DETECTED = "auth.refresh_reuse_detected"
    PASSWORD_CHANGED = "auth.password_changed"  # noqa: S105 - an action name
    PASSWORD_RESET_REQUESTED = "auth.password_reset_requested"  # noqa: S105
    PASSWORD_RESET = "auth.password_reset"  # noqa: S105
    EMAIL_VERIFIED = "auth.email_verified"
    SESSION_REVOKED = "session.revoked"
    ORDER_CREATED = "order.created"
    ORDER_STATUS_CHANGED = "order.status_changed"
    ORDER_DELETED = "order.deleted"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where the current request came from: stamped on every audit event."""

    ip: str | None = None
    request_id: str | None = None


class OriginSource(Protocol):
    def current(self) -> Origin: ...


@dataclass(frozen=True, slots=True)
class NewAuditEvent:
    """`details` never hold a password, a hash or a token."""

    at: datetime
    action: AuditAction
    user_id: int | None
    actor_id: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime
    action: str
    actor_id: int | None
    user_id: int | None
    ip: str | None
    request_id: str | None
    details: Mapping[str, Any]


class AuditTrail(Protocol):
    """Events written inside a unit of work: no change without its event, no event without its change."""

    async def record(self, event: NewAuditEvent) -> None: ...


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Newest first: up to `limit` events with an id below `before_id`, matching every filter given."""

    limit: int = 50
    before_id: int | None = None
    action: AuditAction | None = None
    user_id: int | None = None
    since: datetime | None = None


class AuditQueries(Protocol):
    async def page(self, query: AuditQuery) -> KeysetPage[AuditEvent]: ...

    async def prune(self, before: datetime) -> int:
        """Delete events older than `before`; the number deleted."""
        ...
