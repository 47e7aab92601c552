"""The audit events of account and order changes, and the events and mails a failed change never leaves."""

from typing import Any

import pytest

from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.memory.fakes import FixedClock, InMemoryPasswordHasher
from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.application.errors import ConflictError, PreconditionFailedError
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.use_cases.delete_user import DeleteUser
from gatehouse.application.use_cases.orders import DeleteOrder
from gatehouse.application.use_cases.update_user import PatchUser, ReplaceUser
from gatehouse.domain.errors import IllegalTransitionError, LastAdminError
from gatehouse.domain.order import Order, OrderStatus
from gatehouse.domain.policy import Actor
from tests.unit.application.conftest import Accounts, actor_of
from tests.unit.application.conftest_account_cases import AccountCases, account_cases
from tests.unit.application.conftest_orders import ADMIN, OrderCases, order_cases


@pytest.fixture
def cases(
    database: InMemoryDatabase, clock: FixedClock, hasher: InMemoryPasswordHasher, counters: InProcessCounters
) -> AccountCases:
    return account_cases(database, clock, hasher, counters)


@pytest.fixture
def orders(
    database: InMemoryDatabase, uow: InMemoryUnitOfWork, queries: InMemoryUserQueries, clock: FixedClock
) -> OrderCases:
    return order_cases(database, uow, queries, clock)


def patch(actor: Actor, user_id: int, **fields: Any) -> PatchUser.Command:
    return PatchUser.Command(actor=actor, user_id=user_id, **fields)


def written(cases: AccountCases) -> tuple[int, int]:
    """How many events and mails are stored."""
    return len(cases.events()), len(cases.mails())


async def test_a_role_change_is_recorded_with_from_and_to(
    accounts: Accounts, cases: AccountCases, patch_user: PatchUser
) -> None:
    admin, target = await accounts.admin(), await accounts.user()
    await patch_user.execute(patch(actor_of(admin), target.id, role="moderator"))
    [event] = cases.events(AuditAction.USER_ROLE_CHANGED)
    assert (event.user_id, event.actor_id) == (target.id, admin.id)
    assert cases.events(AuditAction.USER_UPDATED) == []
    assert (event.details["from"], event.details["to"]) == ("user", "moderator")


async def test_a_deactivation_is_recorded(
    accounts: Accounts, cases: AccountCases, patch_user: PatchUser
) -> None:
    moderator, target = await accounts.moderator(), await accounts.user()
    await patch_user.execute(patch(actor_of(moderator), target.id, is_active=False))
    [event] = cases.events(AuditAction.USER_DEACTIVATED)
    assert (event.user_id, event.actor_id) == (target.id, moderator.id)
    assert cases.events(AuditAction.USER_UPDATED) == []


async def test_a_plain_field_change_is_recorded_with_the_fields_changed(
    accounts: Accounts, cases: AccountCases, patch_user: PatchUser
) -> None:
    me = await accounts.user()
    await patch_user.execute(patch(actor_of(me), me.id, full_name="Ada Lovelace"))
    [event] = cases.events(AuditAction.USER_UPDATED)
    assert (event.user_id, event.actor_id) == (me.id, me.id)
    assert event.details["fields"] == ["full_name"]


async def test_a_role_change_with_a_field_change_records_both(
    accounts: Accounts, cases: AccountCases, patch_user: PatchUser
) -> None:
    admin, target = await accounts.admin(), await accounts.user()
    await patch_user.execute(patch(actor_of(admin), target.id, role="admin", full_name="Bo"))
    assert len(cases.events(AuditAction.USER_ROLE_CHANGED, target.id)) == 1
    [updated] = cases.events(AuditAction.USER_UPDATED, target.id)
    assert updated.details["fields"] == ["full_name"]


async def test_a_replace_with_a_new_email_is_recorded_and_mails_the_new_address(
    accounts: Accounts, cases: AccountCases, replace_user: ReplaceUser
) -> None:
    me = await accounts.user(name="ada")
    await replace_user.execute(
        ReplaceUser.Command(
            actor=actor_of(me), user_id=me.id, email="new@example.com", username="ada", full_name=None
        )
    )
    assert len(cases.mails("new@example.com")) == 1
    [event] = cases.events(AuditAction.USER_UPDATED)
    assert event.details["fields"] == ["email"]


async def test_a_deletion_is_recorded_and_the_users_earlier_events_are_kept(
    accounts: Accounts, cases: AccountCases, delete_user: DeleteUser
) -> None:
    admin, target = await accounts.admin(), await accounts.user()
    await accounts.sign_in(target)
    earlier = [e.action for e in cases.events(user_id=target.id)]
    await delete_user.execute(DeleteUser.Command(actor=actor_of(admin), user_id=target.id))
    assert [e.action for e in cases.events(user_id=target.id)] == [*earlier, "user.deleted"]
    assert earlier == ["user.created", "auth.login_succeeded"]
    [event] = cases.events(AuditAction.USER_DELETED)
    assert event.actor_id == admin.id
    assert event.details["email"] == target.email.value


async def test_placing_moving_and_deleting_an_order_are_recorded(
    accounts: Accounts, cases: AccountCases, orders: OrderCases
) -> None:
    me = await accounts.user()
    order = await orders.place(actor_of(me), me.id)
    await orders.move(ADMIN, me.id, order.id, OrderStatus.PAID)
    await orders.delete.execute(DeleteOrder.Command(actor=ADMIN, user_id=me.id, order_id=order.id))
    created, moved, deleted = (
        cases.events(action)
        for action in (AuditAction.ORDER_CREATED, AuditAction.ORDER_STATUS_CHANGED, AuditAction.ORDER_DELETED)
    )
    assert [(e.user_id, e.actor_id) for e in (*created, *moved, *deleted)] == [
        (me.id, me.id),
        (me.id, ADMIN.user_id),
        (me.id, ADMIN.user_id),
    ]
    assert (created[0].details["order_id"], created[0].details["total_cents"]) == (order.id, 2500)
    assert (moved[0].details["from"], moved[0].details["to"]) == ("pending", "paid")
    assert deleted[0].details["order_id"] == order.id


async def test_an_order_rolled_back_before_commit_leaves_no_event(
    accounts: Accounts, cases: AccountCases, orders: OrderCases
) -> None:
    me = await accounts.user()
    before = written(cases)

    async def boom(_uow: UnitOfWork, _order: Order) -> None:
        raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        await orders.place(actor_of(me), me.id, after_create=boom)
    assert written(cases) == before
    assert cases.database.state.orders == {}


async def test_an_illegal_order_move_leaves_no_event(
    accounts: Accounts, cases: AccountCases, orders: OrderCases
) -> None:
    me = await accounts.user()
    order = await orders.place(actor_of(me), me.id)
    before = written(cases)
    with pytest.raises(IllegalTransitionError):
        await orders.move(ADMIN, me.id, order.id, OrderStatus.DELIVERED)
    assert written(cases) == before


async def test_a_duplicate_email_change_leaves_no_event_and_no_mail(
    accounts: Accounts, cases: AccountCases, patch_user: PatchUser
) -> None:
    me, _ = await accounts.user(), await accounts.user(name="taken")
    before = written(cases)
    with pytest.raises(ConflictError):
        await patch_user.execute(patch(actor_of(me), me.id, email="taken@example.com"))
    assert written(cases) == before


async def test_a_stale_email_change_leaves_no_event_and_no_mail(
    accounts: Accounts, cases: AccountCases, patch_user: PatchUser
) -> None:
    me = await accounts.user()
    before = written(cases)
    with pytest.raises(PreconditionFailedError):
        await patch_user.execute(patch(actor_of(me), me.id, email="new@example.com", expected_versions=[99]))
    assert written(cases) == before
    assert cases.mails("new@example.com") == []


@pytest.mark.parametrize("change", [{"role": "user"}, {"is_active": False}])
async def test_the_refused_demotion_of_the_last_admin_leaves_no_event(
    accounts: Accounts, cases: AccountCases, patch_user: PatchUser, change: dict[str, object]
) -> None:
    admin = await accounts.admin()
    before = written(cases)
    with pytest.raises(LastAdminError):
        await patch_user.execute(patch(actor_of(admin), admin.id, email="boss@example.com", **change))
    assert written(cases) == before
    assert cases.database.state.users[admin.id].email.value == admin.email.value


async def test_the_refused_deletion_of_the_last_admin_leaves_no_event(
    accounts: Accounts, cases: AccountCases, delete_user: DeleteUser
) -> None:
    admin = await accounts.admin()
    before = written(cases)
    with pytest.raises(LastAdminError):
        await delete_user.execute(DeleteUser.Command(actor=actor_of(admin), user_id=admin.id))
    assert written(cases) == before
