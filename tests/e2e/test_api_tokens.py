"""§13 personal API tokens over HTTP: create, list and revoke under every prefix; the `gat_` format;
who may call each token route (a session, an admin for others; never an API token)."""

import zlib
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.account_support import assert_unauthenticated, caller, headers
from tests.e2e.api_token_support import (
    ALL_SCOPES,
    MISSING_ID,
    MY_TOKENS,
    assert_token_format,
    crc_base62,
    create_token,
    listed,
    secret,
    tokens_of,
    works,
)
from tests.e2e.conftest import Account, Api, assert_envelope
from tests.e2e.mfa_support import bearer

PREFIXES = ["/api/v1", "/api/v2", ""]
ROLES = ["user", "moderator", "admin"]
FIELDS = {"id", "name", "scopes", "created_at", "expires_at", "last_used_at"}


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- create, list, revoke ------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_create_list_use_and_revoke_under_each_prefix(api: Api, prefix: str) -> None:
    owner = await api.create_account()
    path = f"{prefix}/users/me/tokens"

    created = await api.client.post(
        path, json={"name": "deploy", "scopes": ["profile:read"], "expires_in_days": 7}, headers=owner.auth
    )

    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    assert set(body) == FIELDS | {"token"}
    assert (body["name"], body["scopes"], body["last_used_at"]) == ("deploy", ["profile:read"], None)
    assert at(body["expires_at"]) - at(body["created_at"]) == timedelta(days=7)
    assert_token_format(body["token"])

    listing = await api.client.get(path, headers=owner.auth)
    assert listing.status_code == 200, listing.text
    assert listing.headers["cache-control"] == "private, no-cache"
    [item] = listing.json()["items"]
    assert item == {k: v for k, v in body.items() if k != "token"}
    assert body["token"] not in listing.text
    assert body["token"][4:] not in listing.text

    me = await api.client.get(f"{prefix}/users/me", headers=bearer(body["token"]))
    assert me.status_code == 200, me.text
    assert (me.json()["id"], me.json()["email"]) == (owner.id, owner.email)

    revoked = await api.client.delete(f"{path}/{body['id']}", headers=owner.auth)
    assert revoked.status_code == 204, revoked.text
    assert_unauthenticated(await api.client.get(f"{prefix}/users/me", headers=bearer(body["token"])))
    assert (await api.client.get(path, headers=owner.auth)).json() == {"items": []}


def test_the_checksum_helper_is_the_documented_crc32_in_base62() -> None:
    # 0x2AE98C30 = 719948848 = 48*62^4 + 44*62^3 + 51*62^2 + 36*62 + 12: "0mipaC" (padded).
    assert zlib.crc32(b"A" * 40) == 0x2AE98C30
    assert crc_base62("A" * 40) == "0mipaC"
    assert crc_base62("0" * 40) == "2kaqcA"
    assert crc_base62("") == "000000"  # CRC-32 of nothing is 0: all padding


async def test_every_new_token_has_a_valid_checksum_and_is_unique(api: Api) -> None:
    owner = await api.create_account()
    tokens = [await secret(api, owner, ["profile:read"]) for _ in range(20)]

    for token in tokens:
        assert_token_format(token)
    assert len(set(tokens)) == len(tokens)


async def test_defaults_scopes_in_table_order_and_oldest_first(api: Api) -> None:
    owner = await api.create_account("admin")
    first = await create_token(api, owner, list(reversed(ALL_SCOPES)), name="  padded name  ")
    second = await create_token(api, owner, ["orders:read"], name="second")

    assert first["scopes"] == ALL_SCOPES
    assert first["name"] == "padded name"
    assert at(first["expires_at"]) - at(first["created_at"]) == timedelta(days=30)
    assert [t["id"] for t in await listed(api, owner)] == [first["id"], second["id"]]


async def test_only_the_owners_tokens_are_listed(api: Api) -> None:
    owner, other = await api.create_account(), await api.create_account()
    mine = await create_token(api, owner)
    await create_token(api, other)

    assert [t["id"] for t in await listed(api, owner)] == [mine["id"]]


# --- who may call the routes ---------------------------------------------------------------------


async def route_call(api: Api, route: str, auth: dict[str, str], owner: Account) -> httpx.Response:
    """One call of a token route about `owner` (its own routes when `auth` is the owner's)."""
    made = await create_token(api, owner, ["profile:read"])
    calls: dict[str, Any] = {
        "create": lambda: api.client.post(
            MY_TOKENS, json={"name": "x", "scopes": ["profile:read"]}, headers=auth
        ),
        "list": lambda: api.client.get(MY_TOKENS, headers=auth),
        "revoke": lambda: api.client.delete(f"{MY_TOKENS}/{made['id']}", headers=auth),
        "list-of": lambda: api.client.get(tokens_of(owner.id), headers=auth),
        "revoke-of": lambda: api.client.delete(f"{tokens_of(owner.id)}/{made['id']}", headers=auth),
    }
    response: httpx.Response = await calls[route]()
    return response


ROUTES = ["create", "list", "revoke", "list-of", "revoke-of"]
SUCCESS = {"create": 201, "list": 200, "revoke": 204, "list-of": 200, "revoke-of": 204}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES)
async def test_every_role_manages_its_own_tokens_by_a_session(api: Api, role: str, route: str) -> None:
    me = await caller(api, role)
    assert me is not None

    response = await route_call(api, route, me.auth, me)

    assert response.status_code == SUCCESS[route], response.text


@pytest.mark.parametrize("route", ROUTES)
async def test_without_a_token_every_token_route_is_401(api: Api, route: str) -> None:
    owner = await api.create_account()

    assert_unauthenticated(await route_call(api, route, {}, owner))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES)
async def test_an_api_token_with_every_scope_is_refused_on_every_token_route(
    api: Api, role: str, route: str
) -> None:
    me = await caller(api, role)
    assert me is not None
    scopes = ALL_SCOPES if role == "admin" else ALL_SCOPES[:-1]
    token = await secret(api, me, scopes)
    before = await listed(api, me)

    response = await route_call(api, route, bearer(token), me)

    body = assert_envelope(response, 403, "PermissionDeniedError")
    assert "session" in body["message"]
    assert len(await listed(api, me)) == len(before) + 1  # only route_call's own token was added


@pytest.mark.parametrize("role", ["user", "moderator"])
@pytest.mark.parametrize("route", ["list-of", "revoke-of"])
async def test_a_non_admin_may_not_touch_anothers_tokens(api: Api, role: str, route: str) -> None:
    me, victim = await caller(api, role), await api.create_account()
    assert me is not None

    response = await route_call(api, route, me.auth, victim)

    assert_envelope(response, 403, "PermissionDeniedError")
    assert len(await listed(api, victim)) == 1


async def test_an_admin_lists_and_revokes_anothers_tokens(api: Api) -> None:
    admin, victim = await api.admin(), await api.create_account("moderator")
    made = await create_token(api, victim)

    listing = await api.client.get(tokens_of(victim.id), headers=admin.auth)
    assert listing.status_code == 200, listing.text
    assert listing.headers["cache-control"] == "private, no-cache"
    assert [t["id"] for t in listing.json()["items"]] == [made["id"]]
    assert made["token"] not in listing.text

    revoked = await api.client.delete(f"{tokens_of(victim.id)}/{made['id']}", headers=admin.auth)
    assert revoked.status_code == 204, revoked.text
    assert not await works(api, made["token"])


async def test_an_admin_naming_an_unknown_account_gets_404(api: Api) -> None:
    admin = await api.admin()

    assert_envelope(await api.client.get(tokens_of(MISSING_ID), headers=admin.auth), 404, "NotFoundError")
    assert_envelope(
        await api.client.delete(f"{tokens_of(MISSING_ID)}/1", headers=admin.auth), 404, "NotFoundError"
    )


async def test_an_admin_revoking_under_the_wrong_owner_gets_404(api: Api) -> None:
    admin, owner, other = await api.admin(), await api.create_account(), await api.create_account()
    made = await create_token(api, owner)

    response = await api.client.delete(f"{tokens_of(other.id)}/{made['id']}", headers=admin.auth)

    assert_envelope(response, 404, "NotFoundError")
    assert await works(api, made["token"])


@pytest.mark.parametrize("who", ["user", "admin"])
async def test_revoking_anothers_token_as_ones_own_is_404_and_leaves_it(api: Api, who: str) -> None:
    me, owner = await caller(api, who), await api.create_account()
    made = await create_token(api, owner)

    response = await api.client.delete(f"{MY_TOKENS}/{made['id']}", headers=headers(me))

    assert_envelope(response, 404, "NotFoundError")
    assert await works(api, made["token"])


async def test_revoking_twice_or_an_unknown_id_is_404(api: Api) -> None:
    owner = await api.create_account()
    made = await create_token(api, owner)
    assert (await api.client.delete(f"{MY_TOKENS}/{made['id']}", headers=owner.auth)).status_code == 204

    again = await api.client.delete(f"{MY_TOKENS}/{made['id']}", headers=owner.auth)
    unknown = await api.client.delete(f"{MY_TOKENS}/{MISSING_ID}", headers=owner.auth)

    assert_envelope(again, 404, "NotFoundError")
    assert_envelope(unknown, 404, "NotFoundError")


async def test_a_revoked_token_is_gone_from_the_admins_listing_too(api: Api) -> None:
    admin, owner = await api.admin(), await api.create_account()
    kept, dropped = await create_token(api, owner, name="kept"), await create_token(api, owner, name="gone")
    await api.client.delete(f"{MY_TOKENS}/{dropped['id']}", headers=owner.auth)

    listing = await api.client.get(tokens_of(owner.id), headers=admin.auth)

    assert [t["id"] for t in listing.json()["items"]] == [kept["id"]]
