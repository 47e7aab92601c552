"""§12 enrolment (`POST /users/me/mfa/totp`, `…/confirm`) and recovery codes (`…/recovery-codes`)."""

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.e2e.conftest import Api, assert_envelope
from tests.e2e.mfa_support import (
    RECOVERY_CODE,
    RECOVERY_CODES,
    TOTP,
    TOTP_CONFIRM,
    Authenticator,
    assert_unauthenticated,
    enrol,
    enrolled_account,
    me,
    mfa_token,
    second_step,
    start_enrolment,
)


async def test_starting_gives_an_unpadded_base32_secret_and_its_otpauth_uri(api: Api) -> None:
    account = await api.create_account()

    pending = await start_enrolment(api, account)

    secret, uri = pending["secret"], pending["otpauth_uri"]
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    assert uri.startswith("otpauth://totp/")
    assert secret in uri
    query = parse_qs(urlsplit(uri).query)
    assert query["secret"] == [secret]
    assert query.get("digits", ["6"]) == ["6"]
    assert query.get("period", ["30"]) == ["30"]
    assert query.get("algorithm", ["SHA1"]) == ["SHA1"]
    assert account.email in unquote(uri)
    # Pending is not on.
    assert (await me(api, account.token)).json()["mfa_enabled"] is False


async def test_confirming_turns_mfa_on_and_shows_ten_distinct_recovery_codes(api: Api) -> None:
    account = await api.create_account()
    app = Authenticator((await start_enrolment(api, account))["secret"])

    response = await api.client.post(TOTP_CONFIRM, json={"code": await app.code()}, headers=account.auth)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    codes = response.json()["recovery_codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(re.fullmatch(RECOVERY_CODE, c) for c in codes), codes
    assert (await me(api, account.token)).json()["mfa_enabled"] is True


async def test_a_wrong_password_at_the_start_is_403(api: Api) -> None:
    account = await api.create_account()

    response = await api.client.post(TOTP, json={"password": "Wrong-Horse-1"}, headers=account.auth)

    body = assert_envelope(response, 403, "PermissionDeniedError")
    assert "secret" not in body
    assert (
        await api.client.post(TOTP_CONFIRM, json={"code": "123456"}, headers=account.auth)
    ).status_code == 400


async def test_starting_again_with_mfa_on_is_409(api: Api) -> None:
    enrolled = await enrolled_account(api)

    response = await api.client.post(
        TOTP, json={"password": enrolled.account.password}, headers=enrolled.account.auth
    )

    assert_envelope(response, 409, "ConflictError")
    # The enrolment in place is untouched: its app still logs in.
    pair = await second_step(api, await mfa_token(api, enrolled.account.email), await enrolled.app.code())
    assert pair.status_code == 200, pair.text


async def test_confirming_with_nothing_pending_is_400(api: Api) -> None:
    account = await api.create_account()

    response = await api.client.post(TOTP_CONFIRM, json={"code": "123456"}, headers=account.auth)

    assert_envelope(response, 400, "BadRequestError")
    assert (await me(api, account.token)).json()["mfa_enabled"] is False


async def test_confirming_again_with_mfa_on_is_refused(api: Api) -> None:
    enrolled = await enrolled_account(api)

    response = await api.client.post(
        TOTP_CONFIRM, json={"code": await enrolled.app.code()}, headers=enrolled.account.auth
    )

    assert response.status_code in (400, 409), response.text
    # The recovery codes shown at enrolment are still the account's.
    pair = await second_step(api, await mfa_token(api, enrolled.account.email), enrolled.recovery_codes[0])
    assert pair.status_code == 200, pair.text


async def test_a_wrong_confirming_code_is_400_and_mfa_stays_off(api: Api) -> None:
    account = await api.create_account()
    app = Authenticator((await start_enrolment(api, account))["secret"])

    response = await api.client.post(TOTP_CONFIRM, json={"code": app.wrong_code()}, headers=account.auth)

    assert_envelope(response, 400, "BadRequestError")
    assert (await me(api, account.token)).json()["mfa_enabled"] is False
    assert (await api.login(account.email, account.password))[0]  # one step, as before
    # The pending secret survives a wrong code.
    ok = await api.client.post(TOTP_CONFIRM, json={"code": await app.code()}, headers=account.auth)
    assert ok.status_code == 200, ok.text


async def test_a_new_start_replaces_the_pending_secret(api: Api) -> None:
    account = await api.create_account()
    old = Authenticator((await start_enrolment(api, account))["secret"])
    new = Authenticator((await start_enrolment(api, account))["secret"])
    assert old.secret != new.secret

    stale = await api.client.post(TOTP_CONFIRM, json={"code": await old.code()}, headers=account.auth)

    assert_envelope(stale, 400, "BadRequestError")
    assert (await me(api, account.token)).json()["mfa_enabled"] is False
    fresh = await api.client.post(TOTP_CONFIRM, json={"code": await new.code()}, headers=account.auth)
    assert fresh.status_code == 200, fresh.text


# --- recovery codes --------------------------------------------------------------------------------


async def test_renewing_gives_ten_new_codes_and_the_old_ones_die(api: Api) -> None:
    enrolled = await enrolled_account(api)

    response = await api.client.post(
        RECOVERY_CODES, json={"code": await enrolled.app.code()}, headers=enrolled.account.auth
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    codes = response.json()["recovery_codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(re.fullmatch(RECOVERY_CODE, c) for c in codes), codes
    assert not set(codes) & set(enrolled.recovery_codes)
    email = enrolled.account.email
    for old in enrolled.recovery_codes[:3]:
        assert_unauthenticated(await second_step(api, await mfa_token(api, email), old))
    assert (await second_step(api, await mfa_token(api, email), codes[0])).status_code == 200


@pytest.mark.parametrize("kind", ["wrong", "recovery-code", "spent"])
async def test_renewing_with_a_code_that_is_not_a_current_totp_code_is_403(api: Api, kind: str) -> None:
    enrolled = await enrolled_account(api)
    code = {
        "wrong": enrolled.app.wrong_code(),
        "recovery-code": enrolled.recovery_codes[0],
        "spent": enrolled.app.spent_code(),
    }[kind]

    response = await api.client.post(RECOVERY_CODES, json={"code": code}, headers=enrolled.account.auth)

    body = assert_envelope(response, 403, "PermissionDeniedError")
    assert "recovery_codes" not in body
    # The codes in place still work (the recovery code offered here was not spent either).
    pair = await second_step(api, await mfa_token(api, enrolled.account.email), enrolled.recovery_codes[0])
    assert pair.status_code == 200, pair.text


async def test_renewing_with_mfa_off_is_refused(api: Api) -> None:
    account = await api.create_account()

    response = await api.client.post(RECOVERY_CODES, json={"code": "123456"}, headers=account.auth)

    assert response.status_code in (400, 403, 409), response.text
    assert (await me(api, account.token)).json()["mfa_enabled"] is False


async def test_enrolment_works_on_v2_paths(api: Api) -> None:
    account = await api.create_account()
    v2 = {"Authorization": account.auth["Authorization"]}

    pending = await api.client.post(
        TOTP.replace("/v1/", "/v2/"), json={"password": account.password}, headers=v2
    )
    assert pending.status_code == 200, pending.text
    app = Authenticator(pending.json()["secret"])
    done = await api.client.post(
        TOTP_CONFIRM.replace("/v1/", "/v2/"), json={"code": await app.code()}, headers=v2
    )

    assert done.status_code == 200, done.text
    assert (await me(api, account.token)).json()["mfa_enabled"] is True


async def test_enrolling_twice_after_turning_off_gives_a_new_secret(api: Api) -> None:
    """Reset by an admin, then enrolled again: the new app works, the old one does not."""
    enrolled = await enrolled_account(api)
    admin = await api.admin()
    reset = await api.client.delete(f"/api/v1/users/{enrolled.account.id}/mfa", headers=admin.auth)
    assert reset.status_code == 204, reset.text

    again = await enrol(api, enrolled.account)

    assert again.app.secret != enrolled.app.secret
    email = enrolled.account.email
    assert_unauthenticated(await second_step(api, await mfa_token(api, email), enrolled.recovery_codes[0]))
    assert (await second_step(api, await mfa_token(api, email), again.recovery_codes[0])).status_code == 200
