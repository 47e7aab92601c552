"""BrowseAuditEvents and PruneAuditEvents: who may read, order, filters, paging, and retention."""

from dataclasses import replace
from datetime import timedelta

import pytest

from gatehouse.adapters.memory.audit_trail import InMemoryAuditQueries
from gatehouse.adapters.memory.fakes import FixedClock
from gatehouse.adapters.memory.store import InMemoryDatabase
from gatehouse.application.errors import AuthenticationError
from gatehouse.application.ports.audit import AuditAction, AuditEvent, AuditQuery
from gatehouse.application.use_cases.audit_trail import BrowseAuditEvents, PruneAuditEvents
from gatehouse.application.use_cases.login import Login
from gatehouse.domain.errors import PermissionDeniedError
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import User
from gatehouse.domain.values import Role
from tests.unit.application.conftest import Accounts, actor_of

RETENTION_DAYS = 30


@pytest.fixture
def audit_queries(database: InMemoryDatabase) -> InMemoryAuditQueries:
    return InMemoryAuditQueries(database)


@pytest.fixture
def browse_events(audit_queries: InMemoryAuditQueries) -> BrowseAuditEvents:
    return BrowseAuditEvents(audit_queries)


@pytest.fixture
def prune(audit_queries: InMemoryAuditQueries, clock: FixedClock) -> PruneAuditEvents:
    return PruneAuditEvents(audit_queries, clock, RETENTION_DAYS)


async def busy_hour(accounts: Accounts, login: Login, clock: FixedClock) -> tuple[User, User]:
    """Two accounts, each created, logged in and once refused, a minute apart: six events."""
    made = []
    for name in ("ada", "bob"):
        user = await accounts.user(name=name)
        clock.advance(60)
        await accounts.sign_in(user)
        clock.advance(60)
        with pytest.raises(AuthenticationError):
            await login.execute(Login.Command(identifier=user.email.value, password="Wrong1234"))
        clock.advance(60)
        made.append(user)
    return made[0], made[1]


def stored(database: InMemoryDatabase) -> list[AuditEvent]:
    return sorted(database.state.audit_events.values(), key=lambda e: e.id, reverse=True)


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.USER])
async def test_only_an_admin_may_read_the_audit_trail(
    accounts: Accounts, browse_events: BrowseAuditEvents, role: Role
) -> None:
    caller = await accounts.create(role)
    with pytest.raises(PermissionDeniedError):
        await browse_events.execute(BrowseAuditEvents.Query(actor=actor_of(caller), keyset=AuditQuery()))


async def test_events_come_newest_first(
    accounts: Accounts,
    login: Login,
    clock: FixedClock,
    browse_events: BrowseAuditEvents,
    database: InMemoryDatabase,
) -> None:
    admin = await accounts.admin()
    await busy_hour(accounts, login, clock)
    page = await browse_events.execute(BrowseAuditEvents.Query(actor=actor_of(admin), keyset=AuditQuery()))
    assert [e.id for e in page.items] == [e.id for e in stored(database)]
    assert len(page.items) == 7
    assert [e.at for e in page.items] == sorted((e.at for e in page.items), reverse=True)
    assert page.next_after is None


async def test_events_filter_by_action(
    accounts: Accounts, login: Login, clock: FixedClock, browse_events: BrowseAuditEvents
) -> None:
    admin = await accounts.admin()
    ada, bob = await busy_hour(accounts, login, clock)
    query = AuditQuery(action=AuditAction.LOGIN_FAILED)
    page = await browse_events.execute(BrowseAuditEvents.Query(actor=actor_of(admin), keyset=query))
    assert [(e.action, e.user_id) for e in page.items] == [("auth.login_failed", i) for i in (bob.id, ada.id)]


async def test_events_filter_by_account(
    accounts: Accounts, login: Login, clock: FixedClock, browse_events: BrowseAuditEvents
) -> None:
    admin = await accounts.admin()
    ada, _ = await busy_hour(accounts, login, clock)
    page = await browse_events.execute(
        BrowseAuditEvents.Query(actor=actor_of(admin), keyset=AuditQuery(user_id=ada.id))
    )
    assert [e.action for e in page.items] == ["auth.login_failed", "auth.login_succeeded", "user.created"]


async def test_events_filter_by_time_from_since_on(
    accounts: Accounts, login: Login, clock: FixedClock, browse_events: BrowseAuditEvents
) -> None:
    admin = await accounts.admin()
    start = clock.now()
    _, bob = await busy_hour(accounts, login, clock)
    since = start + timedelta(minutes=3)  # bob's creation, to the second
    page = await browse_events.execute(
        BrowseAuditEvents.Query(actor=actor_of(admin), keyset=AuditQuery(since=since))
    )
    assert {e.user_id for e in page.items} == {bob.id}
    assert len(page.items) == 3
    assert min(e.at for e in page.items) == since


async def test_filters_combine(
    accounts: Accounts, login: Login, clock: FixedClock, browse_events: BrowseAuditEvents
) -> None:
    admin = await accounts.admin()
    start = clock.now()
    ada, _ = await busy_hour(accounts, login, clock)
    query = AuditQuery(action=AuditAction.USER_CREATED, user_id=ada.id, since=start + timedelta(seconds=1))
    assert (
        await browse_events.execute(BrowseAuditEvents.Query(actor=actor_of(admin), keyset=query))
    ).items == []


async def walk(browse_events: BrowseAuditEvents, actor: Actor, query: AuditQuery) -> list[list[int]]:
    """The event ids of every page of a walk, each resuming after the last."""
    pages: list[list[int]] = []
    while True:
        page = await browse_events.execute(BrowseAuditEvents.Query(actor=actor, keyset=query))
        pages.append([e.id for e in page.items])
        if page.next_after is None:
            return pages
        query = replace(query, after=page.next_after)


async def test_paging_by_cursor_visits_every_event_once_newest_first(
    accounts: Accounts,
    login: Login,
    clock: FixedClock,
    browse_events: BrowseAuditEvents,
    database: InMemoryDatabase,
) -> None:
    admin = await accounts.admin()
    await busy_hour(accounts, login, clock)
    pages = await walk(browse_events, actor_of(admin), AuditQuery(limit=3))
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [i for p in pages for i in p] == [e.id for e in stored(database)]


async def test_paging_keeps_the_filter(
    accounts: Accounts,
    login: Login,
    clock: FixedClock,
    browse_events: BrowseAuditEvents,
    database: InMemoryDatabase,
) -> None:
    admin = await accounts.admin()
    await busy_hour(accounts, login, clock)
    pages = await walk(browse_events, actor_of(admin), AuditQuery(limit=1, action=AuditAction.LOGIN_FAILED))
    failed = [e.id for e in stored(database) if e.action == AuditAction.LOGIN_FAILED.value]
    assert pages == [[failed[0]], [failed[1]]]


async def test_an_empty_trail_gives_one_empty_last_page(browse_events: BrowseAuditEvents) -> None:
    admin = Actor(user_id=1, role=Role.ADMIN, session_id=1)
    page = await browse_events.execute(BrowseAuditEvents.Query(actor=admin, keyset=AuditQuery()))
    assert (list(page.items), page.next_after) == ([], None)


async def test_pruning_removes_only_events_older_than_the_retention(
    accounts: Accounts, clock: FixedClock, prune: PruneAuditEvents, database: InMemoryDatabase
) -> None:
    await accounts.user()
    await accounts.user()
    clock.advance(timedelta(days=10).total_seconds())
    recent = await accounts.user()
    clock.advance(timedelta(days=RETENTION_DAYS - 10).total_seconds())
    assert (await prune.execute()).deleted == 0  # exactly at the cut-off: still kept
    clock.advance(1)
    result = await prune.execute()
    assert (result.deleted, result.retention_days) == (2, RETENTION_DAYS)
    assert [e.user_id for e in database.state.audit_events.values()] == [recent.id]
    assert (await prune.execute()).deleted == 0
