"""§12 the life of an `mfa_token`: it dies with a password change or reset, a deactivation and a
deletion; the deactivated and unverified checks come before the challenge; a reset leaves MFA on."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import case, update

from gatehouse.adapters.sqlalchemy.tables import mfa_challenges
from tests.databases import ENGINES
from tests.e2e.account_support import custom_api, last_token
from tests.e2e.conftest import PASSWORD, Api, assert_envelope
from tests.e2e.mfa_support import (
    ME,
    TOKEN,
    USERS,
    Enrolled,
    assert_unauthenticated,
    count_rows,
    enrol,
    enrolled_account,
    mfa_enabled,
    mfa_token,
    password_step,
    second_step,
)
from tests.e2e.test_credential_races import HoldingHasher, held  # noqa: F401 - the fixture

NEW_PASSWORD = "Renewed-Pass-4815"


async def change_password(api: Api, enrolled: Enrolled) -> None:
    response = await api.client.post(
        f"{ME}/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=enrolled.account.auth,
    )
    assert response.status_code == 204, response.text


async def reset_password(api: Api, enrolled: Enrolled) -> None:
    asked = await api.client.post("/api/v1/auth/password-reset", json={"email": enrolled.account.email})
    assert asked.status_code == 202, asked.text
    token = await last_token(api, enrolled.account.email, "reset-password")
    confirmed = await api.client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert confirmed.status_code == 204, confirmed.text


async def deactivate(api: Api, enrolled: Enrolled) -> None:
    response = await api.client.patch(
        f"{USERS}/{enrolled.account.id}", json={"is_active": False}, headers=(await api.admin()).auth
    )
    assert response.status_code == 200, response.text


async def delete(api: Api, enrolled: Enrolled) -> None:
    response = await api.client.delete(f"{USERS}/{enrolled.account.id}", headers=(await api.admin()).auth)
    assert response.status_code == 204, response.text


CHANGES = {
    "password-change": change_password,
    "password-reset": reset_password,
    "deactivation": deactivate,
    "deletion": delete,
}


@pytest.mark.parametrize("change", list(CHANGES))
async def test_an_mfa_token_dies_with_the_change(api: Api, change: str) -> None:
    enrolled = await enrolled_account(api)
    token = await mfa_token(api, enrolled.account.email)

    await CHANGES[change](api, enrolled)

    assert_unauthenticated(await second_step(api, token, await enrolled.app.code()))
    assert_unauthenticated(await second_step(api, token, enrolled.recovery_codes[0]))


async def test_a_reactivation_does_not_revive_an_mfa_token(api: Api) -> None:
    enrolled = await enrolled_account(api)
    token = await mfa_token(api, enrolled.account.email)
    await deactivate(api, enrolled)
    on = await api.client.patch(
        f"{USERS}/{enrolled.account.id}", json={"is_active": True}, headers=(await api.admin()).auth
    )
    assert on.status_code == 200, on.text

    assert_unauthenticated(await second_step(api, token, enrolled.recovery_codes[0]))
    # The account itself logs in again, with both steps.
    fresh = await mfa_token(api, enrolled.account.email)
    assert (await second_step(api, fresh, enrolled.recovery_codes[0])).status_code == 200


@pytest.mark.parametrize("change", ["password-change", "password-reset"])
async def test_a_new_password_leaves_mfa_on(api: Api, change: str) -> None:
    enrolled = await enrolled_account(api)

    await CHANGES[change](api, enrolled)

    assert await mfa_enabled(api, enrolled.account) is True
    token = await mfa_token(api, enrolled.account.email, NEW_PASSWORD)
    assert (await second_step(api, token, await enrolled.app.code())).status_code == 200


async def test_a_deactivated_account_gets_403_before_any_challenge(api: Api) -> None:
    enrolled = await enrolled_account(api)
    await deactivate(api, enrolled)

    response = await password_step(api, enrolled.account.email)

    body = assert_envelope(response, 403, "PermissionDeniedError")
    assert "mfa_token" not in body


@pytest.mark.parametrize("engine", ENGINES)
async def test_an_unverified_account_gets_403_before_any_challenge(engine: str, tmp_path: Path) -> None:
    async with custom_api(engine, tmp_path, require_verified_email=True) as api:
        account = await api.create_account()  # made by the operator: verified
        enrolled = await enrol(api, account)
        changed = await api.client.patch(
            f"{USERS}/{account.id}", json={"email": "moved.away@example.com"}, headers=account.auth
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["email_verified"] is False

        response = await password_step(api, "moved.away@example.com")

        body = assert_envelope(response, 403, "PermissionDeniedError")
        assert "mfa_token" not in body
        assert enrolled.app.secret  # MFA stays on, unused


async def test_a_password_step_checked_before_a_password_change_yields_no_working_mfa_token(
    held: tuple[Api, HoldingHasher],  # noqa: F811
) -> None:
    api, hasher = held
    enrolled = await enrolled_account(api)
    hasher.hold_next = True
    racing = asyncio.create_task(
        api.client.post(TOKEN, json={"email": enrolled.account.email, "password": PASSWORD})
    )
    await asyncio.wait_for(hasher.holding.wait(), 10)
    await change_password(api, enrolled)
    hasher.release.set()

    answer = await racing

    assert answer.status_code in (401, 403), answer.text
    if answer.status_code == 403:
        token = assert_envelope(answer, 403, "MfaRequiredError")["mfa_token"]
        assert_unauthenticated(await second_step(api, token, enrolled.recovery_codes[0]))


async def test_spent_and_expired_mfa_tokens_are_pruned_and_a_live_one_stays(api: Api) -> None:
    """§5: spent or expired one-time tokens do not pile up (`gatehouse db prune`, housekeeping)."""
    enrolled = await enrolled_account(api)
    spent = await mfa_token(api, enrolled.account.email)
    assert (await second_step(api, spent, enrolled.recovery_codes[0])).status_code == 200
    await mfa_token(api, enrolled.account.email)  # left to expire
    long_ago = datetime.now(UTC) - timedelta(days=2)
    async with api.container.database().write_engine.begin() as conn:
        await conn.execute(
            update(mfa_challenges).values(
                created_at=long_ago,
                expires_at=long_ago + timedelta(minutes=5),
                used_at=case((mfa_challenges.c.used_at.is_(None), None), else_=long_ago),
            )
        )
    live = await mfa_token(api, enrolled.account.email)

    await api.container.prune_expired_rows().execute()

    assert await count_rows(api, "mfa_challenges") == 1
    assert (await second_step(api, live, enrolled.recovery_codes[1])).status_code == 200
