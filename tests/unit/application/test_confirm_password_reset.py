"""ConfirmPasswordReset: the new password, the sessions it ends, and every way a reset token dies."""

import secrets
from dataclasses import replace

import pytest

from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.memory.fakes import FixedClock, InMemoryPasswordHasher
from gatehouse.adapters.memory.store import InMemoryDatabase
from gatehouse.application.account_mail import RESET_TTL
from gatehouse.application.errors import AuthenticationError, InvalidTokenError
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.credentials import TokenPurpose
from gatehouse.application.use_cases.authenticate import Authenticate
from gatehouse.application.use_cases.login import Login
from gatehouse.application.use_cases.password_reset import RequestPasswordReset
from gatehouse.application.use_cases.update_user import PatchUser
from gatehouse.domain.errors import InvalidValueError
from gatehouse.domain.user import User
from tests.unit.application.conftest import PASSWORD, Accounts, actor_of
from tests.unit.application.conftest_account_cases import (
    NEW_PASSWORD,
    RESET_PAGE,
    AccountCases,
    account_cases,
)


@pytest.fixture
def cases(
    database: InMemoryDatabase, clock: FixedClock, hasher: InMemoryPasswordHasher, counters: InProcessCounters
) -> AccountCases:
    return account_cases(database, clock, hasher, counters)


async def reset_token(cases: AccountCases, user: User) -> str:
    """Ask for a reset of `user`'s password and take the token from the mail."""
    await cases.request_reset.execute(RequestPasswordReset.Command(email=user.email.value))
    return cases.last_token(user.email.value, RESET_PAGE)


def creds(user: User, password: str) -> Login.Command:
    return Login.Command(identifier=user.email.value, password=password)


async def test_a_reset_replaces_the_password(accounts: Accounts, cases: AccountCases, login: Login) -> None:
    me = await accounts.user()
    await cases.confirm(await reset_token(cases, me))
    assert cases.database.state.users[me.id].password_hash == f"fake1${NEW_PASSWORD}"
    assert (await login.execute(creds(me, NEW_PASSWORD))).access_token
    with pytest.raises(AuthenticationError):
        await login.execute(creds(me, PASSWORD))


async def test_a_reset_ends_every_session_of_the_account_and_only_its_own(
    accounts: Accounts, cases: AccountCases, authenticate: Authenticate
) -> None:
    me, other = await accounts.user(), await accounts.user()
    mine = [(await accounts.sign_in(me))[0] for _ in range(2)]
    theirs, _ = await accounts.sign_in(other)
    await cases.confirm(await reset_token(cases, me))
    for pair in mine:
        with pytest.raises(AuthenticationError):
            await authenticate.execute(Authenticate.Query(token=pair.access_token))
    assert (await authenticate.execute(Authenticate.Query(token=theirs.access_token)))[0].user_id == other.id


async def test_a_reset_token_works_only_once(accounts: Accounts, cases: AccountCases) -> None:
    me = await accounts.user()
    token = await reset_token(cases, me)
    await cases.confirm(token)
    assert not cases.usable(token, TokenPurpose.RESET_PASSWORD)
    with pytest.raises(InvalidTokenError):
        await cases.confirm(token, "Another789Pass")
    assert cases.database.state.users[me.id].password_hash == f"fake1${NEW_PASSWORD}"


async def test_a_reset_kills_the_other_reset_tokens_of_the_account(
    accounts: Accounts, cases: AccountCases
) -> None:
    me = await accounts.user()
    token = await reset_token(cases, me)
    # A second live token, as a request racing this one on another worker could leave behind.
    stored = cases.stored_token(token)
    assert stored is not None
    cases.database.state.account_tokens["raced-fingerprint"] = replace(stored, id=stored.id + 1000)
    await cases.confirm(token)
    assert cases.database.state.account_tokens["raced-fingerprint"].used_at == cases.clock.now()


async def test_a_reset_is_recorded_with_the_number_of_sessions_ended(
    accounts: Accounts, cases: AccountCases
) -> None:
    me = await accounts.user()
    await accounts.sign_in(me)
    await accounts.sign_in(me)
    token = await reset_token(cases, me)
    await cases.confirm(token)
    [event] = cases.events(AuditAction.PASSWORD_RESET)
    assert event.user_id == me.id
    assert token not in repr(dict(event.details))
    assert event.details["sessions_ended"] == 2


async def test_a_reset_counts_as_proof_of_the_address(accounts: Accounts, cases: AccountCases) -> None:
    me = await accounts.user()
    assert cases.database.state.users[me.id].email_verified is False
    await cases.confirm(await reset_token(cases, me))
    assert cases.database.state.users[me.id].email_verified is True


@pytest.mark.parametrize("weak", ["Short1A", "alllowercase1", "NODIGITSHERE", "NoDigitsHere", "x" * 129])
async def test_a_weak_password_is_refused_on_new_password_and_leaves_the_token_usable(
    accounts: Accounts, cases: AccountCases, hasher: InMemoryPasswordHasher, weak: str
) -> None:
    me = await accounts.user()
    await accounts.sign_in(me)
    token = await reset_token(cases, me)
    events, hasher.calls[:] = len(cases.events()), []
    with pytest.raises(InvalidValueError) as caught:
        await cases.confirm(token, weak)
    assert caught.value.field == "new_password"
    assert "hash" not in hasher.calls
    assert cases.usable(token, TokenPurpose.RESET_PASSWORD)
    assert len(cases.events()) == events
    assert all(s.revoked_at is None for s in cases.database.state.sessions.values())
    await cases.confirm(token)
    assert cases.database.state.users[me.id].password_hash == f"fake1${NEW_PASSWORD}"


async def test_a_reset_token_works_until_just_before_30_minutes(
    accounts: Accounts, cases: AccountCases, clock: FixedClock
) -> None:
    me = await accounts.user()
    token = await reset_token(cases, me)
    clock.advance(RESET_TTL.total_seconds() - 1)
    await cases.confirm(token)
    assert cases.database.state.users[me.id].password_hash == f"fake1${NEW_PASSWORD}"


async def test_a_reset_token_expires_after_30_minutes(
    accounts: Accounts, cases: AccountCases, clock: FixedClock
) -> None:
    me = await accounts.user()
    token = await reset_token(cases, me)
    clock.advance(30 * 60)
    with pytest.raises(InvalidTokenError):
        await cases.confirm(token)
    assert cases.database.state.users[me.id].password_hash == f"fake1${PASSWORD}"


async def test_a_reset_token_of_an_account_deactivated_since_is_refused(
    accounts: Accounts, cases: AccountCases, patch_user: PatchUser
) -> None:
    moderator, me = await accounts.moderator(), await accounts.user()
    token = await reset_token(cases, me)
    await patch_user.execute(PatchUser.Command(actor=actor_of(moderator), user_id=me.id, is_active=False))
    with pytest.raises(InvalidTokenError):
        await cases.confirm(token)
    assert cases.database.state.users[me.id].password_hash == f"fake1${PASSWORD}"


async def test_a_reset_token_mailed_before_an_email_change_is_refused(
    accounts: Accounts, cases: AccountCases, patch_user: PatchUser
) -> None:
    me = await accounts.user()
    token = await reset_token(cases, me)
    await patch_user.execute(PatchUser.Command(actor=actor_of(me), user_id=me.id, email="moved@example.com"))
    with pytest.raises(InvalidTokenError):
        await cases.confirm(token)


async def test_a_verification_token_does_not_reset_a_password(
    accounts: Accounts, cases: AccountCases
) -> None:
    me = await accounts.user()
    with pytest.raises(InvalidTokenError):
        await cases.confirm(cases.last_token(me.email.value))
    assert cases.database.state.users[me.id].password_hash == f"fake1${PASSWORD}"


@pytest.mark.parametrize(
    "token", [secrets.token_urlsafe(32), "", "garbage"], ids=["random", "empty", "garbage"]
)
async def test_an_unknown_reset_token_is_refused_and_changes_nothing(
    accounts: Accounts, cases: AccountCases, token: str
) -> None:
    await accounts.user()
    commits = cases.database.commits
    with pytest.raises(InvalidTokenError):
        await cases.confirm(token)
    assert cases.database.commits == commits


async def test_an_invalid_token_is_refused_before_the_password_is_judged(cases: AccountCases) -> None:
    with pytest.raises(InvalidTokenError):
        await cases.confirm("garbage", "weak")
