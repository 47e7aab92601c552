"""§10 routes in the OpenAPI document, and served under `/api/v1`, `/api/v2` and with no prefix (§6)."""

from typing import Any

import pytest

from tests.e2e.conftest import Api, assert_envelope

# Route (as OpenAPI names it, after the version prefix), method, the answers it must document.
DOCUMENTED = [
    ("/auth/verify-email", "post", {"204", "400", "422"}),
    ("/auth/verify-email/resend", "post", {"202", "401", "409", "422", "429"}),
    ("/auth/password-reset", "post", {"202", "422", "429"}),
    ("/auth/password-reset/confirm", "post", {"204", "400", "422"}),
    ("/users/me/sessions", "get", {"200", "401"}),
    ("/users/me/sessions/{session_id}", "delete", {"204", "400", "401", "404"}),
    ("/users/{user_id}/sessions", "delete", {"204", "400", "401", "403", "404"}),
    ("/audit-events", "get", {"200", "400", "401", "403"}),
]
BODIES = {"/auth/verify-email", "/auth/password-reset", "/auth/password-reset/confirm"}
SIGNED_IN = {
    "/users/me/sessions",
    "/users/me/sessions/{session_id}",
    "/users/{user_id}/sessions",
    "/audit-events",
}
PREFIXES = ["/api/v1", "/api/v2", ""]


async def openapi(api: Api) -> dict[str, Any]:
    response = await api.client.get("/openapi.json")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


@pytest.mark.parametrize("version", ["/api/v1", "/api/v2"])
@pytest.mark.parametrize(
    ("route", "method", "answers"), DOCUMENTED, ids=[f"{m} {r}" for r, m, _ in DOCUMENTED]
)
async def test_every_account_route_is_documented_with_its_answers(
    api: Api, version: str, route: str, method: str, answers: set[str]
) -> None:
    operation = (await openapi(api))["paths"][f"{version}{route}"][method]

    assert answers <= set(operation["responses"]), sorted(operation["responses"])
    for status in answers - {"200", "202", "204"}:
        assert "application/json" in operation["responses"][status]["content"], status
    if route in BODIES:
        assert operation["requestBody"]["content"]["application/json"]["schema"]
    if route in SIGNED_IN:
        assert operation["security"]


async def test_the_accepted_answers_document_their_body(api: Api) -> None:
    paths = (await openapi(api))["paths"]

    for route in ("/api/v1/auth/verify-email/resend", "/api/v1/auth/password-reset"):
        assert paths[route]["post"]["responses"]["202"]["content"]["application/json"]["schema"], route


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_every_account_route_is_served_under_each_prefix(api: Api, prefix: str) -> None:
    admin = await api.admin()
    client = api.client

    assert_envelope(
        await client.post(f"{prefix}/auth/verify-email", json={"token": "nope"}), 400, "BadRequestError"
    )
    assert_envelope(await client.post(f"{prefix}/auth/verify-email/resend"), 422, "ValidationError")
    assert (
        await client.post(f"{prefix}/auth/password-reset", json={"email": "x@example.com"})
    ).status_code == 202
    confirm = {"token": "nope", "new_password": "Another-Pass-2718"}
    assert_envelope(
        await client.post(f"{prefix}/auth/password-reset/confirm", json=confirm), 400, "BadRequestError"
    )
    assert (await client.get(f"{prefix}/users/me/sessions", headers=admin.auth)).status_code == 200
    gone = await client.delete(f"{prefix}/users/me/sessions/987654", headers=admin.auth)
    assert_envelope(gone, 404, "NotFoundError")
    assert_envelope(
        await client.delete(f"{prefix}/users/987654/sessions", headers=admin.auth), 404, "NotFoundError"
    )
    audit = await client.get(f"{prefix}/audit-events", headers=admin.auth)
    assert audit.status_code == 200, audit.text
    assert audit.headers["x-api-version"] == ("2" if prefix == "/api/v2" else "1")
