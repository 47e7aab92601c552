"""ChangePassword: the current password is checked, the new one must be strong, sessions end."""

import asyncio

import pytest

from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.memory.fakes import FixedClock, InMemoryPasswordHasher
from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.application.errors import AuthenticationError, RateLimitedError
from gatehouse.application.use_cases.authenticate import Authenticate
from gatehouse.application.use_cases.change_password import ChangePassword
from gatehouse.application.use_cases.login import Login
from gatehouse.application.use_cases.sessions import RefreshSession
from gatehouse.domain.errors import InvalidValueError, PermissionDeniedError
from gatehouse.domain.passwords import ClassicPasswordPolicy
from gatehouse.domain.policy import Actor
from gatehouse.domain.values import RawPassword, Role
from tests.unit.application.conftest import MAX_FAILURES, PASSWORD, Accounts

NEW_PASSWORD = "Better456"


def command(actor: Actor, current: str = PASSWORD, new: str = NEW_PASSWORD) -> ChangePassword.Command:
    return ChangePassword.Command(actor=actor, current_password=current, new_password=new)


async def test_the_new_password_replaces_the_old_one_at_login(
    accounts: Accounts, change_password: ChangePassword, login: Login
) -> None:
    me = await accounts.user()
    _, actor = await accounts.sign_in(me)
    await change_password.execute(command(actor))
    with pytest.raises(AuthenticationError):
        await login.execute(Login.Command(identifier=me.email.value, password=PASSWORD))
    pair = await login.execute(Login.Command(identifier=me.email.value, password=NEW_PASSWORD))
    assert pair.access_token


async def test_only_a_hash_of_the_new_password_is_stored_without_a_version_bump(
    accounts: Accounts, change_password: ChangePassword, database: InMemoryDatabase
) -> None:
    me = await accounts.user()
    _, actor = await accounts.sign_in(me)
    await change_password.execute(command(actor))
    stored = database.state.users[me.id]
    assert stored.password_hash == f"fake1${NEW_PASSWORD}"
    assert stored.version == me.version


@pytest.mark.parametrize("current", ["Wrong1234", "", "secret123", "x" * 129])
async def test_a_wrong_current_password_is_denied_and_changes_nothing(
    accounts: Accounts,
    change_password: ChangePassword,
    authenticate: Authenticate,
    database: InMemoryDatabase,
    current: str,
) -> None:
    me = await accounts.user()
    pair, actor = await accounts.sign_in(me)
    with pytest.raises(PermissionDeniedError):
        await change_password.execute(command(actor, current=current))
    assert database.state.users[me.id].password_hash == f"fake1${PASSWORD}"
    assert (await authenticate.execute(Authenticate.Query(token=pair.access_token)))[0].user_id == me.id


@pytest.mark.parametrize("new", ["short1A", "alllower123", "ALLUPPER123", "NoDigitsHere", "A1b" * 43])
async def test_a_weak_new_password_is_an_invalid_new_password(
    accounts: Accounts, change_password: ChangePassword, database: InMemoryDatabase, new: str
) -> None:
    me = await accounts.user()
    _, actor = await accounts.sign_in(me)
    with pytest.raises(InvalidValueError) as caught:
        await change_password.execute(command(actor, new=new))
    assert caught.value.field == "new_password"
    assert database.state.users[me.id].password_hash == f"fake1${PASSWORD}"


async def test_every_session_of_the_user_ends_this_one_included(
    accounts: Accounts, change_password: ChangePassword, authenticate: Authenticate, refresh: RefreshSession
) -> None:
    me = await accounts.user()
    this_pair, actor = await accounts.sign_in(me)
    other_pair, _ = await accounts.sign_in(me)
    await change_password.execute(command(actor))
    for pair in (this_pair, other_pair):
        with pytest.raises(AuthenticationError):
            await authenticate.execute(Authenticate.Query(token=pair.access_token))
        with pytest.raises(AuthenticationError):
            await refresh.execute(RefreshSession.Command(refresh_token=pair.refresh_token))


async def test_sessions_of_other_users_stay_live(
    accounts: Accounts, change_password: ChangePassword, authenticate: Authenticate
) -> None:
    me, other = await accounts.user(), await accounts.create(Role.MODERATOR)
    _, actor = await accounts.sign_in(me)
    other_pair, _ = await accounts.sign_in(other)
    await change_password.execute(command(actor))
    assert (await authenticate.execute(Authenticate.Query(token=other_pair.access_token)))[
        0
    ].user_id == other.id


async def test_the_current_password_is_verified_against_the_stored_hash(
    accounts: Accounts, change_password: ChangePassword, hasher: InMemoryPasswordHasher
) -> None:
    me = await accounts.user()
    _, actor = await accounts.sign_in(me)
    hasher.calls.clear()
    await change_password.execute(command(actor))
    assert hasher.calls == ["verify", "hash"]


async def test_an_actor_whose_account_is_gone_is_not_authenticated(change_password: ChangePassword) -> None:
    ghost = Actor(user_id=9_999, role=Role.USER, session_id=1)
    with pytest.raises(AuthenticationError):
        await change_password.execute(command(ghost))


async def test_wrong_current_passwords_count_toward_the_log_in_throttle(
    accounts: Accounts, change_password: ChangePassword, login: Login
) -> None:
    """A stolen session can't guess the password without limit: each wrong current password is a
    failed log-in of the account's email; past the limit both answer 429, the right one too."""
    me = await accounts.user()
    _, actor = await accounts.sign_in(me)
    for n in range(MAX_FAILURES):
        with pytest.raises(PermissionDeniedError):
            await change_password.execute(command(actor, current=f"Guess-{n}x"))
    with pytest.raises(RateLimitedError):
        await change_password.execute(command(actor))
    with pytest.raises(RateLimitedError):
        await login.execute(Login.Command(identifier=me.email.value, password=PASSWORD))


class MeetingHasher(InMemoryPasswordHasher):
    """Hashes a new password only once `parties` changes have all checked the current one: the
    changes then write one after another, each on the strength of a check made before any wrote."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.barrier = asyncio.Barrier(parties)

    async def hash(self, password: RawPassword) -> str:
        await self.barrier.wait()
        return await super().hash(password)


async def test_of_simultaneous_changes_on_one_session_one_wins_and_the_rest_find_it_ended(
    accounts: Accounts,
    database: InMemoryDatabase,
    queries: InMemoryUserQueries,
    policy: ClassicPasswordPolicy,
    clock: FixedClock,
    counters: InProcessCounters,
    login: Login,
) -> None:
    me = await accounts.user()
    _, actor = await accounts.sign_in(me)
    news = [f"Racing-Secret-{n}" for n in range(4)]
    change = ChangePassword(
        InMemoryUnitOfWork(database), queries, MeetingHasher(len(news)), policy, clock, counters, MAX_FAILURES
    )
    outcomes = await asyncio.gather(
        *(change.execute(command(actor, new=new)) for new in news), return_exceptions=True
    )
    assert outcomes.count(None) == 1, outcomes
    assert all(isinstance(o, AuthenticationError) for o in outcomes if o is not None), outcomes
    winner = news[outcomes.index(None)]
    assert database.state.users[me.id].password_hash == f"fake1${winner}"
    assert await login.execute(Login.Command(identifier=me.email.value, password=winner))
    for loser in (n for n in news if n != winner):
        with pytest.raises(AuthenticationError):
            await login.execute(Login.Command(identifier=me.email.value, password=loser))
