"""Orders of one user: create, read, list, move through the status machine, delete."""

from collections.abc import Sequence
from dataclasses import dataclass

from gatehouse.application.audit_log import record
from gatehouse.application.errors import NotFoundError, PreconditionFailedError
from gatehouse.application.idempotency import AfterCreate
from gatehouse.application.ports.audit import AuditAction
from gatehouse.application.ports.clock import Clock
from gatehouse.application.ports.orders import NewOrder, OrderKeysetQuery, OrderPageQuery, OrderQueries
from gatehouse.application.ports.paging import KeysetPage, Page
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.ports.users import UserQueries
from gatehouse.domain.order import Currency, LineItem, Order, line_items, parse_status
from gatehouse.domain.policy import (
    Actor,
    check_can_create_order,
    check_can_delete_order,
    check_can_move_order,
    check_can_read,
)
from gatehouse.domain.scopes import Scope


@dataclass(frozen=True, slots=True)
class ItemInput:
    sku: str
    quantity: int
    unit_price_cents: int


async def _owner_exists(
    users: UserQueries, actor: Actor, user_id: int, scope: Scope = Scope.ORDERS_READ
) -> None:
    """Visibility first (a plain user asking for another id: 403; an API token without `scope`:
    403), then existence (404)."""
    check_can_read(actor, user_id, scope=scope)
    if await users.get(user_id) is None:
        raise NotFoundError(f"User with id {user_id} not found")


def _of_owner(order: Order | None, user_id: int, order_id: int) -> Order:
    """An order seen through another user's path does not exist there."""
    if order is None or order.user_id != user_id:
        raise NotFoundError(f"Order with id {order_id} not found")
    return order


@dataclass(frozen=True, slots=True)
class OrderChange:
    """The base of the order changes: the owner is looked up in `users`, the change made in `uow`."""

    uow: UnitOfWork
    users: UserQueries
    clock: Clock


class CreateOrder(OrderChange):
    """Place an order for a user.

    - The owner or an admin (403 for others; a plain user naming another id: 403).
    - 1–100 items; currency three upper-case letters; the total is computed, never sent.
    - New orders are pending.
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        actor: Actor
        user_id: int
        currency: str
        items: Sequence[ItemInput]

    async def execute(self, command: Command, after_create: AfterCreate[Order] | None = None) -> Order:
        """`after_create` runs in the same transaction, after the order is written."""
        await _owner_exists(self.users, command.actor, command.user_id, Scope.ORDERS_WRITE)
        check_can_create_order(command.actor, command.user_id)
        items = line_items([LineItem(i.sku, i.quantity, i.unit_price_cents) for i in command.items])
        new = NewOrder(command.user_id, Currency(command.currency), items, self.clock.now())
        async with self.uow as uow:
            order = await uow.orders.add(new)
            await record(
                uow,
                AuditAction.ORDER_CREATED,
                at=new.created_at,
                user_id=order.user_id,
                actor=command.actor,
                details={
                    "order_id": order.id,
                    "total_cents": order.total_cents,
                    "currency": new.currency.code,
                },
            )
            if after_create is not None:
                await after_create(uow, order)
            await uow.commit()
        return order


@dataclass(frozen=True, slots=True)
class OrderReader:
    """The base of the order reads: the owner is looked up in `users`, the orders in `orders`."""

    users: UserQueries
    orders: OrderQueries


class GetOrder(OrderReader):
    """Read one order: owner, moderator or admin; another user's order under this path is 404."""

    @dataclass(frozen=True, kw_only=True)
    class Query:
        actor: Actor
        user_id: int
        order_id: int

    async def execute(self, query: Query) -> Order:
        await _owner_exists(self.users, query.actor, query.user_id)
        return _of_owner(await self.orders.get(query.order_id), query.user_id, query.order_id)


class ListOrders(OrderReader):
    """A user's orders, by number or by cursor: owner, moderator or admin; optional status filter."""

    # A numbered page, by id, with the total. The docstring states the rules of both order lists
    # (by cursor: BrowseOrders), and is the OpenAPI description of both.

    @dataclass(frozen=True, kw_only=True)
    class Query:
        actor: Actor
        page: OrderPageQuery

    async def execute(self, query: Query) -> Page[Order]:
        await _owner_exists(self.users, query.actor, query.page.filter.user_id)
        return await self.orders.page(query.page)


class BrowseOrders(OrderReader):
    """A cursor page of a user's orders, by id: the rules of `ListOrders`; each page resumes
    strictly after the last id seen, so a walk visits every order that existed when it began once."""

    @dataclass(frozen=True, kw_only=True)
    class Query:
        actor: Actor
        keyset: OrderKeysetQuery

    async def execute(self, query: Query) -> KeysetPage[Order]:
        await _owner_exists(self.users, query.actor, query.keyset.filter.user_id)
        return await self.orders.keyset(query.keyset)


class ChangeOrderStatus(OrderChange):
    """Move an order through pending → paid → shipped → delivered, or cancel it.

    - An illegal move is 409 whoever asks; checked before permission.
    - Admins make any legal move; the owner may cancel a pending order; other legal moves: 403.
    - `If-Match` must name the current version (412).
    - The order is locked while the move is checked and written: of simultaneous moves from one
      status, one wins and the others are judged from the status it left (409 if now illegal).
    """

    @dataclass(frozen=True, kw_only=True)
    class Command:
        actor: Actor
        user_id: int
        order_id: int
        status: str
        expected_versions: Sequence[int] | None = None

    async def execute(self, command: Command) -> Order:
        target = parse_status(command.status)
        await _owner_exists(self.users, command.actor, command.user_id, Scope.ORDERS_WRITE)
        async with self.uow as uow:
            order = _of_owner(await uow.orders.lock(command.order_id), command.user_id, command.order_id)
            expected = command.expected_versions
            if expected is not None and order.version not in expected:
                # A stale If-Match is a 412 whatever the move; the UPDATE re-checks it atomically.
                raise PreconditionFailedError("The resource has changed since it was read (If-Match)")
            moved = order.transition_to(target, self.clock.now())
            check_can_move_order(command.actor, order.user_id, order.status, target)
            saved = await uow.orders.update(moved, expected_versions=command.expected_versions)
            await record(
                uow,
                AuditAction.ORDER_STATUS_CHANGED,
                at=saved.updated_at,
                user_id=order.user_id,
                actor=command.actor,
                details={"order_id": order.id, "from": order.status.value, "to": saved.status.value},
            )
            await uow.commit()
        return saved


class DeleteOrder(OrderChange):
    """Delete an order: admins only (403); `If-Match` must name the current version (412)."""

    @dataclass(frozen=True, kw_only=True)
    class Command:
        actor: Actor
        user_id: int
        order_id: int
        expected_versions: Sequence[int] | None = None

    async def execute(self, command: Command) -> None:
        await _owner_exists(self.users, command.actor, command.user_id, Scope.ORDERS_WRITE)
        async with self.uow as uow:
            order = _of_owner(await uow.orders.get(command.order_id), command.user_id, command.order_id)
            check_can_delete_order(command.actor)
            await uow.orders.delete(order.id, expected_versions=command.expected_versions)
            await record(
                uow,
                AuditAction.ORDER_DELETED,
                at=self.clock.now(),
                user_id=order.user_id,
                actor=command.actor,
                details={"order_id": order.id, "status": order.status.value},
            )
            await uow.commit()
