"""What a cursor is bound to: each keyset query's scope, byte for byte the text of cursors already issued."""

from datetime import UTC, datetime

import pytest

from gatehouse.application.ports.audit import AuditAction, AuditQuery
from gatehouse.application.ports.orders import OrderFilter, OrderKeysetQuery
from gatehouse.application.ports.paging import After, KeysetQuery
from gatehouse.application.ports.users import UserFilter, UserKeysetQuery, UserSortField
from gatehouse.domain.order import OrderStatus
from gatehouse.domain.values import Role


@pytest.mark.parametrize(
    ("query", "scope"),
    [
        (UserKeysetQuery(UserFilter()), "users|None|None|None|id"),
        (
            UserKeysetQuery(UserFilter(Role.ADMIN, True, "ada"), UserSortField.USERNAME, descending=True),
            "users|admin|True|ada|-username",
        ),
        (
            UserKeysetQuery(UserFilter(is_active=False), UserSortField.CREATED_AT),
            "users|None|False|None|created_at",
        ),
        (OrderKeysetQuery(OrderFilter(7)), "orders|7|None"),
        (OrderKeysetQuery(OrderFilter(7, OrderStatus.PAID)), "orders|7|paid"),
        (AuditQuery(), "audit|None|None|None"),
        (
            AuditQuery(
                action=AuditAction.LOGIN_FAILED, user_id=3, since=datetime(2026, 1, 31, 12, tzinfo=UTC)
            ),
            "audit|auth.login_failed|3|2026-01-31T12:00:00+00:00",
        ),
    ],
)
def test_a_walk_is_named_by_its_listing_filters_and_order(query: KeysetQuery, scope: str) -> None:
    assert query.scope() == scope


def test_the_page_size_and_the_position_are_not_part_of_the_scope() -> None:
    later = After(5, 5)
    assert (
        UserKeysetQuery(UserFilter(), limit=3, after=later).scope() == UserKeysetQuery(UserFilter()).scope()
    )
    assert OrderKeysetQuery(OrderFilter(1), 3, later).scope() == OrderKeysetQuery(OrderFilter(1)).scope()
    assert AuditQuery(limit=3, after=later).scope() == AuditQuery().scope()
