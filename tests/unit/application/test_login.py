"""Login: credentials, the session it opens, the failure throttle and rehashing."""

from datetime import timedelta

import pytest

from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.memory.fakes import FixedClock, InMemoryPasswordHasher, InMemoryTokenIssuer
from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.adapters.random_tokens import RandomSecretTokens
from gatehouse.application.credential_checks import LOGIN_WINDOW_SECONDS
from gatehouse.application.errors import AuthenticationError, RateLimitedError
from gatehouse.application.use_cases.authenticate import Authenticate
from gatehouse.application.use_cases.login import Login
from gatehouse.domain.errors import PermissionDeniedError
from gatehouse.domain.values import Role
from tests.unit.application.conftest import MAX_FAILURES, PASSWORD, Accounts


def creds(identifier: str, password: str = PASSWORD) -> Login.Command:
    return Login.Command(identifier=identifier, password=password)


async def fail(login: Login, identifier: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationError):
            await login.execute(creds(identifier, "Wrong1234"))


@pytest.mark.parametrize("identifier", ["ada@example.com", "ADA@Example.COM", "ada_l", "ADA_L", "  ada_l "])
async def test_login_by_email_or_username_in_any_case(
    accounts: Accounts, login: Login, authenticate: Authenticate, tokens: InMemoryTokenIssuer, identifier: str
) -> None:
    me = await accounts.user(name="Ada_L", email="Ada@Example.com")
    pair = await login.execute(creds(identifier))
    assert pair.expires_in == tokens.access_ttl
    assert pair.refresh_token
    assert (await authenticate.execute(Authenticate.Query(token=pair.access_token)))[0].user_id == me.id


async def test_login_opens_a_session_with_ip_and_user_agent(
    accounts: Accounts,
    login: Login,
    database: InMemoryDatabase,
    clock: FixedClock,
    tokens: InMemoryTokenIssuer,
) -> None:
    me = await accounts.user()
    await login.execute(
        Login.Command(identifier=me.username.value, password=PASSWORD, ip="10.0.0.1", user_agent="t")
    )
    [session] = database.state.sessions.values()
    assert (session.user_id, session.ip, session.user_agent) == (me.id, "10.0.0.1", "t")
    assert session.expires_at == clock.now() + timedelta(seconds=tokens.refresh_ttl)


@pytest.mark.parametrize("password", ["Wrong1234", "", "x" * 129])
async def test_unknown_account_and_wrong_password_fail_alike_after_the_same_work(
    accounts: Accounts,
    login: Login,
    hasher: InMemoryPasswordHasher,
    database: InMemoryDatabase,
    password: str,
) -> None:
    me = await accounts.user()
    hasher.calls.clear()
    with pytest.raises(AuthenticationError) as unknown:
        await login.execute(creds("nobody@example.com", password))
    unknown_calls, hasher.calls[:] = list(hasher.calls), []
    with pytest.raises(AuthenticationError) as wrong:
        await login.execute(creds(me.email.value, password))
    assert hasher.calls == unknown_calls == ["verify"]
    assert wrong.value.message == unknown.value.message
    assert database.state.sessions == {}


async def test_deactivated_account_with_correct_password_is_denied(accounts: Accounts, login: Login) -> None:
    gone = await accounts.create(Role.USER, is_active=False)
    with pytest.raises(PermissionDeniedError):
        await login.execute(creds(gone.email.value))
    with pytest.raises(AuthenticationError):
        await login.execute(creds(gone.email.value, "Wrong1234"))


async def test_too_many_failures_throttle_even_the_correct_password(
    accounts: Accounts, login: Login, hasher: InMemoryPasswordHasher
) -> None:
    me = await accounts.user()
    await fail(login, me.email.value, MAX_FAILURES)
    hasher.calls.clear()
    with pytest.raises(RateLimitedError) as caught:
        await login.execute(creds(me.email.value))
    assert caught.value.retry_after == LOGIN_WINDOW_SECONDS  # the window opened just now
    assert hasher.calls == []


async def test_one_failure_below_the_limit_does_not_throttle(accounts: Accounts, login: Login) -> None:
    me = await accounts.user()
    await fail(login, me.email.value, MAX_FAILURES - 1)
    assert (await login.execute(creds(me.email.value))).access_token


async def test_failures_are_counted_for_unknown_identifiers(login: Login) -> None:
    await fail(login, "ghost@example.com", MAX_FAILURES)
    with pytest.raises(RateLimitedError):
        await login.execute(creds("ghost@example.com"))


async def test_failures_are_counted_per_lower_cased_identifier(accounts: Accounts, login: Login) -> None:
    await accounts.user(name="ada")
    await fail(login, "ADA@EXAMPLE.COM", 1)
    await fail(login, "Ada@Example.com", 1)
    await fail(login, "ada@example.com", MAX_FAILURES - 2)
    with pytest.raises(RateLimitedError):
        await login.execute(creds("ada@example.com"))


async def test_throttle_lifts_when_the_window_passes(
    accounts: Accounts, login: Login, clock: FixedClock
) -> None:
    me = await accounts.user()
    await fail(login, me.email.value, MAX_FAILURES)
    clock.advance(10 * 60)
    with pytest.raises(RateLimitedError) as caught:
        await login.execute(creds(me.email.value))
    assert caught.value.retry_after == 5 * 60
    clock.advance(5 * 60)
    assert (await login.execute(creds(me.email.value))).access_token


async def test_a_success_keeps_the_failures_of_the_window_counted(accounts: Accounts, login: Login) -> None:
    """§5 counts failures within 15 minutes: a right password in between does not wipe them (it
    would let simultaneous guesses beside it past the limit)."""
    me = await accounts.user()
    await fail(login, me.email.value, MAX_FAILURES - 1)
    assert (await login.execute(creds(me.email.value))).access_token
    await fail(login, me.email.value, 1)
    with pytest.raises(RateLimitedError):
        await login.execute(creds(me.email.value))


async def test_an_outdated_hash_is_replaced_on_login(
    accounts: Accounts,
    uow: InMemoryUnitOfWork,
    queries: InMemoryUserQueries,
    tokens: InMemoryTokenIssuer,
    counters: InProcessCounters,
    clock: FixedClock,
    database: InMemoryDatabase,
) -> None:
    me = await accounts.user()
    newer = InMemoryPasswordHasher(scheme="fake2")
    login = Login(uow, queries, newer, tokens, counters, clock, MAX_FAILURES, RandomSecretTokens())
    await login.execute(creds(me.email.value))
    assert database.state.users[me.id].password_hash == f"fake2${PASSWORD}"
    assert newer.calls == ["verify", "hash"]
    await login.execute(creds(me.email.value))
    assert newer.calls == ["verify", "hash", "verify"]


async def test_a_current_hash_is_left_alone(
    accounts: Accounts, login: Login, hasher: InMemoryPasswordHasher, database: InMemoryDatabase
) -> None:
    me = await accounts.user()
    hasher.calls.clear()
    await login.execute(creds(me.email.value))
    assert hasher.calls == ["verify"]
    assert database.state.users[me.id].password_hash == f"fake1${PASSWORD}"
