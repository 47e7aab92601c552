"""GetUser and ListUsers: who may read which account, and pages with filters and sorts."""

import pytest

from gatehouse.adapters.memory.fakes import FixedClock
from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.application.errors import NotFoundError
from gatehouse.application.ports.users import UserFilter, UserPageQuery, UserSortField
from gatehouse.application.use_cases.read_users import GetUser, ListUsers
from gatehouse.domain.errors import PermissionDeniedError
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import User
from gatehouse.domain.values import Role
from tests.unit.application.conftest import Accounts, actor_of

# A staff actor with no account behind it, so listings hold only the accounts a test makes.
MODERATOR = Actor(user_id=10_000, role=Role.MODERATOR, session_id=1)
ADMIN = Actor(user_id=10_001, role=Role.ADMIN, session_id=2)
UNKNOWN_ID = 9_999


async def names(
    list_users: ListUsers, *, actor: Actor = MODERATOR, user_filter: UserFilter | None = None, **page: object
) -> list[str]:
    query = UserPageQuery(filter=user_filter or UserFilter(), **page)  # type: ignore[arg-type]
    result = await list_users.execute(ListUsers.Query(actor=actor, page=query))
    return [u.username.value for u in result.items]


async def test_a_user_reads_their_own_account(accounts: Accounts, get_user: GetUser) -> None:
    me = await accounts.user()
    found = await get_user.execute(GetUser.Query(actor=actor_of(me), user_id=me.id))
    assert found.id == me.id
    assert found.email == me.email


class NoLookups(InMemoryUserQueries):
    """Queries that fail the test if GetUser reads: the account was handed to it already."""

    def __init__(self) -> None:  # no store behind it: nothing may be read
        pass

    async def get(self, user_id: int) -> User | None:
        raise AssertionError(f"an unexpected look-up of {user_id}")


async def test_reading_ones_own_id_uses_the_account_authentication_read(accounts: Accounts) -> None:
    me = await accounts.user()
    get_user = GetUser(NoLookups())
    found = await get_user.execute(GetUser.Query(actor=actor_of(me), user_id=me.id, signed_in=me))
    assert found is me


async def test_the_signed_in_account_is_not_taken_for_another_id(
    accounts: Accounts, get_user: GetUser
) -> None:
    staff, other = await accounts.create(Role.ADMIN), await accounts.user()
    found = await get_user.execute(GetUser.Query(actor=actor_of(staff), user_id=other.id, signed_in=staff))
    assert found.id == other.id
    assert found.username == other.username


async def test_an_account_handed_over_for_someone_else_is_never_returned(accounts: Accounts) -> None:
    """`signed_in` must be the actor's own account: one of another id is ignored, not trusted."""
    staff, other = await accounts.create(Role.ADMIN), await accounts.user()
    get_user = GetUser(NoLookups())
    with pytest.raises(AssertionError, match="unexpected look-up"):
        await get_user.execute(GetUser.Query(actor=actor_of(staff), user_id=other.id, signed_in=other))


async def test_the_own_account_shortcut_still_asks_for_the_scope(accounts: Accounts) -> None:
    me = await accounts.user()
    token_actor = Actor(user_id=me.id, role=me.role, session_id=0, scopes=frozenset(), token_id=1)
    with pytest.raises(PermissionDeniedError):
        await GetUser(NoLookups()).execute(GetUser.Query(actor=token_actor, user_id=me.id, signed_in=me))


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
async def test_staff_read_any_account(accounts: Accounts, get_user: GetUser, role: Role) -> None:
    staff, other = await accounts.create(role), await accounts.user()
    found = await get_user.execute(GetUser.Query(actor=actor_of(staff), user_id=other.id))
    assert found.username == other.username


async def test_a_user_reading_another_existing_account_is_denied(
    accounts: Accounts, get_user: GetUser
) -> None:
    me, other = await accounts.user(), await accounts.user()
    with pytest.raises(PermissionDeniedError):
        await get_user.execute(GetUser.Query(actor=actor_of(me), user_id=other.id))


async def test_a_user_reading_an_unknown_id_is_denied_not_told_it_is_missing(
    accounts: Accounts, get_user: GetUser
) -> None:
    me = await accounts.user()
    with pytest.raises(PermissionDeniedError):
        await get_user.execute(GetUser.Query(actor=actor_of(me), user_id=UNKNOWN_ID))


@pytest.mark.parametrize("actor", [MODERATOR, ADMIN], ids=["moderator", "admin"])
async def test_staff_reading_an_unknown_id_get_not_found(get_user: GetUser, actor: Actor) -> None:
    with pytest.raises(NotFoundError):
        await get_user.execute(GetUser.Query(actor=actor, user_id=UNKNOWN_ID))


async def test_listing_is_forbidden_for_users(accounts: Accounts, list_users: ListUsers) -> None:
    me = await accounts.user()
    with pytest.raises(PermissionDeniedError):
        await names(list_users, actor=actor_of(me))


@pytest.mark.parametrize("actor", [MODERATOR, ADMIN], ids=["moderator", "admin"])
async def test_staff_list_every_account_with_the_total(
    accounts: Accounts, list_users: ListUsers, actor: Actor
) -> None:
    for name in ("amy", "ben", "cat"):
        await accounts.user(name=name)
    result = await list_users.execute(ListUsers.Query(actor=actor, page=UserPageQuery(filter=UserFilter())))
    assert [u.username.value for u in result.items] == ["amy", "ben", "cat"]
    assert result.total == 3


async def test_pages_slice_the_sorted_list_and_keep_the_total(
    accounts: Accounts, list_users: ListUsers
) -> None:
    for name in ("amy", "ben", "cat", "dan", "eve"):
        await accounts.user(name=name)
    page = UserPageQuery(filter=UserFilter(), page=2, page_size=2)
    result = await list_users.execute(ListUsers.Query(actor=MODERATOR, page=page))
    assert [u.username.value for u in result.items] == ["cat", "dan"]
    assert result.total == 5
    assert await names(list_users, page=3, page_size=2) == ["eve"]
    assert await names(list_users, page=4, page_size=2) == []


async def test_filter_by_role(accounts: Accounts, list_users: ListUsers) -> None:
    await accounts.admin(name="root")
    await accounts.moderator(name="mod")
    await accounts.user(name="amy")
    assert await names(list_users, user_filter=UserFilter(role=Role.MODERATOR)) == ["mod"]
    assert await names(list_users, user_filter=UserFilter(role=Role.ADMIN)) == ["root"]


async def test_filter_by_is_active(accounts: Accounts, list_users: ListUsers) -> None:
    await accounts.user(name="amy")
    await accounts.create(Role.USER, name="gone", is_active=False)
    assert await names(list_users, user_filter=UserFilter(is_active=False)) == ["gone"]
    assert await names(list_users, user_filter=UserFilter(is_active=True)) == ["amy"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("LOVE", ["ada"]),  # full name only
        ("COUNTESS", ["ada"]),  # email only
        ("charles_b", ["Charles_B"]),  # username only
        ("ENGINE@EXAMPLE.ORG", ["Charles_B"]),
        ("a", ["ada", "Charles_B", "grace"]),
        ("nobody", []),
    ],
)
async def test_search_is_a_case_insensitive_substring_of_email_username_or_full_name(
    accounts: Accounts, list_users: ListUsers, search: str, expected: list[str]
) -> None:
    await accounts.user(name="ada", email="countess@example.com", full_name="Ada Lovelace")
    await accounts.user(name="Charles_B", email="engine@example.org")
    await accounts.user(name="grace", email="grace@navy.mil", full_name="Grace Hopper")
    assert await names(list_users, user_filter=UserFilter(search=search)) == expected


async def test_search_text_is_literal_not_a_pattern(accounts: Accounts, list_users: ListUsers) -> None:
    await accounts.user(name="ada_l")
    await accounts.user(name="maxlow")
    assert await names(list_users, user_filter=UserFilter(search="a_l")) == ["ada_l"]
    assert await names(list_users, user_filter=UserFilter(search="%")) == []


async def test_filters_combine(accounts: Accounts, list_users: ListUsers) -> None:
    await accounts.user(name="ann")
    await accounts.create(Role.USER, name="anna", is_active=False)
    await accounts.moderator(name="annette")
    query = UserFilter(role=Role.USER, is_active=True, search="ann")
    assert await names(list_users, user_filter=query) == ["ann"]


async def test_username_sort_compares_lower_cased_text(accounts: Accounts, list_users: ListUsers) -> None:
    for name in ("Bob", "alice", "Carol", "dave"):
        await accounts.user(name=name)
    assert await names(list_users, sort=UserSortField.USERNAME) == ["alice", "Bob", "Carol", "dave"]
    descending = await names(list_users, sort=UserSortField.USERNAME, descending=True)
    assert descending == ["dave", "Carol", "Bob", "alice"]


async def test_email_sort(accounts: Accounts, list_users: ListUsers) -> None:
    for name in ("zed", "Amy", "mia"):
        await accounts.user(name=name)
    assert await names(list_users, sort=UserSortField.EMAIL) == ["Amy", "mia", "zed"]
    assert await names(list_users, sort=UserSortField.EMAIL, descending=True) == ["zed", "mia", "Amy"]


async def test_id_sort_is_the_default_and_can_be_descending(
    accounts: Accounts, list_users: ListUsers
) -> None:
    for name in ("zed", "amy", "mia"):
        await accounts.user(name=name)
    assert await names(list_users) == ["zed", "amy", "mia"]
    assert await names(list_users, sort=UserSortField.ID, descending=True) == ["mia", "amy", "zed"]


async def test_created_at_sort_breaks_ties_by_id(
    accounts: Accounts, list_users: ListUsers, clock: FixedClock
) -> None:
    start = clock.now()
    clock.advance(60)
    await accounts.user(name="late")
    clock.current = start
    await accounts.user(name="early1")
    await accounts.user(name="early2")
    assert await names(list_users, sort=UserSortField.CREATED_AT) == ["early1", "early2", "late"]


async def test_descending_sort_is_the_exact_reverse_ties_included(
    accounts: Accounts, list_users: ListUsers, clock: FixedClock
) -> None:
    start = clock.now()
    clock.advance(60)
    await accounts.user(name="late")
    clock.current = start
    await accounts.user(name="early1")
    await accounts.user(name="early2")
    descending = await names(list_users, sort=UserSortField.CREATED_AT, descending=True)
    assert descending == ["late", "early2", "early1"]
