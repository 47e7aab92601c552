"""Who may do what to an account, decided for every role, self and other."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from gatehouse.domain.errors import LastAdminError, PermissionDeniedError
from gatehouse.domain.policy import (
    Actor,
    check_can_create_with,
    check_can_delete,
    check_can_list_users,
    check_can_patch,
    check_can_read,
    check_can_replace,
    check_keeps_an_admin,
    may_read_others,
)
from gatehouse.domain.user import User
from gatehouse.domain.values import Email, Role, Username

ADMIN, MODERATOR, USER = Role.ADMIN, Role.MODERATOR, Role.USER
ROLES = [ADMIN, MODERATOR, USER]
FIELDS = ["email", "username", "full_name", "role", "is_active"]
PROFILE = {"email", "username", "full_name"}
ACTOR_ID, OTHER_ID = 1, 2
MOMENT = datetime(2026, 1, 1, tzinfo=UTC)


def actor(role: Role) -> Actor:
    return Actor(user_id=ACTOR_ID, role=role, session_id=10)


def account(user_id: int, role: Role, *, is_active: bool = True) -> User:
    return User(
        id=user_id,
        email=Email(f"u{user_id}@example.com"),
        username=Username(f"user{user_id}"),
        full_name=None,
        role=role,
        is_active=is_active,
        password_hash="hash",
        created_at=MOMENT,
        updated_at=MOMENT,
    )


def allowed_or_denied(allowed: bool, check: Callable[[], None]) -> None:
    """Run `check`: it must pass when `allowed`, else raise PermissionDeniedError."""
    if allowed:
        check()
    else:
        with pytest.raises(PermissionDeniedError):
            check()


@pytest.mark.parametrize(("role", "allowed"), [(ADMIN, True), (MODERATOR, True), (USER, False)])
def test_only_staff_may_read_others_and_list_users(role: Role, allowed: bool) -> None:
    assert may_read_others(actor(role)) is allowed
    allowed_or_denied(allowed, lambda: check_can_list_users(actor(role)))


@pytest.mark.parametrize(
    ("role", "target_id", "allowed"),
    [
        (ADMIN, ACTOR_ID, True),
        (ADMIN, OTHER_ID, True),
        (MODERATOR, ACTOR_ID, True),
        (MODERATOR, OTHER_ID, True),
        (USER, ACTOR_ID, True),
        (USER, OTHER_ID, False),
        (USER, 999_999, False),
    ],
)
def test_read_is_for_self_and_staff(role: Role, target_id: int, allowed: bool) -> None:
    allowed_or_denied(allowed, lambda: check_can_read(actor(role), target_id))


@pytest.mark.parametrize(
    ("role", "target_id", "allowed"),
    [
        (ADMIN, ACTOR_ID, True),
        (ADMIN, OTHER_ID, True),
        (MODERATOR, ACTOR_ID, True),
        (MODERATOR, OTHER_ID, False),
        (USER, ACTOR_ID, True),
        (USER, OTHER_ID, False),
    ],
)
def test_replace_is_for_self_and_admins(role: Role, target_id: int, allowed: bool) -> None:
    allowed_or_denied(allowed, lambda: check_can_replace(actor(role), target_id))


@pytest.mark.parametrize(("role", "allowed"), [(ADMIN, True), (MODERATOR, False), (USER, False)])
def test_delete_is_for_admins_only(role: Role, allowed: bool) -> None:
    allowed_or_denied(allowed, lambda: check_can_delete(actor(role)))


# (actor role, target is self, target role, field, allowed)
PATCH_TABLE = (
    [(ADMIN, True, ADMIN, f, True) for f in FIELDS]
    + [(ADMIN, False, r, f, True) for r in ROLES for f in FIELDS]
    + [(MODERATOR, True, MODERATOR, f, f in PROFILE) for f in FIELDS]
    + [(MODERATOR, False, USER, f, f == "is_active") for f in FIELDS]
    + [(MODERATOR, False, r, f, False) for r in (ADMIN, MODERATOR) for f in FIELDS]
    + [(USER, True, USER, f, f in PROFILE) for f in FIELDS]
    + [(USER, False, r, f, False) for r in ROLES for f in FIELDS]
)


@pytest.mark.parametrize(("role", "is_self", "target_role", "field", "allowed"), PATCH_TABLE)
def test_patch_permission_for_each_field(
    role: Role, is_self: bool, target_role: Role, field: str, allowed: bool
) -> None:
    target = account(ACTOR_ID if is_self else OTHER_ID, target_role)
    allowed_or_denied(allowed, lambda: check_can_patch(actor(role), target, {field}))


def test_owner_cannot_set_own_role() -> None:
    with pytest.raises(PermissionDeniedError, match="role"):
        check_can_patch(actor(USER), account(ACTOR_ID, USER), {"role"})


def test_patch_refusal_names_every_refused_field_and_no_allowed_one() -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        check_can_patch(actor(USER), account(ACTOR_ID, USER), {"email", "role", "is_active"})
    assert caught.value.message.endswith("is_active, role")


def test_a_mix_of_allowed_and_refused_fields_is_refused() -> None:
    with pytest.raises(PermissionDeniedError):
        check_can_patch(actor(MODERATOR), account(OTHER_ID, USER), {"is_active", "email"})


@pytest.mark.parametrize(("role", "is_self"), [(r, s) for r in ROLES for s in (True, False)])
def test_patch_sending_no_field_is_allowed_for_anyone_who_may_see_the_target(
    role: Role, is_self: bool
) -> None:
    check_can_patch(actor(role), account(ACTOR_ID if is_self else OTHER_ID, USER), set())


ACTORS: list[Actor | None] = [None, actor(USER), actor(MODERATOR), actor(ADMIN)]
CREATE_FIELD_SETS: list[set[str]] = [
    set(),
    {"email", "username", "full_name"},
    {"role"},
    {"is_active"},
    {"role", "is_active"},
]
CREATE_TABLE = [
    (who, fields, (who is not None and who.is_admin) or not fields & {"role", "is_active"})
    for who in ACTORS
    for fields in CREATE_FIELD_SETS
]


@pytest.mark.parametrize(("who", "fields", "allowed"), CREATE_TABLE)
def test_only_admins_may_create_with_role_or_is_active(
    who: Actor | None, fields: set[str], allowed: bool
) -> None:
    allowed_or_denied(allowed, lambda: check_can_create_with(who, fields))


def test_create_refusal_names_the_privileged_fields() -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        check_can_create_with(None, {"email", "role", "is_active"})
    assert caught.value.message.endswith("is_active, role")


LAST_ADMIN = account(OTHER_ID, ADMIN)

# (before, after (None: deleted), active admins, raises)
KEEP_ADMIN_TABLE = [
    (LAST_ADMIN, None, 1, True),
    (LAST_ADMIN, account(OTHER_ID, MODERATOR), 1, True),
    (LAST_ADMIN, account(OTHER_ID, USER), 1, True),
    (LAST_ADMIN, account(OTHER_ID, ADMIN, is_active=False), 1, True),
    (LAST_ADMIN, account(OTHER_ID, ADMIN), 1, False),
    (LAST_ADMIN, None, 2, False),
    (LAST_ADMIN, account(OTHER_ID, USER), 2, False),
    (LAST_ADMIN, account(OTHER_ID, ADMIN, is_active=False), 2, False),
    (account(OTHER_ID, USER), None, 1, False),
    (account(OTHER_ID, MODERATOR), account(OTHER_ID, USER), 1, False),
    (account(OTHER_ID, USER), account(OTHER_ID, USER, is_active=False), 1, False),
    (account(OTHER_ID, ADMIN, is_active=False), None, 1, False),
]


@pytest.mark.parametrize(("before", "after", "active_admins", "raises"), KEEP_ADMIN_TABLE)
def test_the_last_active_admin_cannot_be_deleted_demoted_or_deactivated(
    before: User, after: User | None, active_admins: int, raises: bool
) -> None:
    if raises:
        with pytest.raises(LastAdminError):
            check_keeps_an_admin(before, after, active_admins)
    else:
        check_keeps_an_admin(before, after, active_admins)


@pytest.mark.parametrize("role", ROLES)
def test_actor_is_admin_only_for_the_admin_role(role: Role) -> None:
    assert actor(role).is_admin is (role is ADMIN)


def test_the_operator_is_an_admin_that_is_no_account() -> None:
    operator = Actor.operator()

    assert operator.is_operator
    assert operator.is_admin
    assert operator == Actor.operator()  # one operator, however often it is asked for


@pytest.mark.parametrize("role", ROLES)
def test_a_signed_in_account_is_never_the_operator(role: Role) -> None:
    assert not actor(role).is_operator
    assert not Actor(user_id=1, role=role, session_id=1).is_operator  # the first id an account gets


def test_the_operator_may_read_replace_and_patch_any_account() -> None:
    operator = Actor.operator()

    check_can_read(operator, ACTOR_ID)
    check_can_replace(operator, ACTOR_ID)
    check_can_patch(operator, account(ACTOR_ID, ADMIN), {"role", "is_active"})
