"""Who may do what to an account: pure functions over the actor and the target."""

from collections.abc import Set
from dataclasses import dataclass
from typing import Self

from gatehouse.domain.errors import LastAdminError, MfaEnrollmentRequiredError, PermissionDeniedError
from gatehouse.domain.order import OrderStatus
from gatehouse.domain.scopes import Scope
from gatehouse.domain.user import User
from gatehouse.domain.values import Role

PROFILE_FIELDS = frozenset({"email", "username", "full_name"})
PRIVILEGED_FIELDS = frozenset({"role", "is_active"})
STAFF = frozenset({Role.ADMIN, Role.MODERATOR})
# Stored ids start at 1: the console operator acts under an id no account can have.
OPERATOR_ID = 0


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller a rule is decided for: a signed-in account (by a session, or by an API token
    with `scopes`), or the operator at the console."""

    user_id: int
    role: Role
    session_id: int
    scopes: frozenset[Scope] | None = None  # None: a session (or the operator), which has them all
    token_id: int | None = None  # the API token that speaks for the account

    @property
    def by_api_token(self) -> bool:
        return self.scopes is not None

    def require(self, scope: Scope) -> None:
        """An API token must carry `scope` (a session carries every scope); 403 naming it."""
        if self.scopes is not None and scope not in self.scopes:
            raise PermissionDeniedError(f"This API token lacks the scope {scope.value}")

    def require_session(self, what: str) -> None:
        """`what` needs a session: API tokens can't manage credentials."""
        if self.scopes is not None:
            raise PermissionDeniedError(f"API tokens can't {what}; use a session")

    @classmethod
    def operator(cls) -> Self:
        """The operator at the console (the CLI): an admin who is no account, so never "self"."""
        return cls(user_id=OPERATOR_ID, role=Role.ADMIN, session_id=0)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_operator(self) -> bool:
        """True for the console operator: no stored account stands behind it (ids start at 1)."""
        return self.user_id <= OPERATOR_ID


def may_read_others(actor: Actor) -> bool:
    """Moderators and admins may read any account; users only their own."""
    return actor.role in STAFF


def check_can_list_users(actor: Actor) -> None:
    if not may_read_others(actor):
        raise PermissionDeniedError("Only moderators and admins may list users")
    actor.require(Scope.USERS_READ)


def check_can_see(actor: Actor, target_id: int) -> None:
    """A plain user gets a refusal for any id but their own, whether or not it exists."""
    if actor.user_id != target_id and not may_read_others(actor):
        raise PermissionDeniedError("You may only access your own account")


def check_can_read(actor: Actor, target_id: int, *, scope: Scope | None = None) -> None:
    """`check_can_see`; and an API token needs `scope`, by default `profile:read` for its own
    account and `users:read` for others."""
    check_can_see(actor, target_id)
    actor.require(scope or (Scope.PROFILE_READ if actor.user_id == target_id else Scope.USERS_READ))


def check_can_replace(actor: Actor, target_id: int) -> None:
    """PUT is for the account itself and for admins."""
    own = actor.user_id == target_id
    if not own and not actor.is_admin:
        raise PermissionDeniedError("You may only replace your own account")
    actor.require(Scope.PROFILE_WRITE if own else Scope.USERS_WRITE)


def check_can_patch(actor: Actor, target: User, fields: Set[str]) -> None:
    """Self may set the profile fields; admin anything; a moderator `is_active` of a `user`. An
    API token needs `profile:write` for its own profile fields, `users:write` for anything else."""
    own_profile = actor.user_id == target.id and set(fields) <= PROFILE_FIELDS
    if actor.is_admin:
        actor.require(Scope.PROFILE_WRITE if own_profile else Scope.USERS_WRITE)
        return
    allowed: set[str] = set()
    if actor.user_id == target.id:
        allowed |= PROFILE_FIELDS
    if actor.role is Role.MODERATOR and target.role is Role.USER:
        allowed.add("is_active")
    refused = sorted(set(fields) - allowed)
    if refused:
        raise PermissionDeniedError(f"You may not set: {', '.join(refused)}")
    actor.require(Scope.PROFILE_WRITE if own_profile else Scope.USERS_WRITE)


def check_can_change_email(actor: Actor) -> None:
    """The email is where a password reset is sent: changing it needs a session, not an API token."""
    actor.require_session("change an email address (the reset channel)")


def check_can_delete(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDeniedError("Only admins may delete users")
    actor.require(Scope.USERS_WRITE)


def check_can_create_with(actor: Actor | None, fields: Set[str]) -> None:
    """Anyone may sign up; only an admin may also choose `role` or `is_active` (by an API token,
    one with `users:write`)."""
    privileged = sorted(set(fields) & PRIVILEGED_FIELDS)
    if privileged and (actor is None or not actor.is_admin):
        raise PermissionDeniedError(f"Only admins may set: {', '.join(privileged)}")
    if privileged and actor is not None:
        actor.require(Scope.USERS_WRITE)


def check_keeps_an_admin(before: User, after: User | None, active_admins: int) -> None:
    """The last active admin can't be deleted (`after` is None), demoted or deactivated."""
    if not before.is_active_admin or active_admins > 1:
        return
    if after is None or not after.is_active_admin:
        raise LastAdminError("The last active admin can't be deleted, demoted or deactivated")


def check_can_create_order(actor: Actor, owner_id: int) -> None:
    """Owners place their own orders; admins may place one for anyone."""
    if actor.user_id != owner_id and not actor.is_admin:
        raise PermissionDeniedError("Only the owner or an admin may create an order")
    actor.require(Scope.ORDERS_WRITE)


def check_can_move_order(actor: Actor, owner_id: int, current: OrderStatus, target: OrderStatus) -> None:
    """Admins make any legal move; the owner may cancel a pending order. Legality is checked first."""
    owner_cancels = (
        actor.user_id == owner_id and current is OrderStatus.PENDING and target is OrderStatus.CANCELLED
    )
    if not owner_cancels and not actor.is_admin:
        raise PermissionDeniedError("You may not make this status change")
    actor.require(Scope.ORDERS_WRITE)


def check_can_delete_order(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDeniedError("Only admins may delete orders")
    actor.require(Scope.ORDERS_WRITE)


def check_can_read_audit(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDeniedError("Only an admin may read the audit trail")
    actor.require(Scope.AUDIT_READ)


def check_can_manage_tokens_of(actor: Actor, owner_id: int) -> None:
    """One's own API tokens, by a session; an admin's session (or the operator) anyone's."""
    actor.require_session("manage API tokens")
    if actor.user_id != owner_id and not actor.is_admin:
        raise PermissionDeniedError("You may only manage your own API tokens")


def check_token_scopes(owner: User, scopes: Set[Scope]) -> None:
    """`introspect` is for an admin's tokens (other scopes are capped by the role when used)."""
    if Scope.INTROSPECT in scopes and owner.role is not Role.ADMIN:
        raise PermissionDeniedError("Only an admin's API token may have the introspect scope")


def check_can_introspect(actor: Actor) -> None:
    """Introspection is for an admin's API token with the `introspect` scope: a session can't."""
    if not actor.by_api_token:
        raise PermissionDeniedError("Introspection needs an API token with the introspect scope")
    if not actor.is_admin:
        raise PermissionDeniedError("Only an admin's API token may introspect")
    actor.require(Scope.INTROSPECT)


def check_can_reset_mfa(actor: Actor, target_id: int) -> None:
    """Only an admin may turn off another account's MFA; an admin's own goes off with their own
    factors (`DELETE /users/me/mfa`), so a stolen admin session can't strip it."""
    if not actor.is_admin:
        raise PermissionDeniedError("Only admins may reset two-factor authentication")
    if actor.user_id == target_id:
        raise PermissionDeniedError(
            "Turn your own two-factor authentication off with DELETE /users/me/mfa (password and code)"
        )


def check_mfa_enrolment(user: User, required_roles: Set[Role]) -> None:
    """An account whose role must use MFA and has not enrolled may only enrol (and read itself)."""
    if user.role in required_roles and not user.mfa_enabled:
        raise MfaEnrollmentRequiredError(
            "Your role must use two-factor authentication: enrol at POST /users/me/mfa/totp first"
        )
