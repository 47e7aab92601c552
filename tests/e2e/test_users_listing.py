"""`GET /api/v1/users` (CONTRACT §3, Pages v1): numbered pages, filters, search and sorts.

Expected results are computed from the complete list, so every check compares against an oracle.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dependency_injector import providers

from tests.e2e.conftest import Api, assert_envelope

USERS = "/api/v1/users"
SORTS = ["id", "created_at", "username", "email"]


class SettableClock:
    """A clock the test sets: lets sign-ups carry chosen (and tied) creation times."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@contextmanager
def clock_at(api: Api, at: datetime) -> Iterator[SettableClock]:
    clock = SettableClock(at)
    api.container.clock.override(providers.Object(clock))
    try:
        yield clock
    finally:
        api.container.clock.reset_override()


async def list_users(api: Api, **params: Any) -> dict[str, Any]:
    admin = await api.admin()
    response = await api.client.get(USERS, params=params, headers=admin.auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def everyone(api: Api) -> list[dict[str, Any]]:
    page = await list_users(api, page_size=100)
    assert page["total"] == len(page["items"])
    return list(page["items"])


def ids(items: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for item in items]


async def seed(api: Api, count: int) -> None:
    for n in range(count):
        body = {"email": f"member{n}@example.com", "username": f"member{n}", "password": "Secret123"}
        assert (await api.client.post(USERS, json=body)).status_code == 201


# --- Pages ---------------------------------------------------------------------------------------


async def test_the_default_page_is_the_first_fifty_by_id(api: Api) -> None:
    await seed(api, 6)
    page = await list_users(api)
    assert {k: page[k] for k in ("total", "page", "page_size", "total_pages")} == {
        "total": 7,
        "page": 1,
        "page_size": 50,
        "total_pages": 1,
    }
    assert ids(page["items"]) == sorted(ids(page["items"]))
    assert len(page["items"]) == 7


async def test_pages_split_the_list_without_gaps_or_repeats(api: Api) -> None:
    await seed(api, 6)
    every_id = ids(await everyone(api))
    pages = [await list_users(api, page=n, page_size=3) for n in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [3, 3, 1, 0]
    assert [(p["page"], p["page_size"], p["total"], p["total_pages"]) for p in pages] == [
        (n, 3, 7, 3) for n in (1, 2, 3, 4)
    ]
    assert [i for p in pages for i in ids(p["items"])] == every_id


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("page", "0"),
        ("page", "-1"),
        ("page", "abc"),
        ("page", "1.5"),
        ("page", "1.0"),
        ("page", "1e1"),
        ("page_size", "0"),
        ("page_size", "101"),
        ("page_size", "-5"),
        ("page_size", "ten"),
        ("page_size", "2.0"),
        ("page_size", "1e1"),
    ],
)
async def test_a_page_or_page_size_out_of_range_or_not_an_integer_is_400(
    api: Api, name: str, value: str
) -> None:
    admin = await api.admin()
    response = await api.client.get(USERS, params={name: value}, headers=admin.auth)
    assert_envelope(response, 400, "BadRequestError")


async def test_the_largest_page_size_is_100(api: Api) -> None:
    page = await list_users(api, page_size=100)
    assert page["page_size"] == 100


# --- Filters and search --------------------------------------------------------------------------


async def test_role_and_is_active_filter_the_list_and_its_total(api: Api) -> None:
    moderators = {(await api.create_account("moderator")).id for _ in range(2)}
    inactive = {(await api.create_account("user", active=False)).id for _ in range(2)}
    active_users = {(await api.create_account("user")).id for _ in range(3)}
    admin = await api.admin()

    cases: list[tuple[dict[str, Any], set[int]]] = [
        ({"role": "moderator"}, moderators),
        ({"role": "admin"}, {admin.id}),
        ({"role": "user"}, inactive | active_users),
        ({"is_active": "false"}, inactive),
        ({"is_active": "true"}, moderators | active_users | {admin.id}),
        ({"role": "user", "is_active": "true"}, active_users),
    ]
    for params, expected in cases:
        page = await list_users(api, **params)
        assert set(ids(page["items"])) == expected, params
        assert page["total"] == len(expected), params


@pytest.mark.parametrize("params", [{"role": "superuser"}, {"role": "Admin"}, {"is_active": "maybe"}])
async def test_an_unknown_role_or_is_active_value_is_400(api: Api, params: dict[str, str]) -> None:
    admin = await api.admin()
    assert_envelope(await api.client.get(USERS, params=params, headers=admin.auth), 400, "BadRequestError")


SEARCHABLE = [
    ("ada@example.com", "ada", "Ada Lovelace"),
    ("linus@kernel.org", "linus", None),
    ("grace@navy.mil", "GraceH", "Grace Brewster Hopper"),
    ("pure@example.com", "pure", "100% Pure"),
    ("under_score@example.com", "plain", None),
    ("hundred@example.com", "hundred", "100 Percent"),
]


def matches(user: dict[str, Any], needle: str) -> bool:
    haystacks = [user["email"], user["username"], user["full_name"] or ""]
    return any(needle.lower() in text.lower() for text in haystacks)


@pytest.mark.parametrize(
    "needle", ["LOVELACE", "kernel", "graceh", "hopper", "ExAmPlE", "%", "100%", "_", "e_s", "nobody-at-all"]
)
async def test_search_is_a_case_insensitive_literal_substring_of_email_username_or_full_name(
    api: Api, needle: str
) -> None:
    for email, username, full_name in SEARCHABLE:
        body = {"email": email, "username": username, "password": "Secret123", "full_name": full_name}
        assert (await api.client.post(USERS, json=body)).status_code == 201
    every = await everyone(api)
    expected = [u["id"] for u in every if matches(u, needle)]
    assert len(expected) < len(every)  # the needle discriminates; a wildcard would match everyone

    page = await list_users(api, search=needle)

    assert ids(page["items"]) == expected
    assert page["total"] == len(expected)


# --- Sorts ---------------------------------------------------------------------------------------

SORTABLE = [  # username, email, minutes after the base time: ties on created_at are on purpose
    ("bravo", "Zed@example.com", 2),
    ("Alpha", "mike@example.com", 1),
    ("charlie", "Amy@example.com", 1),
    ("Delta", "bob@example.com", 0),
    ("echo", "carl@example.com", 1),
    ("foxtrot", "Dora@example.com", 0),
]


def sort_key(field: str) -> Any:
    def key(user: dict[str, Any]) -> tuple[Any, int]:
        if field == "created_at":
            return datetime.fromisoformat(user["created_at"]), user["id"]
        if field == "id":
            return user["id"], user["id"]
        return user[field].lower(), user["id"]

    return key


async def seed_sortable(api: Api) -> None:
    await everyone(api)  # builds the admin and the app's singletons on the real clock first
    base = datetime.now(UTC) - timedelta(hours=1)
    with clock_at(api, base) as clock:
        for username, email, minutes in SORTABLE:
            clock.at = base + timedelta(minutes=minutes)
            body = {"email": email, "username": username, "password": "Secret123"}
            assert (await api.client.post(USERS, json=body)).status_code == 201


@pytest.mark.parametrize("sort", SORTS)
async def test_each_ascending_sort_orders_by_its_lower_cased_key_then_id(api: Api, sort: str) -> None:
    await seed_sortable(api)
    every = await everyone(api)

    page = await list_users(api, sort=sort, page_size=100)

    assert ids(page["items"]) == ids(sorted(every, key=sort_key(sort)))


@pytest.mark.parametrize("sort", SORTS)
async def test_each_descending_sort_is_the_exact_reverse_of_the_ascending_one(api: Api, sort: str) -> None:
    await seed_sortable(api)
    ascending = ids((await list_users(api, sort=sort, page_size=100))["items"])

    descending = await list_users(api, sort=f"-{sort}", page_size=100)

    assert ids(descending["items"]) == ascending[::-1]
    assert ascending != ascending[::-1]


@pytest.mark.parametrize("sort", [*SORTS, *(f"-{s}" for s in SORTS)])
async def test_paging_through_a_sort_with_ties_visits_each_account_once_in_order(api: Api, sort: str) -> None:
    await seed_sortable(api)
    whole = ids((await list_users(api, sort=sort, page_size=100))["items"])

    paged = [
        i for n in (1, 2, 3, 4) for i in ids((await list_users(api, sort=sort, page=n, page_size=2))["items"])
    ]

    assert paged == whole


async def test_the_default_sort_is_by_id(api: Api) -> None:
    await seed_sortable(api)
    assert ids((await list_users(api))["items"]) == ids((await list_users(api, sort="id"))["items"])
    assert ids((await list_users(api))["items"]) == sorted(ids(await everyone(api)))


@pytest.mark.parametrize("sort", ["name", "-name", "--id", "+id", "ID", "id,email", "password_hash", "-"])
async def test_an_unknown_sort_is_400(api: Api, sort: str) -> None:
    admin = await api.admin()
    assert_envelope(
        await api.client.get(USERS, params={"sort": sort}, headers=admin.auth), 400, "BadRequestError"
    )
