"""The order use cases over the in-memory adapters: visibility, the status machine, versions, pages."""

import pytest

from gatehouse.adapters.memory.fakes import FixedClock
from gatehouse.adapters.memory.queries import InMemoryUserQueries
from gatehouse.adapters.memory.store import InMemoryDatabase, InMemoryUnitOfWork
from gatehouse.application.errors import NotFoundError, PreconditionFailedError
from gatehouse.application.ports.idempotency import StoredResponse
from gatehouse.application.ports.unit_of_work import UnitOfWork
from gatehouse.application.use_cases.orders import ItemInput
from gatehouse.domain.errors import IllegalTransitionError, InvalidValueError, PermissionDeniedError
from gatehouse.domain.order import Order, OrderStatus
from gatehouse.domain.policy import Actor
from tests.unit.application.conftest import Accounts, actor_of
from tests.unit.application.conftest_orders import ADMIN, MODERATOR, OrderCases, order_cases

PENDING, PAID, SHIPPED, DELIVERED, CANCELLED = (
    OrderStatus.PENDING,
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.CANCELLED,
)
UNKNOWN_ID = 9_999
OPERATIONS = ["get", "list", "after", "create", "change", "delete"]


@pytest.fixture
def cases(
    database: InMemoryDatabase, uow: InMemoryUnitOfWork, queries: InMemoryUserQueries, clock: FixedClock
) -> OrderCases:
    return order_cases(database, uow, queries, clock)


async def test_the_owner_places_a_pending_order_whose_total_is_computed(
    accounts: Accounts, cases: OrderCases, clock: FixedClock
) -> None:
    me = await accounts.user()
    items = [ItemInput("BOOK-1", 2, 1250), ItemInput("PEN", 1000, 0), ItemInput("GOLD", 1, 1_000_000_000)]

    placed = await cases.place(actor_of(me), me.id, items, currency="USD")

    assert (placed.user_id, placed.status, placed.currency.code, placed.version) == (me.id, PENDING, "USD", 1)
    assert [(i.sku, i.quantity, i.unit_price_cents) for i in placed.items] == [
        ("BOOK-1", 2, 1250),
        ("PEN", 1000, 0),
        ("GOLD", 1, 1_000_000_000),
    ]
    assert placed.total_cents == 2500 + 1_000_000_000
    assert placed.created_at == placed.updated_at == clock.now()
    assert await cases.read(actor_of(me), me.id, placed.id) == placed


@pytest.mark.parametrize(
    ("staff", "allowed"), [(ADMIN, True), (MODERATOR, False)], ids=["admin", "moderator"]
)
async def test_an_admin_but_not_a_moderator_places_an_order_for_another_user(
    accounts: Accounts, cases: OrderCases, staff: Actor, allowed: bool
) -> None:
    owner = await accounts.user()

    if allowed:
        assert (await cases.place(staff, owner.id)).user_id == owner.id
    else:
        with pytest.raises(PermissionDeniedError):
            await cases.place(staff, owner.id)
    assert [(o.user_id, o.status) for o in cases.database.state.orders.values()] == (
        [(owner.id, PENDING)] if allowed else []
    )


@pytest.mark.parametrize(
    ("items", "currency", "field"),
    [
        ([], "EUR", "items"),
        ([ItemInput("A", 1, 1)] * 101, "EUR", "items"),
        ([ItemInput("A", 1, 1)], "eur", "currency"),
        ([ItemInput("A", 0, 1)], "EUR", "quantity"),
        ([ItemInput("A", 1, -1)], "EUR", "unit_price_cents"),
        ([ItemInput("A B", 1, 1)], "EUR", "sku"),
    ],
    ids=["no-items", "101-items", "currency", "quantity", "price", "sku"],
)
async def test_an_order_breaking_a_value_rule_is_refused_and_nothing_is_stored(
    accounts: Accounts, cases: OrderCases, items: list[ItemInput], currency: str, field: str
) -> None:
    me = await accounts.user()

    with pytest.raises(InvalidValueError) as raised:
        await cases.place(actor_of(me), me.id, items, currency=currency)
    assert raised.value.field == field
    assert cases.database.state.orders == {}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("target", ["existing", "unknown"])
async def test_a_plain_user_is_denied_another_users_orders_whether_or_not_that_user_exists(
    accounts: Accounts, cases: OrderCases, operation: str, target: str
) -> None:
    me, other = await accounts.user(), await accounts.user()
    theirs = await cases.place(ADMIN, other.id)
    user_id = other.id if target == "existing" else UNKNOWN_ID

    with pytest.raises(PermissionDeniedError):
        await cases.attempt(operation, actor_of(me), user_id, theirs.id)
    assert cases.stored(theirs.id) == (PENDING, 1)
    assert len(cases.database.state.orders) == 1


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("staff", [MODERATOR, ADMIN], ids=["moderator", "admin"])
async def test_staff_asking_about_an_unknown_user_get_not_found(
    cases: OrderCases, operation: str, staff: Actor
) -> None:
    with pytest.raises(NotFoundError):
        await cases.attempt(operation, staff, UNKNOWN_ID, 1)


@pytest.mark.parametrize("operation", ["get", "change", "delete"])
@pytest.mark.parametrize("whose", ["another-users", "unknown"])
async def test_an_order_of_another_user_or_no_order_is_not_found_under_this_path(
    accounts: Accounts, cases: OrderCases, operation: str, whose: str
) -> None:
    owner, other = await accounts.user(), await accounts.user()
    placed = await cases.place(ADMIN, owner.id)
    order_id = placed.id if whose == "another-users" else UNKNOWN_ID

    with pytest.raises(NotFoundError):
        await cases.attempt(operation, ADMIN, other.id, order_id)
    assert cases.stored(placed.id) == (PENDING, 1)


@pytest.mark.parametrize(
    ("reached", "target", "who"),
    [
        (DELIVERED, PAID, "owner"),
        (DELIVERED, CANCELLED, "owner"),
        (SHIPPED, CANCELLED, "admin"),
        (PENDING, DELIVERED, "moderator"),
        (CANCELLED, PENDING, "owner"),
    ],
    ids=str,
)
async def test_an_illegal_move_is_refused_as_illegal_before_permission_is_asked(
    accounts: Accounts, cases: OrderCases, reached: OrderStatus, target: OrderStatus, who: str
) -> None:
    owner = await accounts.user()
    placed = await cases.placed_in(owner.id, reached)
    actor = {"owner": actor_of(owner), "admin": ADMIN, "moderator": MODERATOR}[who]

    with pytest.raises(IllegalTransitionError):
        await cases.move(actor, owner.id, placed.id, target)
    assert cases.stored(placed.id) == (reached, placed.version)


async def test_an_unknown_status_is_an_invalid_value(accounts: Accounts, cases: OrderCases) -> None:
    owner = await accounts.user()
    placed = await cases.place(ADMIN, owner.id)

    with pytest.raises(InvalidValueError) as raised:
        await cases.move(ADMIN, owner.id, placed.id, "refunded")
    assert raised.value.field == "status"


async def test_the_owner_cancels_a_pending_order(
    accounts: Accounts, cases: OrderCases, clock: FixedClock
) -> None:
    owner = await accounts.user()
    placed = await cases.place(actor_of(owner), owner.id)
    clock.advance(90)

    cancelled = await cases.move(actor_of(owner), owner.id, placed.id, CANCELLED)

    assert (cancelled.status, cancelled.version) == (CANCELLED, 2)
    assert (cancelled.created_at, cancelled.updated_at) == (placed.created_at, clock.now())
    assert cases.stored(placed.id) == (CANCELLED, 2)
    assert await cases.read(actor_of(owner), owner.id, placed.id) == cancelled


@pytest.mark.parametrize(
    ("who", "reached", "target"),
    [
        ("owner", PENDING, PAID),
        ("owner", PAID, CANCELLED),
        ("moderator", PENDING, CANCELLED),
        ("moderator", PAID, SHIPPED),
    ],
    ids=str,
)
async def test_a_legal_move_the_caller_may_not_make_is_denied(
    accounts: Accounts, cases: OrderCases, who: str, reached: OrderStatus, target: OrderStatus
) -> None:
    owner = await accounts.user()
    placed = await cases.placed_in(owner.id, reached)
    actor = actor_of(owner) if who == "owner" else MODERATOR

    with pytest.raises(PermissionDeniedError):
        await cases.move(actor, owner.id, placed.id, target)
    assert cases.stored(placed.id) == (reached, placed.version)


async def test_each_move_bumps_the_version_and_a_stale_one_fails_its_precondition(
    accounts: Accounts, cases: OrderCases
) -> None:
    owner = await accounts.user()
    placed = await cases.place(ADMIN, owner.id)
    assert (await cases.move(ADMIN, owner.id, placed.id, PAID, expected_versions=[1])).version == 2

    with pytest.raises(PreconditionFailedError):
        await cases.move(ADMIN, owner.id, placed.id, SHIPPED, expected_versions=[1, 3])
    assert cases.stored(placed.id) == (PAID, 2)
    shipped = await cases.move(ADMIN, owner.id, placed.id, SHIPPED, expected_versions=[1, 2])
    assert (shipped.status, shipped.version) == (SHIPPED, 3)
    assert (await cases.move(ADMIN, owner.id, placed.id, DELIVERED)).version == 4
    assert cases.stored(placed.id) == (DELIVERED, 4)


async def test_only_an_admin_deletes_an_order_and_only_at_the_expected_version(
    accounts: Accounts, cases: OrderCases
) -> None:
    owner = await accounts.user()
    placed = await cases.place(actor_of(owner), owner.id)
    for actor in (actor_of(owner), MODERATOR):
        with pytest.raises(PermissionDeniedError):
            await cases.remove(actor, owner.id, placed.id)
    with pytest.raises(PreconditionFailedError):
        await cases.remove(ADMIN, owner.id, placed.id, expected_versions=[2])
    assert cases.stored(placed.id) == (PENDING, 1)

    await cases.remove(ADMIN, owner.id, placed.id, expected_versions=[1])

    assert cases.stored(placed.id) is None
    with pytest.raises(NotFoundError):
        await cases.read(ADMIN, owner.id, placed.id)


async def test_after_create_runs_inside_the_unit_of_work_and_its_writes_commit_with_the_order(
    accounts: Accounts, cases: OrderCases
) -> None:
    owner = await accounts.user()
    seen: list[tuple[Order | None, bool]] = []

    async def hook(uow: UnitOfWork, order: Order) -> None:
        seen.append((await uow.orders.get(order.id), order.id in cases.database.state.orders))
        await uow.idempotency.start("user:1", "key", "fp", cases.clock.now(), None)
        await uow.idempotency.finish("user:1", "key", StoredResponse(201, b"{}", f"/orders/{order.id}"))

    placed = await cases.place(actor_of(owner), owner.id, after_create=hook)

    assert seen == [(placed, False)]
    assert cases.stored(placed.id) == (PENDING, 1)
    record = cases.database.state.idempotency[("user:1", "key")]
    assert record.response == StoredResponse(201, b"{}", f"/orders/{placed.id}")


async def test_an_error_raised_by_after_create_rolls_the_order_back(
    accounts: Accounts, cases: OrderCases
) -> None:
    owner = await accounts.user()

    async def hook(uow: UnitOfWork, order: Order) -> None:
        await uow.idempotency.start("user:1", "key", "fp", cases.clock.now(), None)
        raise RuntimeError("the response could not be stored")

    with pytest.raises(RuntimeError, match="could not be stored"):
        await cases.place(actor_of(owner), owner.id, after_create=hook)
    assert cases.database.state.orders == {}
    assert cases.database.state.idempotency == {}
    assert await cases.numbered(actor_of(owner), owner.id, 1, size=50) == ([], 0)


async def test_list_pages_a_users_orders_by_number_with_the_total(
    accounts: Accounts, cases: OrderCases
) -> None:
    owner_id, other_id = (await accounts.user()).id, (await accounts.user()).id
    ids = await cases.five_orders(owner_id, other_id)

    for number, expected in [(1, ids[:2]), (2, ids[2:4]), (3, ids[4:]), (4, [])]:
        assert await cases.numbered(MODERATOR, owner_id, number) == (expected, 5)
    assert await cases.numbered(MODERATOR, owner_id, 1, status=CANCELLED) == ([ids[1], ids[3]], 2)
    assert await cases.numbered(MODERATOR, owner_id, 2, status=PENDING) == ([ids[4]], 3)
    assert await cases.numbered(MODERATOR, owner_id, 1, status=PAID) == ([], 0)
    assert (await cases.read(MODERATOR, owner_id, ids[1])).status is CANCELLED


async def test_list_after_a_cursor_walks_every_matching_order_once_in_id_order(
    accounts: Accounts, cases: OrderCases
) -> None:
    owner, other = await accounts.user(), await accounts.user()
    owner_id, ids = owner.id, await cases.five_orders(owner.id, other.id)

    assert await cases.ids(actor_of(owner), owner_id) == [ids[:2], ids[2:4], ids[4:]]
    assert await cases.ids(actor_of(owner), owner_id, status=PENDING) == [[ids[0], ids[2]], [ids[4]]]
    assert await cases.ids(actor_of(owner), owner_id, status=CANCELLED) == [[ids[1], ids[3]]]
    assert await cases.ids(actor_of(owner), owner_id, status=DELIVERED) == [[]]
    assert await cases.ids(actor_of(owner), owner_id, limit=5) == [ids]
