"""API tokens (CONTRACT §13): create, list and revoke, and what else revokes them — over the
in-memory adapters and a fixed clock. Authentication and introspection: test_api_token_auth.py."""

import hashlib
from datetime import timedelta

import pytest

from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.memory.fakes import FixedClock, InMemoryPasswordHasher
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.application.errors import AuthenticationError, ConflictError, NotFoundError
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.use_cases.authenticate import Authenticate
from gatehouse.application.use_cases.change_password import ChangePassword
from gatehouse.application.use_cases.password_reset import RequestPasswordReset
from gatehouse.application.use_cases.update_user import PatchUser
from gatehouse.domain.errors import InvalidValueError, PermissionDeniedError
from gatehouse.domain.scopes import Scope
from gatehouse.domain.values import Role
from tests.unit.application.api_token_support import DAY, OPERATOR, TokenDesk, as_token, auth
from tests.unit.application.conftest import PASSWORD, Accounts, actor_of
from tests.unit.application.conftest_account_cases import RESET_PAGE, AccountCases, account_cases

NOTICE = "Security notice: API token created"


@pytest.fixture
def desk(uow: InMemoryUnitOfWork, clock: FixedClock) -> TokenDesk:
    return TokenDesk(uow, clock)


@pytest.fixture
def cases(
    database: InMemoryDatabase, clock: FixedClock, hasher: InMemoryPasswordHasher, counters: InProcessCounters
) -> AccountCases:
    return account_cases(database, clock, hasher, counters)


async def test_the_secret_is_shown_once_and_only_its_digest_is_stored(
    accounts: Accounts, desk: TokenDesk, database: InMemoryDatabase, clock: FixedClock, cases: AccountCases
) -> None:
    me = await accounts.user()
    created = await desk.create(actor_of(me), me, "orders:read", "profile:read", name="  deploy  ")
    t = created.token
    assert (t.user_id, t.name, t.scopes) == (
        me.id,
        "deploy",
        frozenset({Scope.ORDERS_READ, Scope.PROFILE_READ}),
    )
    assert (t.created_at, t.expires_at) == (clock.now(), clock.now() + timedelta(days=30))
    assert (t.last_used_at, t.revoked_at) == (None, None)
    assert database.state.api_tokens[t.id].digest == hashlib.sha256(created.secret.encode()).hexdigest()
    assert created.secret[4:44] not in repr(created)
    mails = database.state.mails.values()
    everything = repr(database.state) + "".join(m.subject + m.body for m in mails)
    assert created.secret[4:44] not in everything  # not even its random part, anywhere
    [mail] = [m for m in cases.mails(me.email.value) if m.subject == NOTICE]
    # The notice names the token by id and scopes; the caller's own text (the name) stays out of it.
    assert f"token {t.id}, scopes profile:read orders:read" in mail.body
    assert "deploy" not in mail.body
    [event] = cases.events(AuditAction.TOKEN_CREATED)
    assert (event.user_id, event.actor_id) == (me.id, me.id)
    assert event.details == {"token_id": t.id, "name": "deploy", "scopes": ["profile:read", "orders:read"]}


@pytest.mark.parametrize(
    ("max_days", "asked", "lives"),
    [
        *[(90, None, 30), (10, None, 10), (30, None, 30), (90, 1, 1), (90, 90, 90), (1, 1, 1)],
        *[(90, 91, None), (90, 0, None), (90, -5, None), (10, 11, None), (10, 30, None)],
    ],
)
async def test_expires_in_days_is_bounded_by_the_maximum(
    accounts: Accounts,
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    max_days: int,
    asked: int | None,
    lives: int | None,
) -> None:
    me = await accounts.user()
    desk = TokenDesk(uow, clock, max_days)
    if lives is None:
        with pytest.raises(InvalidValueError) as caught:
            await desk.create(actor_of(me), me, days=asked)
        assert caught.value.field == "expires_in_days"
    else:
        created = await desk.create(actor_of(me), me, days=asked)
        assert created.token.expires_at == clock.now() + timedelta(days=lives)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "a\nb", "a\x00", "\t"])
async def test_bad_names_and_scopes_are_refused(
    accounts: Accounts, desk: TokenDesk, database: InMemoryDatabase, name: str
) -> None:
    me = await accounts.user()
    with pytest.raises(InvalidValueError) as caught:
        await desk.create(actor_of(me), me, name=name)
    assert caught.value.field == "name"
    with pytest.raises(InvalidValueError) as bad:
        await desk.create(actor_of(me), me, "profile:read", "root")
    assert bad.value.field == "scopes"
    assert database.state.api_tokens == {}
    assert (await desk.create(actor_of(me), me, name=" " + "x" * 100 + " ")).token.name == "x" * 100


async def test_no_scope_at_all_is_refused(accounts: Accounts, desk: TokenDesk) -> None:
    me = await accounts.user()
    command = desk.creator.Command(actor=actor_of(me), user_id=me.id, name="ci", scopes=[])
    with pytest.raises(InvalidValueError) as caught:
        await desk.creator.execute(command)
    assert caught.value.field == "scopes"


@pytest.mark.parametrize("role", [Role.USER, Role.MODERATOR])
async def test_introspect_is_for_an_admins_tokens_only(
    accounts: Accounts, desk: TokenDesk, role: Role
) -> None:
    me, admin = await accounts.create(role), await accounts.admin()
    with pytest.raises(PermissionDeniedError):
        await desk.create(actor_of(me), me, "introspect")
    with pytest.raises(PermissionDeniedError):  # not even when an admin asks for it
        await desk.create(actor_of(admin), me, "profile:read", "introspect")
    assert Scope.INTROSPECT in (await desk.create(actor_of(admin), admin, "introspect")).token.scopes


async def test_at_most_100_live_tokens_revoked_and_expired_ones_not_counted(
    accounts: Accounts, desk: TokenDesk, clock: FixedClock
) -> None:
    me = await accounts.user()
    made = [await desk.create(actor_of(me), me, days=1 if n < 50 else 30) for n in range(100)]
    with pytest.raises(ConflictError):
        await desk.create(actor_of(me), me)
    await desk.revoke(actor_of(me), me, made[-1].token.id)
    await desk.create(actor_of(me), me)
    with pytest.raises(ConflictError):
        await desk.create(actor_of(me), me)
    clock.advance(DAY)  # the first 50 expire exactly now
    for _ in range(50):
        await desk.create(actor_of(me), me)
    with pytest.raises(ConflictError):
        await desk.create(actor_of(me), me)


async def test_a_session_that_ended_meanwhile_makes_no_token(
    accounts: Accounts, desk: TokenDesk, database: InMemoryDatabase
) -> None:
    """A password reset (or a sign-out everywhere) that commits while a creation waits for the
    owner's lock ends the caller's session; the creation then finds it ended, under the lock."""
    me = await accounts.user()
    _, actor = await accounts.sign_in(me)
    database.state.sessions[actor.session_id].revoked_at = database.state.sessions[
        actor.session_id
    ].created_at

    with pytest.raises(AuthenticationError, match="Session has ended"):
        await desk.create(actor, me)

    assert database.state.api_tokens == {}


async def test_an_inactive_or_missing_owner_gets_no_token(accounts: Accounts, desk: TokenDesk) -> None:
    admin, idle = await accounts.admin(), await accounts.create(is_active=False)
    for actor in (actor_of(admin), OPERATOR):
        with pytest.raises(ConflictError):
            await desk.create(actor, idle)
        with pytest.raises(NotFoundError):
            await desk.create(actor, 999)


async def test_only_sessions_manage_tokens_their_own_or_an_admins_anyones(
    accounts: Accounts, desk: TokenDesk
) -> None:
    me, other, moderator = await accounts.user(), await accounts.user(), await accounts.moderator()
    admin = await accounts.admin()
    theirs = (await desk.create(actor_of(other), other)).token
    for actor in (actor_of(me), actor_of(moderator), as_token(me), as_token(admin), as_token(other)):
        with pytest.raises(PermissionDeniedError):
            await desk.create(actor, other)
        with pytest.raises(PermissionDeniedError):
            await desk.ids(actor, other)
        with pytest.raises(PermissionDeniedError):
            await desk.revoke(actor, other, theirs.id)
    by_admin = (await desk.create(actor_of(admin), other, name="admin-made")).token
    assert await desk.ids(actor_of(admin), other) == [theirs.id, by_admin.id]
    await desk.revoke(actor_of(admin), other, by_admin.id)
    assert await desk.ids(actor_of(other), other) == [theirs.id]
    with pytest.raises(InvalidValueError):  # only the operator lists everyone's
        await desk.ids(actor_of(admin), None)
    with pytest.raises(InvalidValueError):  # or revokes by id alone
        await desk.revoke(actor_of(admin), None, theirs.id)


async def test_the_operator_lists_everyones_and_revokes_by_id_alone(
    accounts: Accounts, desk: TokenDesk, cases: AccountCases
) -> None:
    a, b = await accounts.user(), await accounts.admin()
    ta = (await desk.create(OPERATOR, a)).token
    tb = (await desk.create(OPERATOR, b, "introspect")).token
    assert await desk.ids(OPERATOR, None) == [ta.id, tb.id]
    assert await desk.ids(OPERATOR, b) == [tb.id]
    assert (await desk.revoke(OPERATOR, None, tb.id)).id == tb.id
    assert await desk.ids(OPERATOR, None) == [ta.id]
    [event] = cases.events(AuditAction.TOKEN_REVOKED)
    assert (event.user_id, event.actor_id, event.details) == (b.id, None, {"token_id": tb.id, "name": "ci"})
    with pytest.raises(NotFoundError):
        await desk.revoke(OPERATOR, None, tb.id)


async def test_list_skips_revoked_keeps_expired_and_revoke_is_once_and_own(
    accounts: Accounts, desk: TokenDesk, clock: FixedClock, cases: AccountCases
) -> None:
    me, other = await accounts.user(), await accounts.user()
    first, second, third = [(await desk.create(actor_of(me), me, days=d)).token for d in (1, 5, 5)]
    theirs = (await desk.create(actor_of(other), other)).token
    await desk.revoke(actor_of(me), me, second.id)
    clock.advance(2 * DAY)
    assert await desk.ids(actor_of(me), me) == [first.id, third.id]
    for token_id in (second.id, theirs.id, 999):
        with pytest.raises(NotFoundError):
            await desk.revoke(actor_of(me), me, token_id)
    assert await desk.ids(actor_of(other), other) == [theirs.id]  # still theirs, unrevoked
    [event] = cases.events(AuditAction.TOKEN_REVOKED)
    assert (event.user_id, event.actor_id, event.details["token_id"]) == (me.id, me.id, second.id)


async def test_deactivation_revokes_tokens_for_good(
    accounts: Accounts,
    desk: TokenDesk,
    authenticate: Authenticate,
    patch_user: PatchUser,
    database: InMemoryDatabase,
) -> None:
    admin, me, other = await accounts.admin(), await accounts.user(), await accounts.user()
    mine, theirs = await desk.create(actor_of(me), me), await desk.create(actor_of(other), other)
    await patch_user.execute(PatchUser.Command(actor=actor_of(admin), user_id=me.id, is_active=False))
    assert database.state.api_tokens[mine.token.id].token.revoked_at is not None
    await patch_user.execute(PatchUser.Command(actor=actor_of(admin), user_id=me.id, is_active=True))
    with pytest.raises(AuthenticationError):  # dead after the reactivation too
        await auth(authenticate, mine.secret)
    assert await desk.ids(actor_of(me), me) == []
    assert (await auth(authenticate, theirs.secret))[0].user_id == other.id


async def test_a_reset_revokes_tokens_a_password_change_does_not(
    accounts: Accounts,
    desk: TokenDesk,
    authenticate: Authenticate,
    change_password: ChangePassword,
    cases: AccountCases,
    database: InMemoryDatabase,
) -> None:
    me = await accounts.user()
    created = await desk.create(actor_of(me), me)
    _, session = await accounts.sign_in(me)
    change = ChangePassword.Command(actor=session, current_password=PASSWORD, new_password="Better456")
    await change_password.execute(change)
    assert (await auth(authenticate, created.secret))[0].user_id == me.id
    assert database.state.api_tokens[created.token.id].token.revoked_at is None
    await cases.request_reset.execute(RequestPasswordReset.Command(email=me.email.value))
    await cases.confirm(cases.last_token(me.email.value, RESET_PAGE))
    with pytest.raises(AuthenticationError):
        await auth(authenticate, created.secret)
    assert database.state.api_tokens[created.token.id].token.revoked_at is not None


async def test_a_token_may_change_its_owners_profile_but_not_the_email(
    accounts: Accounts, patch_user: PatchUser, database: InMemoryDatabase
) -> None:
    me = await accounts.user()
    actor = as_token(me, Scope.PROFILE_WRITE)
    await patch_user.execute(PatchUser.Command(actor=actor, user_id=me.id, full_name="New Name"))
    with pytest.raises(PermissionDeniedError):  # the reset channel needs a session
        await patch_user.execute(PatchUser.Command(actor=actor, user_id=me.id, email="elsewhere@example.com"))
    assert database.state.users[me.id].email == me.email
    with pytest.raises(PermissionDeniedError):  # without the scope, not even the name
        await patch_user.execute(
            PatchUser.Command(actor=as_token(me, Scope.PROFILE_READ), user_id=me.id, full_name="X")
        )
