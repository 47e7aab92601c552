"""The order aggregate: its status machine, its computed total and the validation of its values."""

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from gatehouse.domain.errors import IllegalTransitionError, InvalidValueError
from gatehouse.domain.order import (
    ALLOWED_MOVES,
    Currency,
    LineItem,
    Order,
    OrderStatus,
    line_items,
    parse_status,
)

PENDING, PAID, SHIPPED, DELIVERED, CANCELLED = (
    OrderStatus.PENDING,
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.CANCELLED,
)
# Written out from CONTRACT §4, not derived from the code under test.
LEGAL = {(PENDING, PAID), (PAID, SHIPPED), (SHIPPED, DELIVERED), (PENDING, CANCELLED), (PAID, CANCELLED)}
ALL_PAIRS = list(itertools.product(OrderStatus, repeat=2))
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
LATER = CREATED + timedelta(hours=3)
BOOK = LineItem("BOOK-1", 2, 1250)


def order(status: OrderStatus = PENDING, items: tuple[LineItem, ...] = (BOOK,)) -> Order:
    return Order(
        id=7,
        user_id=1,
        status=status,
        currency=Currency("EUR"),
        items=items,
        created_at=CREATED,
        updated_at=CREATED,
        version=3,
    )


def test_the_table_of_allowed_moves_is_exactly_the_five_moves_of_the_contract() -> None:
    table = {(current, target) for current, targets in ALLOWED_MOVES.items() for target in targets}

    assert table == LEGAL
    assert set(ALLOWED_MOVES) == set(OrderStatus)


@pytest.mark.parametrize(("current", "target"), [p for p in ALL_PAIRS if p in LEGAL], ids=str)
def test_a_legal_move_gives_a_copy_in_the_target_status_stamped_now(
    current: OrderStatus, target: OrderStatus
) -> None:
    before = order(current)

    moved = before.transition_to(target, LATER)

    assert moved.status is target
    assert (moved.updated_at, moved.created_at) == (LATER, CREATED)
    assert (moved.id, moved.user_id, moved.items, moved.version) == (7, 1, (BOOK,), 3)
    assert (before.status, before.updated_at) == (current, CREATED)


@pytest.mark.parametrize(("current", "target"), [p for p in ALL_PAIRS if p not in LEGAL], ids=str)
def test_an_illegal_move_raises_and_leaves_the_order_as_it_was(
    current: OrderStatus, target: OrderStatus
) -> None:
    before = order(current)

    with pytest.raises(IllegalTransitionError) as raised:
        before.transition_to(target, LATER)

    assert current.value in raised.value.message
    assert target.value in raised.value.message
    assert (before.status, before.updated_at) == (current, CREATED)


@pytest.mark.parametrize("status", list(OrderStatus))
def test_parse_status_reads_each_contract_value(status: OrderStatus) -> None:
    assert parse_status(status.value) is status


@pytest.mark.parametrize("value", ["", "PENDING", "refunded", " paid"])
def test_parse_status_rejects_anything_else_for_the_status_field(value: str) -> None:
    with pytest.raises(InvalidValueError) as raised:
        parse_status(value)
    assert raised.value.field == "status"


def test_the_total_is_the_sum_of_quantity_times_unit_price() -> None:
    items = (LineItem("A", 2, 1250), LineItem("B", 1000, 1_000_000_000), LineItem("C", 3, 0))

    assert order(items=items).total_cents == 2500 + 1_000_000_000_000


def test_the_total_is_never_stored_but_follows_the_items() -> None:
    placed = order(items=(LineItem("A", 1, 100),))

    assert "total_cents" not in {f.name for f in dataclasses.fields(Order)}
    assert dataclasses.replace(placed, items=(LineItem("A", 3, 100),)).total_cents == 300
    assert placed.total_cents == 100


def test_orders_are_equal_by_id_alone() -> None:
    assert order(PENDING) == order(DELIVERED)
    assert hash(order(PENDING)) == hash(order(PAID))
    assert order() != dataclasses.replace(order(), id=8)


@pytest.mark.parametrize("code", ["EUR", "USD", "XAU"])
def test_currency_accepts_three_upper_case_letters(code: str) -> None:
    assert Currency(code).code == code


@pytest.mark.parametrize("code", ["", "EU", "EURO", "eur", "Eur", "E1R", "ÄUR", "EUR\n", " EUR"])
def test_currency_rejects_anything_else(code: str) -> None:
    with pytest.raises(InvalidValueError) as raised:
        Currency(code)
    assert raised.value.field == "currency"


@pytest.mark.parametrize("sku", ["A", "a" * 64, "BOOK-1", "x.y_z-0"], ids=["1", "64", "dash", "all"])
def test_sku_accepts_1_to_64_of_the_allowed_characters(sku: str) -> None:
    assert LineItem(sku, 1, 0).sku == sku


@pytest.mark.parametrize(
    "sku", ["", "a" * 65, "BOOK 1", "BOOK/1", "BOOK+1", "bök", "BOOK\n", "A;B"], ids=repr
)
def test_sku_rejects_empty_long_or_other_characters(sku: str) -> None:
    with pytest.raises(InvalidValueError) as raised:
        LineItem(sku, 1, 0)
    assert raised.value.field == "sku"


@pytest.mark.parametrize("quantity", [1, 1000])
def test_quantity_accepts_1_to_1000(quantity: int) -> None:
    assert LineItem("A", quantity, 5).subtotal_cents == 5 * quantity


@pytest.mark.parametrize("quantity", [-1, 0, 1001])
def test_quantity_rejects_values_outside_1_to_1000(quantity: int) -> None:
    with pytest.raises(InvalidValueError) as raised:
        LineItem("A", quantity, 5)
    assert raised.value.field == "quantity"


@pytest.mark.parametrize("price", [0, 1_000_000_000])
def test_unit_price_accepts_0_to_a_billion_cents(price: int) -> None:
    assert LineItem("A", 1, price).unit_price_cents == price


@pytest.mark.parametrize("price", [-1, 1_000_000_001])
def test_unit_price_rejects_values_outside_0_to_a_billion(price: int) -> None:
    with pytest.raises(InvalidValueError) as raised:
        LineItem("A", 1, price)
    assert raised.value.field == "unit_price_cents"


@pytest.mark.parametrize("count", [1, 100])
def test_line_items_accepts_1_to_100_items_as_a_tuple(count: int) -> None:
    items = [LineItem(f"SKU-{n}", 1, n) for n in range(count)]

    accepted = line_items(items)

    assert isinstance(accepted, tuple)
    assert list(accepted) == items


@pytest.mark.parametrize("count", [0, 101])
def test_line_items_rejects_no_items_or_more_than_100(count: int) -> None:
    with pytest.raises(InvalidValueError) as raised:
        line_items([LineItem("A", 1, 1)] * count)
    assert raised.value.field == "items"


def test_values_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        BOOK.quantity = 3  # type: ignore[misc]
