"""§12 `GATEHOUSE_MFA_REQUIRED_ROLES=admin,moderator`: until it enrols, such an account may only read
itself, use the MFA routes, refresh and log out; everything else is 403 `MfaEnrollmentRequiredError`."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.databases import ENGINES
from tests.e2e.account_support import custom_api
from tests.e2e.conftest import PASSWORD, Account, Api, assert_envelope
from tests.e2e.mfa_support import (
    LOGOUT,
    ME,
    RECOVERY_CODES,
    REFRESH,
    TOTP_CONFIRM,
    USERS,
    Authenticator,
    bearer,
    enrol,
    log_in,
    me,
    start_enrolment,
)

REQUIRED = ("admin", "moderator")
AUDIT = "/api/v1/audit-events"


@pytest.fixture(params=ENGINES)
async def strict(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with custom_api(request.param, tmp_path, mfa_required_roles=REQUIRED) as api:
        yield api


def blocked_requests(account: Account) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Routes outside the enrolment's allowance, each one the role could otherwise call."""
    own = f"{USERS}/{account.id}"
    return [
        ("GET", USERS, None),
        ("GET", USERS.replace("/v1/", "/v2/"), None),
        ("GET", own, None),
        ("PATCH", own, {"full_name": "Still Blocked"}),
        ("PUT", own, {"email": account.email, "username": account.username, "full_name": "Blocked"}),
        ("GET", f"{own}/orders", None),
        ("GET", f"{ME}/sessions", None),
        ("POST", f"{ME}/password", {"current_password": PASSWORD, "new_password": "Renewed-Pass-4815"}),
        ("GET", AUDIT, None),
        ("POST", USERS, {"email": "new.one@example.com", "username": "new_one", "password": PASSWORD}),
    ]


@pytest.mark.parametrize("role", REQUIRED)
async def test_an_unenrolled_account_of_a_required_role_is_blocked_outside_the_allowance(
    strict: Api, role: str
) -> None:
    account = await strict.create_account(role)  # log-in itself works

    for method, path, body in blocked_requests(account):
        response = await strict.client.request(method, path, json=body, headers=account.auth)
        problem = assert_envelope(response, 403, "MfaEnrollmentRequiredError")
        assert "mfa" in problem["message"].lower(), (method, path)

    shown = await me(strict, account.token)
    assert shown.status_code == 200, shown.text
    assert shown.json()["mfa_enabled"] is False
    # Nothing blocked went through: no user was created, the full name is unchanged.
    assert shown.json()["full_name"] is None


@pytest.mark.parametrize("role", REQUIRED)
async def test_refresh_and_logout_still_work_before_enrolling(strict: Api, role: str) -> None:
    account = await strict.create_account(role)

    refreshed = await strict.client.post(REFRESH, json={"refresh_token": account.refresh_token})
    assert refreshed.status_code == 200, refreshed.text
    pair = refreshed.json()
    out = await strict.client.post(
        LOGOUT, json={"refresh_token": pair["refresh_token"]}, headers=bearer(pair["access_token"])
    )

    assert out.status_code == 204, out.text
    assert (await me(strict, pair["access_token"])).status_code == 401


@pytest.mark.parametrize("role", REQUIRED)
async def test_enrolling_unblocks_the_same_access_token_at_once(strict: Api, role: str) -> None:
    account = await strict.create_account(role)
    assert (await strict.client.get(USERS, headers=account.auth)).status_code == 403

    app = Authenticator((await start_enrolment(strict, account))["secret"])
    confirmed = await strict.client.post(TOTP_CONFIRM, json={"code": await app.code()}, headers=account.auth)
    assert confirmed.status_code == 200, confirmed.text

    listed = await strict.client.get(USERS, headers=account.auth)
    assert listed.status_code == 200, listed.text
    own = await strict.client.get(f"{USERS}/{account.id}", headers=account.auth)
    assert own.status_code == 200, own.text
    patched = await strict.client.patch(
        f"{USERS}/{account.id}", json={"full_name": "Now Enrolled"}, headers=account.auth
    )
    assert patched.status_code == 200, patched.text
    audit = await strict.client.get(AUDIT, headers=account.auth)
    assert audit.status_code == (200 if role == "admin" else 403), audit.text
    if role == "moderator":
        assert audit.json()["error"] == "PermissionDeniedError"


@pytest.mark.parametrize("role", REQUIRED)
async def test_every_mfa_route_of_ones_own_works_before_enrolling(strict: Api, role: str) -> None:
    account = await strict.create_account(role)
    enrolled = await enrol(strict, account)

    renewed = await strict.client.post(
        RECOVERY_CODES, json={"code": await enrolled.app.code()}, headers=account.auth
    )
    assert renewed.status_code == 200, renewed.text
    off = await strict.client.request(
        "DELETE",
        f"{ME}/mfa",
        json={"password": PASSWORD, "code": renewed.json()["recovery_codes"][0]},
        headers=account.auth,
    )
    assert off.status_code == 204, off.text
    # Off again: blocked again, on the same token.
    assert_envelope(await strict.client.get(USERS, headers=account.auth), 403, "MfaEnrollmentRequiredError")


async def test_an_admin_reset_blocks_the_account_again(strict: Api) -> None:
    admin = await enrol(strict, await strict.create_account("admin"))
    moderator = await enrol(strict, await strict.create_account("moderator"))
    assert (await strict.client.get(USERS, headers=moderator.account.auth)).status_code == 200

    reset = await strict.client.delete(f"{USERS}/{moderator.account.id}/mfa", headers=admin.account.auth)

    assert reset.status_code == 204, reset.text
    assert_envelope(
        await strict.client.get(USERS, headers=moderator.account.auth), 403, "MfaEnrollmentRequiredError"
    )
    assert (await me(strict, moderator.account.token)).status_code == 200


async def test_an_enrolled_admin_logs_in_with_both_steps_and_is_not_blocked(strict: Api) -> None:
    enrolled = await enrol(strict, await strict.create_account("admin"))

    pair = await log_in(strict, enrolled)

    listed = await strict.client.get(USERS, headers=bearer(pair["access_token"]))
    assert listed.status_code == 200, listed.text


async def test_a_plain_user_is_unaffected(strict: Api) -> None:
    account = await strict.create_account("user")
    own = f"{USERS}/{account.id}"

    assert (await strict.client.get(own, headers=account.auth)).status_code == 200
    assert (await strict.client.get(f"{own}/orders", headers=account.auth)).status_code == 200
    assert (await strict.client.get(f"{ME}/sessions", headers=account.auth)).status_code == 200
    patched = await strict.client.patch(own, json={"full_name": "Plain User"}, headers=account.auth)
    assert patched.status_code == 200, patched.text
    listed = await strict.client.get(USERS, headers=account.auth)
    assert_envelope(listed, 403, "PermissionDeniedError")  # the role's own limit, not the enrolment


async def test_a_role_change_into_a_required_role_blocks_at_once(strict: Api) -> None:
    admin = await enrol(strict, await strict.create_account("admin"))
    account = await strict.create_account("user")
    assert (await strict.client.get(f"{USERS}/{account.id}", headers=account.auth)).status_code == 200

    promoted = await strict.client.patch(
        f"{USERS}/{account.id}", json={"role": "moderator"}, headers=admin.account.auth
    )
    assert promoted.status_code == 200, promoted.text

    assert_envelope(
        await strict.client.get(f"{USERS}/{account.id}", headers=account.auth),
        403,
        "MfaEnrollmentRequiredError",
    )
