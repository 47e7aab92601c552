"""Every route other than the lists is served under `/api/v2` as in v1 (CONTRACT §6), tagged version 2."""

import httpx
import pytest

from tests.e2e.conftest import Account, Api, assert_envelope

USERS = "/api/v2/users"
ORDER = {"currency": "EUR", "items": [{"sku": "BOOK-1", "quantity": 2, "unit_price_cents": 1250}]}


def v2(response: httpx.Response, status: int) -> httpx.Response:
    assert response.status_code == status, response.text
    assert response.headers["x-api-version"] == "2"
    return response


async def test_creations_under_v2_are_located_under_v2(api: Api) -> None:
    body = {"email": "ada@example.com", "username": "ada_l", "password": "Secret123"}
    user = v2(await api.client.post(USERS, json=body), 201)
    assert user.headers["location"] == f"{USERS}/{user.json()['id']}"
    login = {"email": body["email"], "password": body["password"]}
    token = v2(await api.client.post("/api/v2/auth/token", json=login), 200).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}

    order = v2(await api.client.post(f"{user.headers['location']}/orders", json=ORDER, headers=auth), 201)

    assert order.headers["location"] == f"{USERS}/{user.json()['id']}/orders/{order.json()['id']}"
    assert v2(await api.client.get(order.headers["location"], headers=auth), 200).json() == order.json()
    assert v2(await api.client.get(user.headers["location"], headers=auth), 200).json() == user.json()


async def test_every_user_and_auth_route_works_under_v2(api: Api) -> None:
    me: Account = await api.create_account()
    admin = await api.admin()
    url = f"{USERS}/{me.id}"
    auth = me.auth

    tag = v2(await api.client.get(url, headers=auth), 200).headers["etag"]
    v2(await api.client.get(url, headers={**auth, "If-None-Match": tag}), 304)
    assert v2(await api.client.get(f"{USERS}/me", headers=auth), 200).json()["id"] == me.id
    replaced = {"email": "new@example.com", "username": "new_name", "full_name": "New"}
    assert v2(await api.client.put(url, json=replaced, headers=auth), 200).json()["username"] == "new_name"
    patched = v2(await api.client.patch(url, json={"full_name": "Newer"}, headers=auth), 200)
    assert patched.json()["full_name"] == "Newer"
    v2(await api.client.patch(url, json={"full_name": "x"}, headers={**auth, "If-Match": tag}), 412)
    pair = v2(await api.client.post("/api/v2/auth/refresh", json={"refresh_token": me.refresh_token}), 200)
    fresh = {"Authorization": f"Bearer {pair.json()['access_token']}"}
    change = {"current_password": me.password, "new_password": "Another-Pass-7"}
    v2(await api.client.post(f"{USERS}/me/password", json=change, headers=fresh), 204)
    login = {"email": "new@example.com", "password": "Another-Pass-7"}
    token = v2(await api.client.post("/api/v2/auth/token", json=login), 200).json()["access_token"]
    v2(await api.client.post("/api/v2/auth/logout", headers={"Authorization": f"Bearer {token}"}), 204)
    v2(await api.client.get(f"{USERS}/me", headers={"Authorization": f"Bearer {token}"}), 401)
    v2(await api.client.delete(url, headers=admin.auth), 204)
    assert_envelope(v2(await api.client.get(url, headers=admin.auth), 404), 404, "NotFoundError")


async def test_order_routes_work_under_v2(api: Api) -> None:
    owner, admin = await api.create_account(), await api.admin()
    created = v2(await api.client.post(f"{USERS}/{owner.id}/orders", json=ORDER, headers=owner.auth), 201)
    url = created.headers["location"]
    moved = v2(await api.client.patch(url, json={"status": "cancelled"}, headers=owner.auth), 200)
    assert moved.json()["status"] == "cancelled"
    v2(await api.client.delete(url, headers=admin.auth), 204)
    v2(await api.client.get(url, headers=admin.auth), 404)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/v2/users/987654", 404), ("GET", "/api/v2/users/me", 401), ("GET", "/api/v2/nowhere", 404)],
)
async def test_v2_errors_carry_the_version_header_too(api: Api, method: str, path: str, status: int) -> None:
    response = await api.client.request(
        method, path, headers=(await api.admin()).auth if status == 404 else {}
    )
    assert v2(response, status).json()["path"] == path
