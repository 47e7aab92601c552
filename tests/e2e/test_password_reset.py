"""§10 password reset: `POST /auth/password-reset` and `POST /auth/password-reset/confirm`."""

from typing import Any

import httpx
import pytest

from tests.e2e.account_support import (
    AUTH,
    CONFIRM,
    NEW_PASSWORD,
    RESET,
    USERS,
    assert_rate_limited,
    assert_unauthenticated,
    caller,
    expire_tokens,
    headers,
    last_token,
    link_in,
    me,
    pending_to,
)
from tests.e2e.conftest import Account, Api, assert_envelope

PUBLIC_URL = "http://127.0.0.1:8000"


async def reset_token(api: Api, account: Account) -> str:
    response = await api.client.post(RESET, json={"email": account.email})
    assert response.status_code == 202, response.text
    return await last_token(api, account.email, "reset-password")


async def confirm(api: Api, token: str, password: str = NEW_PASSWORD) -> httpx.Response:
    return await api.client.post(CONFIRM, json={"token": token, "new_password": password})


async def log_in(api: Api, email: str, password: str) -> httpx.Response:
    return await api.client.post(f"{AUTH}/token", json={"email": email, "password": password})


# --- POST /auth/password-reset -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "user", "moderator", "admin"])
async def test_anyone_may_ask_and_an_active_account_gets_one_reset_mail(api: Api, who: str) -> None:
    account = await api.create_account()
    someone = await caller(api, who)

    response = await api.client.post(RESET, json={"email": account.email}, headers=headers(someone))

    assert response.status_code == 202, response.text
    assert response.headers["cache-control"] == "no-store"
    [mail] = await pending_to(api, account.email)
    assert link_in(mail.body, "reset-password").startswith(f"{PUBLIC_URL}/account/reset-password?token=")


async def test_the_answer_is_byte_identical_for_known_unknown_and_deactivated_accounts(api: Api) -> None:
    known = await api.create_account()
    inactive = await api.create_account(active=False)
    emails = [known.email, "nobody.at.all@example.com", inactive.email]

    answers = [await api.client.post(RESET, json={"email": email}) for email in emails]

    assert [a.status_code for a in answers] == [202, 202, 202]
    assert answers[0].content == answers[1].content == answers[2].content
    shown = {k: v for k, v in answers[0].headers.items() if k != "x-request-id"}
    assert all({k: v for k, v in a.headers.items() if k != "x-request-id"} == shown for a in answers)
    assert len(await pending_to(api, known.email)) == 1
    assert await pending_to(api, emails[1]) == []
    assert await pending_to(api, inactive.email) == []


@pytest.mark.parametrize("known", [True, False], ids=["known", "unknown"])
async def test_the_fourth_request_within_the_hour_for_one_email_is_429(api: Api, known: bool) -> None:
    email = (await api.create_account()).email if known else "ghost.reset@example.com"

    answers = [await api.client.post(RESET, json={"email": email}) for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [202, 202, 202]
    assert_rate_limited(answers[3])
    assert (await api.client.post(RESET, json={"email": "other.reset@example.com"})).status_code == 202


@pytest.mark.parametrize(
    "body", [{"email": "not-an-email"}, {}, {"email": "a@example.com", "extra": 1}, {"email": 5}], ids=str
)
async def test_a_request_body_that_breaks_the_rules_is_422(api: Api, body: dict[str, Any]) -> None:
    problem = assert_envelope(await api.client.post(RESET, json=body), 422, "ValidationError")

    assert problem["details"]


async def test_a_malformed_request_body_is_400(api: Api) -> None:
    response = await api.client.post(RESET, content=b"{,}", headers={"Content-Type": "application/json"})

    assert_envelope(response, 400, "BadRequestError")


# --- POST /auth/password-reset/confirm -----------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "user", "admin"])
async def test_confirming_sets_the_password_and_ends_every_session(api: Api, who: str) -> None:
    account = await api.create_account()
    second_access, second_refresh = await api.login(account.email, account.password)
    token = await reset_token(api, account)
    someone = await caller(api, who)

    response = await api.client.post(
        CONFIRM, json={"token": token, "new_password": NEW_PASSWORD}, headers=headers(someone)
    )

    assert response.status_code == 204, response.text
    assert response.content == b""
    for access in (account.token, second_access):
        assert_unauthenticated(
            await api.client.get(f"{USERS}/me", headers={"Authorization": f"Bearer {access}"})
        )
    for refresh in (account.refresh_token, second_refresh):
        assert_unauthenticated(await api.client.post(f"{AUTH}/refresh", json={"refresh_token": refresh}))
    assert_envelope(await log_in(api, account.email, account.password), 401, "AuthenticationError")
    assert (await log_in(api, account.email, NEW_PASSWORD)).status_code == 200


async def test_a_rejected_new_password_is_422_and_leaves_the_token_usable(api: Api) -> None:
    account = await api.create_account()
    token = await reset_token(api, account)

    problem = assert_envelope(await confirm(api, token, "weak"), 422, "ValidationError")

    assert [d["field"] for d in problem["details"]] == ["new_password"]
    assert (await me(api, account))["id"] == account.id  # the session lives on
    assert (await confirm(api, token)).status_code == 204
    assert (await log_in(api, account.email, NEW_PASSWORD)).status_code == 200


async def test_a_spent_token_is_400(api: Api) -> None:
    account = await api.create_account()
    token = await reset_token(api, account)
    assert (await confirm(api, token)).status_code == 204

    assert_envelope(await confirm(api, token, "Another-Pass-2718"), 400, "BadRequestError")
    assert (await log_in(api, account.email, NEW_PASSWORD)).status_code == 200


@pytest.mark.parametrize("token", ["garbage", "x" * 43, "not a token at all"])
async def test_a_token_that_was_never_issued_is_400(api: Api, token: str) -> None:
    assert_envelope(await confirm(api, token), 400, "BadRequestError")


async def test_an_expired_token_is_400(api: Api) -> None:
    account = await api.create_account()
    token = await reset_token(api, account)
    await expire_tokens(api, account.email)

    assert_envelope(await confirm(api, token), 400, "BadRequestError")
    assert (await log_in(api, account.email, account.password)).status_code == 200


async def test_an_older_reset_token_dies(api: Api) -> None:
    account = await api.create_account()
    older = await reset_token(api, account)
    newer = await reset_token(api, account)

    assert (await confirm(api, newer)).status_code == 204
    assert_envelope(await confirm(api, older, "Another-Pass-2718"), 400, "BadRequestError")


async def test_a_token_of_a_deactivated_account_is_400(api: Api) -> None:
    account = await api.create_account()
    token = await reset_token(api, account)
    off = await api.client.patch(
        f"{USERS}/{account.id}", json={"is_active": False}, headers=(await api.admin()).auth
    )
    assert off.status_code == 200, off.text

    assert_envelope(await confirm(api, token), 400, "BadRequestError")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"new_password": NEW_PASSWORD}, "token"),
        ({"token": "abc"}, "new_password"),
        ({"token": "abc", "new_password": NEW_PASSWORD, "email": "a@example.com"}, "email"),
    ],
    ids=["no-token", "no-password", "unknown-field"],
)
async def test_a_confirm_body_that_breaks_the_rules_is_422(
    api: Api, body: dict[str, Any], field: str
) -> None:
    problem = assert_envelope(await api.client.post(CONFIRM, json=body), 422, "ValidationError")

    assert field in [d["field"] for d in problem["details"]]


async def test_a_malformed_confirm_body_is_400(api: Api) -> None:
    response = await api.client.post(
        CONFIRM, content=b'{"token"', headers={"Content-Type": "application/json"}
    )

    assert_envelope(response, 400, "BadRequestError")
