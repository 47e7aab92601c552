"""Header versioning (CONTRACT §6): unversioned paths follow `X-API-Version`; prefixed paths ignore it."""

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Api, assert_envelope

V1_PAGE = {"items", "total", "page", "page_size", "total_pages"}
V2_PAGE = {"items", "next_cursor"}
ORDER = {"currency": "EUR", "items": [{"sku": "BOOK-1", "quantity": 2, "unit_price_cents": 1250}]}
BAD_VERSIONS = ["3", "", "v2", "1.0", "0", "01", "two", "1,2", "-1"]


def version(sent: str | None) -> dict[str, str]:
    return {} if sent is None else {"X-API-Version": sent}


async def get(api: Api, path: str, sent: str | None, **params: Any) -> httpx.Response:
    admin = await api.admin()
    return await api.client.get(path, params=params, headers={**admin.auth, **version(sent)})


# --- Unversioned paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(("sent", "served"), [(None, "1"), ("1", "1"), ("2", "2")])
async def test_an_unversioned_path_is_served_as_the_version_the_header_asks_for(
    api: Api, sent: str | None, served: str
) -> None:
    admin = await api.admin()

    me = await get(api, "/users/me", sent)

    assert me.status_code == 200, me.text
    assert me.headers["x-api-version"] == served
    assert me.json()["id"] == admin.id


@pytest.mark.parametrize(("sent", "shape"), [(None, V1_PAGE), ("1", V1_PAGE), ("2", V2_PAGE)])
async def test_unversioned_lists_page_by_number_in_v1_and_by_cursor_in_v2(
    api: Api, sent: str | None, shape: set[str]
) -> None:
    owner = await api.create_account()
    placed = await api.client.post(f"/api/v1/users/{owner.id}/orders", json=ORDER, headers=owner.auth)
    assert placed.status_code == 201

    users = await get(api, "/users", sent, limit=1) if sent == "2" else await get(api, "/users", sent)
    orders = await get(api, f"/users/{owner.id}/orders", sent)

    for response in (users, orders):
        assert response.status_code == 200, response.text
        assert set(response.json()) == shape
    assert orders.json()["items"] == [placed.json()]
    if sent == "2":
        assert len(users.json()["items"]) == 1
        assert isinstance(users.json()["next_cursor"], str)


@pytest.mark.parametrize(("sent", "prefix"), [(None, "/api/v1"), ("1", "/api/v1"), ("2", "/api/v2")])
async def test_an_unversioned_creation_is_located_under_the_version_that_served_it(
    api: Api, sent: str | None, prefix: str
) -> None:
    body = {"email": "ada@example.com", "username": "ada_l", "password": "Secret123"}

    created = await api.client.post("/users", json=body, headers=version(sent))

    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{prefix}/users/{created.json()['id']}"
    assert created.headers["x-api-version"] == prefix[-1]


@pytest.mark.parametrize("sent", [None, "1", "2"])
async def test_unversioned_auth_routes_work_in_either_version(api: Api, sent: str | None) -> None:
    account = await api.create_account()
    login = {"email": account.email, "password": account.password}

    token = await api.client.post("/auth/token", json=login, headers=version(sent))
    refreshed = await api.client.post(
        "/auth/refresh", json={"refresh_token": token.json()["refresh_token"]}, headers=version(sent)
    )

    for response in (token, refreshed):
        assert response.status_code == 200, response.text
        assert response.headers["x-api-version"] == (sent or "1")
        assert response.json()["token_type"] == "bearer"


@pytest.mark.parametrize("sent", BAD_VERSIONS)
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/users"), ("GET", "/users/me"), ("POST", "/users"), ("POST", "/auth/token")],
)
async def test_an_unsupported_version_header_on_an_unversioned_path_is_400_before_anything_else(
    api: Api, method: str, path: str, sent: str
) -> None:
    body = (
        {"email": "ada@example.com", "username": "ada_l", "password": "Secret123"}
        if method == "POST"
        else None
    )

    response = await api.client.request(method, path, json=body, headers=version(sent))

    error = assert_envelope(response, 400, "BadRequestError")
    assert error["path"] == path
    assert response.headers["x-api-version"] in ("1", "2")
    listed = await api.client.get("/api/v1/users", headers=(await api.admin()).auth)
    assert listed.json()["total"] == 1  # the admin alone: no sign-up went through


# --- Prefixed paths ------------------------------------------------------------------------------


@pytest.mark.parametrize("sent", ["3", "2", "", "v9", "1"])
async def test_on_a_v1_path_the_header_is_ignored(api: Api, sent: str) -> None:
    response = await get(api, "/api/v1/users", sent)

    assert response.status_code == 200, response.text
    assert response.headers["x-api-version"] == "1"
    assert set(response.json()) == V1_PAGE


@pytest.mark.parametrize("sent", ["3", "1", "", "v9", "2"])
async def test_on_a_v2_path_the_header_is_ignored(api: Api, sent: str) -> None:
    response = await get(api, "/api/v2/users", sent)

    assert response.status_code == 200, response.text
    assert response.headers["x-api-version"] == "2"
    assert set(response.json()) == V2_PAGE


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v3/users"),
        ("GET", "/api/v3/users/me"),
        ("POST", "/api/v3/auth/token"),
        ("GET", "/api/v0/users"),
        ("GET", "/api/v10/users"),
        ("GET", "/api/users"),
    ],
)
@pytest.mark.parametrize("sent", [None, "2"])
async def test_an_unknown_version_in_the_path_is_404(
    api: Api, method: str, path: str, sent: str | None
) -> None:
    admin = await api.admin()
    response = await api.client.request(method, path, headers={**admin.auth, **version(sent)})
    assert assert_envelope(response, 404, "NotFoundError")["path"] == path


async def test_probes_are_not_versioned_api_routes_and_ignore_the_header(api: Api) -> None:
    response = await api.client.get("/health/live", headers={"X-API-Version": "3"})
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}


# --- The document --------------------------------------------------------------------------------


async def test_the_openapi_document_describes_both_versions(api: Api) -> None:
    response = await api.client.get("/openapi.json")
    assert response.status_code == 200, response.text
    paths: dict[str, Any] = response.json()["paths"]

    for prefix in ("/api/v1", "/api/v2"):
        for path in (
            "/users",
            "/users/me",
            "/users/{user_id}",
            "/users/{user_id}/orders",
            "/users/{user_id}/orders/{order_id}",
            "/auth/token",
        ):
            assert f"{prefix}{path}" in paths, f"{prefix}{path}"

    def query_parameters(path: str) -> set[str]:
        return {p["name"] for p in paths[path]["get"].get("parameters", []) if p["in"] == "query"}

    for listing in ("/users", "/users/{user_id}/orders"):
        assert {"page", "page_size"} <= query_parameters(f"/api/v1{listing}")
        assert not {"cursor", "limit"} & query_parameters(f"/api/v1{listing}")
        assert {"cursor", "limit"} <= query_parameters(f"/api/v2{listing}")
        assert not {"page", "page_size"} & query_parameters(f"/api/v2{listing}")
