"""Log-in against what runs beside it: simultaneous guesses, and a credential changed mid-log-in."""

import asyncio

import pytest

from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.memory.fakes import FixedClock, InMemoryPasswordHasher, InMemoryTokenIssuer
from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryUnitOfWork
from gatehouse.adapters.random_tokens import RandomSecretTokens
from gatehouse.application.errors import AuthenticationError, RateLimitedError
from gatehouse.application.use_cases.authenticate import Authenticate
from gatehouse.application.use_cases.change_password import ChangePassword
from gatehouse.application.use_cases.login import Login
from gatehouse.application.use_cases.update_user import PatchUser
from gatehouse.domain.errors import InvalidValueError, PermissionDeniedError
from gatehouse.domain.values import RawPassword
from tests.unit.application.conftest import MAX_FAILURES, PASSWORD, Accounts, actor_of

NEW_PASSWORD = "Another-Secret-42"


class SlowHasher(InMemoryPasswordHasher):
    """Verifies off the loop, as the real pool does: other tasks run while a password is checked.
    With `hold_first` set, the first verification waits until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.hold_first = False
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def verify(self, password_hash: str, password: RawPassword) -> bool:
        if self.hold_first:
            self.hold_first = False
            self.holding.set()
            await self.release.wait()
        for _ in range(3):
            await asyncio.sleep(0)
        return await super().verify(password_hash, password)


@pytest.fixture
def hasher() -> SlowHasher:
    return SlowHasher()


async def test_simultaneous_wrong_guesses_check_at_most_max_failures_passwords(
    accounts: Accounts, login: Login
) -> None:
    me = await accounts.user()
    outcomes = await asyncio.gather(
        *(login.execute(Login.Command(identifier=me.email.value, password=f"Wrong-{n}a")) for n in range(30)),
        return_exceptions=True,
    )
    kinds = [type(outcome) for outcome in outcomes]
    assert kinds.count(AuthenticationError) == MAX_FAILURES
    assert kinds.count(RateLimitedError) == 30 - MAX_FAILURES


@pytest.mark.parametrize("right_at", [0, 1, MAX_FAILURES - 1, MAX_FAILURES + 3])
async def test_a_right_password_among_simultaneous_guesses_lets_no_extra_guess_through(
    accounts: Accounts, login: Login, right_at: int
) -> None:
    me = await accounts.user()
    guesses = [f"Wrong-{n}a" for n in range(30)]
    guesses[right_at] = PASSWORD
    outcomes = await asyncio.gather(
        *(login.execute(Login.Command(identifier=me.email.value, password=p)) for p in guesses),
        return_exceptions=True,
    )
    kinds = [type(outcome) for outcome in outcomes]
    assert kinds.count(AuthenticationError) <= MAX_FAILURES
    assert kinds.count(AuthenticationError) + kinds.count(RateLimitedError) >= 29
    if right_at < MAX_FAILURES:  # it took a place before the limit was reached: it logs in
        assert not isinstance(outcomes[right_at], BaseException)


async def test_simultaneous_right_passwords_all_log_in(accounts: Accounts, login: Login) -> None:
    """More simultaneous log-ins than the limit, none failing: none is throttled (no failure was
    ever made); the ones beyond the free places wait for the running ones to settle."""
    me = await accounts.user()
    outcomes = await asyncio.gather(
        *(login.execute(Login.Command(identifier=me.email.value, password=PASSWORD)) for _ in range(20)),
        return_exceptions=True,
    )
    assert [o for o in outcomes if isinstance(o, BaseException)] == []


async def test_an_identifier_longer_than_any_account_is_refused_before_it_is_counted(
    login: Login, counters: InProcessCounters, hasher: SlowHasher
) -> None:
    identifier = "x" * 255
    for _ in range(MAX_FAILURES + 2):
        with pytest.raises(InvalidValueError):
            await login.execute(Login.Command(identifier=identifier, password="whatever"))
    assert (await counters.increment(f"login-failures:{identifier}", 900)).count == 1  # none counted before
    assert hasher.calls == []


async def test_a_log_in_checked_against_the_old_password_opens_no_session_after_a_change(
    accounts: Accounts,
    login: Login,
    change_password: ChangePassword,
    authenticate: Authenticate,
    hasher: SlowHasher,
) -> None:
    me = await accounts.user()
    pair, actor = await accounts.sign_in(me)
    hasher.hold_first = True
    racing = asyncio.create_task(login.execute(Login.Command(identifier=me.email.value, password=PASSWORD)))
    await hasher.holding.wait()  # the old password is being checked
    await change_password.execute(
        ChangePassword.Command(actor=actor, current_password=PASSWORD, new_password=NEW_PASSWORD)
    )
    hasher.release.set()
    with pytest.raises(AuthenticationError):
        await racing
    with pytest.raises(AuthenticationError):
        await authenticate.execute(Authenticate.Query(token=pair.access_token))


async def test_a_log_in_racing_a_deactivation_opens_no_session(
    accounts: Accounts, login: Login, patch_user: PatchUser, hasher: SlowHasher, uow: InMemoryUnitOfWork
) -> None:
    admin, me = await accounts.admin(), await accounts.user()
    hasher.hold_first = True
    racing = asyncio.create_task(login.execute(Login.Command(identifier=me.email.value, password=PASSWORD)))
    await hasher.holding.wait()
    await patch_user.execute(PatchUser.Command(actor=actor_of(admin), user_id=me.id, is_active=False))
    hasher.release.set()
    with pytest.raises(PermissionDeniedError):
        await racing
    await patch_user.execute(PatchUser.Command(actor=actor_of(admin), user_id=me.id, is_active=True))
    async with uow:
        assert await uow.sessions.revoke_all(me.id, FixedClock().now()) == 0  # none was left live


async def test_a_rehash_between_check_and_session_still_logs_in(
    accounts: Accounts,
    uow: InMemoryUnitOfWork,
    queries: InMemoryUserQueries,
    hasher: SlowHasher,
    tokens: InMemoryTokenIssuer,
    counters: InProcessCounters,
    clock: FixedClock,
) -> None:
    """The hash changed but the password did not (another log-in upgraded it): checked again, once."""
    me = await accounts.user()
    login = Login(uow, queries, hasher, tokens, counters, clock, MAX_FAILURES, RandomSecretTokens())
    hasher.hold_first = True
    racing = asyncio.create_task(login.execute(Login.Command(identifier=me.email.value, password=PASSWORD)))
    await hasher.holding.wait()
    async with uow:
        await uow.users.set_password_hash(me.id, f"fake0${PASSWORD}")  # the same password, another hash
        await uow.commit()
    hasher.release.set()
    assert (await racing).access_token
