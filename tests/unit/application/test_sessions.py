"""RefreshSession and Logout: token rotation, theft of a refresh token, and the end of a session."""

import pytest

from gatehouse.adapters.memory.fakes import FixedClock, InMemoryTokenIssuer
from gatehouse.adapters.memory.store import InMemoryUnitOfWork
from gatehouse.application.errors import AuthenticationError
from gatehouse.application.use_cases.authenticate import Authenticate
from gatehouse.application.use_cases.sessions import Logout, RefreshSession
from gatehouse.application.use_cases.update_user import PatchUser
from tests.unit.application.conftest import Accounts, actor_of


async def test_refresh_gives_a_new_pair_for_the_same_session(
    accounts: Accounts, refresh: RefreshSession, authenticate: Authenticate
) -> None:
    me = await accounts.user()
    old, actor = await accounts.sign_in(me)
    new = await refresh.execute(RefreshSession.Command(refresh_token=old.refresh_token))
    assert new.refresh_token != old.refresh_token
    assert (await authenticate.execute(Authenticate.Query(token=new.access_token)))[0] == actor


async def test_reusing_a_spent_refresh_token_ends_the_whole_session(
    accounts: Accounts, refresh: RefreshSession, authenticate: Authenticate
) -> None:
    me = await accounts.user()
    first, _ = await accounts.sign_in(me)
    second = await refresh.execute(RefreshSession.Command(refresh_token=first.refresh_token))
    with pytest.raises(AuthenticationError):
        await refresh.execute(RefreshSession.Command(refresh_token=first.refresh_token))
    with pytest.raises(AuthenticationError):
        await refresh.execute(RefreshSession.Command(refresh_token=second.refresh_token))
    with pytest.raises(AuthenticationError):
        await authenticate.execute(Authenticate.Query(token=second.access_token))


async def test_theft_ends_only_the_session_of_the_reused_token(
    accounts: Accounts, refresh: RefreshSession, authenticate: Authenticate
) -> None:
    me = await accounts.user()
    stolen, _ = await accounts.sign_in(me)
    elsewhere, _ = await accounts.sign_in(me)
    await refresh.execute(RefreshSession.Command(refresh_token=stolen.refresh_token))
    with pytest.raises(AuthenticationError):
        await refresh.execute(RefreshSession.Command(refresh_token=stolen.refresh_token))
    assert (await authenticate.execute(Authenticate.Query(token=elsewhere.access_token)))[0].user_id == me.id


@pytest.mark.parametrize("token", ["refresh-999", "", "access:1:1"])
async def test_an_unknown_refresh_token_is_refused(refresh: RefreshSession, token: str) -> None:
    with pytest.raises(AuthenticationError):
        await refresh.execute(RefreshSession.Command(refresh_token=token))


async def test_refresh_for_a_deactivated_user_is_refused(
    accounts: Accounts, refresh: RefreshSession, patch_user: PatchUser
) -> None:
    moderator, me = await accounts.moderator(), await accounts.user()
    pair, _ = await accounts.sign_in(me)
    await patch_user.execute(PatchUser.Command(actor=actor_of(moderator), user_id=me.id, is_active=False))
    with pytest.raises(AuthenticationError):
        await refresh.execute(RefreshSession.Command(refresh_token=pair.refresh_token))


async def _set_active(uow: InMemoryUnitOfWork, user_id: int, active: bool) -> None:
    """Flip the flag under the use cases (as a deactivation racing the refresh would look)."""
    async with uow:
        user = await uow.users.get(user_id)
        assert user is not None
        user.is_active = active
        await uow.users.update(user, fields=("is_active",), expected_versions=None)
        await uow.commit()


async def test_a_refused_refresh_rolls_back_so_the_token_is_not_spent(
    accounts: Accounts, refresh: RefreshSession, uow: InMemoryUnitOfWork
) -> None:
    me = await accounts.user()
    pair, _ = await accounts.sign_in(me)
    await _set_active(uow, me.id, False)
    with pytest.raises(AuthenticationError):
        await refresh.execute(RefreshSession.Command(refresh_token=pair.refresh_token))
    await _set_active(uow, me.id, True)
    assert (
        await refresh.execute(RefreshSession.Command(refresh_token=pair.refresh_token))
    ).refresh_token != pair.refresh_token


async def test_a_deactivation_ends_every_session_for_good(
    accounts: Accounts, refresh: RefreshSession, patch_user: PatchUser
) -> None:
    moderator, me = await accounts.moderator(), await accounts.user()
    pair, _ = await accounts.sign_in(me)
    await patch_user.execute(PatchUser.Command(actor=actor_of(moderator), user_id=me.id, is_active=False))
    await patch_user.execute(PatchUser.Command(actor=actor_of(moderator), user_id=me.id, is_active=True))
    with pytest.raises(AuthenticationError):
        await refresh.execute(RefreshSession.Command(refresh_token=pair.refresh_token))


async def test_refresh_after_the_session_expired_is_refused(
    accounts: Accounts, refresh: RefreshSession, clock: FixedClock, tokens: InMemoryTokenIssuer
) -> None:
    me = await accounts.user()
    pair, _ = await accounts.sign_in(me)
    clock.advance(tokens.refresh_ttl)
    with pytest.raises(AuthenticationError):
        await refresh.execute(RefreshSession.Command(refresh_token=pair.refresh_token))


async def test_logout_ends_the_session(
    accounts: Accounts, logout: Logout, authenticate: Authenticate, refresh: RefreshSession
) -> None:
    me = await accounts.user()
    pair, actor = await accounts.sign_in(me)
    await logout.execute(Logout.Command(actor=actor))
    with pytest.raises(AuthenticationError):
        await authenticate.execute(Authenticate.Query(token=pair.access_token))
    with pytest.raises(AuthenticationError):
        await refresh.execute(RefreshSession.Command(refresh_token=pair.refresh_token))


async def test_logout_leaves_other_sessions_live(
    accounts: Accounts, logout: Logout, authenticate: Authenticate
) -> None:
    me = await accounts.user()
    _, actor = await accounts.sign_in(me)
    other, _ = await accounts.sign_in(me)
    await logout.execute(Logout.Command(actor=actor))
    assert (await authenticate.execute(Authenticate.Query(token=other.access_token)))[0].user_id == me.id


async def test_logout_with_a_refresh_token_of_another_own_session_ends_that_one_too(
    accounts: Accounts, logout: Logout, authenticate: Authenticate
) -> None:
    me = await accounts.user()
    _, actor = await accounts.sign_in(me)
    other, _ = await accounts.sign_in(me)
    await logout.execute(Logout.Command(actor=actor, refresh_token=other.refresh_token))
    with pytest.raises(AuthenticationError):
        await authenticate.execute(Authenticate.Query(token=other.access_token))


async def test_logout_with_a_refresh_token_of_someone_else_leaves_their_session_live(
    accounts: Accounts, logout: Logout, authenticate: Authenticate
) -> None:
    me, victim = await accounts.user(), await accounts.user()
    _, actor = await accounts.sign_in(me)
    theirs, _ = await accounts.sign_in(victim)
    await logout.execute(Logout.Command(actor=actor, refresh_token=theirs.refresh_token))
    assert (await authenticate.execute(Authenticate.Query(token=theirs.access_token)))[0].user_id == victim.id
