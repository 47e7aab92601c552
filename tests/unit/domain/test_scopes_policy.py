"""API-token scopes (CONTRACT §13): parsing, and every policy rule for sessions and for tokens."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from gatehouse.domain.errors import InvalidValueError, PermissionDeniedError
from gatehouse.domain.order import OrderStatus
from gatehouse.domain.policy import (
    Actor,
    check_can_change_email,
    check_can_create_order,
    check_can_create_with,
    check_can_delete,
    check_can_delete_order,
    check_can_introspect,
    check_can_list_users,
    check_can_manage_tokens_of,
    check_can_move_order,
    check_can_patch,
    check_can_read,
    check_can_read_audit,
    check_can_replace,
    check_can_see,
    check_token_scopes,
)
from gatehouse.domain.scopes import ALL_SCOPES, Scope, ordered, parse_scopes
from gatehouse.domain.user import User
from gatehouse.domain.values import Email, Role, Username
from tests.contract_scopes import CONTRACT_SCOPES

ADMIN, MODERATOR, USER = Role.ADMIN, Role.MODERATOR, Role.USER
ROLES = [ADMIN, MODERATOR, USER]
ACTOR_ID, OTHER_ID = 1, 2
MOMENT = datetime(2026, 1, 1, tzinfo=UTC)
TABLE_ORDER = CONTRACT_SCOPES
Check = Callable[[Actor], None]


def session(role: Role) -> Actor:
    return Actor(user_id=ACTOR_ID, role=role, session_id=10)


def token(role: Role, *scopes: Scope) -> Actor:
    return Actor(user_id=ACTOR_ID, role=role, session_id=0, scopes=frozenset(scopes), token_id=7)


def account(user_id: int, role: Role) -> User:
    return User(
        id=user_id,
        email=Email(f"u{user_id}@example.com"),
        username=Username(f"user{user_id}"),
        full_name=None,
        role=role,
        is_active=True,
        password_hash="hash",
        created_at=MOMENT,
        updated_at=MOMENT,
    )


def denied(check: Callable[[], None], naming: str | None = None) -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        check()
    if naming is not None:
        assert naming in caught.value.message


# ---- parse_scopes and ordered ----


def test_the_scopes_are_the_contracts_eight_in_table_order() -> None:
    assert [s.value for s in Scope] == TABLE_ORDER
    assert parse_scopes(TABLE_ORDER) == ALL_SCOPES


@pytest.mark.parametrize("names", [[], (), iter([])])
def test_no_scope_at_all_is_refused(names: list[str]) -> None:
    with pytest.raises(InvalidValueError) as caught:
        parse_scopes(names)
    assert caught.value.field == "scopes"
    with pytest.raises(InvalidValueError) as other_field:
        parse_scopes([], field="token_scopes")
    assert other_field.value.field == "token_scopes"


@pytest.mark.parametrize(
    "names",
    [["admin"], ["profile:read", "users:delete"], ["Profile:Read"], ["profile:read "], [""], ["*"]],
)
def test_an_unknown_scope_is_refused_by_name(names: list[str]) -> None:
    with pytest.raises(InvalidValueError) as caught:
        parse_scopes(names)
    assert caught.value.field == "scopes"
    unknown = [n for n in names if n not in TABLE_ORDER]
    assert all(repr(n) in caught.value.message for n in unknown)


def test_duplicates_collapse_and_a_generator_is_read_once() -> None:
    assert parse_scopes(["orders:read", "orders:read", "profile:read"]) == {
        Scope.ORDERS_READ,
        Scope.PROFILE_READ,
    }
    assert parse_scopes(n for n in ["audit:read"]) == {Scope.AUDIT_READ}
    assert all(isinstance(s, Scope) for s in parse_scopes(["introspect", "users:write"]))


def test_ordered_gives_table_order_whatever_the_order_asked() -> None:
    asked = [Scope.INTROSPECT, Scope.PROFILE_READ, Scope.AUDIT_READ, Scope.PROFILE_READ, Scope.ORDERS_WRITE]
    assert ordered(asked) == [Scope.PROFILE_READ, Scope.ORDERS_WRITE, Scope.AUDIT_READ, Scope.INTROSPECT]
    assert ordered(reversed(list(Scope))) == list(Scope)


# ---- every scoped check: the role decides, then the token's scope ----

STAFF = {ADMIN, MODERATOR}
PENDING, CANCELLED, PAID = OrderStatus.PENDING, OrderStatus.CANCELLED, OrderStatus.PAID


def patch(target_id: int, target_role: Role | None, *fields: str) -> Check:
    """PATCH of `fields` on an account (of the actor's own role when `target_role` is None)."""
    return lambda a: check_can_patch(a, account(target_id, target_role or a.role), set(fields))


def move(owner_id: int, current: OrderStatus, target: OrderStatus) -> Check:
    return lambda a: check_can_move_order(a, owner_id, current, target)


EVERYONE = set(ROLES)
READ_OWN_ORDERS: Check = lambda a: check_can_read(a, ACTOR_ID, scope=Scope.ORDERS_READ)  # noqa: E731
SCOPED: list[tuple[str, Check, Scope, set[Role]]] = [
    ("list users", check_can_list_users, Scope.USERS_READ, STAFF),
    ("read self", lambda a: check_can_read(a, ACTOR_ID), Scope.PROFILE_READ, EVERYONE),
    ("read other", lambda a: check_can_read(a, OTHER_ID), Scope.USERS_READ, STAFF),
    ("read self, orders", READ_OWN_ORDERS, Scope.ORDERS_READ, EVERYONE),
    ("replace self", lambda a: check_can_replace(a, ACTOR_ID), Scope.PROFILE_WRITE, EVERYONE),
    ("replace other", lambda a: check_can_replace(a, OTHER_ID), Scope.USERS_WRITE, {ADMIN}),
    ("patch own name", patch(ACTOR_ID, None, "full_name", "email"), Scope.PROFILE_WRITE, EVERYONE),
    ("patch own role", patch(ACTOR_ID, None, "role"), Scope.USERS_WRITE, {ADMIN}),
    ("patch own name and active", patch(ACTOR_ID, None, "username", "is_active"), Scope.USERS_WRITE, {ADMIN}),
    ("patch a user's is_active", patch(OTHER_ID, USER, "is_active"), Scope.USERS_WRITE, STAFF),
    ("patch an admin's is_active", patch(OTHER_ID, ADMIN, "is_active"), Scope.USERS_WRITE, {ADMIN}),
    ("patch other's name", patch(OTHER_ID, USER, "full_name"), Scope.USERS_WRITE, {ADMIN}),
    ("delete user", check_can_delete, Scope.USERS_WRITE, {ADMIN}),
    ("create with role", lambda a: check_can_create_with(a, {"role", "email"}), Scope.USERS_WRITE, {ADMIN}),
    ("order for self", lambda a: check_can_create_order(a, ACTOR_ID), Scope.ORDERS_WRITE, EVERYONE),
    ("order for other", lambda a: check_can_create_order(a, OTHER_ID), Scope.ORDERS_WRITE, {ADMIN}),
    ("cancel own", move(ACTOR_ID, PENDING, CANCELLED), Scope.ORDERS_WRITE, EVERYONE),
    ("pay own", move(ACTOR_ID, PENDING, PAID), Scope.ORDERS_WRITE, {ADMIN}),
    ("cancel other's", move(OTHER_ID, PENDING, CANCELLED), Scope.ORDERS_WRITE, {ADMIN}),
    ("delete order", check_can_delete_order, Scope.ORDERS_WRITE, {ADMIN}),
    ("read audit", check_can_read_audit, Scope.AUDIT_READ, {ADMIN}),
]
CASES = [
    pytest.param(check, scope, role, role in roles, id=f"{name}-{role.value}")
    for name, check, scope, roles in SCOPED
    for role in ROLES
]


@pytest.mark.parametrize(("check", "scope", "role", "role_allows"), CASES)
def test_a_session_has_every_scope_and_only_the_role_decides(
    check: Check, scope: Scope, role: Role, role_allows: bool
) -> None:
    if role_allows:
        check(session(role))
    else:
        denied(lambda: check(session(role)))


@pytest.mark.parametrize(("check", "scope", "role", "role_allows"), CASES)
def test_a_token_needs_the_scope_and_never_gets_more_than_the_role(
    check: Check, scope: Scope, role: Role, role_allows: bool
) -> None:
    if role_allows:
        check(token(role, scope))
        check(token(role, *ALL_SCOPES))
        denied(lambda: check(token(role, *(ALL_SCOPES - {scope}))), naming=scope.value)
        denied(lambda: check(token(role)), naming=scope.value)
    else:
        denied(lambda: check(token(role, *ALL_SCOPES)))  # the role caps every scope


def test_a_users_token_with_users_read_still_cannot_list_users() -> None:
    denied(lambda: check_can_list_users(token(USER, Scope.USERS_READ)), naming="moderators and admins")


@pytest.mark.parametrize("role", ROLES)
def test_seeing_an_account_ignores_scopes_and_signup_fields_need_none(role: Role) -> None:
    check_can_see(token(role), ACTOR_ID)
    check_can_create_with(token(role), {"email", "username", "password"})
    check_can_create_with(None, {"email"})
    if role is USER:
        denied(lambda: check_can_see(token(role, *ALL_SCOPES), OTHER_ID))


# ---- sessions only ----


@pytest.mark.parametrize("role", ROLES)
def test_require_session_refuses_any_token_and_require_passes_a_session(role: Role) -> None:
    session(role).require_session("do it")
    for scope in Scope:
        session(role).require(scope)
    assert not session(role).by_api_token
    assert token(role).by_api_token
    denied(lambda: token(role, *ALL_SCOPES).require_session("manage things"), naming="manage things")
    denied(lambda: token(role).require_session("x"))


@pytest.mark.parametrize("role", ROLES)
def test_an_email_change_needs_a_session(role: Role) -> None:
    check_can_change_email(session(role))
    denied(lambda: check_can_change_email(token(role, *ALL_SCOPES)))


@pytest.mark.parametrize("role", ROLES)
def test_tokens_are_managed_by_sessions_own_or_an_admins(role: Role) -> None:
    check_can_manage_tokens_of(session(role), ACTOR_ID)
    if role is ADMIN:
        check_can_manage_tokens_of(session(role), OTHER_ID)
    else:
        denied(lambda: check_can_manage_tokens_of(session(role), OTHER_ID))
    denied(lambda: check_can_manage_tokens_of(token(role, *ALL_SCOPES), ACTOR_ID))
    denied(lambda: check_can_manage_tokens_of(token(role, *ALL_SCOPES), OTHER_ID))


def test_the_operator_manages_anyones_tokens() -> None:
    for owner in (1, 2, 999):
        check_can_manage_tokens_of(Actor.operator(), owner)


@pytest.mark.parametrize("role", ROLES)
def test_introspect_is_a_scope_for_an_admins_token_only(role: Role) -> None:
    owner = account(ACTOR_ID, role)
    for scope in ALL_SCOPES - {Scope.INTROSPECT}:
        check_token_scopes(owner, {scope})
    check_token_scopes(owner, ALL_SCOPES - {Scope.INTROSPECT})
    if role is ADMIN:
        check_token_scopes(owner, ALL_SCOPES)
    else:
        denied(lambda: check_token_scopes(owner, {Scope.INTROSPECT}))
        denied(lambda: check_token_scopes(owner, {Scope.PROFILE_READ, Scope.INTROSPECT}))


@pytest.mark.parametrize("role", ROLES)
def test_introspection_needs_an_admins_token_with_the_scope(role: Role) -> None:
    denied(lambda: check_can_introspect(session(role)))
    denied(lambda: check_can_introspect(token(role, *(ALL_SCOPES - {Scope.INTROSPECT}))))
    if role is ADMIN:
        check_can_introspect(token(role, Scope.INTROSPECT))
        denied(lambda: check_can_introspect(token(role, Scope.AUDIT_READ)), naming="introspect")
    else:
        denied(lambda: check_can_introspect(token(role, *ALL_SCOPES)))


def test_the_operator_cannot_introspect() -> None:
    denied(lambda: check_can_introspect(Actor.operator()))
