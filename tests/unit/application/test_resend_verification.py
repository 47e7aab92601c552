"""ResendVerification and ResendVerificationByEmail: who gets a new mail, and the hourly limit."""

import pytest

from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.memory.fakes import FixedClock, InMemoryPasswordHasher
from gatehouse.adapters.memory.state import StoredMail
from gatehouse.adapters.memory.store import InMemoryDatabase
from gatehouse.application.errors import ConflictError, InvalidTokenError, RateLimitedError
from gatehouse.application.use_cases.email_verification import (
    RESEND_WINDOW_SECONDS,
    ResendVerification,
    ResendVerificationByEmail,
    VerifyEmail,
)
from gatehouse.application.use_cases.update_user import PatchUser
from gatehouse.domain.errors import InvalidValueError
from tests.unit.application.conftest import Accounts, actor_of
from tests.unit.application.conftest_account_cases import AccountCases, account_cases

ALLOWED = 3


def pending(cases: AccountCases, recipient: str) -> list[StoredMail]:
    """Mails to `recipient` that will be sent (a suppressed one is stored but never sent)."""
    return [m for m in cases.mails(recipient) if m.status == "pending"]


@pytest.fixture
def cases(
    database: InMemoryDatabase, clock: FixedClock, hasher: InMemoryPasswordHasher, counters: InProcessCounters
) -> AccountCases:
    return account_cases(database, clock, hasher, counters)


async def test_resend_to_an_admin_created_account_is_a_conflict(
    accounts: Accounts, cases: AccountCases
) -> None:
    staff = await accounts.moderator()
    with pytest.raises(ConflictError):
        await cases.resend.execute(ResendVerification.Command(actor=actor_of(staff)))
    assert cases.mails() == []


async def test_resend_after_verifying_is_a_conflict(accounts: Accounts, cases: AccountCases) -> None:
    me = await accounts.user(name="ada")
    await cases.verify.execute(VerifyEmail.Command(token=cases.last_token("ada@example.com")))
    with pytest.raises(ConflictError):
        await cases.resend.execute(ResendVerification.Command(actor=actor_of(me)))
    assert len(cases.mails()) == 1


async def test_three_resends_pass_and_the_fourth_is_rate_limited_not_counting_the_sign_up_mail(
    accounts: Accounts, cases: AccountCases
) -> None:
    me = await accounts.user(name="ada")
    for _ in range(ALLOWED):
        await cases.resend.execute(ResendVerification.Command(actor=actor_of(me)))
    assert len(cases.mails("ada@example.com")) == 1 + ALLOWED
    with pytest.raises(RateLimitedError) as caught:
        await cases.resend.execute(ResendVerification.Command(actor=actor_of(me)))
    assert 0 < caught.value.retry_after <= RESEND_WINDOW_SECONDS
    assert len(cases.mails("ada@example.com")) == 1 + ALLOWED


async def test_resends_are_allowed_again_once_the_hour_has_passed(
    accounts: Accounts, cases: AccountCases, clock: FixedClock
) -> None:
    me = await accounts.user(name="ada")
    for _ in range(ALLOWED):
        await cases.resend.execute(ResendVerification.Command(actor=actor_of(me)))
    clock.advance(RESEND_WINDOW_SECONDS)
    await cases.resend.execute(ResendVerification.Command(actor=actor_of(me)))
    assert len(cases.mails("ada@example.com")) == 2 + ALLOWED


async def test_the_resend_limit_of_one_account_leaves_another_alone(
    accounts: Accounts, cases: AccountCases
) -> None:
    me, other = await accounts.user(name="ada"), await accounts.user(name="bob")
    for _ in range(ALLOWED):
        await cases.resend.execute(ResendVerification.Command(actor=actor_of(me)))
    await cases.resend.execute(ResendVerification.Command(actor=actor_of(other)))
    assert len(cases.mails("bob@example.com")) == 2


async def test_resend_by_email_answers_alike_but_mails_only_the_unverified_account(
    accounts: Accounts, cases: AccountCases
) -> None:
    await accounts.user(name="ada")  # unverified
    await accounts.moderator(name="mod")  # created verified by an admin
    addresses = ("ada@example.com", "mod@example.com", "nobody@example.com")
    before = {a: len(pending(cases, a)) for a in addresses}
    for address in ("nobody@example.com", "mod@example.com", "Ada@Example.com"):
        commits = cases.database.commits
        await cases.resend_by_email.execute(
            ResendVerificationByEmail.Command(email=address)
        )  # no error, whatever the address
        assert cases.database.commits == commits + 1
    after = {a: len(pending(cases, a)) for a in before}
    assert after == {
        "ada@example.com": before["ada@example.com"] + 1,
        "mod@example.com": before["mod@example.com"],
        "nobody@example.com": 0,
    }


async def test_resend_by_email_kills_the_older_verification_token(
    accounts: Accounts, cases: AccountCases
) -> None:
    await accounts.user(name="ada")
    first = cases.last_token("ada@example.com")
    await cases.resend_by_email.execute(ResendVerificationByEmail.Command(email="ada@example.com"))
    with pytest.raises(InvalidTokenError):
        await cases.verify.execute(VerifyEmail.Command(token=first))
    await cases.verify.execute(VerifyEmail.Command(token=cases.last_token("ada@example.com")))


async def test_resend_by_email_sends_nothing_to_a_deactivated_unverified_account(
    accounts: Accounts, cases: AccountCases, patch_user: PatchUser
) -> None:
    moderator, me = await accounts.moderator(), await accounts.user(name="ada")
    await patch_user.execute(PatchUser.Command(actor=actor_of(moderator), user_id=me.id, is_active=False))
    await cases.resend_by_email.execute(ResendVerificationByEmail.Command(email="ada@example.com"))
    assert len(pending(cases, "ada@example.com")) == 1  # the sign-up mail only


@pytest.mark.parametrize("address", ["ada@example.com", "nobody@example.com"])
async def test_the_fourth_resend_by_email_within_an_hour_is_rate_limited(
    accounts: Accounts, cases: AccountCases, address: str
) -> None:
    await accounts.user(name="ada")
    for spelling in (address.upper(), address.title(), address):  # counted per lower-cased address
        await cases.resend_by_email.execute(ResendVerificationByEmail.Command(email=spelling))
    mails = len(cases.mails())
    with pytest.raises(RateLimitedError):
        await cases.resend_by_email.execute(ResendVerificationByEmail.Command(email=address))
    assert len(cases.mails()) == mails


async def test_the_resend_by_email_limit_is_per_submitted_address(
    accounts: Accounts, cases: AccountCases
) -> None:
    await accounts.user(name="ada")
    for _ in range(ALLOWED):
        await cases.resend_by_email.execute(ResendVerificationByEmail.Command(email="nobody@example.com"))
    await cases.resend_by_email.execute(ResendVerificationByEmail.Command(email="ada@example.com"))
    assert len(cases.mails("ada@example.com")) == 2


@pytest.mark.parametrize("address", ["not-an-email", "", "a@b", "x" * 250 + "@example.com"])
async def test_resend_by_email_refuses_an_invalid_address(cases: AccountCases, address: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        await cases.resend_by_email.execute(ResendVerificationByEmail.Command(email=address))
    assert caught.value.field == "email"
    assert cases.mails() == []
