"""The rules of an order (CONTRACT §4): validation, the computed total, the status filter, pages."""

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Account, Api, assert_envelope

ITEM = {"sku": "BOOK-1", "quantity": 2, "unit_price_cents": 1250}


def orders_of(uid: int) -> str:
    return f"/api/v1/users/{uid}/orders"


def body_with(**changes: Any) -> dict[str, Any]:
    """A valid order body with the first item's fields (or, for `currency`/`items`, the body's) replaced."""
    body: dict[str, Any] = {"currency": "EUR", "items": [dict(ITEM)]}
    for name, value in changes.items():
        if name in ("currency", "items", "total_cents"):
            body[name] = value
        else:
            body["items"][0][name] = value
    return body


async def create(api: Api, owner: Account, body: dict[str, Any]) -> httpx.Response:
    return await api.client.post(orders_of(owner.id), json=body, headers=owner.auth)


async def count(api: Api, owner: Account) -> int:
    response = await api.client.get(orders_of(owner.id), headers=owner.auth)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


# --- Validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("currency", {"currency": "eur"}),
        ("currency", {"currency": "EU"}),
        ("currency", {"currency": "EURO"}),
        ("currency", {"currency": "E1R"}),
        ("currency", {"currency": ""}),
        ("currency", {"currency": 978}),
        ("items", {"items": []}),
        ("items", {"items": [ITEM] * 101}),
        ("quantity", {"quantity": 0}),
        ("quantity", {"quantity": 1001}),
        ("quantity", {"quantity": 1.5}),
        ("unit_price_cents", {"unit_price_cents": -1}),
        ("unit_price_cents", {"unit_price_cents": 1_000_000_001}),
        ("sku", {"sku": ""}),
        ("sku", {"sku": "A" * 65}),
        ("sku", {"sku": "BAD SKU"}),
        ("sku", {"sku": "a/b"}),
        ("sku", {"sku": "BÜCHER"}),
        ("total_cents", {"total_cents": 2500}),
    ],
)
async def test_an_order_breaking_a_rule_is_422_naming_the_field_and_creates_nothing(
    api: Api, field: str, changes: dict[str, Any]
) -> None:
    owner = await api.create_account()

    body = assert_envelope(await create(api, owner, body_with(**changes)), 422, "ValidationError")

    assert any(field in problem["field"] for problem in body["details"]), body
    assert all(problem["message"] for problem in body["details"])
    assert await count(api, owner) == 0


@pytest.mark.parametrize("missing", ["currency", "items"])
async def test_an_order_missing_a_required_field_is_422(api: Api, missing: str) -> None:
    owner = await api.create_account()
    body = body_with()
    del body[missing]
    problem = assert_envelope(await create(api, owner, body), 422, "ValidationError")
    assert any(missing in p["field"] for p in problem["details"])


async def test_an_order_body_that_is_not_json_is_400(api: Api) -> None:
    owner = await api.create_account()
    response = await api.client.post(
        orders_of(owner.id),
        content=b'{"currency": ',
        headers={**owner.auth, "Content-Type": "application/json"},
    )
    assert_envelope(response, 400, "BadRequestError")


@pytest.mark.parametrize("status", ["open", "PAID", "", None])
async def test_a_status_change_to_no_known_status_is_422(api: Api, status: str | None) -> None:
    owner = await api.create_account()
    order = (await create(api, owner, body_with())).json()
    response = await api.client.patch(
        f"{orders_of(owner.id)}/{order['id']}", json={"status": status}, headers=(await api.admin()).auth
    )
    assert_envelope(response, 422, "ValidationError")


@pytest.mark.parametrize(
    "changes",
    [
        {"quantity": 1, "unit_price_cents": 0},
        {"quantity": 1000, "unit_price_cents": 1_000_000_000},
        {"sku": "A" * 64},
        {"sku": "a.B_c-9"},
        {"items": [ITEM] * 100},
        {"currency": "JPY"},
    ],
)
async def test_an_order_at_the_edges_of_the_rules_is_accepted(api: Api, changes: dict[str, Any]) -> None:
    owner = await api.create_account()
    response = await create(api, owner, body_with(**changes))
    assert response.status_code == 201, response.text
    assert response.json()["items"] == body_with(**changes)["items"]


async def test_integers_written_with_a_fraction_or_an_exponent_are_integers(api: Api) -> None:
    """JSON has one kind of number, and JSON Schema's `integer` admits 2.0: the document's
    `integer` fields take integral numbers however they are written (2.5 is still 422)."""
    owner = await api.create_account()

    response = await create(api, owner, body_with(quantity=2.0, unit_price_cents=1.25e3))

    assert response.status_code == 201, response.text
    assert response.json()["items"] == [ITEM]
    assert response.json()["total_cents"] == 2500


# --- The total -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "total"),
    [
        ([ITEM], 2500),
        (
            [
                ITEM,
                {"sku": "PEN", "quantity": 3, "unit_price_cents": 199},
                {"sku": "X", "quantity": 7, "unit_price_cents": 0},
            ],
            3097,
        ),
        (
            [{"sku": f"MAX-{n}", "quantity": 1000, "unit_price_cents": 1_000_000_000} for n in range(100)],
            10**14,
        ),
    ],
    ids=["one", "several", "largest"],
)
async def test_the_total_is_computed_from_the_items(
    api: Api, items: list[dict[str, Any]], total: int
) -> None:
    owner = await api.create_account()
    created = await create(api, owner, body_with(items=items))
    assert created.status_code == 201, created.text
    assert created.json()["total_cents"] == total
    read = await api.client.get(created.headers["location"], headers=owner.auth)
    assert read.json()["total_cents"] == total


# --- Lists ---------------------------------------------------------------------------------------


async def seed(api: Api, owner: Account, statuses: list[str]) -> list[dict[str, Any]]:
    """One order per entry, moved by the admin to that status (pending, paid or cancelled)."""
    admin = await api.admin()
    orders = []
    for status in statuses:
        order = (await create(api, owner, body_with())).json()
        if status != "pending":
            url = f"{orders_of(owner.id)}/{order['id']}"
            order = (await api.client.patch(url, json={"status": status}, headers=admin.auth)).json()
        orders.append(order)
    return orders


@pytest.mark.parametrize("status", ["pending", "paid", "cancelled", "shipped"])
async def test_the_status_filter_lists_exactly_the_orders_in_that_status(api: Api, status: str) -> None:
    owner = await api.create_account()
    orders = await seed(api, owner, ["pending", "paid", "pending", "cancelled", "paid", "pending"])
    expected = [o for o in orders if o["status"] == status]

    response = await api.client.get(orders_of(owner.id), params={"status": status}, headers=owner.auth)

    assert response.status_code == 200, response.text
    assert response.json()["items"] == expected
    assert response.json()["total"] == len(expected)


@pytest.mark.parametrize(
    "params",
    [{"status": "open"}, {"status": "PAID"}, {"page": "0"}, {"page_size": "101"}, {"page_size": "1.0"}],
)
async def test_a_bad_order_list_parameter_is_400(api: Api, params: dict[str, str]) -> None:
    owner = await api.create_account()
    response = await api.client.get(orders_of(owner.id), params=params, headers=owner.auth)
    assert_envelope(response, 400, "BadRequestError")


async def test_numbered_pages_split_the_orders_by_id_without_gaps_or_repeats(api: Api) -> None:
    owner = await api.create_account()
    orders = await seed(api, owner, ["pending"] * 5)

    pages = [
        (
            await api.client.get(orders_of(owner.id), params={"page": n, "page_size": 2}, headers=owner.auth)
        ).json()
        for n in (1, 2, 3, 4)
    ]

    assert [(p["page"], p["page_size"], p["total"], p["total_pages"]) for p in pages] == [
        (n, 2, 5, 3) for n in (1, 2, 3, 4)
    ]
    assert [len(p["items"]) for p in pages] == [2, 2, 1, 0]
    assert [o for p in pages for o in p["items"]] == orders
    assert [o["id"] for o in orders] == sorted(o["id"] for o in orders)
