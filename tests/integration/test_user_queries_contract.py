"""The UserQueries contract (the read side) on memory, SQLite and PostgreSQL."""

from datetime import timedelta

import pytest

from gatehouse.application.ports.users import UserFilter, UserPageQuery, UserSortField
from gatehouse.domain.values import Role
from tests.integration.builders import T0, assert_utc, new_user, store_session, store_users
from tests.integration.conftest import Backend

NOW = T0 + timedelta(hours=1)


async def test_get_returns_the_committed_account_or_none(backend: Backend) -> None:
    [ada] = await store_users(backend, new_user("Ada_L", full_name="Ada"))

    found = await backend.queries.get(ada.id)

    assert found is not None
    assert (found.id, found.username.value, found.version) == (ada.id, "Ada_L", 1)
    assert (found.created_at, found.updated_at) == (T0, T0)
    assert_utc(found.created_at, found.updated_at)
    assert await backend.queries.get(ada.id + 1000) is None


@pytest.mark.parametrize("identifier", ["ada@example.org", "ada_l"])
async def test_find_for_login_matches_the_email_or_the_lower_cased_username(
    backend: Backend, identifier: str
) -> None:
    ada, _ = await store_users(backend, new_user("Ada_L", email="Ada@Example.org"), new_user("bob"))

    found = await backend.queries.find_for_login(identifier)

    assert found == ada
    assert await backend.queries.find_for_login("nobody@example.org") is None


async def test_find_principal_gives_the_account_and_role_behind_a_live_session_of_an_active_user(
    backend: Backend,
) -> None:
    [mod] = await store_users(backend, new_user("mod", role=Role.MODERATOR))
    session = await store_session(backend, mod, expires_in=timedelta(hours=2))

    principal = await backend.queries.find_principal(session_id=session.id, user_id=mod.id, now=NOW)

    assert principal is not None
    assert (principal.id, principal.role, principal.is_active) == (mod.id, Role.MODERATOR, True)


@pytest.mark.parametrize(
    "case", ["revoked", "expired", "expires-now", "inactive-user", "other-user", "unknown"]
)
async def test_find_principal_refuses_a_session_that_is_not_live_or_not_that_users(
    backend: Backend, case: str
) -> None:
    ada, bob = await store_users(backend, new_user("ada"), new_user("bob", is_active=case != "inactive-user"))
    expires_in = {"expired": timedelta(minutes=59), "expires-now": timedelta(hours=1)}.get(
        case, timedelta(days=1)
    )
    session = await store_session(backend, bob, expires_in=expires_in)
    if case == "revoked":
        async with backend.new_uow() as uow:
            await uow.sessions.revoke(session.id, T0)
            await uow.commit()
    session_id = session.id + 1000 if case == "unknown" else session.id
    user_id = ada.id if case == "other-user" else bob.id

    assert await backend.queries.find_principal(session_id=session_id, user_id=user_id, now=NOW) is None


async def _seed_for_search(backend: Backend) -> None:
    await store_users(
        backend,
        new_user("under_score", email="plain1@example.com", full_name="Ada Lovelace"),
        new_user("underXscore", email="plain2@example.com", full_name="100% sure"),
        new_user("other", email="per%cent@example.com", full_name="C:\\temp"),
        new_user("ADMIN_x", email="boss@example.com", role=Role.ADMIN, is_active=False),
    )


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        (UserFilter(), ["under_score", "underXscore", "other", "ADMIN_x"]),
        (UserFilter(role=Role.ADMIN), ["ADMIN_x"]),
        (UserFilter(is_active=False), ["ADMIN_x"]),
        (UserFilter(is_active=True), ["under_score", "underXscore", "other"]),
        (UserFilter(role=Role.USER, search="UNDER"), ["under_score", "underXscore"]),
        (UserFilter(search="lovelACE"), ["under_score"]),
        (UserFilter(search="admin_X"), ["ADMIN_x"]),
        (UserFilter(search="boss@"), ["ADMIN_x"]),
        (UserFilter(search="under_"), ["under_score"]),
        (UserFilter(search="%"), ["underXscore", "other"]),
        (UserFilter(search="0% s"), ["underXscore"]),
        (UserFilter(search="\\"), ["other"]),
        (UserFilter(role=Role.MODERATOR), []),
    ],
    ids=lambda v: repr(v) if isinstance(v, UserFilter) else None,
)
async def test_page_filters_by_role_activity_and_literal_search(
    backend: Backend, filter_: UserFilter, expected: list[str]
) -> None:
    await _seed_for_search(backend)

    page = await backend.queries.page(UserPageQuery(filter_))

    assert [u.username.value for u in page.items] == expected
    assert page.total == len(expected)


async def _seed_for_sorting(backend: Backend) -> None:
    """Names whose order differs between bytewise, case-sensitive and linguistic collations."""
    await store_users(
        backend,
        new_user("bob", email="z.bob@example.com", created_at=T0 + timedelta(seconds=3)),
        new_user("Alice", email="b_alice@example.com", created_at=T0),
        new_user("a_x", email="b+x@example.com", created_at=T0),
        new_user("aBx", email="b.ab@example.com", created_at=T0 + timedelta(microseconds=1)),
        new_user("a0z", email="b0@example.com", created_at=T0),
    )


ASCENDING = {
    UserSortField.ID: ["bob", "Alice", "a_x", "aBx", "a0z"],
    # lower-cased, compared bytewise: "0" < "_" < letters, and case never matters
    UserSortField.USERNAME: ["a0z", "a_x", "aBx", "Alice", "bob"],
    UserSortField.EMAIL: ["a_x", "aBx", "a0z", "Alice", "bob"],  # "+" < "." < "0" < "_"
    # Alice, a_x and a0z share created_at: ties go by id
    UserSortField.CREATED_AT: ["Alice", "a_x", "a0z", "aBx", "bob"],
}
DESCENDING = {
    UserSortField.ID: ["a0z", "aBx", "a_x", "Alice", "bob"],
    UserSortField.USERNAME: ["bob", "Alice", "aBx", "a_x", "a0z"],
    UserSortField.EMAIL: ["bob", "Alice", "a0z", "aBx", "a_x"],
    # the tie is still broken by id, now descending
    UserSortField.CREATED_AT: ["bob", "aBx", "a0z", "a_x", "Alice"],
}


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("sort", list(UserSortField))
async def test_page_sorts_by_every_field_with_ties_broken_by_id(
    backend: Backend, sort: UserSortField, descending: bool
) -> None:
    await _seed_for_sorting(backend)

    page = await backend.queries.page(UserPageQuery(UserFilter(), sort=sort, descending=descending))

    assert [u.username.value for u in page.items] == (DESCENDING if descending else ASCENDING)[sort]


@pytest.mark.parametrize(
    ("page_number", "page_size", "expected"),
    [
        (1, 2, ["Alice", "a_x"]),
        (2, 2, ["a0z", "aBx"]),
        (3, 2, ["bob"]),
        (4, 2, []),
        (1, 100, ASCENDING[UserSortField.CREATED_AT]),
    ],
)
async def test_page_returns_the_requested_slice_and_the_total_of_all_matches(
    backend: Backend, page_number: int, page_size: int, expected: list[str]
) -> None:
    await _seed_for_sorting(backend)
    query = UserPageQuery(UserFilter(), sort=UserSortField.CREATED_AT, page=page_number, page_size=page_size)

    page = await backend.queries.page(query)

    assert [u.username.value for u in page.items] == expected
    assert page.total == 5
    assert_utc(*(u.created_at for u in page.items))
