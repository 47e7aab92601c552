"""Shared by the order permission tests: a cast of callers, orders moved to a status, one call per route."""

import re
from dataclasses import dataclass
from typing import Any

import httpx

from tests.e2e.conftest import Account, Api

ORDER = {"currency": "EUR", "items": [{"sku": "BOOK-1", "quantity": 2, "unit_price_cents": 1250}]}
STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled"]
LEGAL = [
    ("pending", "paid"),
    ("pending", "cancelled"),
    ("paid", "shipped"),
    ("paid", "cancelled"),
    ("shipped", "delivered"),
]
ILLEGAL = [(a, b) for a in STATUSES for b in STATUSES if (a, b) not in LEGAL]
LINE = ["paid", "shipped", "delivered"]
ROUTE_TO = {  # the admin moves that bring a new (pending) order to each status
    "pending": [],
    "cancelled": ["cancelled"],
    **{status: LINE[: LINE.index(status) + 1] for status in LINE},
}
ENTITY_TAG = re.compile(r'^(W/)?"[^"]+"$')
UNKNOWN = 987654


@dataclass
class Cast:
    owner: Account
    other: Account
    moderator: Account
    admin: Account

    def headers(self, who: str) -> dict[str, str]:
        return {} if who == "anonymous" else dict(getattr(self, who).auth)


async def new_cast(api: Api) -> Cast:
    owner, other = await api.create_account("user"), await api.create_account("user")
    return Cast(owner, other, await api.create_account("moderator"), await api.admin())


def orders_of(uid: int) -> str:
    return f"/api/v1/users/{uid}/orders"


def order_at(uid: int, oid: int) -> str:
    return f"{orders_of(uid)}/{oid}"


async def place(
    api: Api, cast: Cast, status: str = "pending", owner: Account | None = None
) -> dict[str, Any]:
    """An order of `owner` (default: the cast's owner), moved by the admin to `status`."""
    owner = owner or cast.owner
    created = await api.client.post(orders_of(owner.id), json=ORDER, headers=owner.auth)
    assert created.status_code == 201, created.text
    order: dict[str, Any] = created.json()
    for step in ROUTE_TO[status]:
        moved = await api.client.patch(
            order_at(owner.id, order["id"]), json={"status": step}, headers=cast.admin.auth
        )
        assert moved.status_code == 200, moved.text
        order = moved.json()
    assert order["status"] == status
    return order


async def as_admin(api: Api, cast: Cast, uid: int, oid: int) -> httpx.Response:
    return await api.client.get(order_at(uid, oid), headers=cast.admin.auth)


async def listed_ids(api: Api, cast: Cast, uid: int) -> list[int]:
    response = await api.client.get(orders_of(uid), headers=cast.admin.auth)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def call(api: Api, cast: Cast, who: str, route: str, uid: int, oid: int) -> httpx.Response:
    """One request of `route` (list, create, get, patch, delete) as `who`."""
    headers = cast.headers(who)
    if route == "list":
        return await api.client.get(orders_of(uid), headers=headers)
    if route == "create":
        return await api.client.post(orders_of(uid), json=ORDER, headers=headers)
    if route == "get":
        return await api.client.get(order_at(uid, oid), headers=headers)
    if route == "patch":
        return await api.client.patch(order_at(uid, oid), json={"status": "cancelled"}, headers=headers)
    return await api.client.delete(order_at(uid, oid), headers=headers)


ROUTES = ["list", "create", "get", "patch", "delete"]


async def move(api: Api, cast: Cast, who: str, order: dict[str, Any], target: str) -> httpx.Response:
    url = order_at(order["user_id"], order["id"])
    return await api.client.patch(url, json={"status": target}, headers=cast.headers(who))
