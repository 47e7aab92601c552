"""Guesses against a secret, bounded per key even when they arrive all at once."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from gatehouse.application.errors import RateLimitedError, ServiceUnavailableError
from gatehouse.application.ports.counters import Counters

THROTTLED = "Too many failed log-ins; try again later"
BUSY = "Too many log-ins of this account at once; try again shortly"


@dataclass(slots=True)
class Outcome:
    """Set `failed` inside the attempt when the guess was wrong: it is then counted."""

    failed: bool = False


class GuardedAttempts:
    """At most `limit` failed attempts per key in a window of `window_seconds`, under concurrency too.

    - An attempt takes a place before its secret is checked; the places are the failures counted
      in the window plus the attempts still running, so of any number of simultaneous attempts at
      most `limit` can fail before the rest are refused (429).
    - An attempt that finds every place taken by running attempts (not by failures) waits for
      them to settle, up to `wait_seconds`: simultaneous right answers all get through. One that
      still finds no place then is told to come back (503 with `Retry-After`), as when the
      hashing pool is full: nothing failed, so it is no throttle (429).
    - A right answer does not clear the failures before it: they count until the window ends.
    - `limit` 0 turns the guard off.
    """

    def __init__(
        self,
        counters: Counters,
        limit: int,
        window_seconds: int,
        *,
        wait_seconds: float = 5.0,
        poll_seconds: float = 0.02,
    ) -> None:
        self._counters = counters
        self._limit = limit
        self._window = window_seconds
        self._wait = wait_seconds
        self._poll = poll_seconds

    @asynccontextmanager
    async def attempt(self, key: str) -> AsyncIterator[Outcome]:
        outcome = Outcome()
        if not self._limit:
            yield outcome
            return
        await self._reserve(key)
        try:
            yield outcome
        finally:
            await self._counters.settle(key, counted=outcome.failed, window_seconds=self._window)

    async def _reserve(self, key: str) -> None:
        deadline = time.monotonic() + self._wait
        while True:
            place = await self._counters.reserve(key, self._limit, self._window)
            if place.granted:
                return
            if place.reset_after is not None:
                raise RateLimitedError(THROTTLED, place.reset_after)
            if time.monotonic() >= deadline:
                raise ServiceUnavailableError(BUSY, retry_after=1)
            await asyncio.sleep(self._poll)
