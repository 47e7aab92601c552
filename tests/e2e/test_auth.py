"""§5 sessions over HTTP: log in (JSON and OAuth2 form), the throttle, refresh, log out."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from tests.e2e.conftest import Api, assert_envelope, start
from tests.e2e.conftest import test_settings as settings_for

TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"
MAX_FAILURES = 3


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_unauthorized(response: httpx.Response) -> dict[str, Any]:
    body = assert_envelope(response, 401, "AuthenticationError")
    assert response.headers["www-authenticate"] == "Bearer"
    return body


async def refresh(api: Api, refresh_token: str) -> httpx.Response:
    return await api.client.post(REFRESH, json={"refresh_token": refresh_token})


@pytest.fixture
async def throttled_api(tmp_path: Path) -> AsyncIterator[Api]:
    container, app = await start(settings_for(tmp_path, login_max_failures=MAX_FAILURES))
    async with AsyncTestClient(app) as client:
        yield Api(client, container)


async def test_json_login_returns_a_bearer_pair_marked_no_store(api: Api) -> None:
    account = await api.create_account()

    response = await api.client.post(TOKEN, json={"email": account.email, "password": account.password})

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800
    assert body["access_token"] != body["refresh_token"]
    me = await api.client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == account.id


@pytest.mark.parametrize("identifier", ["email", "username", "upper-cased username"])
async def test_oauth2_form_login_accepts_email_or_username(api: Api, identifier: str) -> None:
    account = await api.create_account()
    username = {
        "email": account.email,
        "username": account.username,
        "upper-cased username": account.username.upper(),
    }[identifier]

    form = {"grant_type": "password", "username": username, "password": account.password}

    response = await api.client.post(TOKEN, data=form)

    assert response.request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    me = await api.client.get(ME, headers=bearer(body["access_token"]))
    assert me.json()["id"] == account.id


async def test_email_is_matched_case_insensitively_at_login(api: Api) -> None:
    account = await api.create_account()

    response = await api.client.post(
        TOKEN, json={"email": account.email.upper(), "password": account.password}
    )

    assert response.status_code == 200, response.text


async def test_wrong_password_and_unknown_account_give_the_same_401(api: Api) -> None:
    account = await api.create_account()

    wrong = await api.client.post(TOKEN, json={"email": account.email, "password": "Wrong-Pass-1"})
    unknown = await api.client.post(TOKEN, json={"email": "nobody@example.com", "password": "Wrong-Pass-1"})

    wrong_body, unknown_body = assert_unauthorized(wrong), assert_unauthorized(unknown)
    assert wrong_body.pop("request_id") != unknown_body.pop("request_id")
    assert wrong_body == unknown_body


async def test_correct_password_on_a_deactivated_account_is_403(api: Api) -> None:
    account = await api.create_account(active=False)

    response = await api.client.post(TOKEN, json={"email": account.email, "password": account.password})

    assert_envelope(response, 403, "PermissionDeniedError")


async def test_wrong_password_on_a_deactivated_account_is_still_401(api: Api) -> None:
    account = await api.create_account(active=False)

    response = await api.client.post(TOKEN, json={"email": account.email, "password": "Wrong-Pass-1"})

    assert_unauthorized(response)


async def test_login_is_throttled_after_max_failures_even_with_the_right_password(
    throttled_api: Api,
) -> None:
    account = await throttled_api.create_account()
    for _ in range(MAX_FAILURES):
        failed = await throttled_api.client.post(
            TOKEN, json={"email": account.email, "password": "Wrong-Pass-1"}
        )
        assert failed.status_code == 401

    response = await throttled_api.client.post(
        TOKEN, json={"email": account.email, "password": account.password}
    )

    assert_envelope(response, 429, "RateLimitError")
    assert 0 < int(response.headers["retry-after"]) <= 15 * 60


async def test_failures_are_counted_per_lower_cased_identifier(throttled_api: Api) -> None:
    account = await throttled_api.create_account()
    for email in (account.email.upper(), account.email, account.email.title()):
        failed = await throttled_api.client.post(TOKEN, json={"email": email, "password": "Wrong-Pass-1"})
        assert failed.status_code == 401

    response = await throttled_api.client.post(
        TOKEN, json={"email": account.email, "password": account.password}
    )

    assert_envelope(response, 429, "RateLimitError")


async def test_failures_for_an_unknown_identifier_are_throttled_too(throttled_api: Api) -> None:
    for _ in range(MAX_FAILURES):
        failed = await throttled_api.client.post(
            TOKEN, json={"email": "ghost@example.com", "password": "Wrong-Pass-1"}
        )
        assert failed.status_code == 401

    response = await throttled_api.client.post(
        TOKEN, json={"email": "ghost@example.com", "password": "Wrong-Pass-1"}
    )

    assert_envelope(response, 429, "RateLimitError")
    assert int(response.headers["retry-after"]) > 0


async def test_throttling_one_identifier_leaves_another_unaffected(throttled_api: Api) -> None:
    victim, bystander = await throttled_api.create_account(), await throttled_api.create_account()
    for _ in range(MAX_FAILURES + 1):
        await throttled_api.client.post(TOKEN, json={"email": victim.email, "password": "Wrong-Pass-1"})

    response = await throttled_api.client.post(
        TOKEN, json={"email": bystander.email, "password": bystander.password}
    )

    assert response.status_code == 200, response.text


async def test_refresh_returns_a_new_pair_and_spends_the_old_refresh_token(api: Api) -> None:
    account = await api.create_account()

    response = await refresh(api, account.refresh_token)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    pair = response.json()
    assert pair["token_type"] == "bearer"
    assert pair["refresh_token"] != account.refresh_token
    assert pair["access_token"] != account.token
    me = await api.client.get(ME, headers=bearer(pair["access_token"]))
    assert me.json()["id"] == account.id
    assert_unauthorized(await refresh(api, account.refresh_token))


async def test_replaying_a_spent_refresh_token_ends_the_whole_session(api: Api) -> None:
    account = await api.create_account()
    newest = (await refresh(api, account.refresh_token)).json()
    assert (await api.client.get(ME, headers=bearer(newest["access_token"]))).status_code == 200

    replay = await refresh(api, account.refresh_token)

    assert_unauthorized(replay)
    assert_unauthorized(await refresh(api, newest["refresh_token"]))
    assert_unauthorized(await api.client.get(ME, headers=bearer(newest["access_token"])))


async def test_refresh_with_an_unknown_token_is_401(api: Api) -> None:
    assert_unauthorized(await refresh(api, "not-a-token-we-ever-issued"))


async def test_logout_ends_only_that_session(api: Api) -> None:
    account = await api.create_account()
    other_access, other_refresh = await api.login(account.email, account.password)

    response = await api.client.post(LOGOUT, headers=account.auth)

    assert response.status_code == 204
    assert response.content == b""
    assert_unauthorized(await api.client.get(ME, headers=account.auth))
    assert_unauthorized(await refresh(api, account.refresh_token))
    assert (await api.client.get(ME, headers=bearer(other_access))).status_code == 200
    assert (await refresh(api, other_refresh)).status_code == 200


async def test_logout_without_a_token_is_401(api: Api) -> None:
    assert_unauthorized(await api.client.post(LOGOUT))
