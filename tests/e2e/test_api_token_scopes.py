"""§13 the scope table: a token with a route's scope succeeds exactly when the owner's role allows
it, a token without it gets 403 naming it, and no scope opens the credential routes."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.api_token_support import ALL_SCOPES, ME, MY_TOKENS, USERS, secret
from tests.e2e.conftest import PASSWORD, Account, Api, assert_envelope
from tests.e2e.mfa_support import bearer
from tests.e2e.orders_support import ORDER, order_at, orders_of

ROLES = ["user", "moderator", "admin"]
EVERYONE, STAFF, ADMIN = frozenset(ROLES), frozenset({"moderator", "admin"}), frozenset({"admin"})
Call = Callable[[Api, Account, Account, dict[str, str]], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Case:
    scope: str
    roles: frozenset[str]  # the roles whose tokens (with the scope) succeed
    status: int
    call: Call


async def place(api: Api, owner: Account) -> int:
    response = await api.client.post(orders_of(owner.id), json=ORDER, headers=owner.auth)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def pay_other(api: Api, me: Account, other: Account, auth: dict[str, str]) -> httpx.Response:
    url = order_at(other.id, await place(api, other))
    return await api.client.patch(url, json={"status": "paid"}, headers=auth)


async def cancel_own(api: Api, me: Account, other: Account, auth: dict[str, str]) -> httpx.Response:
    url = order_at(me.id, await place(api, me))
    return await api.client.patch(url, json={"status": "cancelled"}, headers=auth)


async def read_order(api: Api, owner: Account, auth: dict[str, str]) -> httpx.Response:
    return await api.client.get(order_at(owner.id, await place(api, owner)), headers=auth)


async def delete_order(api: Api, me: Account, other: Account, auth: dict[str, str]) -> httpx.Response:
    return await api.client.delete(order_at(other.id, await place(api, other)), headers=auth)


def put_body(account: Account, full_name: str) -> dict[str, str]:
    return {"email": account.email, "username": account.username, "full_name": full_name}


CASES: dict[str, Case] = {
    "read-me": Case("profile:read", EVERYONE, 200, lambda a, m, o, h: a.client.get(ME, headers=h)),
    "read-own": Case(
        "profile:read", EVERYONE, 200, lambda a, m, o, h: a.client.get(f"{USERS}/{m.id}", headers=h)
    ),
    "read-other": Case(
        "users:read", STAFF, 200, lambda a, m, o, h: a.client.get(f"{USERS}/{o.id}", headers=h)
    ),
    "list-users": Case("users:read", STAFF, 200, lambda a, m, o, h: a.client.get(USERS, headers=h)),
    "list-users-v2": Case(
        "users:read", STAFF, 200, lambda a, m, o, h: a.client.get("/api/v2/users", headers=h)
    ),
    "patch-own": Case(
        "profile:write",
        EVERYONE,
        200,
        lambda a, m, o, h: a.client.patch(f"{USERS}/{m.id}", json={"full_name": "Renamed"}, headers=h),
    ),
    "put-own": Case(
        "profile:write",
        EVERYONE,
        200,
        lambda a, m, o, h: a.client.put(f"{USERS}/{m.id}", json=put_body(m, "Replaced"), headers=h),
    ),
    "patch-other": Case(
        "users:write",
        ADMIN,
        200,
        lambda a, m, o, h: a.client.patch(f"{USERS}/{o.id}", json={"full_name": "Renamed"}, headers=h),
    ),
    "deactivate-other": Case(
        "users:write",
        STAFF,
        200,
        lambda a, m, o, h: a.client.patch(f"{USERS}/{o.id}", json={"is_active": False}, headers=h),
    ),
    "put-other": Case(
        "users:write",
        ADMIN,
        200,
        lambda a, m, o, h: a.client.put(f"{USERS}/{o.id}", json=put_body(o, "Replaced"), headers=h),
    ),
    "delete-other": Case(
        "users:write", ADMIN, 204, lambda a, m, o, h: a.client.delete(f"{USERS}/{o.id}", headers=h)
    ),
    "create-with-role": Case(
        "users:write",
        ADMIN,
        201,
        lambda a, m, o, h: a.client.post(
            USERS,
            json={"email": "made@example.com", "username": "made", "password": PASSWORD, "role": "moderator"},
            headers=h,
        ),
    ),
    "create-order": Case(
        "orders:write",
        EVERYONE,
        201,
        lambda a, m, o, h: a.client.post(orders_of(m.id), json=ORDER, headers=h),
    ),
    "list-own-orders": Case(
        "orders:read", EVERYONE, 200, lambda a, m, o, h: a.client.get(orders_of(m.id), headers=h)
    ),
    "read-own-order": Case("orders:read", EVERYONE, 200, lambda a, m, o, h: read_order(a, m, h)),
    "cancel-own-order": Case("orders:write", EVERYONE, 200, cancel_own),
    "list-other-orders": Case(
        "orders:read", STAFF, 200, lambda a, m, o, h: a.client.get(orders_of(o.id), headers=h)
    ),
    "read-other-order": Case("orders:read", STAFF, 200, lambda a, m, o, h: read_order(a, o, h)),
    "pay-other-order": Case("orders:write", ADMIN, 200, pay_other),
    "delete-other-order": Case("orders:write", ADMIN, 204, delete_order),
    "audit": Case(
        "audit:read", ADMIN, 200, lambda a, m, o, h: a.client.get("/api/v1/audit-events", headers=h)
    ),
}


def grantable(role: str) -> list[str]:
    return ALL_SCOPES if role == "admin" else ALL_SCOPES[:-1]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(CASES))
async def test_the_scope_opens_the_route_exactly_as_far_as_the_role(api: Api, name: str, role: str) -> None:
    case = CASES[name]
    me, other = await api.create_account(role), await api.create_account("user")
    with_scope = await secret(api, me, [case.scope])
    without = await secret(api, me, [s for s in grantable(role) if s != case.scope])

    refused = await case.call(api, me, other, bearer(without))
    body = assert_envelope(refused, 403, "PermissionDeniedError")
    if role in case.roles:
        assert case.scope in body["message"], body

    answered = await case.call(api, me, other, bearer(with_scope))
    if role in case.roles:
        assert answered.status_code == case.status, answered.text
    else:
        assert case.scope not in assert_envelope(answered, 403, "PermissionDeniedError")["message"]


async def test_a_users_token_with_users_read_still_cannot_list_or_read_others(api: Api) -> None:
    me, other = await api.create_account("user"), await api.create_account("user")
    token = await secret(api, me, ["users:read", "profile:read"])

    assert_envelope(await api.client.get(USERS, headers=bearer(token)), 403, "PermissionDeniedError")
    assert_envelope(
        await api.client.get(f"{USERS}/{other.id}", headers=bearer(token)), 403, "PermissionDeniedError"
    )
    assert (await api.client.get(f"{USERS}/{me.id}", headers=bearer(token))).json()["id"] == me.id


@pytest.mark.parametrize("role", ROLES)
async def test_a_token_may_not_change_the_email_even_with_every_scope(api: Api, role: str) -> None:
    me = await api.create_account(role)
    token = await secret(api, me, grantable(role))
    new = {"email": f"moved.{role}@example.com", "username": me.username, "full_name": "X"}

    patched = await api.client.patch(f"{USERS}/{me.id}", json={"email": new["email"]}, headers=bearer(token))
    replaced = await api.client.put(f"{USERS}/{me.id}", json=new, headers=bearer(token))

    assert "session" in assert_envelope(patched, 403, "PermissionDeniedError")["message"]
    assert "session" in assert_envelope(replaced, 403, "PermissionDeniedError")["message"]
    assert (await api.client.get(ME, headers=me.auth)).json()["email"] == me.email


async def test_an_admin_token_creates_privileged_accounts_only_with_users_write(api: Api) -> None:
    admin = await api.create_account("admin")
    writer, reader = await secret(api, admin, ["users:write"]), await secret(api, admin, ["users:read"])
    body = {"email": "boss@example.com", "username": "boss", "password": PASSWORD, "is_active": False}

    refused = await api.client.post(USERS, json=body, headers=bearer(reader))
    created = await api.client.post(USERS, json=body, headers=bearer(writer))

    assert "users:write" in assert_envelope(refused, 403, "PermissionDeniedError")["message"]
    assert created.status_code == 201, created.text
    assert created.json()["is_active"] is False


async def test_a_plain_sign_up_needs_no_scope(api: Api) -> None:
    me = await api.create_account("user")
    token = await secret(api, me, ["profile:read"])
    body = {"email": "plain@example.com", "username": "plain", "password": PASSWORD}

    response = await api.client.post(USERS, json=body, headers=bearer(token))

    assert response.status_code == 201, response.text
    assert (response.json()["role"], response.json()["is_active"]) == ("user", True)


# --- credentials: no scope opens them ------------------------------------------------------------

CREDENTIAL_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/users/me/password", {"current_password": PASSWORD, "new_password": "Another-Pass-77"}),
    ("POST", "/users/me/mfa/totp", {"password": PASSWORD}),
    ("POST", "/users/me/mfa/totp/confirm", {"code": "123456"}),
    ("POST", "/users/me/mfa/recovery-codes", {"code": "123456"}),
    ("DELETE", "/users/me/mfa", {"password": PASSWORD, "code": "123456"}),
    ("GET", "/users/me/sessions", None),
    ("DELETE", "/users/me/sessions/1", None),
    ("DELETE", "/users/{other}/sessions", None),
    ("DELETE", "/users/{other}/mfa", None),
    ("POST", "/auth/logout", None),
    ("GET", "/users/me/tokens", None),
    ("POST", "/users/me/tokens", {"name": "nested", "scopes": ["profile:read"]}),
]


@pytest.mark.parametrize("role", ["user", "admin"])
@pytest.mark.parametrize(("method", "path", "body"), CREDENTIAL_ROUTES)
async def test_a_token_with_every_scope_gets_403_on_credential_routes(
    api: Api, role: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    me, other = await api.create_account(role), await api.create_account("user")
    token = await secret(api, me, grantable(role))
    url = "/api/v1" + path.format(other=other.id)

    response = await api.client.request(method, url, json=body, headers=bearer(token))

    assert "session" in assert_envelope(response, 403, "PermissionDeniedError")["message"]
    for account in (me, other):  # nobody was signed out, and the password is unchanged
        assert (await api.client.get(ME, headers=account.auth)).status_code == 200
    await api.login(me.email, PASSWORD)
    assert len((await api.client.get(MY_TOKENS, headers=me.auth)).json()["items"]) == 1
