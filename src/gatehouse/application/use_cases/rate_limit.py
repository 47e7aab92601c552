"""Per-client request budgets in fixed one-minute windows."""

from dataclasses import dataclass

from gatehouse.application.errors import CountersUnavailableError
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.counters import Counters

WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int


class CheckRateLimit:
    """Count one request of `client` and decide whether it may proceed.

    - Windows are whole clock minutes; `reset_after` is the seconds until the next one.
    - When the counter store is unreachable, requests are let through (fail open).
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        client: str  # whom the budget belongs to: the client IP

    def __init__(self, counters: Counters, clock: Clock, per_minute: int) -> None:
        self._counters = counters
        self._clock = clock
        self.limit = per_minute

    async def execute(self, command: Command) -> RateDecision:
        client = command.client
        seconds = int(self._clock.now().timestamp())
        window, reset_after = divmod(seconds, WINDOW_SECONDS)
        reset_after = WINDOW_SECONDS - reset_after
        try:
            count = (await self._counters.increment(f"rate:{client}:{window}", WINDOW_SECONDS)).count
        except CountersUnavailableError:
            return RateDecision(True, self.limit, self.limit, reset_after)
        return RateDecision(count <= self.limit, self.limit, max(0, self.limit - count), reset_after)
