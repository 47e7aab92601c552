"""`Counters.reserve`/`settle`, the same contract in process and in Redis (§5 under concurrency)."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from gatehouse.adapters.clock import SystemClock
from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.redis_counters import RedisCounters
from gatehouse.application.attempts import GuardedAttempts
from gatehouse.application.errors import RateLimitedError, ServiceUnavailableError
from gatehouse.application.ports.counters import Counters
from tests.services import redis_prefix, redis_url  # noqa: F401 - fixtures

LIMIT = 3
WINDOW = 900


@pytest.fixture(params=["in-process", "redis"])
async def counters(
    request: pytest.FixtureRequest,
    redis_url: str,  # noqa: F811
    redis_prefix: str,  # noqa: F811
) -> AsyncIterator[Counters]:
    if request.param == "in-process":
        yield InProcessCounters(SystemClock())
        return
    store = RedisCounters(redis_url, prefix=redis_prefix)
    yield store
    await store.close()


async def test_places_are_granted_until_counted_and_running_reach_the_limit(counters: Counters) -> None:
    granted = [await counters.reserve("k", LIMIT, WINDOW) for _ in range(LIMIT + 2)]

    assert [p.granted for p in granted] == [True] * LIMIT + [False, False]
    assert all(p.busy for p in granted[LIMIT:])  # taken by running attempts, not by failures


async def test_a_settled_success_frees_its_place_and_counts_nothing(counters: Counters) -> None:
    for _ in range(LIMIT):
        assert (await counters.reserve("k", LIMIT, WINDOW)).granted
    await counters.settle("k", counted=False, window_seconds=WINDOW)

    assert (await counters.reserve("k", LIMIT, WINDOW)).granted
    assert (await counters.increment("k", WINDOW)).count == 1  # nothing was counted before


async def test_counted_failures_exhaust_the_key_until_the_window_ends(counters: Counters) -> None:
    for _ in range(LIMIT):
        assert (await counters.reserve("k", LIMIT, WINDOW)).granted
        await counters.settle("k", counted=True, window_seconds=WINDOW)

    refused = await counters.reserve("k", LIMIT, WINDOW)

    assert not refused.granted
    assert refused.reset_after is not None
    assert 1 <= refused.reset_after <= WINDOW
    assert (await counters.increment("k", WINDOW)).count == LIMIT + 1  # each failure counted once
    assert (await counters.reserve("other", LIMIT, WINDOW)).granted  # keys are apart


async def test_simultaneous_reservations_never_grant_more_than_the_limit(counters: Counters) -> None:
    places = await asyncio.gather(*(counters.reserve("k", LIMIT, WINDOW) for _ in range(40)))

    assert sum(p.granted for p in places) == LIMIT


async def test_guarded_attempts_let_at_most_the_limit_fail_and_every_right_one_through(
    counters: Counters,
) -> None:
    guard = GuardedAttempts(counters, LIMIT, WINDOW, wait_seconds=5, poll_seconds=0.005)

    async def guess(right: bool) -> str:
        try:
            async with guard.attempt("acct") as outcome:
                await asyncio.sleep(0.01)  # the secret is being checked
                outcome.failed = not right
        except RateLimitedError:
            return "429"
        return "200" if right else "401"

    rights = await asyncio.gather(*(guess(True) for _ in range(12)))
    mixed = await asyncio.gather(*(guess(n == 4) for n in range(30)))

    assert rights == ["200"] * 12  # no failure was made: none is refused
    assert mixed.count("401") == LIMIT
    assert mixed.count("401") + mixed.count("429") + mixed.count("200") == 30


async def test_an_attempt_that_waits_too_long_for_a_place_is_told_to_come_back(counters: Counters) -> None:
    """Places held by running attempts only (nothing failed): after the wait, 503 and not 429."""
    guard = GuardedAttempts(counters, LIMIT, WINDOW, wait_seconds=0.05, poll_seconds=0.01)
    for _ in range(LIMIT):
        assert (await counters.reserve("held", LIMIT, WINDOW)).granted

    with pytest.raises(ServiceUnavailableError) as refused:
        async with guard.attempt("held"):
            pass

    assert refused.value.retry_after == 1
    assert (await counters.increment("held", WINDOW)).count == 1  # nothing was counted before
