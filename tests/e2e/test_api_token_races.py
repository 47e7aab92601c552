"""§13 under races and hostile ids, as an outside attacker tried them: a token made on the strength
of a session that a password reset ends while the creation waits must not outlive the reset; an id
too long for `int()` is a 400, never a 500."""

import asyncio

import httpx
import pytest

from tests.e2e.account_support import CONFIRM, NEW_PASSWORD, RESET, last_token
from tests.e2e.api_token_support import ME, MY_TOKENS, USERS
from tests.e2e.conftest import Api, assert_envelope
from tests.e2e.mfa_support import bearer

CREATES = 30


async def test_no_token_made_during_a_password_reset_outlives_it(api: Api) -> None:
    owner = await api.create_account()
    assert (await api.client.post(RESET, json={"email": owner.email})).status_code == 202
    reset = await last_token(api, owner.email, "reset-password")

    async def create(n: int) -> httpx.Response:
        await asyncio.sleep(0)
        body = {"name": f"race {n}", "scopes": ["profile:read"]}
        return await api.client.post(MY_TOKENS, json=body, headers=owner.auth)

    async def confirm() -> httpx.Response:
        await asyncio.sleep(0)
        return await api.client.post(CONFIRM, json={"token": reset, "new_password": NEW_PASSWORD})

    *created, confirmed = await asyncio.gather(*(create(n) for n in range(CREATES)), confirm())

    assert confirmed.status_code == 204, confirmed.text
    for answer in created:
        assert answer.status_code in (201, 401), answer.text
    secrets = [answer.json()["token"] for answer in created if answer.status_code == 201]
    # Whichever ran first, no token made on the old session works after the reset.
    for token in secrets:
        assert (await api.client.get(ME, headers=bearer(token))).status_code == 401
    admin = await api.admin()
    listed = await api.client.get(f"{USERS}/{owner.id}/tokens", headers=admin.auth)
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    "path",
    [
        f"{MY_TOKENS}/{'9' * 4301}",
        f"{USERS}/{'9' * 4301}",
        f"{USERS}/{'9' * 4301}/tokens",
        f"{USERS}/1/orders/{'9' * 5000}",
        f"{ME}/sessions/{'9' * 4301}",
        f"{USERS}/{'0' * 4300}{'9' * 20}/tokens",  # leading zeros count toward Python's limit too
        f"{MY_TOKENS}/{'0' * 5000}",
    ],
)
async def test_an_id_of_thousands_of_digits_is_a_400(api: Api, path: str) -> None:
    # (Zeros before a small id are still that id: `/users/0…01` is account 1, as `/users/01` is.)
    admin = await api.admin()
    method = "DELETE" if "/tokens/" in path or "/sessions/" in path else "GET"
    response = await api.client.request(method, path, headers=admin.auth)
    assert_envelope(response, 400, "BadRequestError")
