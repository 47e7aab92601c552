"""§7/§11 readiness: ok, degraded while Redis is down, down while the database is; liveness regardless."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from gatehouse.adapters.argon2_hasher import Argon2PasswordHasher
from gatehouse.entrypoints.container import Container
from gatehouse.entrypoints.http.app import create_app
from tests.conftest import TEST_ARGON2
from tests.e2e.conftest import Api, assert_envelope, start
from tests.e2e.conftest import test_settings as settings_for
from tests.services import RedisServer, free_port, redis_url, throwaway_redis  # noqa: F401

READY, LIVE = "/health/ready", "/health/live"
SIGN_UP = {"email": "ready@example.com", "username": "ready_user", "password": "Secret123"}


def closed_redis_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


@asynccontextmanager
async def serving(tmp_path: Path, **overrides: Any) -> AsyncIterator[Api]:
    container, app = await start(settings_for(tmp_path, **overrides))
    async with AsyncTestClient(app) as client:
        yield Api(client, container)


@asynccontextmanager
async def without_database(tmp_path: Path) -> AsyncIterator[Api]:
    """The app over a SQLite file that can't be opened: its directory does not exist."""
    unreachable = tmp_path / "no-such-directory" / "gatehouse.db"
    container = Container(settings=settings_for(tmp_path, database_url=f"sqlite+aiosqlite:///{unreachable}"))
    container.hasher.override(providers.Singleton(Argon2PasswordHasher, TEST_ARGON2, workers=2, max_queue=64))
    async with AsyncTestClient(create_app(container)) as client:
        yield Api(client, container)


async def test_ready_is_ok_with_redis_disabled_when_none_is_configured(tmp_path: Path) -> None:
    async with serving(tmp_path) as api:
        response = await api.client.get(READY)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "disabled"}}


async def test_ready_is_ok_when_the_database_and_redis_answer(
    tmp_path: Path,
    redis_url: str,  # noqa: F811
) -> None:
    async with serving(tmp_path, redis_url=redis_url) as api:
        response = await api.client.get(READY)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


async def test_ready_is_degraded_but_200_while_redis_is_down(tmp_path: Path) -> None:
    async with serving(tmp_path, redis_url=closed_redis_url()) as api:
        ready = await api.client.get(READY)
        live = await api.client.get(LIVE)

    assert ready.status_code == 200
    assert ready.json() == {"status": "degraded", "checks": {"database": "ok", "redis": "down"}}
    assert live.status_code == 200


async def test_while_redis_is_down_requests_pass_the_rate_limit_and_logins_are_throttled_per_worker(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gatehouse.redis")
    async with serving(
        tmp_path, redis_url=closed_redis_url(), rate_limit_per_minute=2, login_max_failures=2
    ) as api:
        anonymous = [(await api.client.get("/api/v1/users/me")).status_code for _ in range(4)]
        signed_up = await api.client.post("/api/v1/users", json=SIGN_UP)
        wrong = {"email": SIGN_UP["email"], "password": "Wrong-Pass-1"}
        logins = [(await api.client.post("/api/v1/auth/token", json=wrong)).status_code for _ in range(3)]

    assert anonymous == [401] * 4  # fail open: no 429 although the limit is 2
    assert signed_up.status_code == 201
    assert logins == [401, 401, 429]  # the throttle still counts, in this worker
    downs = [r for r in caplog.records if r.getMessage() == "dependency_down"]
    assert len(downs) == 1, "one line per outage, not one per request"


async def test_readiness_recovers_on_its_own_when_redis_comes_back(
    tmp_path: Path,
    throwaway_redis: RedisServer,  # noqa: F811
) -> None:
    async with serving(tmp_path, redis_url=throwaway_redis.url) as api:
        before = await api.client.get(READY)
        throwaway_redis.start()
        after = await api.client.get(READY)

    assert before.json()["status"] == "degraded"
    assert after.status_code == 200
    assert after.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


async def test_ready_is_503_down_while_the_database_is_unreachable_and_live_stays_200(tmp_path: Path) -> None:
    async with without_database(tmp_path) as api:
        ready = await api.client.get(READY)
        live = await api.client.get(LIVE)

    assert ready.status_code == 503
    assert ready.json() == {"status": "down", "checks": {"database": "down", "redis": "disabled"}}
    assert live.status_code == 200
    assert live.json() == {"status": "ok"}


async def test_requests_that_need_an_unreachable_database_get_503_with_retry_after(tmp_path: Path) -> None:
    async with without_database(tmp_path) as api:
        sign_up = await api.client.post("/api/v1/users", json=SIGN_UP)
        login = await api.client.post("/api/v1/auth/token", json={"email": SIGN_UP["email"], "password": "x"})

    for response in (sign_up, login):
        assert_envelope(response, 503, "ServiceUnavailableError")
        assert int(response.headers["retry-after"]) >= 1
