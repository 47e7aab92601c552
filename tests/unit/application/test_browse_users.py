"""BrowseUsers: who may walk the accounts by cursor, and that a walk visits each one once, in order."""

from collections.abc import Awaitable, Callable
from datetime import datetime

import pytest

from gatehouse.adapters.memory.fakes import FixedClock
from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.application.ports.paging import After
from gatehouse.application.ports.users import UserFilter, UserKeysetQuery, UserSortField
from gatehouse.application.use_cases.read_users import BrowseUsers
from gatehouse.domain.errors import PermissionDeniedError
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import User
from gatehouse.domain.values import Role
from tests.unit.application.conftest import Accounts

MODERATOR = Actor(user_id=10_000, role=Role.MODERATOR, session_id=1)
ADMIN = Actor(user_id=10_001, role=Role.ADMIN, session_id=2)
Key = Callable[[User], int | str | datetime]
# Written out here rather than taken from the code under test: text sorts compare lower-cased.
KEYS: dict[UserSortField, Key] = {
    UserSortField.ID: lambda u: u.id,
    UserSortField.CREATED_AT: lambda u: u.created_at,
    UserSortField.USERNAME: lambda u: u.username.value.lower(),
    UserSortField.EMAIL: lambda u: u.email.value.lower(),
}


@pytest.fixture
def browse(queries: InMemoryUserQueries) -> BrowseUsers:
    return BrowseUsers(queries)


async def walk(
    browse: BrowseUsers,
    sort: UserSortField = UserSortField.ID,
    descending: bool = False,
    *,
    user_filter: UserFilter | None = None,
    between_pages: Callable[[], Awaitable[None]] | None = None,
) -> list[list[int]]:
    """The ids of every page of a walk with limit 2; `between_pages` runs after each page."""
    pages: list[list[int]] = []
    after: After | None = None
    while True:
        query = UserKeysetQuery(user_filter or UserFilter(), sort, descending, limit=2, after=after)
        page = await browse.execute(BrowseUsers.Query(actor=MODERATOR, keyset=query))
        pages.append([u.id for u in page.items])
        if page.next_after is None:
            return pages
        after = page.next_after
        if between_pages is not None:
            await between_pages()


def ordered(users: list[User], sort: UserSortField, descending: bool) -> list[int]:
    ranked = sorted(users, key=lambda u: (KEYS[sort](u), u.id), reverse=descending)
    return [u.id for u in ranked]


async def seed(accounts: Accounts, clock: FixedClock) -> list[User]:
    """Accounts whose orders differ per sort; three share one created_at, two differ only by '_'."""
    made = [await accounts.user(name="bob", email="z.bob@example.com")]
    clock.advance(-10)
    for name, email in [("Alice", "b_alice@example.com"), ("a_x", "b+x@example.com")]:
        made.append(await accounts.user(name=name, email=email))
    made.append(await accounts.moderator(name="Bob_", email="A.Bob@Example.com"))
    clock.advance(5)
    made.append(await accounts.user(name="aBx", email="b.ab@example.com"))
    clock.advance(-5)
    made.append(await accounts.admin(name="a0z", email="b0@example.com"))
    return made


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MODERATOR])
async def test_staff_may_browse_users(browse: BrowseUsers, accounts: Accounts, role: Role) -> None:
    me = await accounts.user()
    actor = Actor(user_id=me.id + 100, role=role, session_id=1)

    page = await browse.execute(BrowseUsers.Query(actor=actor, keyset=UserKeysetQuery(UserFilter())))

    assert [u.id for u in page.items] == [me.id]
    assert page.next_after is None


async def test_a_plain_user_may_not_browse_users(browse: BrowseUsers, accounts: Accounts) -> None:
    me = await accounts.user()
    actor = Actor(user_id=me.id, role=Role.USER, session_id=1)

    with pytest.raises(PermissionDeniedError):
        await browse.execute(BrowseUsers.Query(actor=actor, keyset=UserKeysetQuery(UserFilter())))


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("sort", list(UserSortField))
async def test_a_walk_visits_every_user_once_in_order_with_ties_broken_by_id(
    browse: BrowseUsers, accounts: Accounts, clock: FixedClock, sort: UserSortField, descending: bool
) -> None:
    users = await seed(accounts, clock)

    pages = await walk(browse, sort, descending)

    assert [len(p) for p in pages] == [2, 2, 2]
    assert [i for p in pages for i in p] == ordered(users, sort, descending)


async def test_equal_created_at_is_ordered_by_id_across_page_boundaries(
    browse: BrowseUsers, accounts: Accounts
) -> None:
    same = [await accounts.user() for _ in range(5)]  # the clock does not move: one created_at
    ids = [u.id for u in same]

    assert await walk(browse, UserSortField.CREATED_AT) == [ids[:2], ids[2:4], ids[4:]]
    assert await walk(browse, UserSortField.CREATED_AT, True) == [ids[:2:-1], ids[2:0:-1], ids[:1]]


@pytest.mark.parametrize(
    ("user_filter", "names"),
    [
        (UserFilter(role=Role.USER), ["a_x", "aBx", "Alice", "bob"]),
        (UserFilter(search="BOB"), ["bob", "Bob_"]),
        (UserFilter(search="_"), ["a_x", "Alice", "Bob_"]),
        (UserFilter(role=Role.MODERATOR, is_active=True), ["Bob_"]),
        (UserFilter(is_active=False), []),
    ],
    ids=repr,
)
async def test_a_walk_keeps_to_its_filter(
    browse: BrowseUsers, accounts: Accounts, clock: FixedClock, user_filter: UserFilter, names: list[str]
) -> None:
    users = {u.id: u.username.value for u in await seed(accounts, clock)}

    pages = await walk(browse, UserSortField.USERNAME, user_filter=user_filter)

    assert [users[i] for p in pages for i in p] == names
    assert all(len(p) <= 2 for p in pages)


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("sort", list(UserSortField))
async def test_users_inserted_during_a_walk_appear_at_most_once_and_the_rest_exactly_once(
    browse: BrowseUsers, accounts: Accounts, clock: FixedClock, sort: UserSortField, descending: bool
) -> None:
    users = await seed(accounts, clock)
    before = set(ordered(users, sort, descending))
    added: list[User] = []
    batches = [(20, ["aaa", "zzz", "bob0"]), (-40, ["mmm", "A0a"])]  # newest, then oldest

    async def insert_around_the_cursor() -> None:
        if batches:
            seconds, names = batches.pop(0)
            clock.advance(seconds)
            added.extend([await accounts.user(name=name) for name in names])

    pages = await walk(browse, sort, descending, between_pages=insert_around_the_cursor)

    seen = [i for p in pages for i in p]
    assert not batches
    assert len(seen) == len(set(seen))
    assert before <= set(seen)
    visited = [u for u in users + added if u.id in set(seen)]
    assert seen == ordered(visited, sort, descending)
