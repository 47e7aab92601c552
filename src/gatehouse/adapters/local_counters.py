"""Fixed-window counters held in this process: the default when no Redis is configured."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.counters import Counters, Reservation, WindowCount

PRUNE_EVERY = 1024


@dataclass(slots=True)
class _Window:
    ends_at: datetime
    count: int


class InProcessCounters(Counters):
    """A window starts at a key's first increment and lasts `window_seconds`.

    Exact within one process; each worker of several counts alone. Expired windows are
    dropped as new ones are made, so memory stays bounded by the live keys.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._running: dict[str, int] = {}  # reservations granted and not yet settled, per key
        self._writes = 0

    async def increment(self, key: str, window_seconds: int) -> WindowCount:
        now = self._clock.now()
        window = self._live(key, now)
        if window is None:
            window = self._windows[key] = _Window(now + timedelta(seconds=window_seconds), 0)
            self._prune(now)
        window.count += 1
        return WindowCount(window.count, _seconds_until(window.ends_at, now))

    async def reserve(self, key: str, limit: int, window_seconds: int) -> Reservation:
        # No await between the read and the write: atomic on the event loop.
        now = self._clock.now()
        window = self._live(key, now)
        counted = window.count if window is not None else 0
        if window is not None and counted >= limit:
            return Reservation(granted=False, reset_after=_seconds_until(window.ends_at, now))
        running = self._running.get(key, 0)
        if counted + running >= limit:
            return Reservation(granted=False)
        self._running[key] = running + 1
        return Reservation(granted=True)

    async def settle(self, key: str, *, counted: bool, window_seconds: int) -> None:
        running = self._running.pop(key, 0) - 1
        if running > 0:
            self._running[key] = running
        if counted:
            await self.increment(key, window_seconds)

    def _live(self, key: str, now: datetime) -> _Window | None:
        window = self._windows.get(key)
        if window is not None and window.ends_at <= now:
            del self._windows[key]
            return None
        return window

    def _prune(self, now: datetime) -> None:
        self._writes += 1
        if self._writes % PRUNE_EVERY == 0:
            for key in [k for k, w in self._windows.items() if w.ends_at <= now]:
                del self._windows[key]


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))
