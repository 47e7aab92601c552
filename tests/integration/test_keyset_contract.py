"""UserQueries.keyset (cursor pages) on memory, SQLite and PostgreSQL: every item once, in order."""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest

from gatehouse.application.ports.paging import After
from gatehouse.application.ports.users import UserFilter, UserKeysetQuery, UserSortField
from gatehouse.domain.user import User
from gatehouse.domain.values import Role
from tests.integration.builders import T0, new_user, store_users
from tests.integration.conftest import Backend

Key = Callable[[User], int | str | datetime]
# Written out from CONTRACT §3 rather than taken from the code: text sorts compare lower-cased
# values bytewise ("0" < "_" < letters), and every sort breaks ties by id.
KEYS: dict[UserSortField, Key] = {
    UserSortField.ID: lambda u: u.id,
    UserSortField.CREATED_AT: lambda u: u.created_at,
    UserSortField.USERNAME: lambda u: u.username.value.lower(),
    UserSortField.EMAIL: lambda u: u.email.value.lower(),
}
FILTERS = [
    UserFilter(),
    UserFilter(role=Role.USER),
    UserFilter(is_active=False),
    UserFilter(role=Role.USER, is_active=True, search="B"),
    UserFilter(search="_"),
    UserFilter(search="%"),
]


async def seed(backend: Backend) -> list[User]:
    """'Bob' and 'bob_' differ; three accounts share T0 and two share T0 + 3 s."""
    later = T0 + timedelta(seconds=3)
    return await store_users(
        backend,
        new_user("bob_", email="a.bob@example.com", created_at=later, role=Role.MODERATOR),
        new_user("Alice", email="b_alice@example.com"),
        new_user("Bob", email="z.bob@example.com", created_at=later, full_name="100% Bob"),
        new_user("a_x", email="b+x@example.com"),
        new_user("aBx", email="b.ab@example.com", created_at=T0 + timedelta(microseconds=1)),
        new_user("a0z", email="b0@example.com", role=Role.ADMIN),
        new_user("under_score", email="u@example.com", created_at=T0 - timedelta(days=1), is_active=False),
    )


def matches(user: User, f: UserFilter) -> bool:
    text = (user.email.value, user.username.value, user.full_name.value if user.full_name else "")
    return (
        (f.role is None or user.role is f.role)
        and (f.is_active is None or user.is_active is f.is_active)
        and (f.search is None or any(f.search.lower() in t.lower() for t in text))
    )


def ordered(users: list[User], sort: UserSortField, descending: bool, f: UserFilter) -> list[int]:
    chosen = [u for u in users if matches(u, f)]
    return [u.id for u in sorted(chosen, key=lambda u: (KEYS[sort](u), u.id), reverse=descending)]


async def walk(
    backend: Backend,
    sort: UserSortField,
    descending: bool = False,
    f: UserFilter | None = None,
    *,
    between_pages: Callable[[], Awaitable[None]] | None = None,
) -> list[list[int]]:
    """The ids of every page of a walk with limit 2."""
    pages: list[list[int]] = []
    after: After | None = None
    while True:
        page = await backend.queries.keyset(UserKeysetQuery(f or UserFilter(), sort, descending, 2, after))
        pages.append([u.id for u in page.items])
        if page.next_after is None:
            return pages
        after = page.next_after
        if between_pages is not None:
            await between_pages()


def page_sizes_of(count: int) -> list[int]:
    """Full pages of two, then the rest; a walk over nothing is one empty page."""
    return [2] * (count // 2) + ([count % 2] if count % 2 or count == 0 else [])


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("sort", list(UserSortField))
async def test_a_walk_visits_every_matching_user_once_in_order_with_ties_broken_by_id(
    backend: Backend, sort: UserSortField, descending: bool
) -> None:
    users = await seed(backend)

    for f in FILTERS:
        expected = ordered(users, sort, descending, f)
        pages = await walk(backend, sort, descending, f)

        assert [i for p in pages for i in p] == expected, f
        assert [len(p) for p in pages] == page_sizes_of(len(expected)), f


async def test_username_sort_compares_lower_cased_bytes(backend: Backend) -> None:
    names = {u.id: u.username.value for u in await seed(backend)}

    pages = await walk(backend, UserSortField.USERNAME)

    assert [names[i] for p in pages for i in p] == [
        "a0z",
        "a_x",
        "aBx",
        "Alice",
        "Bob",
        "bob_",
        "under_score",
    ]


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
async def test_equal_created_at_is_ordered_by_id_across_page_boundaries(
    backend: Backend, descending: bool
) -> None:
    same = await store_users(backend, *(new_user(f"same{n}") for n in range(5)))
    ids = [u.id for u in same][:: -1 if descending else 1]

    pages = await walk(backend, UserSortField.CREATED_AT, descending)

    assert pages == [ids[:2], ids[2:4], ids[4:]]


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("sort", [UserSortField.CREATED_AT, UserSortField.USERNAME])
async def test_users_inserted_during_a_walk_appear_at_most_once(
    backend: Backend, sort: UserSortField, descending: bool
) -> None:
    users = await seed(backend)
    first, last = (
        new_user("aaa", created_at=T0 - timedelta(days=2)),
        new_user("zzz", created_at=T0 + timedelta(1)),
    )
    batches = [[first, last]]

    async def insert() -> None:
        if batches:
            users.extend(await store_users(backend, *batches.pop()))

    pages = await walk(backend, sort, descending, between_pages=insert)

    seen = [i for p in pages for i in p]
    assert not batches
    assert len(seen) == len(set(seen))
    assert set(seen) >= {u.id for u in users if u.username.value not in ("aaa", "zzz")}
    assert seen == [i for i in ordered(users, sort, descending, UserFilter()) if i in set(seen)]


async def test_a_walk_over_nothing_is_one_empty_last_page(backend: Backend) -> None:
    page = await backend.queries.keyset(UserKeysetQuery(UserFilter(role=Role.ADMIN)))

    assert (list(page.items), page.next_after) == ([], None)


@pytest.mark.parametrize("search", ["ådå", "ÅDÅ", "LÖVE"], ids=["lower", "upper", "ascii-upper"])
async def test_search_ignores_case_beyond_ascii_in_full_names(backend: Backend, search: str) -> None:
    ada, _ = await store_users(backend, new_user("ada", full_name="Ådå Lövelace"), new_user("bob"))

    page = await backend.queries.keyset(UserKeysetQuery(UserFilter(search=search)))

    assert [u.id for u in page.items] == [ada.id]
