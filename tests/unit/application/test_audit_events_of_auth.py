"""The audit events of log-in, refresh, log-out and password changes; origins; no secret in any event."""

import pytest

from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.memory.fakes import FixedClock, FixedOrigin, InMemoryPasswordHasher
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.application.account_mail import AccountMailer
from gatehouse.application.errors import AuthenticationError, RateLimitedError
from gatehouse.application.ports.audit import AuditAction, Origin
from gatehouse.application.use_cases.change_password import ChangePassword
from gatehouse.application.use_cases.email_verification import VerifyEmail
from gatehouse.application.use_cases.login import Login
from gatehouse.application.use_cases.password_reset import RequestPasswordReset
from gatehouse.application.use_cases.register_user import RegisterUser
from gatehouse.application.use_cases.sessions import Logout, RefreshSession
from gatehouse.domain.errors import PermissionDeniedError
from gatehouse.domain.passwords import ClassicPasswordPolicy
from gatehouse.domain.values import Role
from tests.unit.application.conftest import MAX_FAILURES, PASSWORD, Accounts, actor_of
from tests.unit.application.conftest_account_cases import (
    NEW_PASSWORD,
    RESET_PAGE,
    AccountCases,
    account_cases,
)

CHANGED_PASSWORD = "Changed789Pass"
WRONG_PASSWORD = "Wrong1234Pass"


@pytest.fixture
def cases(
    database: InMemoryDatabase, clock: FixedClock, hasher: InMemoryPasswordHasher, counters: InProcessCounters
) -> AccountCases:
    return account_cases(database, clock, hasher, counters)


def creds(identifier: str, password: str = PASSWORD) -> Login.Command:
    return Login.Command(identifier=identifier, password=password)


async def test_a_login_is_recorded_with_the_account_as_user_and_actor(
    accounts: Accounts, cases: AccountCases
) -> None:
    me = await accounts.user()
    _, actor = await accounts.sign_in(me)
    [event] = cases.events(AuditAction.LOGIN_SUCCEEDED)
    assert (event.user_id, event.actor_id) == (me.id, me.id)
    assert event.details["session_id"] == actor.session_id


async def test_a_wrong_password_is_recorded_as_a_failed_login_of_the_account(
    accounts: Accounts, cases: AccountCases, login: Login
) -> None:
    me = await accounts.user()
    with pytest.raises(AuthenticationError):
        await login.execute(creds(me.email.value, WRONG_PASSWORD))
    [event] = cases.events(AuditAction.LOGIN_FAILED)
    assert event.user_id == me.id
    assert WRONG_PASSWORD not in repr(event)


async def test_a_login_to_an_unknown_email_is_recorded_with_the_submitted_address(
    cases: AccountCases, login: Login
) -> None:
    with pytest.raises(AuthenticationError):
        await login.execute(creds("Ghost@Example.COM"))
    [event] = cases.events(AuditAction.LOGIN_FAILED)
    assert (event.user_id, event.actor_id) == (None, None)
    assert event.details["email"] == "ghost@example.com"


async def test_a_correct_password_on_a_deactivated_account_is_recorded_as_failed(
    accounts: Accounts, cases: AccountCases, login: Login
) -> None:
    gone = await accounts.create(Role.USER, is_active=False)
    with pytest.raises(PermissionDeniedError):
        await login.execute(creds(gone.email.value))
    [event] = cases.events(AuditAction.LOGIN_FAILED)
    assert event.user_id == gone.id
    assert cases.events(AuditAction.LOGIN_SUCCEEDED) == []


async def test_a_throttled_login_writes_no_event(
    accounts: Accounts, cases: AccountCases, login: Login
) -> None:
    me = await accounts.user()
    for _ in range(MAX_FAILURES):
        with pytest.raises(AuthenticationError):
            await login.execute(creds(me.email.value, WRONG_PASSWORD))
    with pytest.raises(RateLimitedError):
        await login.execute(creds(me.email.value))
    assert len(cases.events(AuditAction.LOGIN_FAILED)) == MAX_FAILURES
    assert cases.events(AuditAction.LOGIN_SUCCEEDED) == []


async def test_a_logout_is_recorded(accounts: Accounts, cases: AccountCases, logout: Logout) -> None:
    me = await accounts.user()
    _, actor = await accounts.sign_in(me)
    await logout.execute(Logout.Command(actor=actor))
    [event] = cases.events(AuditAction.LOGOUT)
    assert (event.user_id, event.actor_id) == (me.id, me.id)
    assert event.details["session_id"] == actor.session_id


async def test_reuse_of_a_spent_refresh_token_is_recorded(
    accounts: Accounts, cases: AccountCases, refresh: RefreshSession
) -> None:
    me = await accounts.user()
    pair, actor = await accounts.sign_in(me)
    await refresh.execute(RefreshSession.Command(refresh_token=pair.refresh_token))
    assert cases.events(AuditAction.REFRESH_REUSE_DETECTED) == []
    with pytest.raises(AuthenticationError):
        await refresh.execute(RefreshSession.Command(refresh_token=pair.refresh_token))
    [event] = cases.events(AuditAction.REFRESH_REUSE_DETECTED)
    assert event.user_id == me.id
    assert pair.refresh_token not in repr(event)
    assert event.details["session_id"] == actor.session_id


async def test_a_password_change_is_recorded(
    accounts: Accounts, cases: AccountCases, change_password: ChangePassword
) -> None:
    me = await accounts.user()
    _, actor = await accounts.sign_in(me)
    await change_password.execute(
        ChangePassword.Command(actor=actor, current_password=PASSWORD, new_password=CHANGED_PASSWORD)
    )
    [event] = cases.events(AuditAction.PASSWORD_CHANGED)
    assert (event.user_id, event.actor_id) == (me.id, me.id)
    assert event.details["sessions_ended"] == 1


async def test_a_refused_password_change_writes_no_event(
    accounts: Accounts, cases: AccountCases, change_password: ChangePassword
) -> None:
    me = await accounts.user()
    with pytest.raises(PermissionDeniedError):
        await change_password.execute(
            ChangePassword.Command(
                actor=actor_of(me), current_password=WRONG_PASSWORD, new_password=CHANGED_PASSWORD
            )
        )
    assert cases.events(AuditAction.PASSWORD_CHANGED) == []


async def test_events_carry_the_origin_of_the_request(
    database: InMemoryDatabase,
    hasher: InMemoryPasswordHasher,
    clock: FixedClock,
    mailer: AccountMailer,
    cases: AccountCases,
) -> None:
    origin = FixedOrigin(Origin(ip="203.0.113.7", request_id="req-1"))
    uow = InMemoryUnitOfWork(database, origin)
    register = RegisterUser(uow, hasher, ClassicPasswordPolicy(), clock, mailer)
    await register.execute(RegisterUser.Command(email="ada@example.com", username="ada", password=PASSWORD))
    [event] = cases.events(AuditAction.USER_CREATED)
    assert (event.ip, event.request_id, event.at) == ("203.0.113.7", "req-1", clock.now())


async def test_events_without_a_known_origin_have_none(accounts: Accounts, cases: AccountCases) -> None:
    await accounts.user()
    [event] = cases.events(AuditAction.USER_CREATED)
    assert (event.ip, event.request_id) == (None, None)


async def test_no_event_of_a_whole_account_life_holds_a_password_hash_or_token(
    accounts: Accounts,
    cases: AccountCases,
    login: Login,
    refresh: RefreshSession,
    logout: Logout,
    change_password: ChangePassword,
) -> None:
    me = await accounts.user(name="ada")
    secrets = [PASSWORD, WRONG_PASSWORD, CHANGED_PASSWORD, NEW_PASSWORD]
    verify_token = cases.last_token("ada@example.com")
    await cases.verify.execute(VerifyEmail.Command(token=verify_token))
    first = await login.execute(creds("ada@example.com"))
    second = await refresh.execute(RefreshSession.Command(refresh_token=first.refresh_token))
    with pytest.raises(AuthenticationError):
        await refresh.execute(RefreshSession.Command(refresh_token=first.refresh_token))
    with pytest.raises(AuthenticationError):
        await login.execute(creds("ada@example.com", WRONG_PASSWORD))
    pair, actor = await accounts.sign_in(me)
    await change_password.execute(
        ChangePassword.Command(actor=actor, current_password=PASSWORD, new_password=CHANGED_PASSWORD)
    )
    secrets.append(cases.database.state.users[me.id].password_hash)
    await cases.request_reset.execute(RequestPasswordReset.Command(email="ada@example.com"))
    reset_token = cases.last_token("ada@example.com", RESET_PAGE)
    await cases.confirm(reset_token)
    last = await login.execute(creds("ada@example.com", NEW_PASSWORD))
    _, last_actor = await accounts.sign_in(me, NEW_PASSWORD)
    await logout.execute(Logout.Command(actor=last_actor, refresh_token=last.refresh_token))
    secrets.append(cases.database.state.users[me.id].password_hash)
    for token in (verify_token, reset_token):
        secrets += [token, cases.secret_tokens.fingerprint(token)]
    secrets += [p.refresh_token for p in (first, second, pair, last)]
    events = cases.events()
    assert len({e.action for e in events}) >= 9
    for event in events:
        text = repr(event)
        assert [s for s in secrets if s in text] == [], event.action
