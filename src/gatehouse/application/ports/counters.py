"""Counters: fixed windows per key, and places for attempts whose outcome is pending."""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class WindowCount:
    count: int
    reset_after: int


@dataclass(frozen=True, slots=True)
class Reservation:
    """What `Counters.reserve` gave: a place, or why not (`reset_after` is set when exhausted)."""

    granted: bool
    reset_after: int | None = None

    @property
    def busy(self) -> bool:
        return not self.granted and self.reset_after is None


class Counters(Protocol):
    """Fixed-window counters keyed by string: the log-in throttle and the rate limit."""

    async def increment(self, key: str, window_seconds: int) -> WindowCount: ...

    async def reserve(self, key: str, limit: int, window_seconds: int) -> Reservation:
        """Take one of `limit` places for an attempt whose outcome is not known yet, atomically.

        The places are the key's window count (attempts that were counted) plus the attempts still
        running. Granted while both together stay under `limit`; `exhausted` (with the seconds until
        the window ends) once the counted ones alone reach it; otherwise `busy`: try again when
        a running attempt has settled. Every granted reservation is settled exactly once."""
        ...

    async def settle(self, key: str, *, counted: bool, window_seconds: int) -> None:
        """End a granted reservation; `counted` adds it to the key's window count."""
        ...
