"""`/api/v2` (CONTRACT §6): cursor pages over users and orders, and every other route served as in v1.

Walks are compared with an oracle computed in Python from the complete list of accounts.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dependency_injector import providers

from gatehouse.adapters.memory.fakes import FixedClock
from tests.e2e.conftest import Api, assert_envelope

USERS = "/api/v2/users"
ORDER = {"currency": "EUR", "items": [{"sku": "BOOK-1", "quantity": 2, "unit_price_cents": 1250}]}
SORTS = ["id", "created_at", "username", "email"]
ALL_SORTS = [*SORTS, *(f"-{s}" for s in SORTS)]
SEED = [  # username, email, full name, role, active, minutes after the base time (ties on purpose)
    ("bravo", "Zed@example.com", "Bravo Search", "user", True, 2),
    ("Alpha", "mike@example.com", None, "moderator", True, 1),
    ("charlie", "Amy@example.com", "Charlie Search", "user", False, 1),
    ("Delta", "bob@example.com", None, "user", True, 0),
    ("echo", "carl@example.com", "Echo", "moderator", False, 1),
    ("foxtrot", "Dora@example.com", "Searchable Fox", "user", True, 0),
    ("golf", "gina@example.com", None, "user", False, 2),
    ("Hotel", "hal@example.com", "hotel SEARCH", "user", True, 2),
]
FILTERS: list[dict[str, str]] = [
    {},
    {"role": "user"},
    {"is_active": "false"},
    {"search": "search"},
    {"role": "user", "is_active": "true", "search": "e"},
]


@contextmanager
def clock_at(api: Api, at: datetime) -> Iterator[FixedClock]:
    clock = FixedClock(at)
    api.container.clock.override(providers.Object(clock))
    try:
        yield clock
    finally:
        api.container.clock.reset_override()


async def seed(api: Api) -> None:
    """The SEED accounts, created by the admin with chosen (and tied) creation times."""
    admin = await api.admin()  # built on the real clock, before the override
    base = datetime.now(UTC) - timedelta(hours=1)
    with clock_at(api, base) as clock:
        for username, email, full_name, role, active, minutes in SEED:
            clock.current = base + timedelta(minutes=minutes)
            body: dict[str, Any] = {"email": email, "username": username, "full_name": full_name}
            body |= {"password": "Secret123", "role": role, "is_active": active}
            created = await api.client.post(USERS, json=body, headers=admin.auth)
            assert created.status_code == 201, created.text


async def page_of(api: Api, path: str, **params: Any) -> dict[str, Any]:
    response = await api.client.get(path, params=params, headers=(await api.admin()).auth)
    assert response.status_code == 200, response.text
    assert response.headers["x-api-version"] == "2"
    body: dict[str, Any] = response.json()
    assert set(body) == {"items", "next_cursor"}
    return body


async def walk(api: Api, path: str, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Every item of a cursor walk, checking that each page but the last is full and the last says so."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        page = await page_of(api, path, limit=limit, **params, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        assert len(page["items"]) == limit
    raise AssertionError("the walk never ended")


def oracle(everyone: list[dict[str, Any]], sort: str, params: dict[str, str]) -> list[int]:
    """The ids a walk must visit, in order: filtered and sorted as the contract says."""

    def kept(user: dict[str, Any]) -> bool:
        needle = params.get("search", "").lower()
        texts = [user["email"], user["username"], user["full_name"] or ""]
        return (
            user["role"] == params.get("role", user["role"])
            and str(user["is_active"]).lower() == params.get("is_active", str(user["is_active"]).lower())
            and any(needle in text.lower() for text in texts)
        )

    field = sort.removeprefix("-")

    def key(user: dict[str, Any]) -> tuple[Any, int]:
        if field == "created_at":
            return datetime.fromisoformat(user["created_at"]), user["id"]
        value = user[field]
        return (value.lower() if isinstance(value, str) else value), user["id"]

    ordered = sorted(filter(kept, everyone), key=key, reverse=sort.startswith("-"))
    return [user["id"] for user in ordered]


def ids(items: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for item in items]


# --- limit and the shape of a page ---------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "101", "abc", "1.0", "-1", "1e1"])
@pytest.mark.parametrize("listing", ["users", "orders"])
async def test_a_limit_outside_1_to_100_or_not_an_integer_is_400(api: Api, listing: str, limit: str) -> None:
    admin = await api.admin()
    path = USERS if listing == "users" else f"{USERS}/{admin.id}/orders"
    response = await api.client.get(path, params={"limit": limit}, headers=admin.auth)
    assert_envelope(response, 400, "BadRequestError")
    assert response.headers["x-api-version"] == "2"


@pytest.mark.parametrize("limit", [1, 100])
async def test_the_limits_1_and_100_are_accepted(api: Api, limit: int) -> None:
    await seed(api)
    page = await page_of(api, USERS, limit=limit)
    assert len(page["items"]) == min(limit, len(SEED) + 1)
    assert (page["next_cursor"] is None) == (limit == 100)


async def test_the_default_limit_is_50(api: Api) -> None:
    await api.admin()
    for n in range(50):
        body = {"email": f"member{n}@example.com", "username": f"member{n}", "password": "Secret123"}
        assert (await api.client.post(USERS, json=body)).status_code == 201

    first = await page_of(api, USERS)
    second = await page_of(api, USERS, cursor=first["next_cursor"])

    assert len(first["items"]) == 50
    assert isinstance(first["next_cursor"], str)
    assert len(second["items"]) == 1
    assert second["next_cursor"] is None


async def test_a_page_that_ends_the_list_exactly_has_a_null_next_cursor(api: Api) -> None:
    await seed(api)  # 9 accounts with the admin
    pages = [await page_of(api, USERS, limit=3)]
    while pages[-1]["next_cursor"] is not None:
        pages.append(await page_of(api, USERS, limit=3, cursor=pages[-1]["next_cursor"]))
    assert [len(p["items"]) for p in pages] == [3, 3, 3]


# --- Walks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("sort", ALL_SORTS)
async def test_walking_visits_every_matching_account_once_in_order_for_every_sort_and_filter(
    api: Api, sort: str
) -> None:
    await seed(api)
    everyone = await walk(api, USERS, 100)
    assert len(everyone) == len(SEED) + 1

    for params in FILTERS:
        expected = oracle(everyone, sort, params)
        assert 0 < len(expected) < len(everyone) or not params, params

        walked = await walk(api, USERS, 2, sort=sort, **params)

        assert ids(walked) == expected, params
        by_id = {u["id"]: u for u in everyone}
        assert walked == [by_id[i] for i in expected]


@pytest.mark.parametrize("sort", ["id", "-id", "username", "-email", "created_at"])
async def test_accounts_created_during_a_walk_appear_at_most_once_and_the_others_exactly_once(
    api: Api, sort: str
) -> None:
    await seed(api)
    before = set(ids(await walk(api, USERS, 100)))
    seen: list[int] = []
    added: set[int] = set()
    cursor, rounds = None, 0
    for _ in range(100):
        page = await page_of(api, USERS, limit=2, sort=sort, **({"cursor": cursor} if cursor else {}))
        seen += ids(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        if rounds < 3:
            for prefix in ("aaa", "mmm", "zzz"):  # before, amid and after the walk's position
                name = f"{prefix}_{rounds}"
                body = {"email": f"{name}@example.com", "username": name, "password": "Secret123"}
                created = await api.client.post(USERS, json=body)
                assert created.status_code == 201, created.text
                added.add(created.json()["id"])
        rounds += 1

    assert cursor is None, "the walk never ended"
    assert rounds >= 3
    assert len(seen) == len(set(seen))
    assert set(seen) - added == before
    assert set(seen) <= before | added


async def test_walking_a_users_orders_visits_each_once_by_id_and_honours_the_status_filter(api: Api) -> None:
    owner, admin = await api.create_account(), await api.admin()
    path = f"{USERS}/{owner.id}/orders"
    orders = [(await api.client.post(path, json=ORDER, headers=owner.auth)).json() for _ in range(5)]
    for order in orders[1::2]:
        paid = await api.client.patch(f"{path}/{order['id']}", json={"status": "paid"}, headers=admin.auth)
        order.update(paid.json())

    assert await walk(api, path, 2) == orders
    assert await walk(api, path, 1, status="paid") == orders[1::2]
    assert await walk(api, path, 2, status="shipped") == []


@pytest.mark.parametrize("who", ["owner", "moderator"])
async def test_the_owner_and_a_moderator_walk_the_owners_orders(api: Api, who: str) -> None:
    owner = await api.create_account()
    caller = owner if who == "owner" else await api.create_account("moderator")
    path = f"{USERS}/{owner.id}/orders"
    created = [(await api.client.post(path, json=ORDER, headers=owner.auth)).json() for _ in range(3)]

    first = await api.client.get(path, params={"limit": 2}, headers=caller.auth)
    rest = await api.client.get(
        path, params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=caller.auth
    )

    assert first.json()["items"] + rest.json()["items"] == created
    assert rest.json()["next_cursor"] is None


async def test_v2_lists_keep_the_v1_permissions(api: Api) -> None:
    user, other = await api.create_account(), await api.create_account()
    assert_envelope(await api.client.get(USERS, headers=user.auth), 403, "PermissionDeniedError")
    assert_envelope(await api.client.get(USERS), 401, "AuthenticationError")
    response = await api.client.get(f"{USERS}/{other.id}/orders", headers=user.auth)
    assert_envelope(response, 403, "PermissionDeniedError")
    response = await api.client.get(f"{USERS}/987654/orders", headers=(await api.admin()).auth)
    assert_envelope(response, 404, "NotFoundError")
