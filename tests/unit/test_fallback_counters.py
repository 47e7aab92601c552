"""FallbackCounters gives a place back where it was taken, whichever store answers at settle time."""

from gatehouse.adapters.clock import SystemClock
from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.redis_counters import FallbackCounters
from gatehouse.application.errors import CountersUnavailableError
from gatehouse.application.ports.counters import Counters, Reservation, WindowCount

LIMIT = 2
WINDOW = 900


class FlakyStore(Counters):
    """A shared store that is down until `up` is set; records the settles it was asked for."""

    def __init__(self) -> None:
        self.up = False
        self.settled: list[str] = []

    def _check(self) -> None:
        if not self.up:
            raise CountersUnavailableError("down")

    async def increment(self, key: str, window_seconds: int) -> WindowCount:
        self._check()
        return WindowCount(1, window_seconds)

    async def reserve(self, key: str, limit: int, window_seconds: int) -> Reservation:
        self._check()
        return Reservation(granted=True)

    async def settle(self, key: str, *, counted: bool, window_seconds: int) -> None:
        self._check()
        self.settled.append(key)


async def test_places_taken_while_the_store_was_down_are_given_back_here_after_it_returns() -> None:
    shared, local = FlakyStore(), InProcessCounters(SystemClock())
    counters = FallbackCounters(shared, local)
    for _ in range(LIMIT):
        assert (await counters.reserve("k", LIMIT, WINDOW)).granted  # granted by this process
    shared.up = True

    for _ in range(LIMIT):
        await counters.settle("k", counted=False, window_seconds=WINDOW)

    assert shared.settled == []  # not settled where they were never taken
    assert (await local.reserve("k", LIMIT, WINDOW)).granted  # this process's places are free again


async def test_places_the_store_granted_are_settled_there() -> None:
    shared, local = FlakyStore(), InProcessCounters(SystemClock())
    shared.up = True
    counters = FallbackCounters(shared, local)
    assert (await counters.reserve("k", LIMIT, WINDOW)).granted

    await counters.settle("k", counted=True, window_seconds=WINDOW)

    assert shared.settled == ["k"]
    assert (await local.increment("k", WINDOW)).count == 1  # nothing was counted here before
