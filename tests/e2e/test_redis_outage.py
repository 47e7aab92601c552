"""Redis unreachable (§11), against a redis-server of the test's own that it stops and starts
again: the rate limit fails open, the log-in throttle falls back to per-worker counting,
/health/ready says `degraded` (200), one `dependency_down` line per outage, and shared
counting resumes on its own when Redis is back.

One outage is staged once per module; each test asserts one behaviour of what was observed.
"""

from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from redis import Redis

from tests.gatehouse_server import GatehouseServer, migrated_server, wait_for
from tests.servers import ThrowawayRedis

LIMIT = 5
MAX_FAILURES = 2
CLIENT_TIMEOUT_S = 12.0
SLOW_S = 2.0  # a request that fails open should not wait on Redis for long


@dataclass
class Outage:
    before: list[httpx.Response] = field(default_factory=list)
    keys_before: list[Any] = field(default_factory=list)
    during: list[tuple[httpx.Response, float]] = field(default_factory=list)
    logins_during: list[httpx.Response] = field(default_factory=list)
    ready_during: httpx.Response | None = None
    down_lines_during: list[dict[str, Any]] = field(default_factory=list)
    ready_after: httpx.Response | None = None
    after: list[httpx.Response] = field(default_factory=list)
    count_after: int = 0
    down_lines_after: list[dict[str, Any]] = field(default_factory=list)


def redis_lines(server: GatehouseServer) -> list[dict[str, Any]]:
    return [e for e in server.events("dependency_down") if e.get("dependency") == "redis"]


def until_limited(client: httpx.Client, into: list[httpx.Response]) -> None:
    """Requests until the first 429; at most 2 windows' worth (a minute boundary may reset it)."""
    for _ in range(2 * LIMIT + 2):
        into.append(client.get("/api/v1/users/me"))
        if into[-1].status_code == 429:
            return


def rate_count(redis: "Redis") -> int:
    keys = redis.keys("gatehouse:rate:*")
    return sum(int(redis.get(key) or 0) for key in keys)


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Outage:
    seen = Outage()
    with (
        ThrowawayRedis() as redis_server,
        closing(Redis.from_url(redis_server.url, socket_timeout=2)) as redis,
    ):
        server = migrated_server(
            tmp_path_factory.mktemp("redis-outage"),
            GATEHOUSE_REDIS_URL=redis_server.url,
            GATEHOUSE_RATE_LIMIT_PER_MINUTE=str(LIMIT),
            GATEHOUSE_LOGIN_MAX_FAILURES=str(MAX_FAILURES),
        )
        with server, httpx.Client(base_url=server.url, timeout=CLIENT_TIMEOUT_S) as client:
            server.start()
            until_limited(client, seen.before)
            seen.keys_before = redis.keys("gatehouse:*")

            redis_server.stop()
            for _ in range(3 * LIMIT):
                response = client.get("/api/v1/users/me")
                seen.during.append((response, response.elapsed.total_seconds()))
            for _ in range(MAX_FAILURES + 1):
                wrong = {"email": "nobody@example.com", "password": "Wrong-pass-1"}
                seen.logins_during.append(client.post("/api/v1/auth/token", json=wrong))
            seen.ready_during = client.get("/health/ready")
            seen.down_lines_during = redis_lines(server)

            redis_server.start()

            def ready_again() -> bool:
                seen.ready_after = client.get("/health/ready")
                return bool(seen.ready_after.json()["checks"]["redis"] == "ok")

            wait_for(ready_again, 10, "/health/ready to see Redis again", poll_s=0.1)
            until_limited(client, seen.after)
            seen.count_after = rate_count(redis)
            seen.down_lines_after = redis_lines(server)
    return seen


def test_with_redis_up_the_rate_limit_is_counted_in_redis(outage: Outage) -> None:
    assert outage.before[-1].status_code == 429
    assert [r.status_code for r in outage.before[:LIMIT]].count(429) == 0
    assert any(bytes(key).startswith(b"gatehouse:rate:") for key in outage.keys_before)


def test_with_redis_down_requests_pass_the_rate_limit(outage: Outage) -> None:
    statuses = [response.status_code for response, _ in outage.during]
    assert len(statuses) == 3 * LIMIT
    assert 429 not in statuses
    assert set(statuses) == {401}  # answered by the route itself (no token sent)


def test_with_redis_down_requests_do_not_wait_on_it(outage: Outage) -> None:
    slow = [round(seconds, 2) for _, seconds in outage.during if seconds > SLOW_S]
    assert slow == []


def test_with_redis_down_the_login_throttle_counts_per_worker(outage: Outage) -> None:
    statuses = [response.status_code for response in outage.logins_during]
    assert statuses == [401] * MAX_FAILURES + [429]
    assert int(outage.logins_during[-1].headers["Retry-After"]) > 0


def test_with_redis_down_ready_is_200_degraded(outage: Outage) -> None:
    assert outage.ready_during is not None
    assert outage.ready_during.status_code == 200
    assert outage.ready_during.json() == {"status": "degraded", "checks": {"database": "ok", "redis": "down"}}


def test_one_dependency_down_line_for_redis_however_many_requests(outage: Outage) -> None:
    assert len(outage.during) + len(outage.logins_during) > 10
    assert len(outage.down_lines_during) == 1
    assert outage.down_lines_after == outage.down_lines_during


def test_when_redis_returns_ready_is_ok_and_limiting_is_shared_again(outage: Outage) -> None:
    assert outage.ready_after is not None
    assert outage.ready_after.status_code == 200
    assert outage.ready_after.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
    assert outage.after[-1].status_code == 429
    passed = [r for r in outage.after if r.status_code != 429]
    assert LIMIT <= len(passed) <= 2 * LIMIT
    assert outage.count_after == len(outage.after), "the restarted Redis holds the counts"
