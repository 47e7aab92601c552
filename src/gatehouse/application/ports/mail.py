"""Mail: the outbox written inside a unit of work, the relay's queue and the transport."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class MailMessage:
    """A `text/plain` mail; its body may hold a one-time link, so it never reaches a repr or a log."""

    recipient: str
    subject: str
    body: str = field(repr=False)

    def outbox_fields(self, now: datetime, *, deliver: bool) -> dict[str, Any]:
        """This mail as the outbox stores it when added at `now`: pending, or, when it must never
        be delivered, suppressed and without its body."""
        return {
            "recipient": self.recipient,
            "subject": self.subject,
            "body": self.body if deliver else "",
            "status": "pending" if deliver else "suppressed",
            "created_at": now,
            "next_attempt_at": now,
        }


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
