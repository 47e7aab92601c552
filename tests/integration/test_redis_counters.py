"""RedisCounters against a real Redis: counting, atomicity, sharing, and outages (§5, §7, §11)."""

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from gatehouse.adapters.clock import SystemClock
from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.redis_counters import FallbackCounters, RedisCounters
from gatehouse.application.errors import CountersUnavailableError
from gatehouse.application.ports.clock import Clock
from gatehouse.application.use_cases.rate_limit import CheckRateLimit
from tests.services import RedisServer, redis_prefix, redis_url, throwaway_redis  # noqa: F401

WINDOW = 60


class FrozenClock(Clock):
    """One instant, so a rate-limit window never rolls over mid-test."""

    def __init__(self) -> None:
        self._now = datetime.now(UTC)

    def now(self) -> datetime:
        return self._now


@pytest.fixture
async def counters(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisCounters]:  # noqa: F811
    store = RedisCounters(redis_url, prefix=redis_prefix)
    yield store
    await store.close()


@pytest.fixture
async def outage_counters(throwaway_redis: RedisServer) -> AsyncIterator[RedisCounters]:  # noqa: F811
    """Counters pointed at a Redis that is not running yet (a closed port)."""
    store = RedisCounters(throwaway_redis.url, prefix="outage:")
    yield store
    await store.close()


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "gatehouse.redis" and r.getMessage() == name]


async def test_increment_counts_up_and_reports_seconds_left_in_the_window(counters: RedisCounters) -> None:
    first = await counters.increment("k", WINDOW)
    second = await counters.increment("k", WINDOW)
    third = await counters.increment("k", WINDOW)

    assert [first.count, second.count, third.count] == [1, 2, 3]
    assert all(1 <= c.reset_after <= WINDOW for c in (first, second, third))


async def test_the_first_increment_sets_the_key_to_expire_with_its_window(
    counters: RedisCounters,
    redis_url: str,  # noqa: F811
    redis_prefix: str,  # noqa: F811
) -> None:
    await counters.increment("expiring", 30)

    raw = Redis.from_url(redis_url)
    try:
        ttl = await raw.ttl(f"{redis_prefix}expiring")
    finally:
        await raw.aclose()
    assert 0 < ttl <= 30


async def test_windows_are_per_key(counters: RedisCounters) -> None:
    await counters.increment("a", WINDOW)
    await counters.increment("a", WINDOW)

    assert (await counters.increment("b", WINDOW)).count == 1
    assert (await counters.increment("a", WINDOW)).count == 3


async def test_concurrent_increments_are_atomic(counters: RedisCounters) -> None:
    results = await asyncio.gather(*(counters.increment("busy", WINDOW) for _ in range(100)))

    assert sorted(r.count for r in results) == list(range(1, 101))


async def test_200_concurrent_increments_in_one_worker_all_count_and_report_no_outage(
    counters: RedisCounters, caplog: pytest.LogCaptureFixture
) -> None:
    # More requests in flight than the client's default pool of connections: a busy
    # worker must still count each one, not fail open and log a Redis outage.
    caplog.set_level(logging.INFO, logger="gatehouse.redis")

    results = await asyncio.gather(
        *(counters.increment("busier", WINDOW) for _ in range(200)), return_exceptions=True
    )

    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == [], f"{len(failures)} of 200 increments failed, first: {failures[0]!r}"
    assert events(caplog, "dependency_down") == []
    assert sorted(r.count for r in results if not isinstance(r, BaseException)) == list(range(1, 201))


async def test_two_instances_like_two_workers_share_one_count(
    redis_url: str,  # noqa: F811
    redis_prefix: str,  # noqa: F811
) -> None:
    worker_a = RedisCounters(redis_url, prefix=redis_prefix)
    worker_b = RedisCounters(redis_url, prefix=redis_prefix)
    try:
        counts = [
            (await worker_a.increment("shared", WINDOW)).count,
            (await worker_b.increment("shared", WINDOW)).count,
            (await worker_a.increment("shared", WINDOW)).count,
        ]
        next_seen_by_b = (await worker_b.increment("shared", WINDOW)).count
    finally:
        await worker_a.close()
        await worker_b.close()

    assert counts == [1, 2, 3]
    assert next_seen_by_b == 4


async def test_an_outage_raises_and_logs_one_dependency_down_then_one_dependency_up(
    outage_counters: RedisCounters,
    throwaway_redis: RedisServer,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="gatehouse.redis")
    for _ in range(10):
        with pytest.raises(CountersUnavailableError):
            await outage_counters.increment("k", WINDOW)
    for _ in range(5):
        with pytest.raises(CountersUnavailableError):
            await outage_counters.reserve("k", 3, WINDOW)
    assert await outage_counters.answers() is False

    assert len(events(caplog, "dependency_down")) == 1
    assert events(caplog, "dependency_up") == []
    down = events(caplog, "dependency_down")[0]
    assert down.__dict__["dependency"] == "redis"

    throwaway_redis.start()
    assert (await outage_counters.increment("k", WINDOW)).count == 1
    assert (await outage_counters.increment("k", WINDOW)).count == 2
    assert await outage_counters.answers() is True

    assert len(events(caplog, "dependency_up")) == 1
    assert len(events(caplog, "dependency_down")) == 1


async def test_a_second_outage_logs_a_second_dependency_down(
    outage_counters: RedisCounters,
    throwaway_redis: RedisServer,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="gatehouse.redis")
    throwaway_redis.start()
    await outage_counters.increment("k", WINDOW)
    throwaway_redis.stop()

    for _ in range(5):
        with pytest.raises(CountersUnavailableError):
            await outage_counters.increment("k", WINDOW)

    assert len(events(caplog, "dependency_down")) == 1
    throwaway_redis.start()
    await outage_counters.increment("k", WINDOW)
    throwaway_redis.stop()
    for _ in range(5):
        with pytest.raises(CountersUnavailableError):
            await outage_counters.increment("k", WINDOW)
    assert len(events(caplog, "dependency_down")) == 2
    assert len(events(caplog, "dependency_up")) == 1


async def test_fallback_counts_in_process_while_redis_is_down_and_in_redis_once_it_is_back(
    outage_counters: RedisCounters,
    throwaway_redis: RedisServer,  # noqa: F811
) -> None:
    fallback = FallbackCounters(outage_counters, InProcessCounters(SystemClock()))

    assert (await fallback.increment("login:ada", WINDOW)).count == 1
    assert (await fallback.increment("login:ada", WINDOW)).count == 2

    throwaway_redis.start()
    await fallback.increment("login:ada", WINDOW)
    await fallback.increment("login:ada", WINDOW)
    await fallback.increment("login:ada", WINDOW)

    # The counts went to Redis (not on top of the two counted here): another process sees them.
    assert (await outage_counters.increment("login:ada", WINDOW)).count == 4
    assert (await fallback.increment("login:ada", WINDOW)).count == 5


async def test_rate_limit_lets_requests_through_while_its_counters_are_unavailable(
    outage_counters: RedisCounters,
) -> None:
    check = CheckRateLimit(outage_counters, FrozenClock(), per_minute=2)

    decisions = [await check.execute(CheckRateLimit.Command(client="198.51.100.7")) for _ in range(5)]

    assert all(d.allowed for d in decisions)
    assert all(d.limit == 2 and d.remaining == 2 for d in decisions)
    assert all(1 <= d.reset_after <= 60 for d in decisions)


async def test_rate_limit_over_redis_refuses_past_the_budget(counters: RedisCounters) -> None:
    check = CheckRateLimit(counters, FrozenClock(), per_minute=2)

    decisions = [await check.execute(CheckRateLimit.Command(client="198.51.100.7")) for _ in range(3)]
    other_client = await check.execute(CheckRateLimit.Command(client="198.51.100.8"))

    assert [d.allowed for d in decisions] == [True, True, False]
    assert [d.remaining for d in decisions] == [1, 0, 0]
    assert other_client.allowed
