"""DeleteUser: admins only, never the last active admin, If-Match honoured, sessions go too."""

import pytest

from gatehouse.adapters.memory.store import InMemoryDatabase
from gatehouse.application.errors import AuthenticationError, NotFoundError, PreconditionFailedError
from gatehouse.application.use_cases.authenticate import Authenticate
from gatehouse.application.use_cases.delete_user import DeleteUser
from gatehouse.application.use_cases.read_users import GetUser
from gatehouse.domain.errors import LastAdminError, PermissionDeniedError
from gatehouse.domain.values import Role
from tests.unit.application.conftest import Accounts, actor_of

UNKNOWN_ID = 9_999


async def test_admin_deletes_an_account(
    accounts: Accounts, delete_user: DeleteUser, get_user: GetUser, database: InMemoryDatabase
) -> None:
    admin, other = await accounts.admin(), await accounts.user()
    await delete_user.execute(DeleteUser.Command(actor=actor_of(admin), user_id=other.id))
    assert other.id not in database.state.users
    with pytest.raises(NotFoundError):
        await get_user.execute(GetUser.Query(actor=actor_of(admin), user_id=other.id))


async def test_deleting_an_account_ends_its_sessions(
    accounts: Accounts, delete_user: DeleteUser, authenticate: Authenticate, database: InMemoryDatabase
) -> None:
    admin, other = await accounts.admin(), await accounts.user()
    pair, _ = await accounts.sign_in(other)
    await delete_user.execute(DeleteUser.Command(actor=actor_of(admin), user_id=other.id))
    assert all(s.user_id != other.id for s in database.state.sessions.values())
    with pytest.raises(AuthenticationError):
        await authenticate.execute(Authenticate.Query(token=pair.access_token))


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.USER])
async def test_non_admin_cannot_delete_another_account(
    accounts: Accounts, delete_user: DeleteUser, database: InMemoryDatabase, role: Role
) -> None:
    actor, other = await accounts.create(role), await accounts.user()
    with pytest.raises(PermissionDeniedError):
        await delete_user.execute(DeleteUser.Command(actor=actor_of(actor), user_id=other.id))
    assert other.id in database.state.users


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.USER])
async def test_non_admin_cannot_delete_own_account(
    accounts: Accounts, delete_user: DeleteUser, database: InMemoryDatabase, role: Role
) -> None:
    me = await accounts.create(role)
    with pytest.raises(PermissionDeniedError):
        await delete_user.execute(DeleteUser.Command(actor=actor_of(me), user_id=me.id))
    assert me.id in database.state.users


async def test_user_deleting_an_unknown_id_is_denied_not_told_it_is_missing(
    accounts: Accounts, delete_user: DeleteUser
) -> None:
    me = await accounts.user()
    with pytest.raises(PermissionDeniedError):
        await delete_user.execute(DeleteUser.Command(actor=actor_of(me), user_id=UNKNOWN_ID))


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
async def test_staff_deleting_an_unknown_id_get_not_found(
    accounts: Accounts, delete_user: DeleteUser, role: Role
) -> None:
    staff = await accounts.create(role)
    with pytest.raises(NotFoundError):
        await delete_user.execute(DeleteUser.Command(actor=actor_of(staff), user_id=UNKNOWN_ID))


async def test_the_last_active_admin_cannot_be_deleted(
    accounts: Accounts, delete_user: DeleteUser, database: InMemoryDatabase
) -> None:
    admin = await accounts.admin()
    await accounts.create(Role.ADMIN, is_active=False)
    with pytest.raises(LastAdminError):
        await delete_user.execute(DeleteUser.Command(actor=actor_of(admin), user_id=admin.id))
    assert admin.id in database.state.users


async def test_an_admin_may_be_deleted_while_another_active_admin_stays(
    accounts: Accounts, delete_user: DeleteUser, database: InMemoryDatabase
) -> None:
    first, second = await accounts.admin(), await accounts.admin()
    await delete_user.execute(DeleteUser.Command(actor=actor_of(second), user_id=first.id))
    assert list(database.state.users) == [second.id]


async def test_an_inactive_admin_may_be_deleted_by_the_last_active_admin(
    accounts: Accounts, delete_user: DeleteUser, database: InMemoryDatabase
) -> None:
    admin = await accounts.admin()
    retired = await accounts.create(Role.ADMIN, is_active=False)
    await delete_user.execute(DeleteUser.Command(actor=actor_of(admin), user_id=retired.id))
    assert retired.id not in database.state.users


async def test_delete_with_a_stale_version_fails_the_precondition(
    accounts: Accounts, delete_user: DeleteUser, database: InMemoryDatabase
) -> None:
    admin, other = await accounts.admin(), await accounts.user()
    with pytest.raises(PreconditionFailedError):
        await delete_user.execute(
            DeleteUser.Command(actor=actor_of(admin), user_id=other.id, expected_versions=[other.version + 1])
        )
    assert other.id in database.state.users
    await delete_user.execute(
        DeleteUser.Command(actor=actor_of(admin), user_id=other.id, expected_versions=[other.version])
    )
    assert other.id not in database.state.users
