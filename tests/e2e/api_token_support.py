"""Helpers for the API token tests (CONTRACT §13): create and list tokens, the checksum recomputed
here (not imported), and an app whose clock the test holds."""

import re
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from dependency_injector import providers

from gatehouse.adapters.argon2_hasher import Argon2PasswordHasher
from gatehouse.adapters.memory.fakes import FixedClock
from gatehouse.adapters.sqlalchemy.migrate import upgrade
from gatehouse.entrypoints.container import Container
from gatehouse.entrypoints.http.app import create_app
from tests.conftest import TEST_ARGON2
from tests.contract_scopes import CONTRACT_SCOPES
from tests.e2e.conftest import Account, Api, database_url, test_settings
from tests.e2e.mfa_support import bearer

V1 = "/api/v1"
USERS = f"{V1}/users"
ME = f"{USERS}/me"
MY_TOKENS = f"{ME}/tokens"
INTROSPECT = f"{V1}/auth/introspect"
ALL_SCOPES = CONTRACT_SCOPES
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SHAPE = re.compile(r"gat_([A-Za-z0-9]{40})([A-Za-z0-9]{6})")
MISSING_ID = 987_654


def crc_base62(random_part: str) -> str:
    """The documented checksum: CRC-32 of the 40 characters, base 62 (0-9A-Za-z), zero-padded to 6."""
    value, digits = zlib.crc32(random_part.encode("ascii")), []
    while value:
        value, digit = divmod(value, 62)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits)).rjust(6, "0")


def assert_token_format(token: str) -> None:
    match = SHAPE.fullmatch(token)
    assert match is not None, token
    assert crc_base62(match.group(1)) == match.group(2), token


def tokens_of(account_id: int | None = None) -> str:
    return MY_TOKENS if account_id is None else f"{USERS}/{account_id}/tokens"


async def create_token(
    api: Api, account: Account, scopes: list[str] | None = None, *, name: str = "ci script", **extra: Any
) -> dict[str, Any]:
    """A new token of `account` (by its session) with `scopes` (default all but introspect); the
    201 body, with the secret in `token`."""
    body = {"name": name, "scopes": scopes or ALL_SCOPES[:-1], **extra}
    response = await api.client.post(MY_TOKENS, json=body, headers=account.auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def secret(api: Api, account: Account, scopes: list[str] | None = None, **extra: Any) -> str:
    """Only the secret of a new token of `account`."""
    return str((await create_token(api, account, scopes, **extra))["token"])


async def listed(api: Api, account: Account) -> list[dict[str, Any]]:
    response = await api.client.get(MY_TOKENS, headers=account.auth)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def works(api: Api, token: str) -> bool:
    """Whether `token` still opens `GET /users/me` (200) — else it must be a 401."""
    response = await api.client.get(ME, headers=bearer(token))
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


async def introspect(api: Api, caller_token: str, token: str) -> httpx.Response:
    return await api.client.post(INTROSPECT, json={"token": token}, headers=bearer(caller_token))


@asynccontextmanager
async def clocked_api(
    engine: str, tmp_path: Path, clock: FixedClock | None = None, **overrides: Any
) -> AsyncIterator[tuple[Api, FixedClock]]:
    """The real app over `engine` whose clock (the authenticator's too) is a `FixedClock`, set
    before the app is built; with settings `overrides`."""
    clock = clock or FixedClock(datetime.now(UTC))
    async with database_url(engine, tmp_path) as url:
        container = Container(settings=test_settings(tmp_path, database_url=url, **overrides))
        container.clock.override(providers.Object(clock))
        container.hasher.override(
            providers.Singleton(Argon2PasswordHasher, TEST_ARGON2, workers=2, max_queue=64)
        )
        await upgrade(container.database())
        transport = httpx.ASGITransport(app=create_app(container), client=("127.0.0.1", 50000))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield Api(client, container), clock
        finally:
            await container.database().dispose()
            container.hasher().close()
