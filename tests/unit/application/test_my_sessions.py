"""ListMySessions, RevokeMySession and RevokeAllSessions: one's own sessions, and an admin's sign-out."""

import pytest

from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.memory.fakes import FixedClock, InMemoryPasswordHasher
from gatehouse.adapters.memory.store import InMemoryDatabase
from gatehouse.application.errors import AuthenticationError, NotFoundError
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.use_cases.authenticate import Authenticate
from gatehouse.application.use_cases.login import Login
from gatehouse.application.use_cases.my_sessions import ListMySessions, RevokeAllSessions, RevokeMySession
from gatehouse.application.use_cases.sessions import Logout, RefreshSession
from gatehouse.domain.errors import PermissionDeniedError
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import User
from gatehouse.domain.values import Role
from tests.unit.application.conftest import PASSWORD, Accounts, actor_of
from tests.unit.application.conftest_account_cases import AccountCases, account_cases

UNKNOWN_ID = 9_999


@pytest.fixture
def cases(
    database: InMemoryDatabase, clock: FixedClock, hasher: InMemoryPasswordHasher, counters: InProcessCounters
) -> AccountCases:
    return account_cases(database, clock, hasher, counters)


async def signed_in_thrice(accounts: Accounts, clock: FixedClock, user: User) -> list[Actor]:
    """Three sessions of `user`, a minute apart, oldest first."""
    actors = []
    for _ in range(3):
        actors.append((await accounts.sign_in(user))[1])
        clock.advance(60)
    return actors


def live(cases: AccountCases, user: User) -> list[int]:
    now = cases.clock.now()
    return [s.id for s in cases.database.state.sessions.values() if s.user_id == user.id and s.is_live(now)]


async def test_my_sessions_are_listed_newest_first_with_the_current_one_marked(
    accounts: Accounts, cases: AccountCases, clock: FixedClock
) -> None:
    me, other = await accounts.user(), await accounts.user()
    await accounts.sign_in(other)
    first, second, third = await signed_in_thrice(accounts, clock, me)
    views = await cases.list_sessions.execute(ListMySessions.Query(actor=second))
    assert [v.session.id for v in views] == [third.session_id, second.session_id, first.session_id]
    assert [v.current for v in views] == [False, True, False]


async def test_a_listed_session_shows_where_it_came_from_and_when_it_was_last_used(
    accounts: Accounts, cases: AccountCases, clock: FixedClock, login: Login, refresh: RefreshSession
) -> None:
    me = await accounts.user()
    pair = await login.execute(
        Login.Command(identifier=me.email.value, password=PASSWORD, ip="198.51.100.4", user_agent="curl/8")
    )
    created = clock.now()
    clock.advance(300)
    await refresh.execute(RefreshSession.Command(refresh_token=pair.refresh_token))
    [view] = await cases.list_sessions.execute(ListMySessions.Query(actor=actor_of(me)))
    session = view.session
    assert (session.ip, session.user_agent, session.created_at) == ("198.51.100.4", "curl/8", created)
    assert session.last_used_at == clock.now()


async def test_ended_sessions_are_not_listed(
    accounts: Accounts, cases: AccountCases, clock: FixedClock, logout: Logout
) -> None:
    me = await accounts.user()
    first, second, third = await signed_in_thrice(accounts, clock, me)
    await logout.execute(Logout.Command(actor=first))
    await cases.revoke_session.execute(RevokeMySession.Command(actor=third, session_id=second.session_id))
    views = await cases.list_sessions.execute(ListMySessions.Query(actor=third))
    assert [v.session.id for v in views] == [third.session_id]


async def test_revoking_my_session_ends_it_and_is_recorded(
    accounts: Accounts, cases: AccountCases, authenticate: Authenticate
) -> None:
    me = await accounts.user()
    doomed, _ = await accounts.sign_in(me)
    _, actor = await accounts.sign_in(me)
    doomed_id = (await authenticate.execute(Authenticate.Query(token=doomed.access_token)))[0].session_id
    await cases.revoke_session.execute(RevokeMySession.Command(actor=actor, session_id=doomed_id))
    assert cases.database.state.sessions[doomed_id].revoked_at == cases.clock.now()
    with pytest.raises(AuthenticationError):
        await authenticate.execute(Authenticate.Query(token=doomed.access_token))
    assert live(cases, me) == [actor.session_id]
    [event] = cases.events(AuditAction.SESSION_REVOKED)
    assert (event.user_id, event.actor_id) == (me.id, me.id)
    assert (event.details["session_id"], event.details["current"]) == (doomed_id, False)


async def test_revoking_another_users_session_is_not_found_and_leaves_it_live(
    accounts: Accounts, cases: AccountCases
) -> None:
    me, victim = await accounts.user(), await accounts.user()
    _, actor = await accounts.sign_in(me)
    _, theirs = await accounts.sign_in(victim)
    with pytest.raises(NotFoundError):
        await cases.revoke_session.execute(RevokeMySession.Command(actor=actor, session_id=theirs.session_id))
    assert live(cases, victim) == [theirs.session_id]
    assert cases.events(AuditAction.SESSION_REVOKED) == []


async def test_revoking_an_unknown_or_already_revoked_session_is_not_found(
    accounts: Accounts, cases: AccountCases, clock: FixedClock
) -> None:
    me = await accounts.user()
    first, second, _ = await signed_in_thrice(accounts, clock, me)
    with pytest.raises(NotFoundError):
        await cases.revoke_session.execute(RevokeMySession.Command(actor=first, session_id=UNKNOWN_ID))
    await cases.revoke_session.execute(RevokeMySession.Command(actor=first, session_id=second.session_id))
    with pytest.raises(NotFoundError):
        await cases.revoke_session.execute(RevokeMySession.Command(actor=first, session_id=second.session_id))
    assert len(cases.events(AuditAction.SESSION_REVOKED)) == 1


async def test_an_admin_signs_an_account_out_everywhere(accounts: Accounts, cases: AccountCases) -> None:
    admin, target, bystander = await accounts.admin(), await accounts.user(), await accounts.user()
    _, admin_actor = await accounts.sign_in(admin)
    await accounts.sign_in(target)
    await accounts.sign_in(target)
    await accounts.sign_in(bystander)
    await cases.revoke_all.execute(RevokeAllSessions.Command(actor=admin_actor, user_id=target.id))
    assert live(cases, target) == []
    assert len(live(cases, bystander)) == len(live(cases, admin)) == 1
    [event] = cases.events(AuditAction.SESSION_REVOKED)
    assert (event.user_id, event.actor_id) == (target.id, admin.id)
    assert event.details["sessions_ended"] == 2


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.USER])
async def test_only_an_admin_may_sign_an_account_out_everywhere(
    accounts: Accounts, cases: AccountCases, role: Role
) -> None:
    caller, target = await accounts.create(role), await accounts.user()
    await accounts.sign_in(target)
    for user_id in (target.id, caller.id):
        with pytest.raises(PermissionDeniedError):
            await cases.revoke_all.execute(RevokeAllSessions.Command(actor=actor_of(caller), user_id=user_id))
    assert len(live(cases, target)) == 1
    assert cases.events(AuditAction.SESSION_REVOKED) == []


async def test_a_plain_user_naming_an_unknown_id_is_denied_not_told_it_is_missing(
    accounts: Accounts, cases: AccountCases
) -> None:
    me = await accounts.user()
    with pytest.raises(PermissionDeniedError):
        await cases.revoke_all.execute(RevokeAllSessions.Command(actor=actor_of(me), user_id=UNKNOWN_ID))


async def test_an_admin_signing_out_an_unknown_account_gets_not_found(
    accounts: Accounts, cases: AccountCases
) -> None:
    admin = await accounts.admin()
    with pytest.raises(NotFoundError):
        await cases.revoke_all.execute(RevokeAllSessions.Command(actor=actor_of(admin), user_id=UNKNOWN_ID))
