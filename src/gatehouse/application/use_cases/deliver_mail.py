"""Deliver the mail waiting in the outbox: the relay's one step, run by the server and the CLI."""

from dataclasses import dataclass, field
from datetime import timedelta

from gatehouse.application.errors import MailDeliveryError
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.mail import MailQueue, MailTransport

GIVE_UP_AFTER = timedelta(hours=24)
LEASE = timedelta(seconds=60)
MAX_RETRY_DELAY_S = 60


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    # Why attempts failed, each reason once (the transport's words: server, cause, no body, no
    # password). For the log and the console; two reports with the same counts compare equal.
    errors: tuple[str, ...] = field(default=(), compare=False)


def retry_delay(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s, 40 s, then every minute: never less often than once a minute."""
    return timedelta(seconds=min(MAX_RETRY_DELAY_S, 5 * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True, slots=True)
class DeliverPendingMail:
    """Send each due mail once.

    - A mail is claimed under a 60 s lease, so no two senders (workers, the CLI) send it at once.
    - A failed attempt is retried after 5, 10, 20, 40 s and then every minute, for 24 hours from
      when the mail was queued; after that it is dropped.
    - A sent or dropped mail's body (with its one-time link) is erased.
    """

    queue: MailQueue
    transport: MailTransport
    clock: Clock
    batch: int = 20

    async def execute(self) -> DeliveryReport:
        now = self.clock.now()
        if not await self.queue.has_due(now):
            return DeliveryReport()
        dropped = await self.queue.give_up(created_before=now - GIVE_UP_AFTER, now=now)
        claimed = await self.queue.claim(now=now, lease_until=now + LEASE, limit=self.batch)
        sent = failed = 0
        errors: list[str] = []
        for mail in claimed:
            try:
                await self.transport.send(mail)
            except MailDeliveryError as exc:
                retry_at = self.clock.now() + retry_delay(mail.attempts)
                await self.queue.retry_later(mail.id, retry_at=retry_at, error=exc.message)
                failed += 1
                if exc.message not in errors:
                    errors.append(exc.message)
            else:
                await self.queue.mark_sent(mail.id, self.clock.now())
                sent += 1
        return DeliveryReport(sent=sent, failed=failed, dropped=dropped, errors=tuple(errors))
