"""v2 cursors are opaque and bound to their query (CONTRACT §6): anything not issued for it is a 400."""

import base64
import json
import string

import httpx
import pytest

from gatehouse.application.ports.paging import After
from gatehouse.entrypoints.http.cursors import CursorCodec
from tests.conftest import TEST_SECRET
from tests.e2e.conftest import Account, Api, assert_envelope

USERS = "/api/v2/users"
ORDER = {"currency": "EUR", "items": [{"sku": "BOOK-1", "quantity": 2, "unit_price_cents": 1250}]}
URL_SAFE = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
OTHER_SECRET = "some-other-signing-secret-that-is-long-enough-42"


async def users_cursor(api: Api, **params: str) -> str:
    """A real next_cursor of the account list (three accounts, one per page)."""
    admin = await api.admin()
    for n in range(2):
        body = {"email": f"m{n}@example.com", "username": f"member{n}", "password": "Secret123"}
        assert (await api.client.post(USERS, json=body)).status_code == 201
    page = await api.client.get(USERS, params={"limit": 1, **params}, headers=admin.auth)
    assert page.status_code == 200, page.text
    cursor = page.json()["next_cursor"]
    assert isinstance(cursor, str)
    return cursor


async def users_page(api: Api, cursor: str, **params: str) -> httpx.Response:
    admin = await api.admin()
    return await api.client.get(USERS, params={"limit": 1, "cursor": cursor, **params}, headers=admin.auth)


def rejected(response: httpx.Response) -> None:
    body = assert_envelope(response, 400, "BadRequestError")
    assert "cursor" in body["message"].lower()
    assert response.headers["x-api-version"] == "2"


async def test_the_issued_cursor_itself_is_accepted(api: Api) -> None:
    cursor = await users_cursor(api)
    response = await users_page(api, cursor)
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 1


async def test_a_cursor_with_any_one_character_changed_is_400(api: Api) -> None:
    cursor = await users_cursor(api)
    for at, char in enumerate(cursor):
        flipped = URL_SAFE[URL_SAFE.index(char) ^ 32]  # the top bit of the six: never padding
        edited = cursor[:at] + flipped + cursor[at + 1 :]

        rejected(await users_page(api, edited))


@pytest.mark.parametrize("cut", ["last-1", "last-2", "last-4", "half", "first-1", "first-10"])
async def test_a_truncated_cursor_is_400(api: Api, cut: str) -> None:
    cursor = await users_cursor(api)
    kind, _, n = cut.partition("-")
    shorter = {
        "last": cursor[: -int(n or 0)],
        "half": cursor[: len(cursor) // 2],
        "first": cursor[int(n or 0) :],
    }
    rejected(await users_page(api, shorter[kind]))


@pytest.mark.parametrize("extra", ["A", "AAAA", "cursor"])
async def test_a_cursor_with_something_appended_is_400(api: Api, extra: str) -> None:
    cursor = await users_cursor(api)
    rejected(await users_page(api, cursor + extra))


@pytest.mark.parametrize(
    "cursor",
    [
        "abc",
        "not-a-cursor",
        "!!!!",
        "null",
        "0",
        "A" * 64,
        base64.urlsafe_b64encode(bytes(range(48))).decode().rstrip("="),
        base64.urlsafe_b64encode(json.dumps(["i", 1, 1, "users|None|None|None|id"]).encode()).decode(),
        "x" * 3000,
    ],
    ids=["short", "words", "punctuation", "null", "zero", "letters", "random-bytes", "unsigned", "huge"],
)
async def test_a_random_or_unsigned_cursor_is_400(api: Api, cursor: str) -> None:
    await users_cursor(api)
    response = await users_page(api, cursor)
    assert_envelope(response, 400, "BadRequestError")


@pytest.mark.parametrize("secret", [OTHER_SECRET, TEST_SECRET], ids=["other-key", "service-key"])
async def test_a_cursor_forged_for_another_query_or_with_another_key_is_400(api: Api, secret: str) -> None:
    await users_cursor(api)
    query = "users|None|None|None|id" if secret == OTHER_SECRET else "users|None|None|None|-id"
    forged = CursorCodec(secret).encode(After(1, 1), query)

    rejected(await users_page(api, forged))


@pytest.mark.parametrize(
    "other",
    [
        {"sort": "username"},
        {"sort": "-id"},
        {"sort": "created_at"},
        {"role": "user"},
        {"is_active": "true"},
        {"search": "member"},
        {"search": ""},
    ],
)
async def test_a_cursor_used_with_another_sort_or_filter_is_400(api: Api, other: dict[str, str]) -> None:
    issued_with = {"sort": "email", "search": "e"}
    cursor = await users_cursor(api, **issued_with)

    assert (await users_page(api, cursor, **issued_with)).status_code == 200
    rejected(await users_page(api, cursor, **{**issued_with, **other}))


async def orders_cursor(api: Api, owner: Account, **params: str) -> str:
    path = f"{USERS}/{owner.id}/orders"
    for _ in range(3):
        assert (await api.client.post(path, json=ORDER, headers=owner.auth)).status_code == 201
    page = await api.client.get(path, params={"limit": 1, **params}, headers=owner.auth)
    cursor = page.json()["next_cursor"]
    assert isinstance(cursor, str)
    return cursor


async def test_an_orders_cursor_is_bound_to_its_user_and_status_filter(api: Api) -> None:
    owner, other, admin = await api.create_account(), await api.create_account(), await api.admin()
    cursor = await orders_cursor(api, owner)
    await orders_cursor(api, other)

    same = await api.client.get(f"{USERS}/{owner.id}/orders", params={"cursor": cursor}, headers=admin.auth)
    assert same.status_code == 200, same.text
    for path, params in [
        (f"{USERS}/{other.id}/orders", {}),
        (f"{USERS}/{owner.id}/orders", {"status": "pending"}),
        (USERS, {}),
    ]:
        rejected(await api.client.get(path, params={"cursor": cursor, **params}, headers=admin.auth))


async def test_a_users_cursor_is_not_an_orders_cursor(api: Api) -> None:
    owner = await api.create_account()
    cursor = await users_cursor(api)
    await orders_cursor(api, owner)
    response = await api.client.get(
        f"{USERS}/{owner.id}/orders", params={"cursor": cursor}, headers=owner.auth
    )
    rejected(response)
