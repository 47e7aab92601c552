"""Telling an account once per window that its log-ins are being refused."""

from dataclasses import dataclass

from gatehouse.application.credential_checks import LOGIN_WINDOW_SECONDS
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.counters import Counters
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.ports.users import UserQueries
from gatehouse.application.security_notices import Notice, send_notice


@dataclass(frozen=True, slots=True)
class ThrottleNotice:
    """On a refusal by the log-in throttle, the account the identifier names (if any) gets one
    `Security notice: log-ins throttled` per window, however many refusals follow."""

    uow: UnitOfWork
    queries: UserQueries
    counters: Counters
    clock: Clock

    async def throttled(self, identifier: str) -> None:
        seen = await self.counters.increment(f"throttle-notice:{identifier}", LOGIN_WINDOW_SECONDS)
        if seen.count != 1:
            return
        user = await self.queries.find_for_login(identifier)
        if user is None:
            return
        async with self.uow as uow:
            now = self.clock.now()
            await send_notice(uow, Notice.LOGINS_THROTTLED, user, at=now)
            await uow.commit()
