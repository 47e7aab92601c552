"""§13 in the OpenAPI document: the `ApiToken` scheme, each route's scope, the routes closed to
API tokens, and the longest life in force."""

from pathlib import Path

from tests.contract_scopes import CONTRACT_SCOPES
from tests.e2e.test_openapi_document import operations, running

SCOPES = set(CONTRACT_SCOPES)
# Per route of the contract's table, the scopes it lists (either may be needed, by the target).
EXPECTED = {
    ("get", "/users/me"): ["profile:read"],
    ("get", "/users/{user_id}"): ["profile:read", "users:read"],
    ("put", "/users/{user_id}"): ["profile:write", "users:write"],
    ("patch", "/users/{user_id}"): ["profile:write", "users:write"],
    ("delete", "/users/{user_id}"): ["users:write"],
    ("post", "/users"): ["users:write"],
    ("get", "/users"): ["users:read"],
    ("get", "/users/{user_id}/orders"): ["orders:read"],
    ("post", "/users/{user_id}/orders"): ["orders:write"],
    ("get", "/users/{user_id}/orders/{order_id}"): ["orders:read"],
    ("patch", "/users/{user_id}/orders/{order_id}"): ["orders:write"],
    ("delete", "/users/{user_id}/orders/{order_id}"): ["orders:write"],
    ("get", "/audit-events"): ["audit:read"],
    ("post", "/auth/introspect"): ["introspect"],
}
CLOSED = [
    ("post", "/users/me/password"),
    ("post", "/users/me/mfa/totp"),
    ("delete", "/users/me/mfa"),
    ("delete", "/users/{user_id}/mfa"),
    ("get", "/users/me/sessions"),
    ("delete", "/users/{user_id}/sessions"),
    ("post", "/auth/logout"),
    ("post", "/users/me/tokens"),
    ("get", "/users/me/tokens"),
    ("delete", "/users/{user_id}/tokens/{token_id}"),
]


def token_scopes(operation: dict[str, object]) -> list[str] | None:
    security = operation.get("security") or []
    assert isinstance(security, list)
    found = [req["ApiToken"] for req in security if "ApiToken" in req]
    return found[0] if found else None


async def test_the_scheme_is_a_bearer_gat_token(tmp_path: Path) -> None:
    async with running(tmp_path) as served:
        scheme = served.document["components"]["securitySchemes"]["ApiToken"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "gat_")


async def test_each_route_names_its_scopes_in_both_versions_and_the_rest_are_closed(tmp_path: Path) -> None:
    async with running(tmp_path) as served:
        document = served.document
    named = {
        (method, path.removeprefix("/api/v1").removeprefix("/api/v2")): token_scopes(operation)
        for method, path, operation in operations(document)
        if path.startswith("/api/")
    }
    for route, scopes in EXPECTED.items():
        assert named[route] == scopes, route
        for version in ("/api/v1", "/api/v2"):
            assert token_scopes(document["paths"][version + route[1]][route[0]]) == scopes
    for route in CLOSED:
        assert named[route] is None, route
    assert {scope for scopes in named.values() if scopes for scope in scopes} == SCOPES
    # Introspection takes an API token only, never a session.
    introspect = document["paths"]["/api/v1/auth/introspect"]["post"]["security"]
    assert introspect == [{"ApiToken": ["introspect"]}]


async def test_the_longest_life_stated_is_the_setting_in_force(tmp_path: Path) -> None:
    default, short = tmp_path / "default", tmp_path / "short"
    default.mkdir()
    short.mkdir()
    async with running(default) as served:
        days = served.document["components"]["schemas"]["ApiTokenIn"]["properties"]["expires_in_days"]
    async with running(short, api_token_max_days=30) as served_short:
        short_days = served_short.document["components"]["schemas"]["ApiTokenIn"]["properties"]
    assert days["anyOf"][0]["maximum"] == 365
    assert short_days["expires_in_days"]["anyOf"][0]["maximum"] == 30
    assert all(not key.startswith("x-gatehouse") for key in days["anyOf"][0])
