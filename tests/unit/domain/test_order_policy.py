"""Who may create, move and delete an order: admin, moderator, the owner and another user."""

from collections.abc import Callable

import pytest

from gatehouse.domain.errors import PermissionDeniedError
from gatehouse.domain.order import OrderStatus
from gatehouse.domain.policy import (
    Actor,
    check_can_create_order,
    check_can_delete_order,
    check_can_move_order,
)
from gatehouse.domain.values import Role

PENDING, PAID, SHIPPED, DELIVERED, CANCELLED = (
    OrderStatus.PENDING,
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.CANCELLED,
)
LEGAL_MOVES = [
    (PENDING, PAID),
    (PAID, SHIPPED),
    (SHIPPED, DELIVERED),
    (PENDING, CANCELLED),
    (PAID, CANCELLED),
]
OWNER_ID, OTHER_ID = 1, 2

# Who asks, about an order of OWNER_ID.
ADMIN = Actor(user_id=OTHER_ID, role=Role.ADMIN, session_id=1)
MODERATOR = Actor(user_id=OTHER_ID, role=Role.MODERATOR, session_id=2)
OWNER = Actor(user_id=OWNER_ID, role=Role.USER, session_id=3)
OTHER_USER = Actor(user_id=OTHER_ID, role=Role.USER, session_id=4)
ACTORS = {"admin": ADMIN, "moderator": MODERATOR, "owner": OWNER, "other-user": OTHER_USER}


def allowed_or_denied(allowed: bool, check: Callable[[], None]) -> None:
    """Run `check`: it must pass when `allowed`, else raise PermissionDeniedError."""
    if allowed:
        check()
    else:
        with pytest.raises(PermissionDeniedError):
            check()


@pytest.mark.parametrize(
    ("who", "allowed"), [("admin", True), ("moderator", False), ("owner", True), ("other-user", False)]
)
def test_only_the_owner_or_an_admin_may_create_an_order(who: str, allowed: bool) -> None:
    allowed_or_denied(allowed, lambda: check_can_create_order(ACTORS[who], OWNER_ID))


def test_an_admin_may_create_an_order_for_themself() -> None:
    check_can_create_order(Actor(user_id=OWNER_ID, role=Role.ADMIN, session_id=1), OWNER_ID)


@pytest.mark.parametrize(("current", "target"), LEGAL_MOVES, ids=str)
def test_an_admin_may_make_every_legal_move_on_anyones_order(
    current: OrderStatus, target: OrderStatus
) -> None:
    check_can_move_order(ADMIN, OWNER_ID, current, target)


@pytest.mark.parametrize(("current", "target"), LEGAL_MOVES, ids=str)
def test_a_moderator_never_moves_another_users_order(current: OrderStatus, target: OrderStatus) -> None:
    with pytest.raises(PermissionDeniedError):
        check_can_move_order(MODERATOR, OWNER_ID, current, target)


@pytest.mark.parametrize(("current", "target"), LEGAL_MOVES, ids=str)
def test_another_user_never_moves_an_order(current: OrderStatus, target: OrderStatus) -> None:
    with pytest.raises(PermissionDeniedError):
        check_can_move_order(OTHER_USER, OWNER_ID, current, target)


@pytest.mark.parametrize(("current", "target"), LEGAL_MOVES, ids=str)
def test_the_owner_may_only_cancel_a_pending_order(current: OrderStatus, target: OrderStatus) -> None:
    allowed = (current, target) == (PENDING, CANCELLED)
    allowed_or_denied(allowed, lambda: check_can_move_order(OWNER, OWNER_ID, current, target))


def test_the_owner_may_not_cancel_a_paid_order() -> None:
    with pytest.raises(PermissionDeniedError):
        check_can_move_order(OWNER, OWNER_ID, PAID, CANCELLED)


def test_the_owner_may_not_mark_their_own_order_paid() -> None:
    with pytest.raises(PermissionDeniedError):
        check_can_move_order(OWNER, OWNER_ID, PENDING, PAID)


def test_a_moderator_who_owns_the_order_may_cancel_it_while_pending_like_any_owner() -> None:
    own = Actor(user_id=OWNER_ID, role=Role.MODERATOR, session_id=5)

    check_can_move_order(own, OWNER_ID, PENDING, CANCELLED)
    with pytest.raises(PermissionDeniedError):
        check_can_move_order(own, OWNER_ID, PENDING, PAID)


@pytest.mark.parametrize(
    ("who", "allowed"), [("admin", True), ("moderator", False), ("owner", False), ("other-user", False)]
)
def test_only_an_admin_may_delete_an_order(who: str, allowed: bool) -> None:
    allowed_or_denied(allowed, lambda: check_can_delete_order(ACTORS[who]))
