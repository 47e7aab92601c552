"""§7 API documentation: the OpenAPI 3.1 document, and docs pages that work with no internet."""

import re
from typing import Any

import pytest

from tests.e2e.conftest import Api

# Every /api/v1 operation of §3 (users) and §5 (sessions); path parameters are written `{}`.
OPERATIONS = {
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users"),
    ("get", "/api/v1/users/me"),
    ("get", "/api/v1/users/{}"),
    ("put", "/api/v1/users/{}"),
    ("patch", "/api/v1/users/{}"),
    ("delete", "/api/v1/users/{}"),
    ("post", "/api/v1/users/me/password"),
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
}
ANONYMOUS = {("post", "/api/v1/users"), ("post", "/api/v1/auth/token"), ("post", "/api/v1/auth/refresh")}
ENVELOPE_FIELDS = {"error", "message", "path", "request_id"}
ASSET = re.compile(r"<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)


def label(key: tuple[str, str]) -> str:
    return f"{key[0].upper()} {key[1]}"


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            found[(method, re.sub(r"\{[^}]*\}", "{}", path))] = operation
    return found


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def bearer_schemes(document: dict[str, Any]) -> set[str]:
    schemes = document.get("components", {}).get("securitySchemes", {})
    return {
        name
        for name, scheme in schemes.items()
        if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer"
    }


@pytest.fixture
async def document(api: Api) -> dict[str, Any]:
    response = await api.client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/")
    body: dict[str, Any] = response.json()
    return body


async def test_openapi_document_is_version_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")


async def test_openapi_document_lists_every_v1_route_of_users_and_sessions(document: dict[str, Any]) -> None:
    missing = OPERATIONS - set(operations(document))

    assert not missing


async def test_openapi_document_declares_the_bearer_scheme_on_protected_routes(
    document: dict[str, Any],
) -> None:
    schemes = bearer_schemes(document)
    assert schemes
    found = operations(document)

    for key in sorted(OPERATIONS - ANONYMOUS):
        required = {name for requirement in found[key].get("security", []) for name in requirement}
        assert required & schemes, key


@pytest.mark.parametrize("key", sorted(k for k in OPERATIONS if k[0] in ("post", "put", "patch")), ids=label)
async def test_openapi_document_describes_the_request_body(
    document: dict[str, Any], key: tuple[str, str]
) -> None:
    body = operations(document)[key]["requestBody"]

    schema = resolve(document, body["content"]["application/json"]["schema"])
    assert schema.get("type") == "object"
    assert schema.get("properties") is not None


async def test_openapi_document_describes_the_oauth2_form_at_login(document: dict[str, Any]) -> None:
    content = operations(document)[("post", "/api/v1/auth/token")]["requestBody"]["content"]

    form = resolve(document, content["application/x-www-form-urlencoded"]["schema"])
    assert {"username", "password"} <= set(form["properties"])


@pytest.mark.parametrize("key", sorted(OPERATIONS), ids=label)
async def test_openapi_document_lists_error_responses_with_the_envelope(
    document: dict[str, Any], key: tuple[str, str]
) -> None:
    responses = operations(document)[key]["responses"]
    errors = {status: spec for status, spec in responses.items() if status[0] in "45"}
    assert errors
    if key not in ANONYMOUS or key == ("post", "/api/v1/auth/token"):
        assert "401" in errors

    for status, spec in errors.items():
        schema = resolve(document, spec["content"]["application/json"]["schema"])
        assert set(schema.get("properties", {})) >= ENVELOPE_FIELDS, (key, status)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_are_html_using_only_local_assets(api: Api, page: str) -> None:
    response = await api.client.get(page)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assets = ASSET.findall(response.text)
    assert any(asset.endswith(".js") for asset in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", response.text, re.IGNORECASE)
    assert "@import" not in response.text


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_assets_are_served_by_gatehouse(api: Api, page: str) -> None:
    html = (await api.client.get(page)).text

    for asset in ASSET.findall(html):
        served = await api.client.get(asset)
        assert served.status_code == 200, asset
        assert served.content, asset


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_may_not_be_framed_and_run_no_inline_script(api: Api, page: str) -> None:
    response = await api.client.get(page)

    directives = {
        name: value.split()
        for name, _, value in (
            part.strip().partition(" ") for part in response.headers["content-security-policy"].split(";")
        )
    }
    assert directives["frame-ancestors"] == ["'none'"]
    assert response.headers["x-frame-options"] == "DENY"
    assert directives["script-src"] == ["'self'"]  # neither 'unsafe-inline' nor 'unsafe-eval'
    assert re.findall(r"<script\b(?![^>]*\bsrc=)", response.text, re.IGNORECASE) == []
