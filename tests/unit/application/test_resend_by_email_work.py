"""ResendVerificationByEmail does the same work for every address; only an unverified account is mailed."""

import pytest

from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.memory.fakes import FixedClock, InMemoryPasswordHasher
from gatehouse.adapters.memory.store import InMemoryDatabase
from gatehouse.application.ports.credentials import TokenPurpose
from gatehouse.application.use_cases.email_verification import ResendVerificationByEmail
from gatehouse.application.use_cases.update_user import PatchUser
from tests.unit.application.conftest import PUBLIC_URL, Accounts, actor_of
from tests.unit.application.conftest_account_cases import AccountCases, account_cases
from tests.unit.application.test_request_password_reset import recording_cases

UNVERIFIED = "ada@example.com"
OTHERS = {
    "unknown": "nobody@example.com",
    "verified": "mod@example.com",
    "deactivated": "gone@example.com",
}


@pytest.fixture
async def people(accounts: Accounts, patch_user: PatchUser) -> None:
    """An unverified account, a verified one (made by an admin) and a deactivated unverified one."""
    await accounts.user(name="ada")
    moderator = await accounts.moderator(name="mod")
    gone = await accounts.user(name="gone")
    await patch_user.execute(PatchUser.Command(actor=actor_of(moderator), user_id=gone.id, is_active=False))


@pytest.fixture
def cases(
    database: InMemoryDatabase, clock: FixedClock, hasher: InMemoryPasswordHasher, counters: InProcessCounters
) -> AccountCases:
    return account_cases(database, clock, hasher, counters)


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize("other", OTHERS.values(), ids=OTHERS.keys())
async def test_a_resend_by_email_makes_the_same_port_calls_for_an_unverified_account_and_any_other_address(
    database: InMemoryDatabase, clock: FixedClock, hasher: InMemoryPasswordHasher, other: str
) -> None:
    log: list[str] = []
    watched = recording_cases(database, clock, hasher, log)
    commits = database.commits
    await watched.resend_by_email.execute(ResendVerificationByEmail.Command(email=UNVERIFIED))
    known, known_commits = list(log), database.commits - commits
    log.clear()
    await watched.resend_by_email.execute(ResendVerificationByEmail.Command(email=other))
    assert log == known
    assert database.commits - commits - known_commits == known_commits == 1
    assert known == [
        "counters.increment",
        "begin",
        "users.get_by_email",
        "tokens.new",
        "account_tokens.issue",
        "outbox.add",
        "commit",
    ]


@pytest.mark.usefixtures("people")
async def test_only_the_unverified_account_gets_a_pending_mail_with_a_usable_link(
    cases: AccountCases,
) -> None:
    await cases.resend_by_email.execute(ResendVerificationByEmail.Command(email=UNVERIFIED.upper()))
    mail = cases.mails(UNVERIFIED)[-1]
    assert (mail.status, mail.subject) == ("pending", "Confirm your email address")
    assert f"{PUBLIC_URL}/account/verify-email?token=" in mail.body
    assert cases.usable(cases.last_token(UNVERIFIED), TokenPurpose.VERIFY_EMAIL)


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize("other", OTHERS.values(), ids=OTHERS.keys())
async def test_any_other_address_gets_a_suppressed_mail_and_a_token_that_can_never_be_used(
    cases: AccountCases, other: str
) -> None:
    tokens_before = dict(cases.database.state.account_tokens)
    mails_before = len(cases.mails())
    await cases.resend_by_email.execute(ResendVerificationByEmail.Command(email=other.title()))
    [mail] = cases.mails()[mails_before:]
    assert (mail.recipient, mail.status, mail.body) == (other, "suppressed", "")
    [new] = [t for f, t in cases.database.state.account_tokens.items() if f not in tokens_before]
    assert (new.purpose, new.user_id, new.email) == (TokenPurpose.VERIFY_EMAIL, None, other)
    assert not new.is_usable(cases.clock.now())
    # the account's own tokens are left as they were: nothing about it changes
    assert {f: cases.database.state.account_tokens[f] for f in tokens_before} == tokens_before
