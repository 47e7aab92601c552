"""§12 log-in with MFA on: the 403 `MfaRequiredError` of the password step, then `POST /auth/token/mfa`."""

import secrets
import time

import pytest
from sqlalchemy import update

from gatehouse.adapters.sqlalchemy.tables import mfa_challenges
from tests.e2e.conftest import PASSWORD, Api, assert_envelope
from tests.e2e.mfa_support import (
    REFRESH,
    TOKEN,
    TOKEN_MFA,
    assert_unauthenticated,
    enrolled_account,
    log_in,
    me,
    mfa_token,
    password_step,
    second_step,
)

BAD_TOKEN_REQUESTS = 20


async def test_after_enrolment_a_right_password_gets_403_with_an_mfa_token_and_no_tokens(api: Api) -> None:
    enrolled = await enrolled_account(api)
    shown = await me(api, enrolled.account.token)
    assert shown.status_code == 200, shown.text
    assert shown.json()["mfa_enabled"] is True

    response = await password_step(api, enrolled.account.email)

    body = assert_envelope(response, 403, "MfaRequiredError")
    assert response.headers["cache-control"] == "no-store"
    assert body["expires_in"] == 300
    assert isinstance(body["mfa_token"], str)
    assert len(body["mfa_token"]) >= 32
    assert "access_token" not in body
    assert "refresh_token" not in body


async def test_the_oauth2_form_log_in_asks_for_the_second_step_too(api: Api) -> None:
    enrolled = await enrolled_account(api)

    response = await api.client.post(
        TOKEN, data={"username": enrolled.account.username, "password": PASSWORD}
    )

    body = assert_envelope(response, 403, "MfaRequiredError")
    pair = await second_step(api, body["mfa_token"], await enrolled.app.code())
    assert pair.status_code == 200, pair.text


async def test_a_wrong_password_on_an_mfa_account_is_the_usual_401(api: Api) -> None:
    enrolled = await enrolled_account(api)

    response = await password_step(api, enrolled.account.email, "Wrong-Horse-1")

    assert_unauthenticated(response)
    assert "mfa_token" not in response.json()


async def test_the_right_code_gives_a_working_pair_and_refresh_needs_no_code(api: Api) -> None:
    enrolled = await enrolled_account(api)
    token = await mfa_token(api, enrolled.account.email)

    response = await second_step(api, token, await enrolled.app.code())

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    pair = response.json()
    assert pair["token_type"] == "bearer"
    shown = await me(api, pair["access_token"])
    assert shown.status_code == 200, shown.text
    assert shown.json()["id"] == enrolled.account.id
    refreshed = await api.client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    assert (await me(api, refreshed.json()["access_token"])).status_code == 200


async def test_an_mfa_token_is_single_use(api: Api) -> None:
    enrolled = await enrolled_account(api)
    token = await mfa_token(api, enrolled.account.email)
    assert (await second_step(api, token, await enrolled.app.code())).status_code == 200

    assert_unauthenticated(await second_step(api, token, enrolled.recovery_codes[0]))
    # The refused attempt spent nothing: the recovery code still logs in with a new token.
    again = await second_step(api, await mfa_token(api, enrolled.account.email), enrolled.recovery_codes[0])
    assert again.status_code == 200, again.text


async def test_a_totp_code_is_accepted_once_per_account(api: Api) -> None:
    enrolled = await enrolled_account(api)
    await log_in(api, enrolled)

    replayed = await second_step(api, await mfa_token(api, enrolled.account.email), enrolled.app.spent_code())

    assert_unauthenticated(replayed)


async def test_the_confirming_code_cannot_log_in(api: Api) -> None:
    enrolled = await enrolled_account(api)

    replayed = await second_step(api, await mfa_token(api, enrolled.account.email), enrolled.app.spent_code())

    assert_unauthenticated(replayed)


async def test_a_recovery_code_logs_in_once(api: Api) -> None:
    enrolled = await enrolled_account(api)
    code = enrolled.recovery_codes[3]

    first = await second_step(api, await mfa_token(api, enrolled.account.email), code)
    second = await second_step(api, await mfa_token(api, enrolled.account.email), code)

    assert first.status_code == 200, first.text
    assert (await me(api, first.json()["access_token"])).status_code == 200
    assert_unauthenticated(second)
    # Another, unused one still works.
    other = await second_step(api, await mfa_token(api, enrolled.account.email), enrolled.recovery_codes[4])
    assert other.status_code == 200, other.text


async def test_a_wrong_code_is_401_and_leaves_the_token_usable(api: Api) -> None:
    enrolled = await enrolled_account(api)
    token = await mfa_token(api, enrolled.account.email)

    wrong = await second_step(api, token, enrolled.app.wrong_code())
    not_a_recovery_code = await second_step(api, token, "aaaaa-aaaaa")

    assert_unauthenticated(wrong)
    assert_unauthenticated(not_a_recovery_code)
    right = await second_step(api, token, await enrolled.app.code())
    assert right.status_code == 200, right.text


async def test_five_wrong_codes_kill_the_mfa_token(api: Api) -> None:
    enrolled = await enrolled_account(api)
    token = await mfa_token(api, enrolled.account.email)

    for _ in range(5):
        assert_unauthenticated(await second_step(api, token, enrolled.app.wrong_code()))
    code = await enrolled.app.code()
    sixth = await second_step(api, token, code)

    assert_unauthenticated(sixth)  # dead: refused before the (now exhausted) throttle
    # The refused right code was not spent: with the username (a throttle key of its own) it works.
    fresh = await mfa_token(api, enrolled.account.username)
    assert (await second_step(api, fresh, code)).status_code == 200


@pytest.mark.parametrize("kind", ["unknown", "garbage", "spent", "expired"])
async def test_a_dead_or_unknown_mfa_token_is_401_without_counting_toward_the_throttle(
    api: Api, kind: str
) -> None:
    enrolled = await enrolled_account(api)
    email = enrolled.account.email
    if kind == "unknown":
        token = secrets.token_urlsafe(32)
    elif kind == "garbage":
        token = "not-a-token!"
    else:
        token = await mfa_token(api, email)
        if kind == "spent":
            assert (await second_step(api, token, enrolled.recovery_codes[0])).status_code == 200
        else:
            async with api.container.database().write_engine.begin() as conn:
                await conn.execute(update(mfa_challenges).values(expires_at=mfa_challenges.c.created_at))

    for _ in range(BAD_TOKEN_REQUESTS):
        assert_unauthenticated(await second_step(api, token, enrolled.app.wrong_code()))
    assert_unauthenticated(await second_step(api, token, enrolled.recovery_codes[1]))

    # Nothing was counted against the account's email, and the recovery code was not spent.
    pair = await second_step(api, await mfa_token(api, email), enrolled.recovery_codes[1])
    assert pair.status_code == 200, pair.text


async def test_the_second_step_answers_on_v2_too(api: Api) -> None:
    enrolled = await enrolled_account(api)
    token = await mfa_token(api, enrolled.account.email)

    response = await api.client.post(
        TOKEN_MFA.replace("/v1/", "/v2/"), json={"mfa_token": token, "code": await enrolled.app.code()}
    )

    assert response.status_code == 200, response.text
    assert response.headers["x-api-version"] == "2"


async def test_an_mfa_token_is_neither_an_access_token_nor_a_refresh_token(api: Api) -> None:
    enrolled = await enrolled_account(api)
    token = await mfa_token(api, enrolled.account.email)

    assert_unauthenticated(await me(api, token))
    assert_unauthenticated(await api.client.post(REFRESH, json={"refresh_token": token}))
    # Offering it where it does not belong spends nothing.
    assert (await second_step(api, token, enrolled.recovery_codes[0])).status_code == 200


async def test_a_code_two_steps_away_is_refused_and_spends_nothing(api: Api) -> None:
    enrolled = await enrolled_account(api)
    token = await mfa_token(api, enrolled.account.email)
    now = time.time()

    for offset in (60, 90):
        assert_unauthenticated(await second_step(api, token, enrolled.app.totp.at(now + offset)))

    right = await second_step(api, token, await enrolled.app.code())
    assert right.status_code == 200, right.text


async def test_the_session_of_a_two_step_log_in_is_listed_as_current(api: Api) -> None:
    enrolled = await enrolled_account(api)
    token = await mfa_token(api, enrolled.account.email)

    response = await api.client.post(
        TOKEN_MFA,
        json={"mfa_token": token, "code": await enrolled.app.code()},
        headers={"User-Agent": "mfa-e2e/1.0"},
    )

    assert response.status_code == 200, response.text
    listed = await api.client.get(
        "/api/v1/users/me/sessions", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert listed.status_code == 200, listed.text
    [current] = [s for s in listed.json()["items"] if s["current"]]
    assert current["user_agent"] == "mfa-e2e/1.0"
    assert current["ip"] == "127.0.0.1"
