"""`Idempotency-Key` on creation (CONTRACT §8): replays, mismatches, key length, scopes, failed firsts.

Timing (races, the 24 h expiry, the 60 s abandonment) is in test_idempotency_timing.py.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Account, Api, assert_envelope, start
from tests.e2e.conftest import test_settings as settings_for

USERS = "/api/v1/users"
ITEM: dict[str, Any] = {"sku": "BOOK-1", "quantity": 2, "unit_price_cents": 1250}
ORDER: dict[str, Any] = {"currency": "EUR", "items": [ITEM]}


def sign_up(n: int = 0, **changes: str) -> dict[str, str]:
    return {"email": f"ada{n}@example.com", "username": f"ada_{n}", "password": "Secret123", **changes}


def keyed(key: str, account: Account | None = None) -> dict[str, str]:
    return {"Idempotency-Key": key, **(account.auth if account else {})}


async def user_total(api: Api) -> int:
    response = await api.client.get(USERS, headers=(await api.admin()).auth)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


async def order_total(api: Api, owner: Account | int) -> int:
    uid = owner if isinstance(owner, int) else owner.id
    response = await api.client.get(f"{USERS}/{uid}/orders", headers=(await api.admin()).auth)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def assert_replayed(first: httpx.Response, retry: httpx.Response) -> None:
    assert first.status_code == 201, first.text
    assert retry.status_code == 201, retry.text
    assert retry.content == first.content
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["content-type"].startswith("application/json")


# --- Replays -------------------------------------------------------------------------------------


@pytest.mark.parametrize("signed_in", [False, True], ids=["sign-up", "admin"])
async def test_a_retried_account_creation_replays_the_first_answer_and_creates_nothing(
    api: Api, signed_in: bool
) -> None:
    caller = await api.admin() if signed_in else None
    before = await user_total(api)

    first = await api.client.post(USERS, json=sign_up(), headers=keyed("k-1", caller))
    retry = await api.client.post(USERS, json=sign_up(), headers=keyed("k-1", caller))

    assert_replayed(first, retry)
    assert first.headers["location"] == f"{USERS}/{first.json()['id']}"
    assert await user_total(api) == before + 1


async def test_a_retried_order_replays_the_first_answer_even_after_the_order_changed(api: Api) -> None:
    owner = await api.create_account()
    path = f"{USERS}/{owner.id}/orders"
    first = await api.client.post(path, json=ORDER, headers=keyed("k-1", owner))
    cancelled = await api.client.patch(
        first.headers["location"], json={"status": "cancelled"}, headers=owner.auth
    )
    assert cancelled.status_code == 200

    retry = await api.client.post(path, json=ORDER, headers=keyed("k-1", owner))

    assert_replayed(first, retry)
    assert retry.json()["status"] == "pending"
    assert await order_total(api, owner) == 1


async def test_without_a_key_every_post_creates(api: Api) -> None:
    owner = await api.create_account()
    path = f"{USERS}/{owner.id}/orders"
    ids = {(await api.client.post(path, json=ORDER, headers=owner.auth)).json()["id"] for _ in range(3)}
    assert len(ids) == 3
    assert await order_total(api, owner) == 3


# --- The same key with another request -----------------------------------------------------------


async def test_the_same_key_with_another_sign_up_body_is_422_and_the_first_answer_still_replays(
    api: Api,
) -> None:
    first = await api.client.post(USERS, json=sign_up(1), headers=keyed("k"))
    before = await user_total(api)

    other = await api.client.post(USERS, json=sign_up(2), headers=keyed("k"))

    assert_envelope(other, 422, "ValidationError")
    assert await user_total(api) == before
    assert_replayed(first, await api.client.post(USERS, json=sign_up(1), headers=keyed("k")))


@pytest.mark.parametrize("change", ["quantity", "currency", "other-user"])
async def test_the_same_key_with_another_order_is_422_and_creates_nothing(api: Api, change: str) -> None:
    owner, admin = await api.create_account(), await api.admin()
    first = await api.client.post(f"{USERS}/{owner.id}/orders", json=ORDER, headers=keyed("k", admin))
    assert first.status_code == 201
    item = {**ITEM, "quantity": 3} if change == "quantity" else ITEM
    body = {"currency": "USD" if change == "currency" else "EUR", "items": [item]}
    target = (await api.create_account()).id if change == "other-user" else owner.id

    other = await api.client.post(f"{USERS}/{target}/orders", json=body, headers=keyed("k", admin))

    assert_envelope(other, 422, "ValidationError")
    assert await order_total(api, owner) == 1
    assert await order_total(api, target) == (1 if target == owner.id else 0)


# --- Key length ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sign-up", "order"])
async def test_a_key_of_255_characters_is_accepted_and_one_of_256_is_400(api: Api, kind: str) -> None:
    owner = await api.create_account()
    path = USERS if kind == "sign-up" else f"{USERS}/{owner.id}/orders"
    caller = None if kind == "sign-up" else owner

    async def count() -> int:
        return await (user_total(api) if kind == "sign-up" else order_total(api, owner))

    before = await count()

    too_long = await api.client.post(
        path, json=sign_up(1) if caller is None else ORDER, headers=keyed("k" * 256, caller)
    )
    assert_envelope(too_long, 400, "BadRequestError")
    assert await count() == before

    longest = await api.client.post(
        path, json=sign_up(2) if caller is None else ORDER, headers=keyed("k" * 255, caller)
    )
    assert longest.status_code == 201, longest.text
    assert await count() == before + 1


# --- Scopes --------------------------------------------------------------------------------------


async def test_two_users_using_one_key_each_create_their_own_order(api: Api) -> None:
    alice, bob = await api.create_account(), await api.create_account()

    mine = await api.client.post(f"{USERS}/{alice.id}/orders", json=ORDER, headers=keyed("shared", alice))
    theirs = await api.client.post(f"{USERS}/{bob.id}/orders", json=ORDER, headers=keyed("shared", bob))

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert (mine.json()["user_id"], theirs.json()["user_id"]) == (alice.id, bob.id)
    assert (await order_total(api, alice), await order_total(api, bob)) == (1, 1)


async def test_an_admin_and_the_owner_sending_the_same_request_and_key_each_create(api: Api) -> None:
    owner, admin = await api.create_account(), await api.admin()
    path = f"{USERS}/{owner.id}/orders"

    by_owner = await api.client.post(path, json=ORDER, headers=keyed("shared", owner))
    by_admin = await api.client.post(path, json=ORDER, headers=keyed("shared", admin))

    assert (by_owner.status_code, by_admin.status_code) == (201, 201), by_admin.text
    assert by_owner.json()["id"] != by_admin.json()["id"]
    assert await order_total(api, owner) == 2


@asynccontextmanager
async def from_address(app: Any, ip: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_anonymous_sign_up_keys_are_scoped_by_client_ip(tmp_path: Path) -> None:
    container, app = await start(settings_for(tmp_path))
    try:
        async with from_address(app, "203.0.113.1") as one, from_address(app, "203.0.113.2") as two:
            first = await one.post(USERS, json=sign_up(1), headers=keyed("k"))
            elsewhere = await two.post(USERS, json=sign_up(2), headers=keyed("k"))
            same_ip_other_body = await one.post(USERS, json=sign_up(3), headers=keyed("k"))
            same_ip_retry = await one.post(USERS, json=sign_up(1), headers=keyed("k"))
            same_body_elsewhere = await two.post(USERS, json=sign_up(1), headers=keyed("k2"))
    finally:
        await container.database().dispose()
        container.hasher().close()

    assert (first.status_code, elsewhere.status_code) == (201, 201), elsewhere.text
    assert elsewhere.json()["id"] != first.json()["id"]
    assert_envelope(same_ip_other_body, 422, "ValidationError")
    assert_replayed(first, same_ip_retry)
    assert_envelope(same_body_elsewhere, 409, "ConflictError")  # ran, and found the email taken


# --- A failed first request does not poison its key ----------------------------------------------


async def test_a_sign_up_that_failed_as_a_duplicate_runs_again_once_the_conflict_is_gone(api: Api) -> None:
    admin = await api.admin()
    holder = await api.client.post(USERS, json=sign_up(1))
    assert holder.status_code == 201

    failed = await api.client.post(USERS, json=sign_up(1), headers=keyed("k"))
    again = await api.client.post(USERS, json=sign_up(1), headers=keyed("k"))
    removed = await api.client.delete(holder.headers["location"], headers=admin.auth)
    assert removed.status_code == 204
    retry = await api.client.post(USERS, json=sign_up(1), headers=keyed("k"))

    assert assert_envelope(failed, 409, "ConflictError")["message"] == "Email is already registered"
    assert assert_envelope(again, 409, "ConflictError")["message"] == "Email is already registered"
    assert retry.status_code == 201, retry.text
    assert retry.json()["id"] != holder.json()["id"]
    assert_replayed(retry, await api.client.post(USERS, json=sign_up(1), headers=keyed("k")))


@pytest.mark.parametrize("bad", [{"password": "alllowercase1"}, {"email": "not-an-email"}, {"password": 7}])
async def test_a_sign_up_rejected_as_invalid_leaves_the_key_free_for_the_corrected_request(
    api: Api, bad: dict[str, Any]
) -> None:
    before = await user_total(api)

    failed = await api.client.post(USERS, json={**sign_up(), **bad}, headers=keyed("k"))
    corrected = await api.client.post(USERS, json=sign_up(), headers=keyed("k"))

    assert_envelope(failed, 422, "ValidationError")
    assert corrected.status_code == 201, corrected.text
    assert await user_total(api) == before + 1


@pytest.mark.parametrize("failure", ["invalid", "unknown-user", "forbidden"])
async def test_an_order_that_failed_leaves_the_key_free_for_the_corrected_request(
    api: Api, failure: str
) -> None:
    owner, admin = await api.create_account(), await api.admin()
    caller = admin if failure == "unknown-user" else owner
    body: dict[str, Any] = {**ORDER, "currency": "eur"} if failure == "invalid" else ORDER
    target = {"invalid": owner.id, "unknown-user": 987654, "forbidden": admin.id}[failure]
    status = {"invalid": 422, "unknown-user": 404, "forbidden": 403}[failure]

    failed = await api.client.post(f"{USERS}/{target}/orders", json=body, headers=keyed("k", caller))
    corrected = await api.client.post(f"{USERS}/{owner.id}/orders", json=ORDER, headers=keyed("k", caller))

    assert failed.status_code == status, failed.text
    assert corrected.status_code == 201, corrected.text
    assert await order_total(api, owner) == 1
