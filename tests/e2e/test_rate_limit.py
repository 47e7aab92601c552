"""§7 the per-IP rate limit over HTTP: budget, headers, exempt paths, proxies, and Redis-shared budgets."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from gatehouse.adapters.argon2_hasher import Argon2PasswordHasher
from gatehouse.adapters.redis_counters import RedisCounters
from gatehouse.adapters.sqlalchemy.migrate import upgrade
from gatehouse.application.ports.clock import Clock
from gatehouse.entrypoints.container import Container
from gatehouse.entrypoints.http.app import create_app
from gatehouse.entrypoints.settings import Settings
from tests.conftest import TEST_ARGON2
from tests.e2e.conftest import assert_envelope
from tests.e2e.conftest import test_settings as settings_for
from tests.services import redis_prefix, redis_url  # noqa: F401

LIMIT = 5
ME = "/api/v1/users/me"
HEADERS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")
EXEMPT = ["/health/live", "/health/ready", "/metrics", "/docs", "/redoc", "/openapi.json"]
ASGIApp = Callable[..., Any]


class FrozenClock(Clock):
    """The real time at creation, held still: a one-minute window can't roll over mid-test."""

    def __init__(self) -> None:
        self._now = datetime.now(UTC)

    def now(self) -> datetime:
        return self._now


def from_peer(app: ASGIApp, host: str) -> ASGIApp:
    """The app as seen from socket peer `host` (the test client's own peer is not an IP)."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "client": (host, 40000)}
        await app(scope, receive, send)

    return wrapped


async def build(
    settings: Settings, clock: Clock | None = None, shared: RedisCounters | None = None
) -> tuple[Container, ASGIApp]:
    container = Container(settings=settings)
    container.clock.override(providers.Object(clock or FrozenClock()))
    container.hasher.override(providers.Singleton(Argon2PasswordHasher, TEST_ARGON2, workers=2, max_queue=64))
    if shared is not None:
        container.shared_counters.override(providers.Object(shared))
        container.resources().on_close(shared.close)  # the app's shutdown closes what it was given
    await upgrade(container.database())
    return container, create_app(container)


@asynccontextmanager
async def client_for(app: ASGIApp) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(app) as client:
        yield client


@asynccontextmanager
async def limited(tmp_path: Path, **overrides: Any) -> AsyncIterator[AsyncTestClient[Any]]:
    _, app = await build(settings_for(tmp_path, **{"rate_limit_per_minute": LIMIT, **overrides}))
    async with client_for(app) as client:
        yield client


def rate_headers(response: httpx.Response) -> tuple[int, int, int]:
    return tuple(int(response.headers[name]) for name in HEADERS)  # type: ignore[return-value]


def assert_limited(response: httpx.Response) -> None:
    assert_envelope(response, 429, "RateLimitError")
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["retry-after"] == response.headers["ratelimit-reset"]
    assert response.headers["ratelimit-remaining"] == "0"


async def test_exactly_the_limit_passes_then_429_with_retry_after(tmp_path: Path) -> None:
    async with limited(tmp_path) as client:
        answers = [await client.get(ME) for _ in range(LIMIT)]
        over = await client.get(ME)
        still_over = await client.post("/api/v1/auth/token", json={"email": "a@b.co", "password": "x"})

    assert [a.status_code for a in answers] == [401] * LIMIT
    assert [rate_headers(a)[:2] for a in answers] == [(LIMIT, LIMIT - n) for n in range(1, LIMIT + 1)]
    assert all(1 <= rate_headers(a)[2] <= 60 for a in answers)
    assert_limited(over)
    assert_limited(still_over)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", ME, {}, 401),
        (
            "POST",
            "/api/v1/users",
            {"json": {"email": "new@example.com", "username": "newbie", "password": "Secret123"}},
            201,
        ),
        ("POST", "/api/v1/users", {"json": {"email": "bad"}}, 422),
        (
            "POST",
            "/api/v1/users",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
        ),
        ("GET", "/api/v1/no-such-route", {}, 404),
        ("DELETE", "/api/v1/users/me", {}, 405),
        ("GET", "/users/me", {"headers": {"X-API-Version": "7"}}, 400),
    ],
    ids=["401", "201", "422", "400-json", "404", "405", "400-version"],
)
async def test_every_non_exempt_response_carries_the_three_ratelimit_headers(
    tmp_path: Path, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    async with limited(tmp_path) as client:
        first = await client.get(ME)
        response = await client.request(method, path, **kwargs)

    assert response.status_code == status, response.text
    assert [h for h in HEADERS if h not in response.headers] == []
    assert rate_headers(first)[:2] == (LIMIT, LIMIT - 1)
    assert rate_headers(response)[:2] == (LIMIT, LIMIT - 2)  # and it was counted
    assert 1 <= rate_headers(response)[2] <= 60


async def test_operations_paths_are_never_limited_and_carry_no_ratelimit_headers(tmp_path: Path) -> None:
    async with limited(tmp_path, rate_limit_per_minute=1) as client:
        await client.get(ME)
        assert (await client.get(ME)).status_code == 429
        answers = [await client.get(path) for path in EXEMPT for _ in range(3)]

    assert [a.status_code for a in answers] == [200] * len(answers), [a.url.path for a in answers]
    assert [h for a in answers for h in HEADERS if h in a.headers] == []


async def test_with_the_limit_at_zero_nothing_is_limited_and_there_are_no_ratelimit_headers(
    tmp_path: Path,
) -> None:
    async with limited(tmp_path, rate_limit_per_minute=0) as client:
        answers = [await client.get(ME) for _ in range(3 * LIMIT)]

    assert {a.status_code for a in answers} == {401}
    assert [h for a in answers for h in HEADERS if h in a.headers] == []


async def test_x_forwarded_for_is_ignored_without_trusted_proxies(tmp_path: Path) -> None:
    async with limited(tmp_path, rate_limit_per_minute=2) as client:
        answers = [await client.get(ME, headers={"X-Forwarded-For": f"203.0.113.{n}"}) for n in range(1, 4)]

    assert [a.status_code for a in answers] == [401, 401, 429]


async def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, rate_limit_per_minute=2, trusted_proxies=("127.0.0.1",))
    _, app = await build(settings)
    async with client_for(from_peer(app, "192.0.2.50")) as client:
        answers = [await client.get(ME, headers={"X-Forwarded-For": f"203.0.113.{n}"}) for n in range(1, 4)]

    assert [a.status_code for a in answers] == [401, 401, 429]


async def test_clients_behind_a_trusted_proxy_get_budgets_of_their_own(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, rate_limit_per_minute=2, trusted_proxies=("127.0.0.1",))
    _, app = await build(settings)
    first, second = {"X-Forwarded-For": "203.0.113.1"}, {"X-Forwarded-For": "198.51.100.9, 203.0.113.2"}
    async with client_for(from_peer(app, "127.0.0.1")) as client:
        first_answers = [await client.get(ME, headers=first) for _ in range(3)]
        second_answer = await client.get(ME, headers=second)
        proxy_itself = await client.get(ME)

    assert [a.status_code for a in first_answers] == [401, 401, 429]
    assert second_answer.status_code == 401
    assert rate_headers(second_answer)[1] == 1
    assert proxy_itself.status_code == 401  # the proxy's own budget is a third one
    assert rate_headers(proxy_itself)[1] == 1


async def test_a_forged_first_forwarded_for_line_does_not_pick_the_budget_behind_a_trusted_proxy(
    tmp_path: Path,
) -> None:
    # The client sends an X-Forwarded-For line of its own, a new address each time; the proxy
    # appends the address it saw as a second line. Read as one list, the proxy's entry decides.
    # (httpx's own ASGI transport, which keeps repeated header lines apart but runs no lifespan:
    # the test closes what the app's shutdown would.)
    settings = settings_for(tmp_path, rate_limit_per_minute=2, trusted_proxies=("127.0.0.1",))
    container, app = await build(settings)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            answers = [
                await client.get(
                    ME, headers=[("X-Forwarded-For", f"198.51.100.{n}"), ("X-Forwarded-For", "203.0.113.7")]
                )
                for n in range(1, 4)
            ]
            other_client = await client.get(ME, headers={"X-Forwarded-For": "203.0.113.8"})
    finally:
        await container.database().dispose()
        container.hasher().close()

    assert [a.status_code for a in answers] == [401, 401, 429]
    assert other_client.status_code == 401  # the budget that ran out is 203.0.113.7's alone


async def test_two_workers_sharing_redis_share_one_budget(
    tmp_path: Path,
    redis_url: str,  # noqa: F811
    redis_prefix: str,  # noqa: F811
) -> None:
    settings = settings_for(tmp_path, rate_limit_per_minute=LIMIT, redis_url=redis_url)
    clock = FrozenClock()
    _, app_a = await build(settings, clock, RedisCounters(redis_url, prefix=redis_prefix))
    _, app_b = await build(settings, clock, RedisCounters(redis_url, prefix=redis_prefix))
    async with client_for(app_a) as worker_a, client_for(app_b) as worker_b:
        workers = [worker_a, worker_b]
        answers = [await workers[n % 2].get(ME) for n in range(LIMIT)]
        over = [await worker.get(ME) for worker in workers]

    assert [a.status_code for a in answers] == [401] * LIMIT
    assert [rate_headers(a)[1] for a in answers] == list(range(LIMIT - 1, -1, -1))
    for response in over:
        assert_limited(response)


async def test_each_worker_counts_alone_without_redis(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, rate_limit_per_minute=2)
    clock = FrozenClock()
    _, app_a = await build(settings, clock)
    _, app_b = await build(settings, clock)
    async with client_for(app_a) as worker_a, client_for(app_b) as worker_b:
        from_a = [(await worker_a.get(ME)).status_code for _ in range(3)]
        from_b = [(await worker_b.get(ME)).status_code for _ in range(3)]

    # The contrast that makes the Redis test above meaningful.
    assert from_a == from_b == [401, 401, 429]
