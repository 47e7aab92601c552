"""The one-hop read paths (SqliteUserQueries, PostgresUserQueries) answer exactly as the portable
SqlAlchemyUserQueries does."""

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, timedelta, timezone
from pathlib import Path

import pytest

from gatehouse.adapters.sqlalchemy.fast_reads import OneHopUserQueries
from gatehouse.adapters.sqlalchemy.postgres_reads import PostgresUserQueries
from gatehouse.adapters.sqlalchemy.queries import SqlAlchemyUserQueries
from gatehouse.adapters.sqlalchemy.sqlite_reads import SqliteUserQueries
from gatehouse.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from gatehouse.application.ports.users import USER_FIELDS, UserFilter, UserPageQuery, UserSortField
from gatehouse.domain.user import User
from gatehouse.domain.values import FullName, Role, Username
from tests.databases import ENGINES
from tests.integration.builders import T0, new_user, store_session, store_users
from tests.integration.conftest import Backend, open_database

NOW = T0 + timedelta(hours=1)
Whole = tuple[object, ...]
NOT_LIVE = ("revoked", "expired", "expires-now", "inactive", "other-user", "unknown")


@dataclass(frozen=True)
class Pair:
    """The fast path and the portable path over one migrated database."""

    backend: Backend
    fast: OneHopUserQueries
    portable: SqlAlchemyUserQueries


@pytest.fixture(params=ENGINES)
async def pair(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Pair]:
    async with open_database(request.param, tmp_path, migrated=True) as db:
        portable = SqlAlchemyUserQueries(db)
        fast = SqliteUserQueries(db) if db.is_sqlite else PostgresUserQueries(db)
        yield Pair(Backend(request.param, lambda: SqlAlchemyUnitOfWork(db), portable), fast, portable)


def whole(user: User | None) -> Whole | None:
    """Every field of an account (User compares by id alone), with the types of the odd ones."""
    if user is None:
        return None
    full_name = user.full_name.value if user.full_name is not None else None
    return (
        user.id,
        user.email.value,
        user.username.value,
        user.username.canonical,
        full_name,
        type(user.role),
        user.role,
        type(user.is_active),
        user.is_active,
        user.password_hash,
        user.created_at,
        user.updated_at,
        user.created_at.tzinfo,
        user.updated_at.tzinfo,
        user.version,
        type(user.email_verified),
        user.email_verified,
    )


async def seed(pair: Pair) -> list[User]:
    """Accounts with shared created_at, mixed case, and %, _ and \\ in their text."""
    return await store_users(
        pair.backend,
        new_user(
            "bob", email="z.bob@example.com", full_name="Bob 100% sure", created_at=T0 + timedelta(seconds=3)
        ),
        new_user("Alice", email="b_alice@example.com", full_name=None),
        new_user("a_x", email="b+x@example.com", full_name="C:\\temp", role=Role.MODERATOR),
        new_user("aBx", email="b.ab@example.com", created_at=T0 + timedelta(microseconds=1), is_active=False),
        new_user("a0z", email="b0@example.com", full_name="Zed", role=Role.ADMIN, email_verified=True),
        new_user(
            "under_score", email="per%cent@example.com", full_name="x_y", role=Role.ADMIN, is_active=False
        ),
        new_user("ADMIN_x", email="boss@example.com", role=Role.ADMIN),
    )


async def test_get_gives_the_same_whole_account_or_none(pair: Pair) -> None:
    users = await seed(pair)

    for user_id in [u.id for u in users] + [0, users[-1].id + 1]:
        fast = await pair.fast.get(user_id)
        assert whole(fast) == whole(await pair.portable.get(user_id))
        assert (fast is None) == (user_id not in {u.id for u in users})


async def test_timestamps_come_back_aware_utc_to_the_microsecond(pair: Pair) -> None:
    [ada] = await store_users(pair.backend, new_user("ada", created_at=T0 + timedelta(microseconds=1)))

    found = await pair.fast.get(ada.id)

    assert found is not None
    assert found.created_at == found.updated_at == T0 + timedelta(microseconds=1)
    assert found.created_at.tzinfo is UTC
    assert found.created_at.utcoffset() == timedelta(0)
    assert found.created_at.microsecond == T0.microsecond + 1


@pytest.mark.parametrize(
    "identifier",
    [
        "z.bob@example.com",
        "bob",
        "alice",
        "Alice",
        "a_x",
        "admin_x",
        "per%cent@example.com",
        "b%",
        "nobody",
        "",
    ],
)
async def test_find_for_login_gives_the_same_account_for_every_identifier(
    pair: Pair, identifier: str
) -> None:
    await seed(pair)

    fast = await pair.fast.find_for_login(identifier)

    assert whole(fast) == whole(await pair.portable.find_for_login(identifier))
    if identifier in ("z.bob@example.com", "bob", "alice", "a_x", "admin_x", "per%cent@example.com"):
        assert fast is not None


@pytest.mark.parametrize(
    ("case", "live"),
    [("live", True), *[(case, False) for case in NOT_LIVE]],
)
@pytest.mark.parametrize("zone", [UTC, timezone(timedelta(hours=2))], ids=["utc", "plus2"])
async def test_find_principal_gives_the_same_answer_for_every_kind_of_session(
    pair: Pair, case: str, live: bool, zone: timezone
) -> None:
    ada, bob = await store_users(pair.backend, new_user("ada"), new_user("bob", is_active=case != "inactive"))
    expires_in = {"expired": timedelta(minutes=59, seconds=59), "expires-now": timedelta(hours=1)}.get(
        case, timedelta(hours=1, microseconds=1)
    )
    session = await store_session(pair.backend, bob, expires_in=expires_in)
    if case == "revoked":
        async with pair.backend.new_uow() as uow:
            await uow.sessions.revoke(session.id, T0)
            await uow.commit()
    ids = {"session_id": session.id + (1000 if case == "unknown" else 0)}
    ids["user_id"] = ada.id if case == "other-user" else bob.id
    now = NOW.astimezone(zone)

    fast = await pair.fast.find_principal(now=now, **ids)

    assert whole(fast) == whole(await pair.portable.find_principal(now=now, **ids))
    assert (fast is not None) == live


FILTERS = [
    UserFilter(),
    UserFilter(role=Role.ADMIN),
    UserFilter(role=Role.USER, is_active=True),
    UserFilter(is_active=False),
    UserFilter(search="B"),
    UserFilter(search="%"),
    UserFilter(search="_"),
    UserFilter(search="\\"),
    UserFilter(search="0% S"),
    UserFilter(role=Role.ADMIN, is_active=False, search="score"),
    UserFilter(role=Role.MODERATOR, search="nothing-matches"),
]


@pytest.mark.parametrize("user_filter", FILTERS, ids=repr)
async def test_page_gives_the_same_items_and_total_for_every_sort_and_page(
    pair: Pair, user_filter: UserFilter
) -> None:
    await seed(pair)
    shapes = itertools.product(UserSortField, [False, True], [1, 2, 3, 9])
    totals = set()

    for sort, descending, number in shapes:
        query = UserPageQuery(user_filter, sort=sort, descending=descending, page=number, page_size=2)
        fast, portable = await pair.fast.page(query), await pair.portable.page(query)
        assert ([whole(u) for u in fast.items], fast.total) == (
            [whole(u) for u in portable.items],
            portable.total,
        )
        assert len(fast.items) == max(0, min(2, fast.total - 2 * (number - 1)))
        totals.add(fast.total)

    assert len(totals) == 1  # the total is the same on every page, past the end included


@pytest.mark.parametrize(
    ("search", "expected"),
    [("%", ["bob", "under_score"]), ("_", ["Alice", "a_x", "under_score", "ADMIN_x"]), ("0% s", ["bob"])],
)
async def test_search_matches_percent_and_underscore_literally(
    pair: Pair, search: str, expected: list[str]
) -> None:
    await seed(pair)

    page = await pair.fast.page(UserPageQuery(UserFilter(search=search)))

    assert sorted(u.username.value for u in page.items) == sorted(expected)
    assert page.total == len(expected)


async def test_pages_of_one_shape_with_other_values_are_not_mixed_up(pair: Pair) -> None:
    await seed(pair)

    async def names(user_filter: UserFilter) -> list[str]:
        return [u.username.value for u in (await pair.fast.page(UserPageQuery(user_filter))).items]

    assert await names(UserFilter(role=Role.ADMIN)) == ["a0z", "under_score", "ADMIN_x"]
    assert await names(UserFilter(role=Role.MODERATOR)) == ["a_x"]
    assert await names(UserFilter(is_active=False)) == ["aBx", "under_score"]
    assert await names(UserFilter(is_active=True, role=Role.ADMIN)) == ["a0z", "ADMIN_x"]
    assert await names(UserFilter(search="alice")) == ["Alice"]
    assert await names(UserFilter(search="zed")) == ["a0z"]


async def test_a_change_committed_through_a_unit_of_work_is_seen_by_the_next_read(pair: Pair) -> None:
    ada, bob = await store_users(pair.backend, new_user("ada"), new_user("bob"))
    session = await store_session(pair.backend, ada)
    assert await pair.fast.find_for_login("ada") is not None  # opens and warms the read connections
    assert (await pair.fast.page(UserPageQuery(UserFilter(search="ada")))).total == 1
    later = T0 + timedelta(minutes=5)

    async with pair.backend.new_uow() as uow:
        renamed = ada.changed(later, username=Username("Ada_Renamed"), full_name=FullName("A. R."))
        await uow.users.update(renamed, fields=USER_FIELDS, expected_versions=[1])
        await uow.users.delete(bob.id, expected_versions=None)
        await uow.commit()

    found = await pair.fast.get(ada.id)
    assert found is not None
    assert (found.username.value, found.version, found.updated_at) == ("Ada_Renamed", 2, later)
    assert await pair.fast.find_for_login("ada") is None
    assert whole(await pair.fast.find_for_login("ada_renamed")) == whole(found)
    assert await pair.fast.get(bob.id) is None
    page = await pair.fast.page(UserPageQuery(UserFilter(search="ada")))
    assert ([whole(u) for u in page.items], page.total) == ([whole(found)], 1)
    principal = await pair.fast.find_principal(session_id=session.id, user_id=ada.id, now=NOW)
    assert principal is not None
    assert principal.version == 2


async def test_a_session_revoked_or_a_user_deactivated_stops_the_principal_at_once(pair: Pair) -> None:
    ada, bob = await store_users(pair.backend, new_user("ada"), new_user("bob"))
    ada_session, bob_session = await store_session(pair.backend, ada), await store_session(pair.backend, bob)
    for user, session in ((ada, ada_session), (bob, bob_session)):
        assert await pair.fast.find_principal(session_id=session.id, user_id=user.id, now=NOW) is not None

    async with pair.backend.new_uow() as uow:
        await uow.sessions.revoke(ada_session.id, NOW)
        await uow.users.update(
            bob.changed(NOW, is_active=False), fields=("is_active",), expected_versions=None
        )
        await uow.commit()

    assert await pair.fast.find_principal(session_id=ada_session.id, user_id=ada.id, now=NOW) is None
    assert await pair.fast.find_principal(session_id=bob_session.id, user_id=bob.id, now=NOW) is None
