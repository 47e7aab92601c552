"""§13 an API token's life: what ends it and what doesn't, expiry and `last_used_at` on a held clock,
its audit events and notice, the bounds of a request, malformed bearers, revocation under load."""

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.databases import ENGINES
from tests.e2e.account_support import (
    CONFIRM,
    NEW_PASSWORD,
    RESET,
    assert_unauthenticated,
    audit_trail,
    custom_api,
    last_token,
    outbox,
)
from tests.e2e.api_token_support import (
    ALL_SCOPES,
    ME,
    MY_TOKENS,
    USERS,
    clocked_api,
    crc_base62,
    create_token,
    listed,
    secret,
    tokens_of,
    works,
)
from tests.e2e.conftest import PASSWORD, Api, assert_envelope
from tests.e2e.mfa_support import bearer, enrolled_account, mfa_enabled

NOTICE = "Security notice: API token created"


# --- what ends a token, what keeps it ------------------------------------------------------------


async def test_deleting_the_owner_ends_its_tokens(api: Api) -> None:
    owner = await api.create_account()
    token = await secret(api, owner)

    assert (
        await api.client.delete(f"{USERS}/{owner.id}", headers=(await api.admin()).auth)
    ).status_code == 204

    assert_unauthenticated(await api.client.get(ME, headers=bearer(token)))


async def test_deactivation_ends_tokens_and_a_reactivation_revives_none(api: Api) -> None:
    admin, owner = await api.admin(), await api.create_account()
    token = await secret(api, owner)

    for active in (False, True):
        response = await api.client.patch(
            f"{USERS}/{owner.id}", json={"is_active": active}, headers=admin.auth
        )
        assert response.status_code == 200, response.text
        assert_unauthenticated(await api.client.get(ME, headers=bearer(token)))


async def test_a_password_reset_ends_tokens(api: Api) -> None:
    owner = await api.create_account()
    token = await secret(api, owner)

    assert (await api.client.post(RESET, json={"email": owner.email})).status_code == 202
    reset = await last_token(api, owner.email, "reset-password")
    confirmed = await api.client.post(CONFIRM, json={"token": reset, "new_password": NEW_PASSWORD})
    assert confirmed.status_code == 204, confirmed.text

    assert_unauthenticated(await api.client.get(ME, headers=bearer(token)))


async def test_password_change_role_and_email_changes_and_signing_out_keep_tokens(api: Api) -> None:
    admin, owner = await api.admin(), await api.create_account()
    token = await secret(api, owner, ["profile:read", "users:read"])

    changed = await api.client.post(
        f"{ME}/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=owner.auth,
    )
    assert changed.status_code == 204, changed.text
    assert_unauthenticated(await api.client.get(ME, headers=owner.auth))  # every session ended, not the token
    assert await works(api, token)

    session = bearer((await api.login(owner.email, NEW_PASSWORD))[0])
    moved = await api.client.patch(
        f"{USERS}/{owner.id}", json={"email": "moved@example.com"}, headers=session
    )
    assert moved.status_code == 200, moved.text
    assert (await api.client.get(ME, headers=bearer(token))).json()["email"] == "moved@example.com"

    assert_envelope(await api.client.get(USERS, headers=bearer(token)), 403, "PermissionDeniedError")
    promoted = await api.client.patch(f"{USERS}/{owner.id}", json={"role": "moderator"}, headers=admin.auth)
    assert promoted.status_code == 200, promoted.text
    assert (await api.client.get(USERS, headers=bearer(token))).status_code == 200  # the role is read now

    signed_out = await api.client.delete(f"{USERS}/{owner.id}/sessions", headers=admin.auth)
    assert signed_out.status_code == 204, signed_out.text
    assert_unauthenticated(await api.client.get(ME, headers=session))
    assert await works(api, token)


async def test_an_admins_mfa_reset_keeps_tokens(api: Api) -> None:
    enrolled = await enrolled_account(api)
    token = await secret(api, enrolled.account)

    reset = await api.client.delete(f"{USERS}/{enrolled.account.id}/mfa", headers=(await api.admin()).auth)

    assert reset.status_code == 204, reset.text
    assert not await mfa_enabled(api, enrolled.account)
    assert await works(api, token)


# --- expiry and last use, on a held clock --------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_token_past_its_expiry_is_401_yet_still_listed(engine: str, tmp_path: Path) -> None:
    async with clocked_api(engine, tmp_path) as (api, clock):
        owner = await api.create_account()
        made = await create_token(api, owner, expires_in_days=1)
        clock.advance(24 * 3600 - 1)
        assert await works(api, made["token"])

        clock.advance(2)

        assert_unauthenticated(await api.client.get(ME, headers=bearer(made["token"])))
        assert [t["id"] for t in await listed(api, owner)] == [made["id"]]


@pytest.mark.parametrize("engine", ENGINES)
async def test_last_used_at_moves_at_most_once_a_minute(engine: str, tmp_path: Path) -> None:
    async with clocked_api(engine, tmp_path) as (api, clock):
        owner = await api.create_account()
        made = await create_token(api, owner)

        async def last_used() -> datetime | None:
            [item] = await listed(api, owner)
            return None if item["last_used_at"] is None else datetime.fromisoformat(item["last_used_at"])

        assert await last_used() is None
        assert await works(api, made["token"])
        first = await last_used()
        assert first == clock.now()

        clock.advance(30)
        assert await works(api, made["token"])
        assert await last_used() == first

        clock.advance(31)
        assert await works(api, made["token"])
        assert await last_used() == first + timedelta(seconds=61)


# --- audit and notice ----------------------------------------------------------------------------


async def test_creation_and_revocation_are_audited_and_the_owner_told_without_the_secret(api: Api) -> None:
    admin, owner = await api.admin(), await api.create_account()
    mine, theirs = await create_token(api, owner, name="mine"), await create_token(api, owner, name="theirs")
    assert (await api.client.delete(f"{MY_TOKENS}/{mine['id']}", headers=owner.auth)).status_code == 204
    assert (
        await api.client.delete(f"{tokens_of(owner.id)}/{theirs['id']}", headers=admin.auth)
    ).status_code == 204

    created = list(reversed(await audit_trail(api, action="token.created", user_id=owner.id)))
    revoked = list(reversed(await audit_trail(api, action="token.revoked", user_id=owner.id)))

    assert [e["details"]["token_id"] for e in created] == [mine["id"], theirs["id"]]
    assert created[0]["details"]["scopes"] == mine["scopes"]
    assert [(e["details"]["token_id"], e["actor_id"]) for e in revoked] == [
        (mine["id"], owner.id),
        (theirs["id"], admin.id),
    ]
    mails = [m for m in await outbox(api) if m.recipient == owner.email and m.subject == NOTICE]
    assert len(mails) == 2
    text = json.dumps(created + revoked) + "".join(m.body for m in mails)
    for made in (mine, theirs):
        assert made["token"] not in text
        assert made["token"][4:44] not in text


# --- the request's bounds ------------------------------------------------------------------------


@pytest.mark.parametrize("days", [0, -1, 366, 2**63, "x", "30", 1.5, True])
async def test_expires_in_days_out_of_bounds_is_422(api: Api, days: Any) -> None:
    owner = await api.create_account()
    body = {"name": "n", "scopes": ["profile:read"], "expires_in_days": days}

    response = await api.client.post(MY_TOKENS, json=body, headers=owner.auth)

    assert_envelope(response, 422, "ValidationError")
    assert await listed(api, owner) == []


@pytest.mark.parametrize("engine", ENGINES)
async def test_the_longest_life_is_the_setting(engine: str, tmp_path: Path) -> None:
    async with custom_api(engine, tmp_path, api_token_max_days=10) as api:
        owner = await api.create_account()
        default = await create_token(api, owner)
        longest = await create_token(api, owner, expires_in_days=10)
        refused = await api.client.post(
            MY_TOKENS,
            json={"name": "n", "scopes": ["profile:read"], "expires_in_days": 11},
            headers=owner.auth,
        )

        for made in (default, longest):
            life = datetime.fromisoformat(made["expires_at"]) - datetime.fromisoformat(made["created_at"])
            assert life == timedelta(days=10)
        assert_envelope(refused, 422, "ValidationError")


async def test_at_most_100_live_tokens(api: Api) -> None:
    owner = await api.create_account()
    ids = [(await create_token(api, owner, ["profile:read"], name=f"t{n}"))["id"] for n in range(100)]
    body = {"name": "one too many", "scopes": ["profile:read"]}

    assert_envelope(await api.client.post(MY_TOKENS, json=body, headers=owner.auth), 409, "ConflictError")
    assert len(await listed(api, owner)) == 100
    assert (await api.client.delete(f"{MY_TOKENS}/{ids[0]}", headers=owner.auth)).status_code == 204
    assert (await api.client.post(MY_TOKENS, json=body, headers=owner.auth)).status_code == 201


async def test_simultaneous_creations_at_the_cap_stop_at_100(api: Api) -> None:
    owner = await api.create_account()
    for n in range(97):
        await create_token(api, owner, ["profile:read"], name=f"t{n}")
    body = {"name": "racing", "scopes": ["profile:read"]}

    answers = await asyncio.gather(
        *(api.client.post(MY_TOKENS, json=body, headers=owner.auth) for _ in range(6))
    )

    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 3, [a.text for a in answers]
    assert len(await listed(api, owner)) == 100


HOSTILE: list[Any] = [
    {"name": "a\x00b", "scopes": ["profile:read"]},
    {"name": "x" * 1_000_000, "scopes": ["profile:read"]},
    {"name": "x" * 101, "scopes": ["profile:read"]},
    {"name": "   ", "scopes": ["profile:read"]},
    {"name": "n", "scopes": "profile:read"},
    {"name": "n", "scopes": []},
    {"name": "n", "scopes": ["profile:read", "root"]},
    {"name": "n", "scopes": ["profile:read"], "owner_id": 1},
    {"name": "n"},
    ["profile:read"],
]


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_bodies_are_refused_without_a_500(api: Api, body: Any) -> None:
    owner = await api.create_account()

    response = await api.client.post(MY_TOKENS, json=body, headers=owner.auth)

    assert response.status_code in (413, 422), response.text
    assert_envelope(response, response.status_code, response.json()["error"])
    assert await listed(api, owner) == []


async def test_duplicate_scopes_are_kept_once_and_introspect_is_for_admins(api: Api) -> None:
    owner = await api.create_account("moderator")

    made = await create_token(api, owner, ["orders:read", "profile:read", "orders:read"])
    asked = await api.client.post(MY_TOKENS, json={"name": "n", "scopes": ["introspect"]}, headers=owner.auth)

    assert made["scopes"] == ["profile:read", "orders:read"]
    assert "introspect" in assert_envelope(asked, 403, "PermissionDeniedError")["message"]
    assert len(await listed(api, owner)) == 1


# --- malformed bearer values ---------------------------------------------------------------------


async def test_malformed_or_unknown_api_tokens_are_401(api: Api) -> None:
    real = await secret(api, await api.create_account(), ALL_SCOPES[:1])
    flipped = real[:-1] + ("A" if real[-1] != "A" else "B")
    random_part = "Q" * 40
    bad: list[str | bytes] = [
        flipped,
        real[:-1],
        real + "0",
        "gat_",
        "gat_" + random_part,
        "gat_" + random_part + crc_base62(random_part),  # well-formed, never issued
        real[:10] + "_" + real[11:],
        real.upper() if real != real.upper() else real.lower(),
    ]
    bad.append(("gat_" + "é" * 40 + crc_base62(random_part)).encode())
    for value in bad:
        raw = value if isinstance(value, bytes) else value.encode()
        response = await api.client.get(ME, headers={b"Authorization": b"Bearer " + raw})
        assert_unauthenticated(response)
    assert await works(api, real)


# --- revocation under load -----------------------------------------------------------------------


async def test_after_a_revocation_answers_204_every_later_request_is_401(api: Api) -> None:
    owner = await api.create_account()
    made = await create_token(api, owner)
    revoked = asyncio.Event()

    async def use() -> list[tuple[bool, int]]:
        seen: list[tuple[bool, int]] = []
        while sum(after for after, _ in seen) < 2 and len(seen) < 200:  # two requests after the 204
            await asyncio.sleep(0)  # on SQLite a request may never yield: let the revocation in
            after = revoked.is_set()
            seen.append((after, (await api.client.get(ME, headers=bearer(made["token"]))).status_code))
        return seen

    async def revoke() -> int:
        for _ in range(40):  # a few rounds of requests first
            await asyncio.sleep(0)
        status = (await api.client.delete(f"{MY_TOKENS}/{made['id']}", headers=owner.auth)).status_code
        revoked.set()
        return status

    batches, status = await asyncio.gather(asyncio.gather(*(use() for _ in range(20))), revoke())

    assert status == 204
    seen = [pair for batch in batches for pair in batch]
    assert {code for _, code in seen} <= {200, 401}, seen
    assert all(code == 401 for after, code in seen if after), seen
    assert sum(after for after, _ in seen) == 40
    assert any(code == 200 for _, code in seen), seen  # the uses did overlap the revocation
    assert not await works(api, made["token"])


async def test_two_simultaneous_revocations_one_204_one_404(api: Api) -> None:
    owner = await api.create_account()
    for _ in range(3):
        made = await create_token(api, owner)
        url = f"{MY_TOKENS}/{made['id']}"

        answers = await asyncio.gather(*(api.client.delete(url, headers=owner.auth) for _ in range(2)))

        assert sorted(a.status_code for a in answers) == [204, 404], [a.text for a in answers]
        assert len(await audit_trail(api, action="token.revoked", user_id=owner.id)) >= 1
    assert len(await audit_trail(api, action="token.revoked", user_id=owner.id)) == 3
