"""§12 the audit trail and the security notices of MFA: each change leaves its event and tells the
account's address, with no link and no secret."""

import json
from typing import Any

from tests.e2e.account_support import audit_trail, eml_files, outbox, text_of
from tests.e2e.conftest import PASSWORD, Api
from tests.e2e.mfa_support import (
    MY_MFA,
    RECOVERY_CODES,
    USERS,
    Enrolled,
    enrolled_account,
    log_in,
    mfa_token,
    password_step,
    second_step,
    settings_of,
)

TURNED_ON = "Security notice: two-factor authentication turned on"
TURNED_OFF = "Security notice: two-factor authentication turned off"
RECOVERY_USED = "Security notice: recovery code used"
THROTTLED = "Security notice: log-ins throttled"


async def events(api: Api, user_id: int, action: str) -> list[dict[str, Any]]:
    return await audit_trail(api, action=action, user_id=user_id)


async def subjects_to(api: Api, recipient: str) -> list[str]:
    return [m.subject for m in await outbox(api) if m.recipient == recipient]


def assert_no_secret_in(text: str, enrolled: Enrolled, *extra: str) -> None:
    """`text` holds neither the TOTP secret, any recovery code nor any of `extra`."""
    secrets = [enrolled.app.secret, enrolled.app.secret.lower(), *enrolled.recovery_codes, *extra]
    secrets += [c.replace("-", "") for c in enrolled.recovery_codes]
    leaked = [s for s in secrets if s and s in text]
    assert not leaked, leaked


async def test_enrolment_is_audited_and_notified(api: Api) -> None:
    enrolled = await enrolled_account(api)
    account = enrolled.account

    [event] = await events(api, account.id, "auth.mfa_enabled")

    assert event["actor_id"] == account.id
    assert event["request_id"]
    assert TURNED_ON in await subjects_to(api, account.email)
    assert_no_secret_in(json.dumps(event), enrolled)


async def test_log_in_succeeds_in_the_audit_trail_only_at_the_second_step(api: Api) -> None:
    enrolled = await enrolled_account(api)
    before = len(await events(api, enrolled.account.id, "auth.login_succeeded"))

    token = await mfa_token(api, enrolled.account.email)
    after_password = len(await events(api, enrolled.account.id, "auth.login_succeeded"))
    pair = await second_step(api, token, await enrolled.app.code())
    assert pair.status_code == 200, pair.text

    assert after_password == before
    succeeded = await events(api, enrolled.account.id, "auth.login_succeeded")
    assert len(succeeded) == before + 1
    assert_no_secret_in(json.dumps(succeeded), enrolled, token, pair.json()["refresh_token"])


async def test_a_wrong_code_writes_mfa_failed_without_the_code_or_token(api: Api) -> None:
    enrolled = await enrolled_account(api)
    before = await events(api, enrolled.account.id, "auth.login_succeeded")  # the one before enrolment
    token = await mfa_token(api, enrolled.account.email)
    wrong = enrolled.app.wrong_code()

    assert (await second_step(api, token, wrong)).status_code == 401
    assert (await second_step(api, token, "bcdef-ghijk")).status_code == 401

    failed = await events(api, enrolled.account.id, "auth.mfa_failed")
    assert len(failed) == 2
    assert all(e["user_id"] == enrolled.account.id for e in failed)
    assert_no_secret_in(json.dumps(failed), enrolled, token, wrong, "bcdef-ghijk", "bcdefghijk")
    assert await events(api, enrolled.account.id, "auth.login_succeeded") == before


async def test_a_recovery_code_log_in_is_audited_and_notified(api: Api) -> None:
    enrolled = await enrolled_account(api)
    token = await mfa_token(api, enrolled.account.email)

    pair = await second_step(api, token, enrolled.recovery_codes[0])

    assert pair.status_code == 200, pair.text
    [used] = await events(api, enrolled.account.id, "auth.recovery_code_used")
    assert used["user_id"] == enrolled.account.id
    assert_no_secret_in(json.dumps(used), enrolled, token)
    assert (await subjects_to(api, enrolled.account.email)).count(RECOVERY_USED) == 1
    # A TOTP log-in tells nobody.
    await log_in(api, enrolled)
    assert (await subjects_to(api, enrolled.account.email)).count(RECOVERY_USED) == 1


async def test_renewing_recovery_codes_is_audited(api: Api) -> None:
    enrolled = await enrolled_account(api)

    response = await api.client.post(
        RECOVERY_CODES, json={"code": await enrolled.app.code()}, headers=enrolled.account.auth
    )

    assert response.status_code == 200, response.text
    [renewed] = await events(api, enrolled.account.id, "auth.recovery_codes_renewed")
    assert renewed["actor_id"] == enrolled.account.id
    assert_no_secret_in(json.dumps(renewed), enrolled, *response.json()["recovery_codes"])


async def test_turning_off_is_audited_and_notified(api: Api) -> None:
    enrolled = await enrolled_account(api)

    response = await api.client.request(
        "DELETE",
        MY_MFA,
        json={"password": PASSWORD, "code": await enrolled.app.code()},
        headers=enrolled.account.auth,
    )

    assert response.status_code == 204, response.text
    [off] = await events(api, enrolled.account.id, "auth.mfa_disabled")
    assert off["actor_id"] == enrolled.account.id
    assert TURNED_OFF in await subjects_to(api, enrolled.account.email)


async def test_an_admin_reset_is_audited_with_the_admin_and_notified(api: Api) -> None:
    enrolled = await enrolled_account(api)
    admin = await api.admin()

    response = await api.client.delete(f"{USERS}/{enrolled.account.id}/mfa", headers=admin.auth)

    assert response.status_code == 204, response.text
    [off] = await events(api, enrolled.account.id, "auth.mfa_disabled")
    assert off["actor_id"] == admin.id
    assert off["user_id"] == enrolled.account.id
    assert (await subjects_to(api, enrolled.account.email)).count(TURNED_OFF) == 1


async def test_refused_changes_write_no_event_and_send_no_notice(api: Api) -> None:
    enrolled = await enrolled_account(api)
    mails_before = len(await outbox(api))

    wrong = enrolled.app.wrong_code()
    for body in ({"password": "Wrong-Horse-1", "code": wrong}, {"password": PASSWORD, "code": wrong}):
        answer = await api.client.request("DELETE", MY_MFA, json=body, headers=enrolled.account.auth)
        assert answer.status_code == 403, answer.text
    renew = await api.client.post(RECOVERY_CODES, json={"code": wrong}, headers=enrolled.account.auth)
    assert renew.status_code == 403, renew.text

    assert await events(api, enrolled.account.id, "auth.mfa_disabled") == []
    assert await events(api, enrolled.account.id, "auth.recovery_codes_renewed") == []
    assert len(await outbox(api)) == mails_before


async def test_no_notice_holds_a_link_or_a_secret(api: Api) -> None:
    enrolled = await enrolled_account(api)
    token = await mfa_token(api, enrolled.account.email)
    assert (await second_step(api, token, enrolled.recovery_codes[0])).status_code == 200
    off = await api.client.request(
        "DELETE",
        MY_MFA,
        json={"password": PASSWORD, "code": enrolled.recovery_codes[1]},
        headers=enrolled.account.auth,
    )
    assert off.status_code == 204, off.text

    notices = [m for m in await outbox(api) if m.subject.startswith("Security notice")]
    assert sorted(m.subject for m in notices) == sorted([TURNED_ON, RECOVERY_USED, TURNED_OFF])
    for mail in notices:
        assert mail.recipient == enrolled.account.email
        assert "http" not in mail.body.lower(), mail.body
        assert enrolled.account.username in mail.body
        assert_no_secret_in(mail.subject + mail.body, enrolled, token, PASSWORD)

    # As delivered: the exact Subject headers, plain text, still no secret.
    assert (await api.container.deliver_mail().execute()).sent >= 3
    delivered = {m["Subject"]: text_of(m) for m in eml_files(settings_of(api))}
    assert {TURNED_ON, RECOVERY_USED, TURNED_OFF} <= set(delivered)
    for subject in (TURNED_ON, RECOVERY_USED, TURNED_OFF):
        assert "http" not in delivered[subject].lower()
        assert_no_secret_in(delivered[subject], enrolled, token, PASSWORD)


async def test_wrong_codes_that_exhaust_the_throttle_tell_the_account_once(api: Api) -> None:
    """The throttle that wrong codes exhaust is the log-in throttle (§12), whose refusals the
    account hears of once per window, whichever step met them."""
    enrolled = await enrolled_account(api)
    guessed, waiting = (
        await mfa_token(api, enrolled.account.email),
        await mfa_token(api, enrolled.account.email),
    )
    for _ in range(5):
        assert (await second_step(api, guessed, enrolled.app.wrong_code())).status_code == 401
    assert await subjects_to(api, enrolled.account.email) == [TURNED_ON]

    for _ in range(2):
        assert (await second_step(api, waiting, enrolled.recovery_codes[0])).status_code == 429

    assert (await subjects_to(api, enrolled.account.email)).count(THROTTLED) == 1
    assert (await password_step(api, enrolled.account.email)).status_code == 429
    assert (await subjects_to(api, enrolled.account.email)).count(THROTTLED) == 1
