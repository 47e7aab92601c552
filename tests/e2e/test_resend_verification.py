"""§10 `POST /auth/verify-email/resend`: with a bearer (one's own account) or anonymously by `{email}`."""

import pytest

from tests.e2e.account_support import (
    RESEND,
    USERS,
    VERIFY,
    assert_rate_limited,
    assert_unauthenticated,
    last_token,
    outbox,
    pending_to,
    signed_up,
)
from tests.e2e.conftest import Account, Api, assert_envelope


async def unverified(api: Api, role: str) -> Account:
    """An account of `role` (made by an admin, so verified) that then moved to a new address."""
    account = await api.create_account(role)
    account.email = f"moved.{account.username}@example.com"
    moved = await api.client.patch(
        f"{USERS}/{account.id}", json={"email": account.email}, headers=account.auth
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["email_verified"] is False
    return account


# --- With a bearer token -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["user", "moderator", "admin"])
async def test_a_signed_in_unverified_user_gets_202_and_a_new_mail_that_replaces_the_old(
    api: Api, role: str
) -> None:
    account = await unverified(api, role)
    old_token = await last_token(api, account.email)

    response = await api.client.post(RESEND, headers=account.auth)

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "accepted"
    assert response.headers["cache-control"] == "no-store"
    assert len(await pending_to(api, account.email)) == 2
    new_token = await last_token(api, account.email)
    assert new_token != old_token
    assert_envelope(await api.client.post(VERIFY, json={"token": old_token}), 400, "BadRequestError")
    assert (await api.client.post(VERIFY, json={"token": new_token})).status_code == 204


@pytest.mark.parametrize("role", ["user", "moderator", "admin"])
async def test_a_signed_in_verified_user_gets_409_and_no_mail(api: Api, role: str) -> None:
    account = await api.create_account(role)

    response = await api.client.post(RESEND, headers=account.auth)

    assert_envelope(response, 409, "ConflictError")
    assert await outbox(api) == []


async def test_a_signed_in_user_who_just_verified_gets_409(api: Api) -> None:
    account = await signed_up(api, "now_verified")
    assert (
        await api.client.post(VERIFY, json={"token": await last_token(api, account.email)})
    ).status_code == 204

    assert_envelope(await api.client.post(RESEND, headers=account.auth), 409, "ConflictError")


async def test_the_fourth_resend_within_the_hour_is_429_the_sign_up_mail_not_counting(api: Api) -> None:
    account = await signed_up(api, "eager")

    answers = [await api.client.post(RESEND, headers=account.auth) for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [202, 202, 202]
    assert_rate_limited(answers[3])
    assert len(await pending_to(api, account.email)) == 1 + 3


async def test_a_bad_bearer_token_is_401_even_with_an_email_in_the_body(api: Api) -> None:
    account = await signed_up(api, "bad_bearer")

    response = await api.client.post(
        RESEND, json={"email": account.email}, headers={"Authorization": "Bearer not.a.token"}
    )

    assert_unauthenticated(response)
    assert len(await pending_to(api, account.email)) == 1


# --- Without a bearer token ----------------------------------------------------------------------


async def test_the_answer_is_byte_identical_for_unknown_verified_and_unverified_emails(api: Api) -> None:
    verified_account = await api.create_account()
    waiting = await signed_up(api, "waiting")
    emails = ["nobody.here@example.com", verified_account.email, waiting.email]

    answers = [await api.client.post(RESEND, json={"email": email}) for email in emails]

    assert [a.status_code for a in answers] == [202, 202, 202]
    assert answers[0].content == answers[1].content == answers[2].content
    assert {a.headers["content-type"] for a in answers} == {"application/json"}
    assert await pending_to(api, emails[0]) == []
    assert await pending_to(api, verified_account.email) == []
    assert len(await pending_to(api, waiting.email)) == 2


async def test_an_anonymous_resend_writes_one_mail_whatever_the_email_but_only_the_unverified_is_sent(
    api: Api,
) -> None:
    verified_account = await api.create_account()
    gone = await signed_up(api, "gone_unverified")
    deactivated = await api.client.patch(
        f"{USERS}/{gone.id}", json={"is_active": False}, headers=(await api.admin()).auth
    )
    assert deactivated.status_code == 200, deactivated.text
    waiting = await signed_up(api, "still_waiting")
    others = ["nobody.here@example.com", verified_account.email, gone.email]

    for email in [*others, waiting.email]:
        before = await outbox(api)
        assert (await api.client.post(RESEND, json={"email": email.upper()})).status_code == 202
        [written] = (await outbox(api))[len(before) :]  # the same outbox write for every address
        assert written.recipient == email
        assert (written.status, bool(written.body)) == (
            ("pending", True) if email == waiting.email else ("suppressed", False)
        )
    assert [len(await pending_to(api, email)) for email in others] == [0, 0, 1]  # gone: its sign-up mail


async def test_the_mail_sent_on_an_anonymous_resend_verifies_the_account(api: Api) -> None:
    waiting = await signed_up(api, "anonymous_resend")
    sign_up_token = await last_token(api, waiting.email)
    assert (await api.client.post(RESEND, json={"email": waiting.email.upper()})).status_code == 202

    new_token = await last_token(api, waiting.email)

    assert new_token != sign_up_token
    assert (await api.client.post(VERIFY, json={"token": new_token})).status_code == 204


@pytest.mark.parametrize("known", [True, False], ids=["unverified-account", "unknown-email"])
async def test_the_fourth_anonymous_resend_for_one_email_is_429(api: Api, known: bool) -> None:
    email = (await signed_up(api, "spammed")).email if known else "ghost@example.com"

    answers = [await api.client.post(RESEND, json={"email": email}) for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [202, 202, 202]
    assert_rate_limited(answers[3])
    assert (await api.client.post(RESEND, json={"email": "someone.else@example.com"})).status_code == 202


async def test_no_bearer_and_no_body_is_422_naming_email(api: Api) -> None:
    problem = assert_envelope(await api.client.post(RESEND), 422, "ValidationError")

    assert [d["field"] for d in problem["details"]] == ["email"]


@pytest.mark.parametrize(
    "body", [{"email": "not-an-email"}, {}, {"email": "a@example.com", "extra": True}], ids=str
)
async def test_a_body_that_breaks_the_rules_is_422(api: Api, body: dict[str, object]) -> None:
    assert_envelope(await api.client.post(RESEND, json=body), 422, "ValidationError")


@pytest.mark.parametrize("body", [{"email": "qrGquO6v0Yr010f@SM.kkx*"}, {"email": "a@b"}, {"x": 1}], ids=str)
async def test_a_signed_in_resend_with_a_body_that_breaks_the_rules_is_422_and_sends_nothing(
    api: Api, body: dict[str, object]
) -> None:
    """The body's rules (its schema in the document) hold with a bearer token too."""
    account = await unverified(api, "user")
    before = await pending_to(api, account.email)

    response = await api.client.post(RESEND, json=body, headers=account.auth)

    assert_envelope(response, 422, "ValidationError")
    assert await pending_to(api, account.email) == before


async def test_malformed_json_without_a_bearer_is_400(api: Api) -> None:
    response = await api.client.post(RESEND, content=b"{email", headers={"Content-Type": "application/json"})

    assert_envelope(response, 400, "BadRequestError")
