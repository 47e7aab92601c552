"""ReplaceUser (PUT) and PatchUser (PATCH): who may change what, uniqueness, last admin, If-Match."""

import pytest

from gatehouse.adapters.memory.fakes import FixedClock
from gatehouse.adapters.memory.store import InMemoryDatabase
from gatehouse.application.errors import ConflictError, NotFoundError, PreconditionFailedError
from gatehouse.application.use_cases.update_user import PatchUser, ReplaceUser
from gatehouse.domain.errors import InvalidValueError, LastAdminError, PermissionDeniedError
from gatehouse.domain.policy import Actor
from gatehouse.domain.user import User
from gatehouse.domain.values import Email, FullName, Role, Username
from tests.unit.application.conftest import Accounts, actor_of

UNKNOWN_ID = 9_999


def put(actor: Actor, target: int, **fields: object) -> ReplaceUser.Command:
    body: dict[str, object] = {"email": "new@example.com", "username": "new_name", "full_name": "New Name"}
    body.update(fields)
    return ReplaceUser.Command(actor=actor, user_id=target, **body)  # type: ignore[arg-type]


def patch(actor: Actor, target: int, **fields: object) -> PatchUser.Command:
    return PatchUser.Command(actor=actor, user_id=target, **fields)  # type: ignore[arg-type]


async def test_owner_replaces_own_profile(
    accounts: Accounts, replace_user: ReplaceUser, clock: FixedClock
) -> None:
    me = await accounts.user(full_name="Old")
    clock.advance(5)
    saved = await replace_user.execute(put(actor_of(me), me.id, email="NEW@Example.com", full_name=None))
    assert (saved.email, saved.username, saved.full_name) == (
        Email("new@example.com"),
        Username("new_name"),
        None,
    )
    assert saved.version == me.version + 1
    assert saved.updated_at == clock.now() != saved.created_at


async def test_admin_replaces_another_account(accounts: Accounts, replace_user: ReplaceUser) -> None:
    admin, other = await accounts.admin(), await accounts.user()
    saved = await replace_user.execute(put(actor_of(admin), other.id))
    assert saved.full_name == FullName("New Name")


async def test_moderator_cannot_replace_another_account(
    accounts: Accounts, replace_user: ReplaceUser
) -> None:
    moderator, other = await accounts.moderator(), await accounts.user()
    with pytest.raises(PermissionDeniedError):
        await replace_user.execute(put(actor_of(moderator), other.id))


@pytest.mark.parametrize("existing", [True, False])
async def test_user_replacing_another_id_is_denied_whether_or_not_it_exists(
    accounts: Accounts, replace_user: ReplaceUser, existing: bool
) -> None:
    me, other = await accounts.user(), await accounts.user()
    with pytest.raises(PermissionDeniedError):
        await replace_user.execute(put(actor_of(me), other.id if existing else UNKNOWN_ID))


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
async def test_staff_replacing_an_unknown_id_get_not_found(
    accounts: Accounts, replace_user: ReplaceUser, role: Role
) -> None:
    staff = await accounts.create(role)
    with pytest.raises(NotFoundError):
        await replace_user.execute(put(actor_of(staff), UNKNOWN_ID))


@pytest.mark.parametrize(("field", "taken"), [("email", "TAKEN@example.com"), ("username", "TAKEN")])
async def test_replace_with_a_taken_email_or_username_is_a_conflict(
    accounts: Accounts, replace_user: ReplaceUser, field: str, taken: str
) -> None:
    await accounts.user(name="taken")
    me = await accounts.user()
    with pytest.raises(ConflictError):
        await replace_user.execute(put(actor_of(me), me.id, **{field: taken}))


async def test_replace_with_a_stale_version_fails_the_precondition(
    accounts: Accounts, replace_user: ReplaceUser, database: InMemoryDatabase
) -> None:
    me = await accounts.user()
    with pytest.raises(PreconditionFailedError):
        await replace_user.execute(put(actor_of(me), me.id, expected_versions=[me.version + 1]))
    assert database.state.users[me.id].email == me.email
    saved = await replace_user.execute(put(actor_of(me), me.id, expected_versions=[me.version]))
    assert saved.version == me.version + 1


async def test_patch_changes_only_the_fields_sent(
    accounts: Accounts, patch_user: PatchUser, database: InMemoryDatabase
) -> None:
    me = await accounts.user(name="ada", full_name="Ada")
    saved = await patch_user.execute(patch(actor_of(me), me.id, full_name="Ada Lovelace"))
    assert saved.full_name == FullName("Ada Lovelace")
    stored = database.state.users[me.id]
    assert (stored.email, stored.username, stored.role, stored.is_active) == (
        me.email,
        me.username,
        me.role,
        me.is_active,
    )
    assert stored.full_name == FullName("Ada Lovelace")
    assert stored.version == me.version + 1


async def test_patch_full_name_none_clears_it(accounts: Accounts, patch_user: PatchUser) -> None:
    me = await accounts.user(full_name="Ada")
    saved = await patch_user.execute(patch(actor_of(me), me.id, full_name=None))
    assert saved.full_name is None
    assert saved.email == me.email


async def test_owner_may_patch_own_email_and_username(accounts: Accounts, patch_user: PatchUser) -> None:
    me = await accounts.user(name="ada")
    saved = await patch_user.execute(patch(actor_of(me), me.id, email="Ada@Example.org", username="ADA"))
    assert (saved.email.value, saved.username.value) == ("ada@example.org", "ADA")


@pytest.mark.parametrize("fields", [{"role": "admin"}, {"role": "user"}, {"is_active": False}])
async def test_owner_cannot_set_own_role_or_is_active(
    accounts: Accounts, patch_user: PatchUser, database: InMemoryDatabase, fields: dict[str, object]
) -> None:
    me = await accounts.user()
    with pytest.raises(PermissionDeniedError):
        await patch_user.execute(patch(actor_of(me), me.id, **fields))
    assert database.state.users[me.id].version == me.version


async def test_admin_may_set_role_and_is_active_of_another(accounts: Accounts, patch_user: PatchUser) -> None:
    admin, other = await accounts.admin(), await accounts.user()
    saved = await patch_user.execute(patch(actor_of(admin), other.id, role="moderator", is_active=False))
    assert (saved.role, saved.is_active) == (Role.MODERATOR, False)


async def test_moderator_may_deactivate_and_reactivate_a_user(
    accounts: Accounts, patch_user: PatchUser
) -> None:
    moderator, other = await accounts.moderator(), await accounts.user()
    assert (
        await patch_user.execute(patch(actor_of(moderator), other.id, is_active=False))
    ).is_active is False
    assert (await patch_user.execute(patch(actor_of(moderator), other.id, is_active=True))).is_active is True


@pytest.mark.parametrize("target_role", [Role.MODERATOR, Role.ADMIN])
async def test_moderator_cannot_deactivate_staff(
    accounts: Accounts, patch_user: PatchUser, target_role: Role
) -> None:
    moderator, target = await accounts.moderator(), await accounts.create(target_role)
    with pytest.raises(PermissionDeniedError):
        await patch_user.execute(patch(actor_of(moderator), target.id, is_active=False))


async def test_moderator_cannot_deactivate_themselves(accounts: Accounts, patch_user: PatchUser) -> None:
    moderator = await accounts.moderator()
    with pytest.raises(PermissionDeniedError):
        await patch_user.execute(patch(actor_of(moderator), moderator.id, is_active=False))


@pytest.mark.parametrize("fields", [{"email": "x@example.com"}, {"full_name": "X"}, {"role": "admin"}])
async def test_moderator_cannot_set_other_fields_of_a_user(
    accounts: Accounts, patch_user: PatchUser, fields: dict[str, object]
) -> None:
    moderator, other = await accounts.moderator(), await accounts.user()
    with pytest.raises(PermissionDeniedError):
        await patch_user.execute(patch(actor_of(moderator), other.id, **fields))


@pytest.mark.parametrize("existing", [True, False])
async def test_user_patching_another_id_is_denied_whether_or_not_it_exists(
    accounts: Accounts, patch_user: PatchUser, existing: bool
) -> None:
    me, other = await accounts.user(), await accounts.user()
    with pytest.raises(PermissionDeniedError):
        await patch_user.execute(patch(actor_of(me), other.id if existing else UNKNOWN_ID, full_name="X"))


async def test_moderator_patching_an_unknown_id_gets_not_found(
    accounts: Accounts, patch_user: PatchUser
) -> None:
    moderator = await accounts.moderator()
    with pytest.raises(NotFoundError):
        await patch_user.execute(patch(actor_of(moderator), UNKNOWN_ID, is_active=False))


@pytest.mark.parametrize("fields", [{"role": "moderator"}, {"role": "user"}, {"is_active": False}])
async def test_the_last_active_admin_cannot_be_demoted_or_deactivated(
    accounts: Accounts, patch_user: PatchUser, database: InMemoryDatabase, fields: dict[str, object]
) -> None:
    admin = await accounts.admin()
    await accounts.create(Role.ADMIN, is_active=False)
    with pytest.raises(LastAdminError):
        await patch_user.execute(patch(actor_of(admin), admin.id, **fields))
    assert database.state.users[admin.id].is_active_admin


@pytest.mark.parametrize("fields", [{"role": "moderator"}, {"is_active": False}])
async def test_an_admin_may_be_demoted_or_deactivated_while_another_stays(
    accounts: Accounts, patch_user: PatchUser, fields: dict[str, object]
) -> None:
    admin, _second = await accounts.admin(), await accounts.admin()
    saved = await patch_user.execute(patch(actor_of(admin), admin.id, **fields))
    assert not saved.is_active_admin


async def test_the_last_admin_may_still_patch_own_profile_and_confirm_own_role(
    accounts: Accounts, patch_user: PatchUser
) -> None:
    admin = await accounts.admin()
    saved = await patch_user.execute(
        patch(actor_of(admin), admin.id, role="admin", is_active=True, full_name="Root")
    )
    assert saved.is_active_admin
    assert saved.full_name == FullName("Root")


@pytest.mark.parametrize(("field", "taken"), [("email", "Taken@Example.com"), ("username", "TAKEN")])
async def test_patch_to_a_taken_email_or_username_is_a_conflict(
    accounts: Accounts, patch_user: PatchUser, field: str, taken: str
) -> None:
    await accounts.user(name="taken")
    me = await accounts.user()
    with pytest.raises(ConflictError):
        await patch_user.execute(patch(actor_of(me), me.id, **{field: taken}))


async def test_patch_with_a_stale_version_fails_the_precondition_and_changes_nothing(
    accounts: Accounts, patch_user: PatchUser, database: InMemoryDatabase
) -> None:
    me = await accounts.user(full_name="Ada")
    with pytest.raises(PreconditionFailedError):
        await patch_user.execute(
            patch(actor_of(me), me.id, full_name="Eve", expected_versions=[me.version + 1])
        )
    stored: User = database.state.users[me.id]
    assert stored.full_name == FullName("Ada")
    saved = await patch_user.execute(
        patch(actor_of(me), me.id, full_name="Eve", expected_versions=[7, me.version])
    )
    assert saved.full_name == FullName("Eve")


@pytest.mark.parametrize(("fields", "field"), [({"email": "nope"}, "email"), ({"username": "a"}, "username")])
async def test_patch_with_an_invalid_value_names_the_field(
    accounts: Accounts, patch_user: PatchUser, fields: dict[str, object], field: str
) -> None:
    me = await accounts.user()
    with pytest.raises(InvalidValueError) as caught:
        await patch_user.execute(patch(actor_of(me), me.id, **fields))
    assert caught.value.field == field
