"""Conditional requests on an order (CONTRACT §3, §4, §9): ETag, If-None-Match → 304, If-Match → 412."""

import asyncio

import httpx
import pytest

from tests.e2e.conftest import Account, Api, assert_envelope

ORDER = {"currency": "EUR", "items": [{"sku": "BOOK-1", "quantity": 2, "unit_price_cents": 1250}]}


# --- Conditional requests ------------------------------------------------------------------------


async def one_order(api: Api) -> tuple[str, httpx.Response, Account]:
    owner, admin = await api.create_account(), await api.admin()
    created = await api.client.post(f"/api/v1/users/{owner.id}/orders", json=ORDER, headers=owner.auth)
    url = created.headers["location"]
    return url, await api.client.get(url, headers=admin.auth), admin


async def test_if_none_match_with_the_current_etag_is_304_with_no_body(api: Api) -> None:
    url, first, admin = await one_order(api)
    tag = first.headers["etag"]

    response = await api.client.get(url, headers={**admin.auth, "If-None-Match": tag})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == tag


async def test_a_status_change_gives_a_new_etag_and_a_stale_one_reads_200(api: Api) -> None:
    url, first, admin = await one_order(api)
    moved = await api.client.patch(url, json={"status": "paid"}, headers=admin.auth)
    assert moved.headers["etag"] != first.headers["etag"]

    response = await api.client.get(url, headers={**admin.auth, "If-None-Match": first.headers["etag"]})

    assert response.status_code == 200
    assert response.json()["status"] == "paid"
    assert response.headers["etag"] == moved.headers["etag"]


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
@pytest.mark.parametrize("if_match", ["stale", '"no-such-tag"', "garbage"])
async def test_an_if_match_that_is_not_current_is_412_and_changes_nothing(
    api: Api, method: str, if_match: str
) -> None:
    url, first, admin = await one_order(api)
    between = await api.client.patch(url, json={"status": "paid"}, headers=admin.auth)
    assert between.status_code == 200
    sent = first.headers["etag"] if if_match == "stale" else if_match
    body = {"status": "cancelled"} if method == "PATCH" else None

    response = await api.client.request(method, url, json=body, headers={**admin.auth, "If-Match": sent})

    assert_envelope(response, 412, "PreconditionFailedError")
    after = await api.client.get(url, headers=admin.auth)
    assert after.json() == between.json()
    assert after.headers["etag"] == between.headers["etag"]


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
@pytest.mark.parametrize("use_star", [False, True], ids=["current-etag", "star"])
async def test_a_matching_if_match_lets_the_change_through(api: Api, method: str, use_star: bool) -> None:
    url, first, admin = await one_order(api)
    sent = "*" if use_star else first.headers["etag"]
    body = {"status": "cancelled"} if method == "PATCH" else None

    response = await api.client.request(method, url, json=body, headers={**admin.auth, "If-Match": sent})

    assert response.status_code == (200 if method == "PATCH" else 204), response.text
    after = await api.client.get(url, headers=admin.auth)
    if method == "PATCH":
        assert after.json()["status"] == "cancelled"
        assert after.headers["etag"] == response.headers["etag"] != first.headers["etag"]
    else:
        assert_envelope(after, 404, "NotFoundError")


@pytest.mark.parametrize("count", [2, 5])
async def test_concurrent_status_changes_with_one_if_match_let_exactly_one_through_and_the_rest_get_412(
    api: Api, count: int
) -> None:
    url, first, admin = await one_order(api)
    headers = {**admin.auth, "If-Match": first.headers["etag"]}

    responses = await asyncio.gather(
        *(api.client.patch(url, json={"status": "paid"}, headers=headers) for _ in range(count))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1, [r.text for r in responses]
    assert statuses == [200] + [412] * (count - 1), [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200)
    final = await api.client.get(url, headers=admin.auth)
    assert final.json()["status"] == "paid"
    assert final.headers["etag"] == winner.headers["etag"]
