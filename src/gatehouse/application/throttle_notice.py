"""Telling an account once per window that its log-ins are being refused."""

from gatehouse.application.credential_checks import LOGIN_WINDOW_SECONDS
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.counters import Counters
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.ports.users import UserQueries
from gatehouse.application.security_notices import Notice, send_notice


class ThrottleNotice:
    """On a refusal by the log-in throttle, the account the identifier names (if any) gets one
    `Security notice: log-ins throttled` per window, however many refusals follow."""

    def __init__(self, uow: UnitOfWork, queries: UserQueries, counters: Counters, clock: Clock) -> None:
        self._uow = uow
        self._queries = queries
        self._counters = counters
        self._clock = clock

    async def throttled(self, identifier: str) -> None:
        seen = await self._counters.increment(f"throttle-notice:{identifier}", LOGIN_WINDOW_SECONDS)
        if seen.count != 1:
            return
        user = await self._queries.find_for_login(identifier)
        if user is None:
            return
        async with self._uow as uow:
            now = self._clock.now()
            await send_notice(uow, Notice.LOGINS_THROTTLED, user, at=now)
            await uow.commit()
