"""§2 hostile input on the MFA routes: each refusal is the envelope with the contract's status, and it
changes nothing — not the MFA state, not the rows, not the log-in throttle, not the `mfa_token`."""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD, Account, Api, assert_envelope
from tests.e2e.mfa_support import (
    MFA_TABLES,
    MY_MFA,
    RECOVERY_CODES,
    TOKEN_MFA,
    TOTP,
    TOTP_CONFIRM,
    Authenticator,
    bearer,
    count_rows,
    enrol,
    me,
    mfa_token,
    password_step,
    second_step,
    start_enrolment,
    table_text,
)

MIB = 1024 * 1024
REPEAT = 6  # one more than the log-in throttle allows: a counted refusal would show


@dataclass
class Target:
    """A route, a valid body for it, and the check that its state is as before."""

    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    still_as_before: Callable[[], Awaitable[None]]


async def start_target(api: Api, account: Account) -> Target:
    async def unchanged() -> None:
        assert await count_rows(api, "mfa_enrolments") == 0  # no pending enrolment was made
        assert (await me(api, account.token)).json()["mfa_enabled"] is False

    return Target("POST", TOTP, {"password": PASSWORD}, account.auth, unchanged)


async def confirm_target(api: Api, account: Account) -> Target:
    app = Authenticator((await start_enrolment(api, account))["secret"])

    async def unchanged() -> None:
        assert (await me(api, account.token)).json()["mfa_enabled"] is False
        done = await api.client.post(TOTP_CONFIRM, json={"code": await app.code()}, headers=account.auth)
        assert done.status_code == 200, done.text  # the pending secret survived

    return Target("POST", TOTP_CONFIRM, {"code": "123456"}, account.auth, unchanged)


async def renew_target(api: Api, account: Account) -> Target:
    enrolled = await enrol(api, account)

    async def unchanged() -> None:
        pair = await second_step(api, await mfa_token(api, account.email), enrolled.recovery_codes[0])
        assert pair.status_code == 200, pair.text  # the old codes still stand

    return Target("POST", RECOVERY_CODES, {"code": "123456"}, account.auth, unchanged)


async def disable_target(api: Api, account: Account) -> Target:
    await enrol(api, account)

    async def unchanged() -> None:
        assert (await me(api, account.token)).json()["mfa_enabled"] is True

    return Target("DELETE", MY_MFA, {"password": PASSWORD, "code": "123456"}, account.auth, unchanged)


async def second_step_target(api: Api, account: Account) -> Target:
    enrolled = await enrol(api, account)
    token = await mfa_token(api, account.email)

    async def unchanged() -> None:
        pair = await second_step(api, token, enrolled.recovery_codes[0])
        assert pair.status_code == 200, pair.text  # the token is neither spent nor dead
        assert (await me(api, pair.json()["access_token"])).status_code == 200

    return Target("POST", TOKEN_MFA, {"mfa_token": token, "code": "123456"}, {}, unchanged)


TARGETS = {
    "start": start_target,
    "confirm": confirm_target,
    "renew": renew_target,
    "disable": disable_target,
    "second-step": second_step_target,
}


def with_value(body: dict[str, Any], name: str, raw_value: str) -> bytes:
    """`body` as JSON text with the value of `name` replaced by the raw JSON text `raw_value`."""
    marker = "@@value@@"
    return json.dumps({**body, name: marker}).replace(f'"{marker}"', raw_value).encode()


def last_field(body: dict[str, Any]) -> str:
    return list(body)[-1]


CASES: dict[str, tuple[Callable[[dict[str, Any]], bytes], set[int]]] = {
    "nul-in-first-field": (lambda b: with_value(b, next(iter(b)), '"a\\u0000b"'), {422}),
    "nul-in-last-field": (lambda b: with_value(b, last_field(b), '"12\\u00003456"'), {422}),
    "number": (lambda b: with_value(b, last_field(b), "123456"), {422}),
    "list": (lambda b: with_value(b, last_field(b), '["123456"]'), {422}),
    "null": (lambda b: with_value(b, last_field(b), "null"), {422}),
    "unknown-field": (lambda b: json.dumps({**b, "remember_me": True}).encode(), {422}),
    "missing-field": (lambda b: json.dumps(dict(list(b.items())[1:])).encode(), {422}),
    "long-value": (lambda b: with_value(b, last_field(b), '"' + "1" * 100_000 + '"'), {422}),
    "mib-value": (lambda b: with_value(b, last_field(b), '"' + "1" * MIB + '"'), {413, 422}),
    "not-utf8": (
        lambda b: with_value(b, last_field(b), '"\xff\xfe"').replace(b"\xc3\xbf\xc3\xbe", b"\xff\xfe"),
        {400},
    ),
    "malformed": (lambda b: json.dumps(b).encode()[:-1], {400}),
    "too-deep": (lambda b: with_value(b, last_field(b), "[" * 33 + "]" * 33), {400}),
    "not-an-object": (lambda b: b'["123456"]', {400, 422}),
}
NAMES = {400: "BadRequestError", 413: "PayloadTooLargeError", 422: "ValidationError"}


async def snapshot(api: Api) -> dict[str, Any]:
    shot: dict[str, Any] = {t: await table_text(api, t) for t in MFA_TABLES}
    shot["audit_events"] = await count_rows(api, "audit_events")
    shot["mail_outbox"] = await count_rows(api, "mail_outbox")
    shot["sessions"] = await count_rows(api, "sessions")
    return shot


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("route", list(TARGETS))
async def test_a_hostile_body_is_refused_in_the_envelope_and_changes_nothing(
    api: Api, route: str, case: str
) -> None:
    account = await api.create_account()
    target = await TARGETS[route](api, account)
    make, statuses = CASES[case]
    content = make(target.body)
    before = await snapshot(api)

    for _ in range(REPEAT):
        response = await api.client.request(
            target.method,
            target.path,
            content=content,
            headers={**target.headers, "Content-Type": "application/json"},
        )
        assert response.status_code in statuses, (response.status_code, response.text[:300])
        assert_envelope(response, response.status_code, NAMES[response.status_code])

    assert await snapshot(api) == before
    # Nothing was counted toward the account's log-in throttle, and the state is as it was.
    assert (await password_step(api, account.email)).status_code in (200, 403)
    await target.still_as_before()


@pytest.mark.parametrize("route", ["start", "disable"])
async def test_a_password_longer_than_any_is_refused_before_it_is_hashed_or_counted(
    api: Api, route: str
) -> None:
    account = await api.create_account()
    target = await TARGETS[route](api, account)

    for _ in range(REPEAT):
        response = await api.client.request(
            target.method, target.path, json={**target.body, "password": "Aa1" * 1000}, headers=target.headers
        )
        assert response.status_code in (403, 422), response.text
        assert response.status_code == 422 or response.json()["error"] == "PermissionDeniedError"

    await target.still_as_before()


async def test_a_hostile_bearer_on_an_mfa_route_is_401(api: Api) -> None:
    account = await api.create_account()

    for value in (b"Bearer a\xa0b", b"Bearer " + b"x" * 8000, b"Bearer \t", b"Bearer a\x00b"):
        response = await api.client.post(TOTP, json={"password": PASSWORD}, headers={b"Authorization": value})
        assert_envelope(response, 401, "AuthenticationError")
    response = await api.client.post(TOTP, json={"password": PASSWORD}, headers=bearer(account.token + "x"))
    assert_envelope(response, 401, "AuthenticationError")
    assert await count_rows(api, "mfa_enrolments") == 0
