"""In-memory twins of the mail outbox: mails added inside a unit of work, and the relay's queue."""

from collections.abc import Sequence
from datetime import datetime

from gatehouse.adapters.memory.state import OverDatabase, OverState, StoredMail
from gatehouse.application.ports.mail import MailMessage, MailOutbox, MailQueue, PendingMail


class InMemoryMailOutbox(OverState, MailOutbox):
    async def add(self, message: MailMessage, *, now: datetime, deliver: bool = True) -> None:
        self._s.mails[self._s.new_id("mails")] = StoredMail(**message.outbox_fields(now, deliver=deliver))


class InMemoryMailQueue(OverDatabase, MailQueue):
    """Works on the committed state of an `InMemoryDatabase` (each call is its own transaction)."""

    async def has_due(self, now: datetime) -> bool:
        return any(m.status == "pending" and m.next_attempt_at <= now for m in self._db.state.mails.values())

    async def claim(self, *, now: datetime, lease_until: datetime, limit: int) -> Sequence[PendingMail]:
        async with self._db.writer:
            return self._claim(now, lease_until, limit)

    def _claim(self, now: datetime, lease_until: datetime, limit: int) -> Sequence[PendingMail]:
        due = sorted(
            (
                mid
                for mid, m in self._db.state.mails.items()
                if m.status == "pending" and m.next_attempt_at <= now
            ),
            key=lambda mid: (self._db.state.mails[mid].next_attempt_at, mid),
        )[:limit]
        claimed = []
        for mid in due:
            mail = self._db.state.mails[mid]
            mail.attempts += 1
            mail.next_attempt_at = lease_until
            message = MailMessage(recipient=mail.recipient, subject=mail.subject, body=mail.body)
            claimed.append(
                PendingMail(id=mid, message=message, created_at=mail.created_at, attempts=mail.attempts)
            )
        return claimed

    async def mark_sent(self, mail_id: int, now: datetime) -> None:
        async with self._db.writer:
            mail = self._db.state.mails[mail_id]
            mail.status, mail.sent_at, mail.body, mail.last_error = "sent", now, "", None

    async def retry_later(self, mail_id: int, *, retry_at: datetime, error: str) -> None:
        async with self._db.writer:
            mail = self._db.state.mails[mail_id]
            mail.next_attempt_at, mail.last_error = retry_at, error[:500]

    async def give_up(self, *, created_before: datetime, now: datetime) -> int:
        async with self._db.writer:
            return self._give_up(created_before)

    def _give_up(self, created_before: datetime) -> int:
        stale = [
            m
            for m in self._db.state.mails.values()
            if m.status == "pending" and m.created_at < created_before
        ]
        for mail in stale:
            mail.status, mail.body = "dead", ""
        return len(stale)

    async def depth(self) -> int:
        return sum(1 for m in self._db.state.mails.values() if m.status == "pending")
