"""The background mail relay: the server's third driver, running `DeliverPendingMail` in a loop.

Every worker runs one; the outbox's lease keeps them from sending the same mail twice. Each pass
is one cheap read when nothing is due, so polling every second costs next to nothing and a mail
reaches a reachable SMTP server within about a second of its commit.
"""

import asyncio
import logging
from collections.abc import Callable

from gatehouse.application.errors import ServiceUnavailableError
from gatehouse.application.use_cases.deliver_mail import DeliverPendingMail
from gatehouse.entrypoints.background import BackgroundLoop

log = logging.getLogger("gatehouse.mail")


class MailRelay(BackgroundLoop):
    name = "gatehouse-mail-relay"

    def __init__(self, deliver: Callable[[], DeliverPendingMail], interval_s: float = 1.0) -> None:
        super().__init__()
        self._deliver = deliver
        self._interval_s = interval_s

    async def _loop(self) -> None:
        while not self._stopping:
            busy = await self.run_once()
            if not busy:
                await asyncio.sleep(self._interval_s)

    async def run_once(self) -> bool:
        """One pass; True when it sent something (so the next pass follows at once)."""
        try:
            report = await self._deliver().execute()
        except ServiceUnavailableError:
            return False  # the database is down: reported once by the database adapter
        except Exception:
            log.exception("mail_relay_error", extra={"event": "mail_relay_error"})
            return False
        if report.sent or report.failed or report.dropped:
            fields: dict[str, object] = {
                "sent": report.sent,
                "failed": report.failed,
                "dropped": report.dropped,
            }
            if report.errors:  # why, in the transport's words: the server and the cause, never a body
                fields["errors"] = list(report.errors)
            log.log(
                logging.WARNING if report.failed else logging.INFO,
                "mail_delivery",
                extra={"event": "mail_delivery", **fields},
            )
        return report.sent > 0
