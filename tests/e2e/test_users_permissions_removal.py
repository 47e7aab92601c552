"""Who may delete accounts and change passwords, and the last-admin rule (CONTRACT §3, §5).

A deleted account and a changed password both end sessions: the old tokens must then get 401.
"""

import httpx
import pytest

from tests.e2e.conftest import PASSWORD, Account, Api, assert_envelope
from tests.e2e.test_users_permissions import USERS, caller, expect, headers, id_of, target_of

NEW_PASSWORD = "Brand-New-Pass-7"


async def me_status(api: Api, token: str) -> int:
    response = await api.client.get(f"{USERS}/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


async def refresh(api: Api, refresh_token: str) -> httpx.Response:
    return await api.client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


async def log_in(api: Api, email: str, password: str) -> httpx.Response:
    return await api.client.post("/api/v1/auth/token", json={"email": email, "password": password})


# --- DELETE /users/{id} --------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["user", "moderator", "admin"])
async def test_an_admin_deletes_an_account_and_its_sessions_stop_working(api: Api, target: str) -> None:
    admin = await api.admin()
    subject = await api.create_account(target)
    assert await me_status(api, subject.token) == 200

    response = await api.client.delete(f"{USERS}/{subject.id}", headers=admin.auth)

    assert response.status_code == 204, response.text
    assert response.content == b""
    expect(await api.client.get(f"{USERS}/{subject.id}", headers=admin.auth), 404)
    assert await me_status(api, subject.token) == 401
    expect(await refresh(api, subject.refresh_token), 401)
    expect(await log_in(api, subject.email, subject.password), 401)


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("user", "self", 403),
        ("user", "user", 403),
        ("user", "admin", 403),
        ("user", "missing", 403),
        ("moderator", "self", 403),
        ("moderator", "user", 403),
        ("moderator", "admin", 403),
        ("moderator", "missing", 404),
        ("admin", "missing", 404),
        ("anonymous", "user", 401),
    ],
)
async def test_only_admins_may_delete_accounts(api: Api, who: str, target: str, status: int) -> None:
    me = await caller(api, who)
    subject = await target_of(api, me, target)

    response = await api.client.delete(f"{USERS}/{id_of(subject)}", headers=headers(me))

    expect(response, status)
    if subject is not None:
        still = await api.client.get(f"{USERS}/{subject.id}", headers=(await api.admin()).auth)
        assert still.status_code == 200
        assert await me_status(api, subject.token) == 200


# --- POST /users/me/password ---------------------------------------------------------------------


def change(current: str, new: str) -> dict[str, str]:
    return {"current_password": current, "new_password": new}


@pytest.mark.parametrize("who", ["user", "moderator", "admin"])
async def test_changing_ones_password_ends_every_session_of_that_user(api: Api, who: str) -> None:
    me = await caller(api, who)
    assert me is not None
    other_token, other_refresh = await api.login(me.email, PASSWORD)
    bystander = await api.create_account("user")

    response = await api.client.post(
        f"{USERS}/me/password", json=change(PASSWORD, NEW_PASSWORD), headers=me.auth
    )

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert await me_status(api, me.token) == 401
    assert await me_status(api, other_token) == 401
    expect(await refresh(api, me.refresh_token), 401)
    expect(await refresh(api, other_refresh), 401)
    assert await me_status(api, bystander.token) == 200
    expect(await log_in(api, me.email, PASSWORD), 401)
    fresh = await log_in(api, me.email, NEW_PASSWORD)
    assert fresh.status_code == 200
    assert await me_status(api, fresh.json()["access_token"]) == 200


async def test_a_wrong_current_password_is_403_and_changes_nothing(api: Api) -> None:
    me = await api.create_account("user")

    response = await api.client.post(
        f"{USERS}/me/password", json=change("Wrong-Password-1", NEW_PASSWORD), headers=me.auth
    )

    expect(response, 403)
    assert await me_status(api, me.token) == 200
    assert (await log_in(api, me.email, PASSWORD)).status_code == 200
    expect(await log_in(api, me.email, NEW_PASSWORD), 401)


@pytest.mark.parametrize(
    "weak", ["Short1a", "alllowercase1", "ALLUPPERCASE1", "NoDigitsAtAll", "Aa1" * 43, ""]
)
async def test_a_weak_new_password_is_422_naming_new_password(api: Api, weak: str) -> None:
    me = await api.create_account("user")

    response = await api.client.post(f"{USERS}/me/password", json=change(PASSWORD, weak), headers=me.auth)

    body = assert_envelope(response, 422, "ValidationError")
    assert "new_password" in [detail["field"] for detail in body["details"]]
    if weak:
        assert weak not in response.text
    assert await me_status(api, me.token) == 200
    assert (await log_in(api, me.email, PASSWORD)).status_code == 200


async def test_changing_a_password_needs_a_signed_in_user(api: Api) -> None:
    expect(await api.client.post(f"{USERS}/me/password", json=change(PASSWORD, NEW_PASSWORD)), 401)


# --- The last active admin -----------------------------------------------------------------------

REMOVALS = {
    "delete": ("DELETE", None, 204),
    "demote to user": ("PATCH", {"role": "user"}, 200),
    "demote to moderator": ("PATCH", {"role": "moderator"}, 200),
    "deactivate": ("PATCH", {"is_active": False}, 200),
}


async def remove(api: Api, actor: Account, subject: Account, how: str) -> httpx.Response:
    method, body, _ = REMOVALS[how]
    url = f"{USERS}/{subject.id}"
    if method == "DELETE":
        return await api.client.delete(url, headers=actor.auth)
    return await api.client.patch(url, json=body, headers=actor.auth)


async def assert_active_admin(api: Api, account: Account) -> None:
    me = await api.client.get(f"{USERS}/me", headers=account.auth)
    assert me.status_code == 200
    assert (me.json()["role"], me.json()["is_active"]) == ("admin", True)


@pytest.mark.parametrize("how", list(REMOVALS))
async def test_the_last_active_admin_cannot_be_deleted_demoted_or_deactivated(api: Api, how: str) -> None:
    admin = await api.admin()
    expect(await remove(api, admin, admin, how), 409)
    await assert_active_admin(api, admin)


@pytest.mark.parametrize("how", list(REMOVALS))
async def test_an_inactive_second_admin_does_not_count(api: Api, how: str) -> None:
    admin = await api.admin()
    await api.create_account("admin", active=False)
    expect(await remove(api, admin, admin, how), 409)
    await assert_active_admin(api, admin)


@pytest.mark.parametrize("how", list(REMOVALS))
async def test_an_admin_can_be_removed_once_a_second_active_admin_exists(api: Api, how: str) -> None:
    first = await api.admin()
    second = await api.create_account("admin")

    response = await remove(api, second, first, how)

    assert response.status_code == REMOVALS[how][2], response.text
    # Now `second` is the last active admin, and the rule protects them in turn.
    expect(await remove(api, second, second, how), 409)
    await assert_active_admin(api, second)


@pytest.mark.parametrize("how", list(REMOVALS))
async def test_an_admin_may_remove_themselves_while_another_active_admin_remains(api: Api, how: str) -> None:
    first = await api.admin()
    second = await api.create_account("admin")

    response = await remove(api, first, first, how)

    assert response.status_code == REMOVALS[how][2], response.text
    await assert_active_admin(api, second)
