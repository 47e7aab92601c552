"""Authenticate with a `gat_` API token and IntrospectToken (CONTRACT §13), over the in-memory
adapters and a fixed clock."""

from dataclasses import replace
from datetime import datetime

import pytest

from gatehouse.adapters.memory.fakes import FixedClock, InMemoryTokenIssuer
from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.application.api_token_format import new_api_token
from gatehouse.application.errors import AuthenticationError
from gatehouse.application.use_cases.authenticate import Authenticate
from gatehouse.application.use_cases.introspection import INACTIVE, IntrospectToken
from gatehouse.application.use_cases.sessions import Logout
from gatehouse.application.use_cases.update_user import PatchUser
from gatehouse.domain.errors import PermissionDeniedError
from gatehouse.domain.policy import Actor
from gatehouse.domain.scopes import Scope
from gatehouse.domain.user import User
from gatehouse.domain.values import Role
from tests.unit.application.api_token_support import (
    DAY,
    EXP,
    OPERATOR,
    ExpiringIssuer,
    SpyTokenQueries,
    TokenDesk,
    as_token,
    auth,
)
from tests.unit.application.conftest import Accounts, actor_of


@pytest.fixture
def tokens() -> InMemoryTokenIssuer:
    return ExpiringIssuer()


@pytest.fixture
def desk(uow: InMemoryUnitOfWork, clock: FixedClock) -> TokenDesk:
    return TokenDesk(uow, clock)


@pytest.fixture
def introspect(
    authenticate: Authenticate, tokens: InMemoryTokenIssuer, queries: InMemoryUserQueries, clock: FixedClock
) -> IntrospectToken:
    return IntrospectToken(authenticate, tokens, queries, clock)


async def test_a_gat_token_authenticates_as_its_owner_with_its_scopes(
    accounts: Accounts, desk: TokenDesk, authenticate: Authenticate
) -> None:
    me = await accounts.moderator()
    created = await desk.create(actor_of(me), me, "users:read", "profile:read")
    actor, user = await auth(authenticate, created.secret)
    assert (actor.user_id, actor.role, actor.session_id) == (me.id, Role.MODERATOR, 0)
    assert (actor.token_id, actor.by_api_token) == (created.token.id, True)
    assert actor.scopes == frozenset({Scope.USERS_READ, Scope.PROFILE_READ})
    assert (user.id, user.email) == (me.id, me.email)


async def test_a_bad_checksum_is_refused_without_a_database_read(
    accounts: Accounts,
    desk: TokenDesk,
    database: InMemoryDatabase,
    tokens: InMemoryTokenIssuer,
    clock: FixedClock,
) -> None:
    me = await accounts.user()
    secret = (await desk.create(actor_of(me), me)).secret
    spy = SpyTokenQueries(database)
    authenticate = Authenticate(tokens, spy, spy, clock)
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    swapped = secret[:4] + secret[5] + secret[4] + secret[6:]
    for bad in (flipped, swapped, secret[:-1], secret + "x", "gat_", secret.upper()):
        if bad == secret:
            continue
        with pytest.raises(AuthenticationError):
            await auth(authenticate, bad)
    assert spy.calls == []
    await auth(authenticate, secret)
    assert spy.calls == ["find", "mark"]


async def test_an_unknown_but_well_formed_token_is_looked_up_and_refused(
    database: InMemoryDatabase, tokens: InMemoryTokenIssuer, clock: FixedClock
) -> None:
    spy = SpyTokenQueries(database)
    with pytest.raises(AuthenticationError):
        await auth(Authenticate(tokens, spy, spy, clock), new_api_token())
    assert spy.calls == ["find"]


async def test_revoked_expired_and_deactivated_tokens_are_refused(
    accounts: Accounts,
    desk: TokenDesk,
    authenticate: Authenticate,
    clock: FixedClock,
    database: InMemoryDatabase,
) -> None:
    me = await accounts.user()
    revoked, short = await desk.create(actor_of(me), me), await desk.create(actor_of(me), me, days=1)
    await desk.revoke(actor_of(me), me, revoked.token.id)
    clock.advance(DAY - 1)
    await auth(authenticate, short.secret)
    clock.advance(1)  # the moment it expires
    for secret in (revoked.secret, short.secret):
        with pytest.raises(AuthenticationError):
            await auth(authenticate, secret)
    kept = await desk.create(actor_of(me), me)
    database.state.users[me.id] = replace(database.state.users[me.id], is_active=False)
    with pytest.raises(AuthenticationError):  # an inactive owner, the token not revoked
        await auth(authenticate, kept.secret)


async def test_last_used_at_is_written_at_most_once_a_minute(
    accounts: Accounts,
    desk: TokenDesk,
    authenticate: Authenticate,
    database: InMemoryDatabase,
    tokens: InMemoryTokenIssuer,
    queries: InMemoryUserQueries,
    clock: FixedClock,
) -> None:
    me = await accounts.user()
    created = await desk.create(actor_of(me), me)

    def last_used() -> datetime | None:
        return database.state.api_tokens[created.token.id].token.last_used_at

    assert last_used() is None
    start = clock.now()
    await auth(authenticate, created.secret)
    assert last_used() == start
    for step in (30, 29):
        clock.advance(step)
        await auth(authenticate, created.secret)
        await auth(Authenticate(tokens, queries, queries, clock), created.secret)  # another worker
        assert last_used() == start
    clock.advance(2)  # 61 s after the first use
    await auth(authenticate, created.secret)
    assert last_used() == clock.now()
    listed = await desk.lister.execute(desk.lister.Query(actor=actor_of(me), user_id=me.id))
    assert listed[0].last_used_at == clock.now()


async def introspector(
    accounts: Accounts, desk: TokenDesk, authenticate: Authenticate
) -> tuple[User, Actor, str]:
    """An admin, the actor of their token with the `introspect` scope, and that token."""
    admin = await accounts.admin()
    secret = (await desk.create(actor_of(admin), admin, "introspect")).secret
    actor, _ = await auth(authenticate, secret)
    return admin, actor, secret


async def test_introspection_of_live_tokens(
    accounts: Accounts, desk: TokenDesk, authenticate: Authenticate, introspect: IntrospectToken
) -> None:
    _, caller, _ = await introspector(accounts, desk, authenticate)
    me = await accounts.user()
    target = await desk.create(actor_of(me), me, "audit:read", "orders:write", "profile:read", days=7)
    seen = await introspect.execute(IntrospectToken.Query(actor=caller, token=target.secret))
    assert (seen.active, seen.sub, seen.token_type) == (True, str(me.id), "api_token")
    assert seen.scope == "profile:read orders:write audit:read"
    assert seen.exp == int(target.token.expires_at.timestamp())
    pair, _ = await accounts.sign_in(me)
    seen = await introspect.execute(IntrospectToken.Query(actor=caller, token=pair.access_token))
    assert (seen.active, seen.sub, seen.exp) == (True, str(me.id), EXP)
    assert (seen.token_type, seen.scope) == ("access_token", None)


async def test_introspection_of_dead_tokens_says_inactive_and_nothing_more(
    accounts: Accounts,
    desk: TokenDesk,
    authenticate: Authenticate,
    introspect: IntrospectToken,
    uow: InMemoryUnitOfWork,
    tokens: InMemoryTokenIssuer,
    clock: FixedClock,
) -> None:
    _, caller, _ = await introspector(accounts, desk, authenticate)
    me = await accounts.user()
    revoked, short = await desk.create(actor_of(me), me), await desk.create(actor_of(me), me, days=2)
    await desk.revoke(actor_of(me), me, revoked.token.id)
    pair, session = await accounts.sign_in(me)
    await Logout(uow, tokens, clock).execute(Logout.Command(actor=session))
    clock.advance(2 * DAY)
    dead = [revoked.secret, short.secret, pair.access_token, pair.refresh_token, "garbage", ""]
    dead += [short.secret[:-1] + "0", f"access:{me.id}:999", "gat_" + "a" * 46]
    for token in dead:
        assert await introspect.execute(IntrospectToken.Query(actor=caller, token=token)) == INACTIVE, token
    assert (INACTIVE.sub, INACTIVE.exp, INACTIVE.token_type, INACTIVE.scope) == (None, None, None, None)


async def test_only_an_admins_token_with_the_scope_may_introspect(
    accounts: Accounts,
    desk: TokenDesk,
    authenticate: Authenticate,
    introspect: IntrospectToken,
    patch_user: PatchUser,
) -> None:
    admin, caller, secret = await introspector(accounts, desk, authenticate)
    moderator = await accounts.moderator()
    target = (await desk.create(actor_of(admin), admin)).secret
    no_scope, _ = await auth(authenticate, (await desk.create(actor_of(admin), admin, "audit:read")).secret)
    for actor in (actor_of(admin), OPERATOR, no_scope, as_token(moderator, Scope.INTROSPECT)):
        with pytest.raises(PermissionDeniedError):
            await introspect.execute(IntrospectToken.Query(actor=actor, token=target))
    assert (await introspect.execute(IntrospectToken.Query(actor=caller, token=target))).active
    other_admin = await accounts.admin()
    await patch_user.execute(
        PatchUser.Command(actor=actor_of(other_admin), user_id=admin.id, role="moderator")
    )
    demoted, _ = await auth(authenticate, secret)  # a role change keeps the token, not its power
    assert (demoted.role, demoted.scopes) == (Role.MODERATOR, frozenset({Scope.INTROSPECT}))
    with pytest.raises(PermissionDeniedError):
        await introspect.execute(IntrospectToken.Query(actor=demoted, token=target))
