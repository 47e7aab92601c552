"""The order use cases wired to the in-memory adapters, with helpers to place and move orders.

Imported explicitly by the order tests; the fixtures they build on (`database`, `uow`,
`queries`, `clock`, `accounts`) come from this folder's conftest.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from gatehouse.adapters.memory.fakes import FixedClock
from gatehouse.adapters.memory.orders import InMemoryOrderQueries
from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.application.idempotency import AfterCreate
from gatehouse.application.ports.orders import OrderFilter, OrderKeysetQuery, OrderPageQuery
from gatehouse.application.ports.paging import After
from gatehouse.application.use_cases.orders import (
    BrowseOrders,
    ChangeOrderStatus,
    CreateOrder,
    DeleteOrder,
    GetOrder,
    ItemInput,
    ListOrders,
)
from gatehouse.domain.order import Order, OrderStatus
from gatehouse.domain.policy import Actor
from gatehouse.domain.values import Role

BOOK = ItemInput("BOOK-1", 2, 1250)
# Staff with no account behind them, so listings hold only what a test makes.
ADMIN = Actor(user_id=10_000, role=Role.ADMIN, session_id=1)
MODERATOR = Actor(user_id=10_001, role=Role.MODERATOR, session_id=2)
# The admin's path from pending to each status.
PATHS = {
    OrderStatus.PENDING: [],
    OrderStatus.PAID: [OrderStatus.PAID],
    OrderStatus.SHIPPED: [OrderStatus.PAID, OrderStatus.SHIPPED],
    OrderStatus.DELIVERED: [OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED],
    OrderStatus.CANCELLED: [OrderStatus.CANCELLED],
}


@dataclass
class OrderCases:
    """Every order use case over one in-memory database."""

    database: InMemoryDatabase
    clock: FixedClock
    create: CreateOrder
    get: GetOrder
    listing: ListOrders
    browsing: BrowseOrders
    change: ChangeOrderStatus
    delete: DeleteOrder

    async def place(
        self,
        actor: Actor,
        user_id: int,
        items: Sequence[ItemInput] = (BOOK,),
        *,
        currency: str = "EUR",
        after_create: AfterCreate[Order] | None = None,
    ) -> Order:
        command = CreateOrder.Command(actor=actor, user_id=user_id, currency=currency, items=items)
        return await self.create.execute(command, after_create=after_create)

    async def move(
        self,
        actor: Actor,
        user_id: int,
        order_id: int,
        status: OrderStatus | str,
        expected_versions: Sequence[int] | None = None,
    ) -> Order:
        command = ChangeOrderStatus.Command(
            actor=actor,
            user_id=user_id,
            order_id=order_id,
            status=str(status),
            expected_versions=expected_versions,
        )
        return await self.change.execute(command)

    async def read(self, actor: Actor, user_id: int, order_id: int) -> Order:
        return await self.get.execute(GetOrder.Query(actor=actor, user_id=user_id, order_id=order_id))

    async def remove(
        self, actor: Actor, user_id: int, order_id: int, expected_versions: Sequence[int] | None = None
    ) -> None:
        command = DeleteOrder.Command(
            actor=actor, user_id=user_id, order_id=order_id, expected_versions=expected_versions
        )
        await self.delete.execute(command)

    async def ids(
        self, actor: Actor, user_id: int, *, status: OrderStatus | None = None, limit: int = 2
    ) -> list[list[int]]:
        """The order ids of every cursor page of a walk, page by page."""
        pages: list[list[int]] = []
        after: After | None = None
        while True:
            keyset = OrderKeysetQuery(OrderFilter(user_id, status), limit, after)
            page = await self.browsing.execute(BrowseOrders.Query(actor=actor, keyset=keyset))
            pages.append([o.id for o in page.items])
            if page.next_after is None:
                return pages
            after = page.next_after

    async def placed_in(self, user_id: int, status: OrderStatus) -> Order:
        """A new order of `user_id`, moved to `status` by an admin along the legal path."""
        order = await self.place(ADMIN, user_id)
        for step in PATHS[status]:
            order = await self.move(ADMIN, user_id, order.id, step)
        return order

    def attempt(self, operation: str, actor: Actor, user_id: int, order_id: int) -> Awaitable[object]:
        """One use case (`get`, `list`, `after`, `create`, `change`, `delete`) on `user_id`'s path."""
        calls: dict[str, Callable[[], Awaitable[object]]] = {
            "get": lambda: self.read(actor, user_id, order_id),
            "list": lambda: self.listing.execute(
                ListOrders.Query(actor=actor, page=OrderPageQuery(OrderFilter(user_id), 1, 50))
            ),
            "after": lambda: self.browsing.execute(
                BrowseOrders.Query(actor=actor, keyset=OrderKeysetQuery(OrderFilter(user_id), 50, None))
            ),
            "create": lambda: self.place(actor, user_id),
            "change": lambda: self.move(actor, user_id, order_id, OrderStatus.CANCELLED),
            "delete": lambda: self.remove(actor, user_id, order_id),
        }
        return calls[operation]()

    async def numbered(
        self, actor: Actor, user_id: int, page: int, *, status: OrderStatus | None = None, size: int = 2
    ) -> tuple[list[int], int]:
        """The order ids of one numbered page and the total."""
        numbered = await self.listing.execute(
            ListOrders.Query(actor=actor, page=OrderPageQuery(OrderFilter(user_id, status), page, size))
        )
        return [o.id for o in numbered.items], numbered.total

    async def five_orders(self, owner_id: int, other_id: int) -> list[int]:
        """Five orders of the owner (the 2nd and 4th cancelled) between orders of another user."""
        await self.place(ADMIN, other_id)
        ids = [(await self.place(ADMIN, owner_id)).id for _ in range(5)]
        await self.place(ADMIN, other_id)
        for order_id in (ids[1], ids[3]):
            await self.move(ADMIN, owner_id, order_id, OrderStatus.CANCELLED)
        return ids

    def stored(self, order_id: int) -> tuple[OrderStatus, int] | None:
        """The committed status and version of an order."""
        order = self.database.state.orders.get(order_id)
        return (order.status, order.version) if order else None


def order_cases(
    database: InMemoryDatabase, uow: InMemoryUnitOfWork, queries: InMemoryUserQueries, clock: FixedClock
) -> OrderCases:
    orders = InMemoryOrderQueries(lambda: database.state)
    return OrderCases(
        database=database,
        clock=clock,
        create=CreateOrder(uow, queries, clock),
        get=GetOrder(queries, orders),
        listing=ListOrders(queries, orders),
        browsing=BrowseOrders(queries, orders),
        change=ChangeOrderStatus(uow, queries, clock),
        delete=DeleteOrder(uow, queries, clock),
    )
