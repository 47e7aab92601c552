"""Sign-up mail and VerifyEmail: who starts verified, the mailed link, and every way a token dies."""

import secrets

import pytest

from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.memory.fakes import FixedClock, InMemoryPasswordHasher
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.application.account_mail import VERIFY_TTL
from gatehouse.application.errors import InvalidTokenError
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.credentials import TokenPurpose
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.use_cases.delete_user import DeleteUser
from gatehouse.application.use_cases.email_verification import ResendVerification, VerifyEmail
from gatehouse.application.use_cases.password_reset import RequestPasswordReset
from gatehouse.application.use_cases.register_user import RegisterUser
from gatehouse.application.use_cases.update_user import PatchUser, ReplaceUser
from gatehouse.domain.user import User
from tests.unit.application.conftest import PASSWORD, PUBLIC_URL, Accounts, actor_of
from tests.unit.application.conftest_account_cases import RESET_PAGE, AccountCases, account_cases


@pytest.fixture
def cases(
    database: InMemoryDatabase, clock: FixedClock, hasher: InMemoryPasswordHasher, counters: InProcessCounters
) -> AccountCases:
    return account_cases(database, clock, hasher, counters)


def sign_up(name: str, email: str | None = None) -> RegisterUser.Command:
    return RegisterUser.Command(email=email or f"{name}@example.com", username=name, password=PASSWORD)


async def test_a_sign_up_starts_unverified_with_one_pending_mail_to_its_address(
    register: RegisterUser, cases: AccountCases
) -> None:
    me = await register.execute(sign_up("ada", "Ada@Example.com"))
    assert cases.database.state.users[me.id].email_verified is False
    [mail] = cases.mails()
    assert (mail.recipient, mail.status) == ("ada@example.com", "pending")
    assert f"{PUBLIC_URL}/account/verify-email?token=" in mail.body


async def test_the_mailed_token_is_usable_and_bound_to_the_account_and_address(
    accounts: Accounts, cases: AccountCases
) -> None:
    me = await accounts.user(name="ada")
    token = cases.last_token("ada@example.com")
    stored = cases.stored_token(token)
    assert len(token) >= 43  # 32 random bytes, URL-safe
    assert stored is not None
    assert (stored.user_id, stored.email) == (me.id, "ada@example.com")
    assert cases.usable(token, TokenPurpose.VERIFY_EMAIL)
    assert token not in cases.database.state.account_tokens  # stored only as a fingerprint


async def test_an_account_created_by_an_admin_starts_verified_and_gets_no_mail(
    accounts: Accounts, register: RegisterUser, cases: AccountCases
) -> None:
    admin = await accounts.admin()
    made = await register.execute(
        RegisterUser.Command(
            email="bob@example.com", username="bob", password=PASSWORD, actor=actor_of(admin)
        )
    )
    assert cases.database.state.users[made.id].email_verified is True
    assert cases.database.state.users[admin.id].email_verified is True
    assert cases.mails() == []


async def test_user_created_names_the_admin_who_created_the_account(
    accounts: Accounts, register: RegisterUser, cases: AccountCases
) -> None:
    admin = await accounts.admin()
    made = await register.execute(
        RegisterUser.Command(
            email="bob@example.com",
            username="bob",
            password=PASSWORD,
            role="moderator",
            actor=actor_of(admin),
        )
    )
    [event] = cases.events(AuditAction.USER_CREATED, made.id)
    assert (event.actor_id, event.user_id) == (admin.id, made.id)
    assert event.details["role"] == "moderator"


async def test_user_created_by_a_sign_up_or_the_operator_has_no_actor(
    accounts: Accounts, cases: AccountCases
) -> None:
    signed_up, by_operator = await accounts.user(), await accounts.admin()  # the operator is user_id 0
    for user in (signed_up, by_operator):
        [event] = cases.events(AuditAction.USER_CREATED, user.id)
        assert event.actor_id is None
        assert event.details["email"] == user.email.value


async def test_user_created_holds_neither_the_password_nor_its_hash(
    accounts: Accounts, cases: AccountCases
) -> None:
    me = await accounts.user()
    [event] = cases.events(AuditAction.USER_CREATED, me.id)
    text = repr(dict(event.details))
    assert PASSWORD not in text
    assert cases.database.state.users[me.id].password_hash not in text


async def test_a_sign_up_rolled_back_before_commit_leaves_no_account_mail_or_event(
    register: RegisterUser, cases: AccountCases
) -> None:
    async def boom(_uow: UnitOfWork, _user: User) -> None:
        raise RuntimeError("crash before commit")

    command = RegisterUser.Command(email="ada@example.com", username="ada", password=PASSWORD)
    with pytest.raises(RuntimeError):
        await register.execute(command, after_create=boom)
    state = cases.database.state
    assert (state.users, state.mails, state.audit_events, state.account_tokens) == ({}, {}, {}, {})


async def test_the_mailed_token_verifies_the_address_once(accounts: Accounts, cases: AccountCases) -> None:
    me = await accounts.user(name="ada")
    version = cases.database.state.users[me.id].version
    token = cases.last_token("ada@example.com")
    await cases.verify.execute(VerifyEmail.Command(token=token))
    stored = cases.database.state.users[me.id]
    assert stored.email_verified is True
    assert stored.version == version + 1
    [event] = cases.events(AuditAction.EMAIL_VERIFIED)
    assert (event.user_id, event.details["email"]) == (me.id, "ada@example.com")
    with pytest.raises(InvalidTokenError):
        await cases.verify.execute(VerifyEmail.Command(token=token))
    assert len(cases.events(AuditAction.EMAIL_VERIFIED)) == 1


async def test_a_verification_token_works_until_just_before_24_hours(
    accounts: Accounts, cases: AccountCases, clock: FixedClock
) -> None:
    me = await accounts.user(name="ada")
    clock.advance(VERIFY_TTL.total_seconds() - 1)
    await cases.verify.execute(VerifyEmail.Command(token=cases.last_token("ada@example.com")))
    assert cases.database.state.users[me.id].email_verified is True


async def test_a_verification_token_expires_after_24_hours(
    accounts: Accounts, cases: AccountCases, clock: FixedClock
) -> None:
    me = await accounts.user(name="ada")
    clock.advance(24 * 3600)
    with pytest.raises(InvalidTokenError):
        await cases.verify.execute(VerifyEmail.Command(token=cases.last_token("ada@example.com")))
    assert cases.database.state.users[me.id].email_verified is False


async def test_a_resend_kills_the_older_verification_token(accounts: Accounts, cases: AccountCases) -> None:
    me = await accounts.user(name="ada")
    first = cases.last_token("ada@example.com")
    await cases.resend.execute(ResendVerification.Command(actor=actor_of(me)))
    second = cases.last_token("ada@example.com")
    assert second != first
    with pytest.raises(InvalidTokenError):
        await cases.verify.execute(VerifyEmail.Command(token=first))
    await cases.verify.execute(VerifyEmail.Command(token=second))
    assert cases.database.state.users[me.id].email_verified is True


async def test_an_email_change_kills_the_old_token_and_mails_the_new_address(
    accounts: Accounts, cases: AccountCases, patch_user: PatchUser
) -> None:
    me = await accounts.user(name="ada")
    old = cases.last_token("ada@example.com")
    await patch_user.execute(PatchUser.Command(actor=actor_of(me), user_id=me.id, email="Ada2@Example.com"))
    with pytest.raises(InvalidTokenError):
        await cases.verify.execute(VerifyEmail.Command(token=old))
    [mail] = cases.mails("ada2@example.com")
    assert mail.status == "pending"
    assert cases.database.state.users[me.id].email_verified is False
    await cases.verify.execute(VerifyEmail.Command(token=cases.last_token("ada2@example.com")))
    assert cases.database.state.users[me.id].email_verified is True


async def test_a_verified_account_is_unverified_again_after_an_email_change(
    accounts: Accounts, cases: AccountCases, patch_user: PatchUser
) -> None:
    me = await accounts.user(name="ada")
    await cases.verify.execute(VerifyEmail.Command(token=cases.last_token("ada@example.com")))
    await patch_user.execute(PatchUser.Command(actor=actor_of(me), user_id=me.id, email="ada2@example.com"))
    assert cases.database.state.users[me.id].email_verified is False
    assert len(cases.mails("ada2@example.com")) == 1


async def test_a_token_sent_to_an_address_the_account_no_longer_has_is_refused(
    accounts: Accounts, cases: AccountCases, patch_user: PatchUser, uow: InMemoryUnitOfWork
) -> None:
    me = await accounts.user(name="ada")
    await patch_user.execute(PatchUser.Command(actor=actor_of(me), user_id=me.id, email="ada2@example.com"))
    async with uow as tx:  # a mail to the old address issued late, e.g. by a request that raced the change
        await cases.mailer.send_verification(tx, me, cases.clock.now())
        await tx.commit()
    stale = cases.last_token("ada@example.com")
    assert cases.usable(stale, TokenPurpose.VERIFY_EMAIL)
    with pytest.raises(InvalidTokenError):
        await cases.verify.execute(VerifyEmail.Command(token=stale))
    assert cases.database.state.users[me.id].email_verified is False


@pytest.mark.parametrize(
    "token", [secrets.token_urlsafe(32), "", "not a token", "%00"], ids=["random", "empty", "words", "nul"]
)
async def test_an_unknown_token_is_refused_and_changes_nothing(
    accounts: Accounts, cases: AccountCases, token: str
) -> None:
    me = await accounts.user()
    commits, events = cases.database.commits, len(cases.events())
    with pytest.raises(InvalidTokenError):
        await cases.verify.execute(VerifyEmail.Command(token=token))
    assert (cases.database.commits, len(cases.events())) == (commits, events)
    assert cases.database.state.users[me.id].email_verified is False


async def test_a_password_reset_token_does_not_verify_an_email(
    accounts: Accounts, cases: AccountCases
) -> None:
    me = await accounts.user(name="ada")
    await cases.request_reset.execute(RequestPasswordReset.Command(email="ada@example.com"))
    with pytest.raises(InvalidTokenError):
        await cases.verify.execute(VerifyEmail.Command(token=cases.last_token("ada@example.com", RESET_PAGE)))
    assert cases.database.state.users[me.id].email_verified is False


@pytest.mark.parametrize("spelling", ["ada@example.com", "ADA@Example.com"])
async def test_a_replace_that_keeps_the_address_keeps_it_verified_and_sends_no_mail(
    accounts: Accounts, cases: AccountCases, replace_user: ReplaceUser, spelling: str
) -> None:
    me = await accounts.user(name="ada")
    await cases.verify.execute(VerifyEmail.Command(token=cases.last_token("ada@example.com")))
    command = ReplaceUser.Command(
        actor=actor_of(me), user_id=me.id, email=spelling, username="ada", full_name="Ada"
    )
    await replace_user.execute(command)
    assert cases.database.state.users[me.id].email_verified is True
    assert len(cases.mails()) == 1  # the sign-up mail only


async def test_a_verification_token_of_a_deleted_account_is_refused(
    accounts: Accounts, cases: AccountCases, delete_user: DeleteUser
) -> None:
    admin, me = await accounts.admin(), await accounts.user(name="ada")
    token = cases.last_token("ada@example.com")
    await delete_user.execute(DeleteUser.Command(actor=actor_of(admin), user_id=me.id))
    with pytest.raises(InvalidTokenError):
        await cases.verify.execute(VerifyEmail.Command(token=token))
