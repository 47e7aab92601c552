"""Authenticate: an access token resolves to its actor only while session and user are alive."""

import pytest

from gatehouse.adapters.memory.fakes import FixedClock, InMemoryTokenIssuer
from gatehouse.application.errors import AuthenticationError
from gatehouse.application.use_cases.authenticate import Authenticate
from gatehouse.application.use_cases.delete_user import DeleteUser
from gatehouse.application.use_cases.update_user import PatchUser
from gatehouse.domain.values import Role
from tests.unit.application.conftest import Accounts, actor_of


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MODERATOR, Role.USER])
async def test_a_valid_token_resolves_to_the_user_role_and_session(
    accounts: Accounts, authenticate: Authenticate, role: Role
) -> None:
    me = await accounts.create(role)
    pair, _ = await accounts.sign_in(me)
    actor, user = await authenticate.execute(Authenticate.Query(token=pair.access_token))
    assert actor.user_id == me.id
    assert actor.role is role
    assert pair.access_token == f"access:{me.id}:{actor.session_id}"
    assert (user.id, user.email, user.role) == (me.id, me.email, role)  # the account, from the same look-up


async def test_two_logins_are_two_sessions(accounts: Accounts) -> None:
    me = await accounts.user()
    _, first = await accounts.sign_in(me)
    _, second = await accounts.sign_in(me)
    assert first.session_id != second.session_id


@pytest.mark.parametrize("token", ["", "garbage", "refresh-1", "access:1", "access:x:1", "bearer:1:1"])
async def test_a_malformed_token_is_refused(authenticate: Authenticate, token: str) -> None:
    with pytest.raises(AuthenticationError):
        await authenticate.execute(Authenticate.Query(token=token))


async def test_a_refresh_token_is_not_an_access_token(accounts: Accounts, authenticate: Authenticate) -> None:
    me = await accounts.user()
    pair, _ = await accounts.sign_in(me)
    with pytest.raises(AuthenticationError):
        await authenticate.execute(Authenticate.Query(token=pair.refresh_token))


async def test_a_token_for_a_session_that_never_existed_is_refused(
    accounts: Accounts, authenticate: Authenticate
) -> None:
    me = await accounts.user()
    with pytest.raises(AuthenticationError):
        await authenticate.execute(Authenticate.Query(token=f"access:{me.id}:999"))


async def test_a_session_presented_under_another_user_id_is_refused(
    accounts: Accounts, authenticate: Authenticate
) -> None:
    me, other = await accounts.user(), await accounts.user()
    _, actor = await accounts.sign_in(me)
    with pytest.raises(AuthenticationError):
        await authenticate.execute(Authenticate.Query(token=f"access:{other.id}:{actor.session_id}"))


async def test_a_token_of_a_deactivated_user_is_refused(
    accounts: Accounts, authenticate: Authenticate, patch_user: PatchUser
) -> None:
    admin, me = await accounts.admin(), await accounts.user()
    pair, _ = await accounts.sign_in(me)
    await patch_user.execute(PatchUser.Command(actor=actor_of(admin), user_id=me.id, is_active=False))
    with pytest.raises(AuthenticationError):
        await authenticate.execute(Authenticate.Query(token=pair.access_token))


async def test_a_token_stays_dead_when_the_user_is_reactivated(
    accounts: Accounts, authenticate: Authenticate, patch_user: PatchUser
) -> None:
    """§5 (tightened): deactivation ends every session; a reactivation revives none of them."""
    admin, me = await accounts.admin(), await accounts.user()
    pair, _ = await accounts.sign_in(me)
    for is_active in (False, True):
        await patch_user.execute(PatchUser.Command(actor=actor_of(admin), user_id=me.id, is_active=is_active))
    with pytest.raises(AuthenticationError):
        await authenticate.execute(Authenticate.Query(token=pair.access_token))
    fresh, _ = await accounts.sign_in(me)  # the reactivated account may log in again
    actor, user = await authenticate.execute(Authenticate.Query(token=fresh.access_token))
    assert actor.user_id == user.id == me.id
    assert user.is_active


async def test_a_token_of_a_deleted_user_is_refused(
    accounts: Accounts, authenticate: Authenticate, delete_user: DeleteUser
) -> None:
    admin, me = await accounts.admin(), await accounts.user()
    pair, _ = await accounts.sign_in(me)
    await delete_user.execute(DeleteUser.Command(actor=actor_of(admin), user_id=me.id))
    with pytest.raises(AuthenticationError):
        await authenticate.execute(Authenticate.Query(token=pair.access_token))


async def test_a_token_of_an_expired_session_is_refused(
    accounts: Accounts, authenticate: Authenticate, clock: FixedClock, tokens: InMemoryTokenIssuer
) -> None:
    me = await accounts.user()
    pair, _ = await accounts.sign_in(me)
    clock.advance(tokens.refresh_ttl - 1)
    assert (await authenticate.execute(Authenticate.Query(token=pair.access_token)))[0].user_id == me.id
    clock.advance(1)
    with pytest.raises(AuthenticationError):
        await authenticate.execute(Authenticate.Query(token=pair.access_token))


async def test_the_actor_carries_the_current_role(
    accounts: Accounts, authenticate: Authenticate, patch_user: PatchUser
) -> None:
    admin, me = await accounts.admin(), await accounts.user()
    pair, _ = await accounts.sign_in(me)
    await patch_user.execute(PatchUser.Command(actor=actor_of(admin), user_id=me.id, role="moderator"))
    actor, user = await authenticate.execute(Authenticate.Query(token=pair.access_token))
    assert actor.role is user.role is Role.MODERATOR
