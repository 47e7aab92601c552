"""§10 email verification: who starts verified, `POST /auth/verify-email`, and the log-in rule.

Mails are read from the outbox table before delivery (no relay runs in the in-loop app).
"""

from pathlib import Path
from typing import Any

import pytest

from tests.databases import ENGINES
from tests.e2e.account_support import (
    AUTH,
    SIGN_UP_PASSWORD,
    USERS,
    VERIFY,
    caller,
    custom_api,
    expire_tokens,
    headers,
    last_token,
    link_in,
    me,
    outbox,
    pending_to,
    sign_up,
    signed_up,
)
from tests.e2e.conftest import Api, assert_envelope

PUBLIC_URL = "http://127.0.0.1:8000"


async def verified(api: Api, user_id: int) -> bool:
    response = await api.client.get(f"{USERS}/{user_id}", headers=(await api.admin()).auth)
    assert response.status_code == 200, response.text
    flag: bool = response.json()["email_verified"]
    return flag


# --- Who starts verified -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "user", "moderator"])
async def test_a_sign_up_starts_unverified_and_gets_exactly_one_verification_mail(api: Api, who: str) -> None:
    someone = await caller(api, who)
    response = await api.client.post(
        USERS,
        json={"email": "fresh@example.com", "username": "fresh", "password": SIGN_UP_PASSWORD},
        headers=headers(someone),
    )

    assert response.status_code == 201, response.text
    assert response.json()["email_verified"] is False
    [mail] = [m for m in await outbox(api) if m.recipient == "fresh@example.com"]
    assert mail.status == "pending"
    assert link_in(mail.body, "verify-email").startswith(f"{PUBLIC_URL}/account/verify-email?token=")
    assert not await verified(api, response.json()["id"])


async def test_an_account_created_by_an_admin_starts_verified_and_gets_no_mail(api: Api) -> None:
    admin = await api.admin()
    before = await outbox(api)

    response = await api.client.post(
        USERS,
        json={"email": "staff@example.com", "username": "staff", "password": SIGN_UP_PASSWORD},
        headers=admin.auth,
    )

    assert response.status_code == 201, response.text
    assert response.json()["email_verified"] is True
    assert await outbox(api) == before
    assert await verified(api, response.json()["id"])


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
@pytest.mark.parametrize("who", ["self", "admin"])
async def test_a_new_email_is_unverified_and_gets_a_verification_mail(
    api: Api, method: str, who: str
) -> None:
    owner = await api.create_account()
    assert (await me(api, owner))["email_verified"] is True
    editor = owner if who == "self" else await api.admin()
    body: dict[str, Any] = {"email": "moved@example.com"}
    if method == "PUT":
        body |= {"username": owner.username, "full_name": None}

    response = await api.client.request(method, f"{USERS}/{owner.id}", json=body, headers=editor.auth)

    assert response.status_code == 200, response.text
    assert response.json()["email_verified"] is False
    assert len(await pending_to(api, "moved@example.com")) == 1
    # The old address is told (§12), with no link and no token: the verification goes to the new one.
    [notice] = await pending_to(api, owner.email)
    assert notice.subject == "Security notice: email address changed"
    assert "http" not in notice.body
    assert "token" not in notice.body
    token = await last_token(api, "moved@example.com")
    assert (await api.client.post(VERIFY, json={"token": token})).status_code == 204
    assert (await me(api, owner))["email_verified"] is True


async def test_a_change_that_keeps_the_email_keeps_it_verified_and_sends_nothing(api: Api) -> None:
    owner = await api.create_account()

    response = await api.client.patch(
        f"{USERS}/{owner.id}", json={"email": owner.email, "full_name": "Same Address"}, headers=owner.auth
    )

    assert response.status_code == 200, response.text
    assert response.json()["email_verified"] is True
    assert await outbox(api) == []


# --- POST /auth/verify-email ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "user", "moderator", "admin"])
async def test_anyone_may_verify_with_the_mailed_token_and_then_me_shows_it(api: Api, who: str) -> None:
    account = await signed_up(api, "verifier")
    token = await last_token(api, account.email)
    someone = await caller(api, who)

    response = await api.client.post(VERIFY, json={"token": token}, headers=headers(someone))

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert (await me(api, account))["email_verified"] is True


async def test_a_spent_token_is_400_and_changes_nothing(api: Api) -> None:
    account = await signed_up(api, "twice")
    token = await last_token(api, account.email)
    assert (await api.client.post(VERIFY, json={"token": token})).status_code == 204

    assert_envelope(await api.client.post(VERIFY, json={"token": token}), 400, "BadRequestError")
    assert (await me(api, account))["email_verified"] is True


async def test_an_unknown_token_is_400(api: Api) -> None:
    account = await signed_up(api, "unknown_token")

    response = await api.client.post(VERIFY, json={"token": "not-a-token-we-ever-sent-0123456789abcdef"})

    assert_envelope(response, 400, "BadRequestError")
    assert (await me(api, account))["email_verified"] is False


async def test_an_expired_token_is_400(api: Api) -> None:
    account = await signed_up(api, "late_one")
    token = await last_token(api, account.email)
    await expire_tokens(api, account.email)

    assert_envelope(await api.client.post(VERIFY, json={"token": token}), 400, "BadRequestError")
    assert (await me(api, account))["email_verified"] is False


async def test_a_token_sent_to_an_address_the_account_no_longer_has_is_400(api: Api) -> None:
    account = await signed_up(api, "mover")
    old_token = await last_token(api, account.email)
    moved = await api.client.patch(
        f"{USERS}/{account.id}", json={"email": "mover.new@example.com"}, headers=account.auth
    )
    assert moved.status_code == 200, moved.text

    assert_envelope(await api.client.post(VERIFY, json={"token": old_token}), 400, "BadRequestError")
    assert (await me(api, account))["email_verified"] is False
    new_token = await last_token(api, "mover.new@example.com")
    assert (await api.client.post(VERIFY, json={"token": new_token})).status_code == 204


async def test_a_malformed_json_body_is_400(api: Api) -> None:
    response = await api.client.post(
        VERIFY, content=b'{"token": ', headers={"Content-Type": "application/json"}
    )

    assert_envelope(response, 400, "BadRequestError")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "token"),
        ({"token": ""}, "token"),
        ({"token": "abc", "extra": 1}, "extra"),
        ({"token": 7}, "token"),
    ],
    ids=["missing", "empty", "unknown-field", "not-a-string"],
)
async def test_a_body_that_breaks_the_rules_is_422_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    response = await api.client.post(VERIFY, json=body)

    problem = assert_envelope(response, 422, "ValidationError")
    assert field in [d["field"] for d in problem["details"]], problem


# --- GATEHOUSE_REQUIRE_VERIFIED_EMAIL ------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
async def test_with_verification_required_an_unverified_account_may_not_log_in_until_it_verifies(
    engine: str, tmp_path: Path
) -> None:
    async with custom_api(engine, tmp_path, require_verified_email=True) as api:
        user = await sign_up(api, "gated")
        credentials = {"email": user["email"], "password": SIGN_UP_PASSWORD}
        wrong = {"email": user["email"], "password": "Wrong-Pass-999"}

        refused = await api.client.post(f"{AUTH}/token", json=credentials)
        assert_envelope(refused, 403, "PermissionDeniedError")
        assert "access_token" not in refused.text
        assert_envelope(await api.client.post(f"{AUTH}/token", json=wrong), 401, "AuthenticationError")

        verify = await api.client.post(VERIFY, json={"token": await last_token(api, user["email"])})
        assert verify.status_code == 204, verify.text

        assert (await api.client.post(f"{AUTH}/token", json=credentials)).status_code == 200
        assert_envelope(await api.client.post(f"{AUTH}/token", json=wrong), 401, "AuthenticationError")


@pytest.mark.parametrize("engine", ENGINES)
async def test_with_verification_required_accounts_made_by_an_admin_log_in_at_once(
    engine: str, tmp_path: Path
) -> None:
    async with custom_api(engine, tmp_path, require_verified_email=True) as api:
        account = await api.create_account()  # an admin's creation, through the use case

        assert (await me(api, account))["email_verified"] is True


async def test_without_the_setting_an_unverified_account_logs_in(api: Api) -> None:
    account = await signed_up(api, "relaxed")

    assert (await me(api, account))["email_verified"] is False
