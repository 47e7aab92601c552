"""§12 turning MFA off (`DELETE /users/me/mfa`, an admin's `DELETE /users/{id}/mfa`), who may call
each MFA route, and sessions that outlive MFA being turned on or off."""

import httpx
import pytest

from tests.e2e.conftest import PASSWORD, Api, assert_envelope
from tests.e2e.mfa_support import (
    MY_MFA,
    RECOVERY_CODES,
    REFRESH,
    TOTP,
    TOTP_CONFIRM,
    USERS,
    Authenticator,
    Enrolled,
    assert_unauthenticated,
    enrolled_account,
    log_in,
    me,
    mfa_enabled,
    mfa_token,
    password_step,
    second_step,
    start_enrolment,
)


async def turn_off(api: Api, headers: dict[str, str], password: str, code: str) -> httpx.Response:
    return await api.client.request(
        "DELETE", MY_MFA, json={"password": password, "code": code}, headers=headers
    )


async def test_turning_off_with_password_and_code_makes_log_in_one_step_again(api: Api) -> None:
    enrolled = await enrolled_account(api)

    response = await turn_off(api, enrolled.account.auth, PASSWORD, await enrolled.app.code())

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert (await me(api, enrolled.account.token)).json()["mfa_enabled"] is False
    one_step = await password_step(api, enrolled.account.email)
    assert one_step.status_code == 200, one_step.text
    assert "access_token" in one_step.json()
    # The recovery codes went with it: a new enrolment starts afresh.
    assert (await start_enrolment(api, enrolled.account))["secret"] != enrolled.app.secret


async def test_a_recovery_code_may_turn_mfa_off(api: Api) -> None:
    enrolled = await enrolled_account(api)

    response = await turn_off(api, enrolled.account.auth, PASSWORD, enrolled.recovery_codes[0])

    assert response.status_code == 204, response.text
    assert await mfa_enabled(api, enrolled.account) is False


@pytest.mark.parametrize("wrong", ["password", "code", "spent-code"])
async def test_turning_off_with_a_wrong_factor_is_403_and_mfa_stays_on(api: Api, wrong: str) -> None:
    enrolled = await enrolled_account(api)
    password = "Wrong-Horse-1" if wrong == "password" else PASSWORD
    if wrong == "password":
        code = await enrolled.app.code()
    else:
        code = enrolled.app.wrong_code() if wrong == "code" else enrolled.app.spent_code()

    response = await turn_off(api, enrolled.account.auth, password, code)

    assert_envelope(response, 403, "PermissionDeniedError")
    assert await mfa_enabled(api, enrolled.account) is True
    assert_envelope(await password_step(api, enrolled.account.email), 403, "MfaRequiredError")


async def test_a_refused_turning_off_spends_no_code(api: Api) -> None:
    enrolled = await enrolled_account(api)
    totp, recovery = await enrolled.app.code(), enrolled.recovery_codes[0]

    for code in (totp, recovery):
        refused = await turn_off(api, enrolled.account.auth, "Wrong-Horse-1", code)
        assert_envelope(refused, 403, "PermissionDeniedError")

    assert (await turn_off(api, enrolled.account.auth, PASSWORD, totp)).status_code == 204


async def test_turning_off_when_it_is_off_is_refused_and_changes_nothing(api: Api) -> None:
    account = await api.create_account()

    response = await turn_off(api, account.auth, PASSWORD, "123456")

    assert 400 <= response.status_code < 500, response.text
    assert response.status_code != 204
    assert await mfa_enabled(api, account) is False


async def test_an_admin_reset_lets_the_user_log_in_with_the_password_alone(api: Api) -> None:
    enrolled = await enrolled_account(api)
    waiting = await mfa_token(api, enrolled.account.email)

    response = await api.client.delete(f"{USERS}/{enrolled.account.id}/mfa", headers=(await api.admin()).auth)

    assert response.status_code == 204, response.text
    assert await mfa_enabled(api, enrolled.account) is False
    assert (await password_step(api, enrolled.account.email)).status_code == 200
    # A log-in that was waiting for a code can't finish with the old factors.
    assert_unauthenticated(await second_step(api, waiting, enrolled.recovery_codes[0]))


async def test_an_admin_reset_of_an_account_without_mfa_is_204(api: Api) -> None:
    account = await api.create_account()

    response = await api.client.delete(f"{USERS}/{account.id}/mfa", headers=(await api.admin()).auth)

    assert response.status_code == 204, response.text
    assert (await password_step(api, account.email)).status_code == 200


@pytest.mark.parametrize("role", ["moderator", "user"])
async def test_only_an_admin_may_reset_another_accounts_mfa(api: Api, role: str) -> None:
    enrolled = await enrolled_account(api)
    caller = await api.create_account(role)

    response = await api.client.delete(f"{USERS}/{enrolled.account.id}/mfa", headers=caller.auth)

    assert_envelope(response, 403, "PermissionDeniedError")
    assert await mfa_enabled(api, enrolled.account) is True


async def test_a_user_may_not_reset_their_own_mfa_by_the_admin_route(api: Api) -> None:
    enrolled = await enrolled_account(api)

    response = await api.client.delete(f"{USERS}/{enrolled.account.id}/mfa", headers=enrolled.account.auth)

    assert_envelope(response, 403, "PermissionDeniedError")
    assert await mfa_enabled(api, enrolled.account) is True


@pytest.mark.parametrize("user_id", ["999999", str(2**63 - 1)])
async def test_an_admin_reset_of_an_unknown_account_is_404(api: Api, user_id: str) -> None:
    response = await api.client.delete(f"{USERS}/{user_id}/mfa", headers=(await api.admin()).auth)

    assert_envelope(response, 404, "NotFoundError")


@pytest.mark.parametrize("role", ["admin", "moderator", "user"])
async def test_every_role_may_manage_its_own_mfa(api: Api, role: str) -> None:
    account = await api.create_account(role)
    app = Authenticator((await start_enrolment(api, account))["secret"])
    confirmed = await api.client.post(TOTP_CONFIRM, json={"code": await app.code()}, headers=account.auth)
    assert confirmed.status_code == 200, confirmed.text

    renewed = await api.client.post(RECOVERY_CODES, json={"code": await app.code()}, headers=account.auth)
    assert renewed.status_code == 200, renewed.text
    off = await turn_off(api, account.auth, PASSWORD, renewed.json()["recovery_codes"][0])
    assert off.status_code == 204, off.text
    assert (await me(api, account.token)).json()["mfa_enabled"] is False


ROUTES = [
    ("POST", TOTP, {"password": PASSWORD}),
    ("POST", TOTP_CONFIRM, {"code": "123456"}),
    ("POST", RECOVERY_CODES, {"code": "123456"}),
    ("DELETE", MY_MFA, {"password": PASSWORD, "code": "123456"}),
    ("DELETE", f"{USERS}/1/mfa", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), ROUTES, ids=lambda v: str(v) if isinstance(v, str) else ""
)
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-jwt", "Basic abc"])
async def test_every_mfa_route_is_401_without_a_valid_bearer_token(
    api: Api, method: str, path: str, body: dict[str, str] | None, authorization: str | None
) -> None:
    account = await api.create_account("admin")  # user 1, the target of the admin route
    headers = {"Authorization": authorization} if authorization else {}

    response = await api.client.request(method, path, json=body, headers=headers)

    assert_unauthenticated(response)
    assert await mfa_enabled(api, account) is False


async def test_turning_mfa_on_and_off_leaves_every_session_working(api: Api) -> None:
    account = await api.create_account()
    other_access, other_refresh = await api.login(account.email, PASSWORD)
    app = Authenticator((await start_enrolment(api, account))["secret"])
    confirmed = await api.client.post(TOTP_CONFIRM, json={"code": await app.code()}, headers=account.auth)
    assert confirmed.status_code == 200, confirmed.text

    for access in (account.token, other_access):
        assert (await me(api, access)).status_code == 200
    refreshed = await api.client.post(REFRESH, json={"refresh_token": other_refresh})
    assert refreshed.status_code == 200, refreshed.text
    pair = await log_in(api, Enrolled(account, app, confirmed.json()["recovery_codes"]))
    off = await turn_off(api, account.auth, PASSWORD, confirmed.json()["recovery_codes"][1])
    assert off.status_code == 204, off.text

    for access in (account.token, refreshed.json()["access_token"], pair["access_token"]):
        assert (await me(api, access)).status_code == 200
    again = await api.client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200, again.text
