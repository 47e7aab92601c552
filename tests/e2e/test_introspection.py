"""§13 introspection (RFC 7662): `POST /auth/introspect` for an admin's API token with `introspect`;
live access and API tokens described, anything else exactly `{"active": false}`."""

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest

from tests.databases import ENGINES
from tests.e2e.account_support import assert_unauthenticated
from tests.e2e.api_token_support import (
    ALL_SCOPES,
    INTROSPECT,
    MY_TOKENS,
    USERS,
    clocked_api,
    crc_base62,
    create_token,
    introspect,
    secret,
)
from tests.e2e.conftest import Api, assert_envelope
from tests.e2e.mfa_support import LOGOUT, bearer, enrolled_account, mfa_token

INACTIVE = {"active": False}


async def introspector(api: Api) -> str:
    """An admin's API token with the `introspect` scope only."""
    return await secret(api, await api.create_account("admin"), ["introspect"])


def claims_of(access_token: str) -> dict[str, Any]:
    return dict(jwt.decode(access_token, options={"verify_signature": False}))


# --- who may introspect --------------------------------------------------------------------------


async def test_a_session_even_an_admins_is_403(api: Api) -> None:
    admin = await api.admin()

    response = await api.client.post(INTROSPECT, json={"token": admin.token}, headers=admin.auth)

    assert "introspect" in assert_envelope(response, 403, "PermissionDeniedError")["message"]


async def test_an_admin_token_without_the_scope_is_403_naming_it(api: Api) -> None:
    admin = await api.admin()
    token = await secret(api, admin, ALL_SCOPES[:-1])

    response = await introspect(api, token, admin.token)

    assert "introspect" in assert_envelope(response, 403, "PermissionDeniedError")["message"]


async def test_a_token_whose_owner_is_no_longer_an_admin_is_403(api: Api) -> None:
    first, second = await api.admin(), await api.create_account("admin")
    token = await secret(api, second, ["introspect"])
    assert (await introspect(api, token, first.token)).status_code == 200

    demoted = await api.client.patch(f"{USERS}/{second.id}", json={"role": "moderator"}, headers=first.auth)
    assert demoted.status_code == 200, demoted.text

    assert_envelope(await introspect(api, token, first.token), 403, "PermissionDeniedError")


async def test_without_a_bearer_it_is_401(api: Api) -> None:
    assert_unauthenticated(await api.client.post(INTROSPECT, json={"token": "anything"}))


# --- live tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
async def test_a_live_access_token_is_described(api: Api, form: bool) -> None:
    caller, someone = await introspector(api), await api.create_account("moderator")

    if form:
        response = await api.client.post(INTROSPECT, data={"token": someone.token}, headers=bearer(caller))
    else:
        response = await introspect(api, caller, someone.token)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "active": True,
        "sub": str(someone.id),
        "exp": claims_of(someone.token)["exp"],
        "token_type": "access_token",
    }


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
async def test_a_live_api_token_is_described_with_its_scopes(api: Api, form: bool) -> None:
    caller, someone = await introspector(api), await api.create_account()
    made = await create_token(api, someone, ["orders:write", "profile:read", "orders:read"])

    if form:
        response = await api.client.post(INTROSPECT, data={"token": made["token"]}, headers=bearer(caller))
    else:
        response = await introspect(api, caller, made["token"])

    assert response.status_code == 200, response.text
    assert response.json() == {
        "active": True,
        "sub": str(someone.id),
        "exp": int(datetime.fromisoformat(made["expires_at"]).timestamp()),
        "token_type": "api_token",
        "scope": "profile:read orders:read orders:write",
    }


@pytest.mark.parametrize("prefix", ["/api/v1", "/api/v2", ""])
async def test_introspection_answers_under_every_prefix(api: Api, prefix: str) -> None:
    caller, someone = await introspector(api), await api.create_account()

    response = await api.client.post(
        f"{prefix}/auth/introspect", json={"token": someone.token}, headers=bearer(caller)
    )

    assert response.status_code == 200, response.text
    assert (response.json()["active"], response.json()["sub"]) == (True, str(someone.id))


async def test_the_introspecting_token_may_introspect_itself(api: Api) -> None:
    caller = await introspector(api)

    body = (await introspect(api, caller, caller)).json()

    assert (body["active"], body["token_type"], body["scope"]) == (True, "api_token", "introspect")


# --- anything else: exactly {"active": false} -----------------------------------------------------


async def test_a_refresh_token_is_inactive(api: Api) -> None:
    caller, someone = await introspector(api), await api.create_account()

    response = await introspect(api, caller, someone.refresh_token)

    assert response.status_code == 200, response.text
    assert response.json() == INACTIVE


async def test_an_mfa_token_is_inactive(api: Api) -> None:
    caller, enrolled = await introspector(api), await enrolled_account(api)

    assert (await introspect(api, caller, await mfa_token(api, enrolled.account.email))).json() == INACTIVE


async def test_a_revoked_api_token_and_a_deactivated_owners_are_inactive(api: Api) -> None:
    caller, admin = await introspector(api), await api.admin()
    owner, leaver = await api.create_account(), await api.create_account()
    revoked, orphaned = await create_token(api, owner), await create_token(api, leaver)
    assert (await api.client.delete(f"{MY_TOKENS}/{revoked['id']}", headers=owner.auth)).status_code == 204
    deactivated = await api.client.patch(
        f"{USERS}/{leaver.id}", json={"is_active": False}, headers=admin.auth
    )
    assert deactivated.status_code == 200, deactivated.text

    assert (await introspect(api, caller, revoked["token"])).json() == INACTIVE
    assert (await introspect(api, caller, orphaned["token"])).json() == INACTIVE
    assert (await introspect(api, caller, leaver.token)).json() == INACTIVE


async def test_an_access_token_of_a_logged_out_session_is_inactive(api: Api) -> None:
    caller, someone = await introspector(api), await api.create_account()
    assert (await introspect(api, caller, someone.token)).json()["active"] is True

    assert (await api.client.post(LOGOUT, headers=someone.auth)).status_code == 204

    assert (await introspect(api, caller, someone.token)).json() == INACTIVE


async def test_a_jwt_signed_with_another_secret_is_inactive(api: Api) -> None:
    caller, someone = await introspector(api), await api.create_account()
    header = jwt.get_unverified_header(someone.token)
    forged = jwt.encode(
        claims_of(someone.token), "another-secret-of-32-bytes-or-more!", algorithm="HS256", headers=header
    )

    assert forged != someone.token
    assert (await introspect(api, caller, forged)).json() == INACTIVE


GARBAGE = [
    "garbage",
    "gat_",
    "gat_" + "Q" * 40 + crc_base62("Q" * 40),  # well-formed, never issued
    "gat_" + "Q" * 40 + "000000",
    "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
    "a.b.c",
    "é" * 50,
    "x" * 4096,
]


@pytest.mark.parametrize("token", GARBAGE, ids=range(len(GARBAGE)))
async def test_garbage_is_inactive(api: Api, token: str) -> None:
    response = await introspect(api, await introspector(api), token)

    assert response.status_code == 200, response.text
    assert response.json() == INACTIVE


@pytest.mark.parametrize("engine", ENGINES)
async def test_an_expired_api_token_is_inactive(engine: str, tmp_path: Path) -> None:
    async with clocked_api(engine, tmp_path) as (api, clock):
        caller, someone = await introspector(api), await api.create_account()
        made = await create_token(api, someone, expires_in_days=1)
        assert (await introspect(api, caller, made["token"])).json()["active"] is True

        clock.advance(24 * 3600 + 1)

        assert (await introspect(api, caller, made["token"])).json() == INACTIVE


# --- the request ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ({}, "json"),
        ({"token": ""}, "json"),
        ({"token": 5}, "json"),
        ({"token": "x", "extra": 1}, "json"),
        ({}, "form"),
        ({"other": "x"}, "form"),
    ],
)
async def test_a_missing_or_malformed_token_field_is_422(
    api: Api, body: dict[str, Any], content_type: str
) -> None:
    caller = await introspector(api)

    if content_type == "form":  # sent with its content type even when empty (httpx omits it then)
        form = {**bearer(caller), "Content-Type": "application/x-www-form-urlencoded"}
        response = await api.client.post(INTROSPECT, content=urlencode(body), headers=form)
    else:
        response = await api.client.post(INTROSPECT, json=body, headers=bearer(caller))

    assert_envelope(response, 422, "ValidationError")
