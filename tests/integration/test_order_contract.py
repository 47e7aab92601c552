"""OrderRepository and OrderQueries held to one contract on memory, SQLite and PostgreSQL."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from gatehouse.adapters.memory.orders import InMemoryOrderQueries
from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.adapters.sqlalchemy.order_queries import SqlAlchemyOrderQueries
from gatehouse.adapters.sqlalchemy.queries import SqlAlchemyUserQueries
from gatehouse.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from gatehouse.application.errors import NotFoundError, PreconditionFailedError
from gatehouse.application.ports.orders import (
    NewOrder,
    OrderFilter,
    OrderKeysetQuery,
    OrderPageQuery,
    OrderQueries,
)
from gatehouse.application.ports.paging import After, Page
from gatehouse.domain.order import Currency, LineItem, Order, OrderStatus
from tests.databases import ENGINES
from tests.integration.builders import T0, assert_utc, new_user, store_users
from tests.integration.conftest import Backend, open_database

ITEMS = (LineItem("BOOK-1", 2, 1250), LineItem("x.y_z-0", 1000, 0), LineItem("GOLD", 1, 1_000_000_000))
LATER = T0 + timedelta(hours=2, microseconds=7)


@dataclass(frozen=True)
class Orders:
    """One backend: its units of work (through `users`) and its read side of orders."""

    users: Backend
    queries: OrderQueries


@pytest.fixture(params=["memory", *ENGINES])
async def orders(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Orders]:
    if request.param == "memory":
        memory = InMemoryDatabase()
        backend = Backend("memory", lambda: InMemoryUnitOfWork(memory), InMemoryUserQueries(memory))
        yield Orders(backend, InMemoryOrderQueries(lambda: memory.state))
        return
    async with open_database(request.param, tmp_path, migrated=True) as db:
        backend = Backend(request.param, lambda: SqlAlchemyUnitOfWork(db), SqlAlchemyUserQueries(db))
        yield Orders(backend, SqlAlchemyOrderQueries(db))


async def place(orders: Orders, user_id: int, *, count: int = 1) -> list[Order]:
    """`count` orders of `user_id`, committed together (so their ids grow in that order)."""
    async with orders.users.new_uow() as uow:
        placed = [await uow.orders.add(NewOrder(user_id, Currency("EUR"), ITEMS, T0)) for _ in range(count)]
        await uow.commit()
    return placed


async def move(orders: Orders, status: OrderStatus, order: Order, versions: list[int] | None) -> Order:
    """`order` moved to `status` and stored in a committed unit of work of its own."""
    async with orders.users.new_uow() as uow:
        saved = await uow.orders.update(order.transition_to(status, LATER), expected_versions=versions)
        await uow.commit()
    return saved


async def test_an_added_order_is_pending_at_version_1_and_reads_back_whole(orders: Orders) -> None:
    [ada] = await store_users(orders.users, new_user("ada"))

    [added] = await place(orders, ada.id)

    async with orders.users.new_uow() as uow:
        in_transaction = await uow.orders.get(added.id)
    for found in (added, in_transaction, await orders.queries.get(added.id)):
        assert found is not None
        assert (found.id, found.user_id, found.status, found.version) == (
            added.id,
            ada.id,
            OrderStatus.PENDING,
            1,
        )
        assert (found.currency, found.items) == (Currency("EUR"), ITEMS)
        assert (found.created_at, found.updated_at) == (T0, T0)
        assert found.total_cents == 2500 + 1_000_000_000
        assert_utc(found.created_at, found.updated_at)


async def test_an_order_added_without_commit_is_not_stored(orders: Orders) -> None:
    [ada] = await store_users(orders.users, new_user("ada"))
    async with orders.users.new_uow() as uow:
        added = await uow.orders.add(NewOrder(ada.id, Currency("EUR"), ITEMS, T0))

    assert await orders.queries.get(added.id) is None
    assert await orders.queries.page(OrderPageQuery(OrderFilter(ada.id), 1, 10)) == Page([], 0)


async def test_update_stores_the_status_and_bumps_the_version(orders: Orders) -> None:
    [ada] = await store_users(orders.users, new_user("ada"))
    [placed] = await place(orders, ada.id)

    paid = await move(orders, OrderStatus.PAID, placed, [1])
    shipped = await move(orders, OrderStatus.SHIPPED, paid, None)

    assert (paid.version, shipped.version) == (2, 3)
    stored = await orders.queries.get(placed.id)
    assert stored is not None
    assert (stored.status, stored.version, stored.updated_at, stored.created_at) == (
        OrderStatus.SHIPPED,
        3,
        LATER,
        T0,
    )
    assert stored.items == ITEMS


async def test_update_at_a_stale_version_fails_its_precondition_and_changes_nothing(orders: Orders) -> None:
    [ada] = await store_users(orders.users, new_user("ada"))
    [placed] = await place(orders, ada.id)
    await move(orders, OrderStatus.PAID, placed, None)

    with pytest.raises(PreconditionFailedError):
        await move(orders, OrderStatus.CANCELLED, placed, [1, 3])

    stored = await orders.queries.get(placed.id)
    assert stored is not None
    assert (stored.status, stored.version) == (OrderStatus.PAID, 2)


async def test_update_and_delete_of_a_missing_order_are_not_found(orders: Orders) -> None:
    [ada] = await store_users(orders.users, new_user("ada"))
    [placed] = await place(orders, ada.id)
    async with orders.users.new_uow() as uow:
        await uow.orders.delete(placed.id, expected_versions=None)
        await uow.commit()

    with pytest.raises(NotFoundError):
        await move(orders, OrderStatus.PAID, placed, None)
    for versions in (None, [1]):
        async with orders.users.new_uow() as uow:
            with pytest.raises(NotFoundError):
                await uow.orders.delete(placed.id, expected_versions=versions)
    assert await orders.queries.get(placed.id) is None


async def test_delete_honours_the_expected_version(orders: Orders) -> None:
    [ada] = await store_users(orders.users, new_user("ada"))
    [placed, kept] = await place(orders, ada.id, count=2)

    async with orders.users.new_uow() as uow:
        with pytest.raises(PreconditionFailedError):
            await uow.orders.delete(placed.id, expected_versions=[2])
    assert await orders.queries.get(placed.id) is not None
    async with orders.users.new_uow() as uow:
        await uow.orders.delete(placed.id, expected_versions=[1, 2])
        await uow.commit()

    assert await orders.queries.get(placed.id) is None
    assert await orders.queries.get(kept.id) is not None


async def test_deleting_a_user_deletes_their_orders_and_only_theirs(orders: Orders) -> None:
    ada, bob = await store_users(orders.users, new_user("ada"), new_user("bob"))
    theirs = await place(orders, ada.id, count=2)
    [kept] = await place(orders, bob.id)

    async with orders.users.new_uow() as uow:
        await uow.users.delete(ada.id, expected_versions=None)
        await uow.commit()

    assert [await orders.queries.get(o.id) for o in theirs] == [None, None]
    assert await orders.queries.get(kept.id) == kept
    assert await orders.queries.page(OrderPageQuery(OrderFilter(ada.id), 1, 10)) == Page([], 0)


async def _seeded(orders: Orders) -> tuple[int, list[int]]:
    """Five orders of ada (the 2nd and 4th cancelled) among orders of bob."""
    ada, bob = await store_users(orders.users, new_user("ada"), new_user("bob"))
    await place(orders, bob.id)
    mine = await place(orders, ada.id, count=5)
    await place(orders, bob.id)
    for order in (mine[1], mine[3]):
        await move(orders, OrderStatus.CANCELLED, order, None)
    return ada.id, [o.id for o in mine]


async def test_page_gives_the_users_orders_by_id_with_the_total_and_a_status_filter(orders: Orders) -> None:
    ada_id, ids = await _seeded(orders)

    async def page(number: int, status: OrderStatus | None = None) -> tuple[list[int], int]:
        found = await orders.queries.page(OrderPageQuery(OrderFilter(ada_id, status), number, 2))
        return [o.id for o in found.items], found.total

    assert [await page(n) for n in (1, 2, 3, 4)] == [(ids[:2], 5), (ids[2:4], 5), (ids[4:], 5), ([], 5)]
    assert await page(1, OrderStatus.CANCELLED) == ([ids[1], ids[3]], 2)
    assert await page(2, OrderStatus.PENDING) == ([ids[4]], 3)
    assert await page(1, OrderStatus.DELIVERED) == ([], 0)


async def walk(orders: Orders, user_id: int, status: OrderStatus | None, limit: int) -> list[list[int]]:
    pages: list[list[int]] = []
    after: After | None = None
    while True:
        page = await orders.queries.keyset(OrderKeysetQuery(OrderFilter(user_id, status), limit, after))
        pages.append([o.id for o in page.items])
        if page.next_after is None:
            return pages
        after = page.next_after


async def test_keyset_walks_every_matching_order_once_in_id_order(orders: Orders) -> None:
    ada_id, ids = await _seeded(orders)

    assert await walk(orders, ada_id, None, 2) == [ids[:2], ids[2:4], ids[4:]]
    assert await walk(orders, ada_id, OrderStatus.PENDING, 2) == [[ids[0], ids[2]], [ids[4]]]
    assert await walk(orders, ada_id, OrderStatus.CANCELLED, 2) == [[ids[1], ids[3]]]
    assert await walk(orders, ada_id, None, 5) == [ids]
    assert await walk(orders, ada_id, OrderStatus.SHIPPED, 2) == [[]]
