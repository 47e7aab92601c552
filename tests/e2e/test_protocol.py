"""§2 conventions of every response, §6 header versioning and §7 probes, through HTTP."""

from typing import Any

import pytest
from dependency_injector import providers

from tests.e2e.conftest import Api, assert_envelope

MIB = 1024 * 1024
SIGN_UP = {"email": "ada@example.com", "username": "ada_l", "password": "Secret123"}
JSON = {"Content-Type": "application/json"}


class Exploding:
    """A use case whose execute fails in a way nobody planned for."""

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret-internal-detail")


@pytest.mark.parametrize("sent", ["abc-123_XYZ.7", "a" * 128, "0f9c6c1e-5b8e-4e0e-9d3a-2d5a9b1c7e11"])
async def test_a_sane_request_id_is_echoed(api: Api, sent: str) -> None:
    response = await api.client.get("/health/live", headers={"X-Request-ID": sent})

    assert response.headers["x-request-id"] == sent


@pytest.mark.parametrize("sent", ["a" * 129, "has space", "tab\there", "ctl\x01char", ""])
async def test_an_insane_request_id_is_replaced_by_a_fresh_one(api: Api, sent: str) -> None:
    first = await api.client.get("/health/live", headers={"X-Request-ID": sent})
    second = await api.client.get("/health/live", headers={"X-Request-ID": sent})

    assert first.headers["x-request-id"] != sent
    assert 0 < len(first.headers["x-request-id"]) <= 128
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_fresh_request_id_is_made_when_none_is_sent_and_errors_quote_it(api: Api) -> None:
    response = await api.client.get("/api/v1/users/me")

    body = assert_envelope(response, 401, "AuthenticationError")
    assert body["request_id"] == response.headers["x-request-id"]


async def test_an_error_quotes_the_clients_own_request_id(api: Api) -> None:
    response = await api.client.get("/api/v1/nowhere", headers={"X-Request-ID": "trace-42"})

    assert assert_envelope(response, 404, "NotFoundError")["request_id"] == "trace-42"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/users/me"),
        ("GET", "/users/me"),
        ("POST", "/api/v1/auth/token"),
        ("GET", "/api/v1/nowhere"),
        ("DELETE", "/api/v1/users"),
        ("GET", "/api/v1/users/abc"),
    ],
)
async def test_every_v1_api_response_carries_x_api_version_1(api: Api, method: str, path: str) -> None:
    account = await api.create_account()

    response = await api.client.request(method, path, headers=account.auth)

    assert response.headers["x-api-version"] == "1"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/health/live"),
        ("GET", "/health/ready"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/static/vendor/swagger-ui/swagger-ui.css"),
        ("GET", "/api/v1/users/me"),
        ("GET", "/nowhere"),
        ("POST", "/health/live"),
        ("POST", "/api/v1/users"),
    ],
)
async def test_every_response_carries_nosniff(api: Api, method: str, path: str) -> None:
    response = await api.client.request(method, path, content=b"{", headers=JSON)

    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("path", ["/nowhere", "/api/v1/nowhere", "/api/v1/users/1/nothing-here"])
async def test_an_unknown_route_is_a_404_envelope(api: Api, method: str, path: str) -> None:
    response = await api.client.request(method, path, json={})

    body = assert_envelope(response, 404, "NotFoundError")
    assert body["path"] == path


@pytest.mark.parametrize(
    "path",
    [
        "/static/vendor/%00",
        "/static/vendor/swagger-ui/swagger-ui.css%00",
        "/static/vendor/" + "a" * 300,
        "/static/vendor/swagger-ui/" + "b" * 5000 + ".js",
        "/static/vendor/swagger-ui/nothing.js",
        "/static/vendor/swagger-ui/../../docs.py",
        "/static/vendor/%2e%2e/docs.py",
        "/static/vendor/swagger-ui/",
    ],
)
async def test_a_vendored_asset_path_that_names_no_file_is_a_404_envelope(api: Api, path: str) -> None:
    """NUL bytes and names longer than the file system takes made the file lookup itself fail (500)."""
    response = await api.client.get(path)

    assert_envelope(response, 404, "NotFoundError")


async def test_a_vendored_asset_is_served(api: Api) -> None:
    response = await api.client.get("/static/vendor/swagger-ui/swagger-ui.css")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert len(response.content) > 1000


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/users", {"GET", "POST"}),
        ("GET", "/api/v1/auth/token", {"POST"}),
        ("PUT", "/api/v1/auth/logout", {"POST"}),
        ("POST", "/health/live", {"GET"}),
    ],
)
async def test_a_wrong_method_is_405_with_an_allow_header(
    api: Api, method: str, path: str, allowed: set[str]
) -> None:
    response = await api.client.request(method, path)

    assert_envelope(response, 405, "MethodNotAllowedError")
    listed = {name.strip() for name in response.headers["allow"].split(",")}
    assert allowed <= listed
    assert method not in listed


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/auth/token", "/api/v1/auth/refresh"])
@pytest.mark.parametrize(
    "raw",
    [b"{bad", b'{"email": "a@b.co",', b"\xff\xfe", b"[1, 2"],
    ids=["unquoted", "truncated-after-a-field", "not-utf8", "unclosed-array"],
)
async def test_malformed_json_is_400(api: Api, path: str, raw: bytes) -> None:
    response = await api.client.post(path, content=raw, headers=JSON)

    assert_envelope(response, 400, "BadRequestError")


async def test_a_body_over_one_mib_is_413(api: Api) -> None:
    response = await api.client.post("/api/v1/users", content=b" " * (MIB + 1), headers=JSON)

    assert_envelope(response, 413, "PayloadTooLargeError")


async def test_a_body_of_exactly_one_mib_is_accepted(api: Api) -> None:
    raw = b'{"email": "ada@example.com", "username": "ada_l", "password": "Secret123"}'
    padded = raw[:-1] + b" " * (MIB - len(raw)) + b"}"
    assert len(padded) == MIB

    response = await api.client.post("/api/v1/users", content=padded, headers=JSON)

    assert response.status_code == 201, response.text


async def test_an_unexpected_exception_is_a_generic_500_without_internals(api: Api) -> None:
    with api.container.register_user.override(providers.Object(Exploding())):
        response = await api.client.post("/api/v1/users", json=SIGN_UP, headers={"X-Request-ID": "boom-1"})

    body = assert_envelope(response, 500, "InternalServerError")
    assert body["request_id"] == "boom-1"
    assert set(body) <= {"error", "message", "path", "request_id", "details"}
    for leak in ("secret-internal-detail", "RuntimeError", "Traceback", "execute", ".py"):
        assert leak not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_service_answers_normally_after_a_500(api: Api) -> None:
    with api.container.register_user.override(providers.Object(Exploding())):
        failed = await api.client.post("/api/v1/users", json=SIGN_UP)
    assert failed.status_code == 500

    response = await api.client.post("/api/v1/users", json=SIGN_UP)

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("version", [None, "1", " 1 "])
async def test_unversioned_paths_are_served_as_v1(api: Api, version: str | None) -> None:
    account = await api.create_account()
    headers = {**account.auth, **({"X-API-Version": version} if version is not None else {})}

    response = await api.client.get("/users/me", headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["id"] == account.id
    assert response.headers["x-api-version"] == "1"


async def test_unversioned_sign_up_and_login_work_as_v1(api: Api) -> None:
    created = await api.client.post("/users", json=SIGN_UP)
    assert created.status_code == 201, created.text

    login = await api.client.post("/auth/token", json={"email": SIGN_UP["email"], "password": "Secret123"})

    assert login.status_code == 200, login.text
    assert login.headers["x-api-version"] == "1"


@pytest.mark.parametrize("version", ["3", "abc", "0", "1.0", ""])
async def test_an_unsupported_api_version_header_is_400(api: Api, version: str) -> None:
    account = await api.create_account()

    response = await api.client.get("/users/me", headers={**account.auth, "X-API-Version": version})

    assert_envelope(response, 400, "BadRequestError")


async def test_on_prefixed_paths_the_version_header_is_ignored(api: Api) -> None:
    account = await api.create_account()

    response = await api.client.get("/api/v1/users/me", headers={**account.auth, "X-API-Version": "3"})

    assert response.status_code == 200, response.text
    assert response.headers["x-api-version"] == "1"


@pytest.mark.parametrize("path", ["/api/v3/users", "/api/v3/users/me", "/api/v0/auth/token", "/api/users"])
async def test_an_unknown_version_in_the_path_is_404(api: Api, path: str) -> None:
    account = await api.create_account()

    assert_envelope(await api.client.get(path, headers=account.auth), 404, "NotFoundError")


async def test_204_responses_have_an_empty_body(api: Api) -> None:
    account, admin = await api.create_account(), await api.admin()

    deleted = await api.client.delete(f"/api/v1/users/{account.id}", headers=admin.auth)
    logged_out = await api.client.post("/api/v1/auth/logout", headers=admin.auth)

    for response in (deleted, logged_out):
        assert response.status_code == 204
        assert response.content == b""


async def test_201_carries_the_location_of_the_new_resource(api: Api) -> None:
    admin = await api.admin()

    response = await api.client.post("/api/v1/users", json=SIGN_UP)

    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location == f"/api/v1/users/{response.json()['id']}"
    fetched = await api.client.get(location, headers=admin.auth)
    assert fetched.json()["email"] == SIGN_UP["email"]


async def test_liveness_probe_is_ok(api: Api) -> None:
    response = await api.client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_probe_reports_database_ok_and_redis_disabled(api: Api) -> None:
    response = await api.client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "disabled"}}
