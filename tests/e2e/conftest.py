"""End-to-end fixtures: the real container and app over a migrated SQLite file."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers

from gatehouse.adapters.argon2_hasher import Argon2PasswordHasher
from gatehouse.adapters.sqlalchemy.migrate import upgrade
from gatehouse.application.use_cases.register_user import RegisterUser
from gatehouse.domain.policy import Actor
from gatehouse.entrypoints.container import Container
from gatehouse.entrypoints.http.app import create_app
from gatehouse.entrypoints.settings import Settings
from tests.conftest import TEST_ARGON2, TEST_DATA_KEY, TEST_SECRET
from tests.databases import ENGINES, migrated_postgres_url

OPERATOR = Actor.operator()
PASSWORD = "Correct-Horse-9"


@dataclass
class Account:
    id: int
    email: str
    username: str
    password: str
    token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    """The test client plus helpers that create and sign in accounts through the real stack."""

    def __init__(self, client: httpx.AsyncClient, container: Container) -> None:
        self.client = client
        self.container = container
        self._n = 0

    async def create_account(self, role: str = "user", *, active: bool = True) -> Account:
        """Create an account through the use case (as the CLI does), then log in over HTTP."""
        self._n += 1
        email, username = f"person{self._n}@example.com", f"person_{self._n}"
        user = await self.container.register_user().execute(
            RegisterUser.Command(email=email, username=username, password=PASSWORD, role=role, actor=OPERATOR)
        )
        token, refresh = await self.login(email, PASSWORD)
        if not active:
            response = await self.client.patch(
                f"/api/v1/users/{user.id}", json={"is_active": False}, headers=(await self.admin()).auth
            )
            assert response.status_code == 200, response.text
        return Account(user.id, email, username, PASSWORD, token, refresh)

    async def login(self, identifier: str, password: str) -> tuple[str, str]:
        response = await self.client.post(
            "/api/v1/auth/token", json={"email": identifier, "password": password}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return body["access_token"], body["refresh_token"]

    async def admin(self) -> Account:
        if not hasattr(self, "_admin"):
            self._admin = await self.create_account("admin")
        return self._admin


def test_settings(tmp_path: Path, **overrides: Any) -> Settings:
    base = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'gatehouse.db'}",
        jwt_secret=TEST_SECRET,
        data_key=TEST_DATA_KEY,
        rate_limit_per_minute=0,
        outbox_dir=str(tmp_path / "outbox"),
    )
    return replace(base, **overrides)


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test to collect


async def start(settings: Settings) -> tuple[Container, Any]:
    container = Container(settings=settings)
    container.hasher.override(providers.Singleton(Argon2PasswordHasher, TEST_ARGON2, workers=2, max_queue=64))
    await upgrade(container.database())
    return container, create_app(container)


@asynccontextmanager
async def database_url(engine: str, tmp_path: Path) -> AsyncIterator[str]:
    """A SQLite file, or a fresh migrated PostgreSQL database dropped afterwards."""
    if engine == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'gatehouse.db'}"
        return
    async with migrated_postgres_url() as url:
        yield url


@pytest.fixture(params=ENGINES)
async def api(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    """The real app over each engine, driven in the test's own event loop (so gathered
    requests really overlap), with the client address 127.0.0.1."""
    async with database_url(request.param, tmp_path) as url:
        container, app = await start(test_settings(tmp_path, database_url=url))
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield Api(client, container)
        finally:
            await container.database().dispose()
            container.hasher().close()


def assert_envelope(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    """The response has `status` and the contract's error envelope naming `error`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["path"]
    return dict(body)
