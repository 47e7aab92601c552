"""Log-in with MFA on: the challenge, the ±1 step window, one use per step and per recovery code,
wrong codes against the token and the throttle, and a token that dies with the credential."""

import asyncio

import pytest

from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.memory.fakes import InMemoryTokenIssuer
from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.adapters.random_tokens import RandomSecretTokens
from gatehouse.adapters.secret_box import AesGcmSecretBox
from gatehouse.adapters.totp import PyotpCodes
from gatehouse.application.errors import AuthenticationError, RateLimitedError
from gatehouse.application.second_factor import SecondFactor
from gatehouse.application.use_cases.change_password import ChangePassword
from gatehouse.application.use_cases.mfa_login import CompleteMfaLogin
from gatehouse.domain.values import Role
from tests.unit.application.conftest import PASSWORD, Accounts
from tests.unit.application.mfa_support import DATA_KEY, Mfa, events, mfa, subjects

__all__ = ["mfa"]


async def test_a_right_password_opens_no_session_but_a_challenge(accounts: Accounts, mfa: Mfa) -> None:
    me = await accounts.user()
    await mfa.enrol(me)
    sessions_before = len(mfa.database.state.sessions)
    token = await mfa.password_step(me)
    assert len(token) >= 32
    assert len(mfa.database.state.sessions) == sessions_before
    assert events(mfa.database, "auth.login_succeeded") == []  # written at the second step only
    pair = await mfa.code_step(token, mfa.code(me, steps=1))
    assert pair.access_token
    assert len(events(mfa.database, "auth.login_succeeded")) == 1


async def test_the_previous_and_next_step_pass_and_two_steps_away_fail(accounts: Accounts, mfa: Mfa) -> None:
    me = await accounts.user()
    await mfa.enrol(me)  # spends the current step
    mfa.clock.advance(60)  # two steps later: the enrolment's step is now two behind
    await mfa.code_step(await mfa.password_step(me), mfa.code(me, steps=-1))
    await mfa.code_step(await mfa.password_step(me), mfa.code(me, steps=1))
    with pytest.raises(AuthenticationError):
        await mfa.code_step(await mfa.password_step(me), mfa.code(me, steps=2))


async def test_a_code_is_good_across_a_step_boundary_once(accounts: Accounts, mfa: Mfa) -> None:
    me = await accounts.user()
    await mfa.enrol(me)
    mfa.clock.advance(59)  # the last second of the next step
    code = mfa.code(me)
    mfa.clock.advance(1)  # the step after: `code` is the previous step's now
    await mfa.code_step(await mfa.password_step(me), code)
    with pytest.raises(AuthenticationError):  # the same step again: a replay
        await mfa.code_step(await mfa.password_step(me), code)


async def test_an_earlier_step_after_a_later_one_is_refused(accounts: Accounts, mfa: Mfa) -> None:
    me = await accounts.user()
    await mfa.enrol(me)
    mfa.clock.advance(60)
    await mfa.code_step(await mfa.password_step(me), mfa.code(me, steps=1))
    with pytest.raises(AuthenticationError):
        await mfa.code_step(await mfa.password_step(me), mfa.code(me))


async def test_a_recovery_code_logs_in_once_and_tells_the_account(accounts: Accounts, mfa: Mfa) -> None:
    me = await accounts.user()
    codes = await mfa.enrol(me)
    await mfa.code_step(await mfa.password_step(me), codes[3].upper())  # case and dash don't matter
    with pytest.raises(AuthenticationError):
        await mfa.code_step(await mfa.password_step(me), codes[3])
    used = events(mfa.database, "auth.recovery_code_used")
    assert len(used) == 1
    assert used[0].details == {"remaining": 9}  # type: ignore[attr-defined]
    assert "Security notice: recovery code used" in subjects(mfa.database, me.email.value)


async def test_wrong_codes_fail_are_audited_and_exhaust_the_throttle(accounts: Accounts, mfa: Mfa) -> None:
    me = await accounts.user()
    await mfa.enrol(me)
    token = await mfa.password_step(me)
    for _ in range(3):  # MAX_FAILURES
        with pytest.raises(AuthenticationError):
            await mfa.code_step(token, "000000" if mfa.code(me, steps=1) != "000000" else "111111")
    with pytest.raises(RateLimitedError):  # the right code too, until the window ends
        await mfa.code_step(token, mfa.code(me, steps=1))
    assert len(events(mfa.database, "auth.mfa_failed")) == 3


async def test_five_wrong_codes_kill_the_token(
    accounts: Accounts,
    mfa: Mfa,
    database: InMemoryDatabase,
    tokens: InMemoryTokenIssuer,
    counters: InProcessCounters,
    secret_tokens: RandomSecretTokens,
) -> None:
    me = await accounts.user()
    await mfa.enrol(me)
    token = await mfa.password_step(me)
    factor = SecondFactor(PyotpCodes(), AesGcmSecretBox(DATA_KEY))
    queries = InMemoryUserQueries(database)
    uow = InMemoryUnitOfWork(database)
    roomy = CompleteMfaLogin(uow, queries, factor, secret_tokens, tokens, counters, mfa.clock, 100)
    wrong = "000000" if mfa.code(me, steps=1) != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            await roomy.execute(CompleteMfaLogin.Command(mfa_token=token, code=wrong))
    with pytest.raises(AuthenticationError, match="log in again"):
        await roomy.execute(CompleteMfaLogin.Command(mfa_token=token, code=mfa.code(me, steps=1)))


async def test_a_dead_token_is_refused_before_the_throttle_counts(accounts: Accounts, mfa: Mfa) -> None:
    me = await accounts.user()
    await mfa.enrol(me)
    for _ in range(10):
        with pytest.raises(AuthenticationError, match="log in again"):
            await mfa.code_step("not-a-token", mfa.code(me, steps=1))
    token = await mfa.password_step(me)
    mfa.clock.advance(301)  # five minutes and a second
    with pytest.raises(AuthenticationError, match="log in again"):
        await mfa.code_step(token, mfa.code(me))
    await mfa.code_step(await mfa.password_step(me), mfa.code(me))  # nothing was counted


async def test_a_password_change_kills_a_waiting_token(
    accounts: Accounts, mfa: Mfa, change_password: ChangePassword
) -> None:
    me = await accounts.user()
    _, actor = await accounts.sign_in(me)  # a session from before MFA: the change needs a live one
    await mfa.enrol(me)
    token = await mfa.password_step(me)
    command = ChangePassword.Command(actor=actor, current_password=PASSWORD, new_password="Newer789Pass")
    await change_password.execute(command)
    with pytest.raises(AuthenticationError, match="log in again"):
        await mfa.code_step(token, mfa.code(me, steps=1))
    assert "Security notice: password changed" in subjects(mfa.database, me.email.value)


async def test_one_token_and_one_code_at_once_give_one_session(accounts: Accounts, mfa: Mfa) -> None:
    me = await accounts.user()
    await mfa.enrol(me)
    token, code = await mfa.password_step(me), mfa.code(me, steps=1)
    outcomes = await asyncio.gather(*(mfa.code_step(token, code) for _ in range(2)), return_exceptions=True)
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
    assert all(isinstance(o, AuthenticationError) for o in outcomes if isinstance(o, BaseException))


async def test_accounts_without_mfa_log_in_in_one_step(accounts: Accounts, mfa: Mfa) -> None:
    admin = await accounts.create(Role.ADMIN)
    pair, _actor = await accounts.sign_in(admin)
    assert pair.access_token
