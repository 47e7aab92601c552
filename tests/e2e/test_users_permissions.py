"""Who may do what on `/api/v1/users` (CONTRACT §3): sign-up, list, me, read, replace and patch.

Every row names a caller (anonymous, user, moderator, admin), a target and the status the contract
promises. Deletion, password changes and the last-admin rule are in `test_users_permissions_removal`.
"""

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Account, Api, assert_envelope

USERS = "/api/v1/users"
MISSING_ID = 987_654
ERRORS = {
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    409: "ConflictError",
}
SIGN_UP = {"email": "new.comer@example.com", "username": "new_comer", "password": "Secret123"}


async def caller(api: Api, who: str) -> Account | None:
    """The signed-in account for `who` (None for anonymous); "admin" is the fixture's admin."""
    if who == "anonymous":
        return None
    if who == "admin":
        return await api.admin()
    return await api.create_account(who)


def headers(account: Account | None) -> dict[str, str]:
    return account.auth if account is not None else {}


async def target_of(api: Api, me: Account | None, target: str) -> Account | None:
    """The account a request is about: the caller, a fresh account of a role, or None (no such id)."""
    if target == "self":
        assert me is not None
        return me
    if target == "missing":
        return None
    return await api.create_account(target)


def id_of(account: Account | None) -> int:
    return account.id if account is not None else MISSING_ID


def expect(response: httpx.Response, status: int) -> None:
    """The status, and for an error the contract's envelope (with `WWW-Authenticate` on a 401)."""
    if status < 400:
        assert response.status_code == status, response.text
        return
    assert_envelope(response, status, ERRORS[status])
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"


async def stored(api: Api, user_id: int) -> dict[str, Any]:
    """The account as an admin reads it now."""
    response = await api.client.get(f"{USERS}/{user_id}", headers=(await api.admin()).auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


# --- POST /users ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "user", "moderator", "admin"])
async def test_anyone_may_sign_up_as_an_active_user_and_gets_its_location(api: Api, who: str) -> None:
    me = await caller(api, who)
    response = await api.client.post(USERS, json=SIGN_UP, headers=headers(me))
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v1/users/{body['id']}"
    assert (body["email"], body["username"]) == (SIGN_UP["email"], SIGN_UP["username"])
    assert (body["role"], body["is_active"]) == ("user", True)
    assert await stored(api, body["id"]) == body


@pytest.mark.parametrize("who", ["anonymous", "user", "moderator"])
@pytest.mark.parametrize(
    ("field", "value"), [("role", "admin"), ("role", "user"), ("is_active", True), ("is_active", False)]
)
async def test_only_an_admin_may_send_role_or_is_active_at_sign_up(
    api: Api, who: str, field: str, value: object
) -> None:
    me = await caller(api, who)
    refused = await api.client.post(USERS, json={**SIGN_UP, field: value}, headers=headers(me))
    expect(refused, 403)
    # Nothing was created: the same email and username are still free.
    assert (await api.client.post(USERS, json=SIGN_UP)).status_code == 201


@pytest.mark.parametrize(
    ("field", "value"), [("role", "moderator"), ("role", "admin"), ("role", "user"), ("is_active", False)]
)
async def test_an_admin_creates_an_account_with_the_role_or_is_active_it_sends(
    api: Api, field: str, value: object
) -> None:
    admin = await api.admin()
    response = await api.client.post(USERS, json={**SIGN_UP, field: value}, headers=admin.auth)
    assert response.status_code == 201, response.text
    assert response.json()[field] == value
    assert (await stored(api, response.json()["id"]))[field] == value


# --- GET /users, GET /users/me, GET /users/{id} --------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 401), ("user", 403), ("moderator", 200), ("admin", 200)]
)
async def test_only_moderators_and_admins_may_list_users(api: Api, who: str, status: int) -> None:
    me = await caller(api, who)
    response = await api.client.get(USERS, headers=headers(me))
    expect(response, status)
    if status == 200:
        assert me is not None
        assert me.id in [item["id"] for item in response.json()["items"]]


@pytest.mark.parametrize("who", ["user", "moderator", "admin"])
async def test_me_is_the_signed_in_account(api: Api, who: str) -> None:
    me = await caller(api, who)
    assert me is not None
    response = await api.client.get(f"{USERS}/me", headers=me.auth)
    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["email"], response.json()["role"]) == (
        me.id,
        me.email,
        who,
    )


async def test_me_without_a_token_is_401(api: Api) -> None:
    expect(await api.client.get(f"{USERS}/me"), 401)


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("user", "self", 200),
        ("moderator", "self", 200),
        ("admin", "self", 200),
        ("user", "user", 403),
        ("user", "moderator", 403),
        ("user", "admin", 403),
        ("user", "missing", 403),
        ("moderator", "user", 200),
        ("moderator", "moderator", 200),
        ("moderator", "admin", 200),
        ("moderator", "missing", 404),
        ("admin", "user", 200),
        ("admin", "moderator", 200),
        ("admin", "admin", 200),
        ("admin", "missing", 404),
        ("anonymous", "user", 401),
        ("anonymous", "missing", 401),
    ],
)
async def test_reading_an_account_is_for_self_moderators_and_admins(
    api: Api, who: str, target: str, status: int
) -> None:
    me = await caller(api, who)
    subject = await target_of(api, me, target)
    response = await api.client.get(f"{USERS}/{id_of(subject)}", headers=headers(me))
    expect(response, status)
    if status == 200:
        assert subject is not None
        assert (response.json()["id"], response.json()["email"]) == (subject.id, subject.email)


# --- PUT /users/{id} -----------------------------------------------------------------------------

REPLACEMENT = {"email": "replaced@example.com", "username": "replaced_name", "full_name": "Replaced Name"}


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("user", "self", 200),
        ("moderator", "self", 200),
        ("admin", "self", 200),
        ("admin", "user", 200),
        ("admin", "moderator", 200),
        ("admin", "admin", 200),
        ("user", "user", 403),
        ("user", "admin", 403),
        ("user", "missing", 403),
        ("moderator", "user", 403),
        ("moderator", "moderator", 403),
        ("moderator", "admin", 403),
        ("moderator", "missing", 404),
        ("admin", "missing", 404),
        ("anonymous", "user", 401),
    ],
)
async def test_replacing_an_account_is_for_self_and_admins(
    api: Api, who: str, target: str, status: int
) -> None:
    me = await caller(api, who)
    subject = await target_of(api, me, target)
    response = await api.client.put(f"{USERS}/{id_of(subject)}", json=REPLACEMENT, headers=headers(me))
    expect(response, status)
    if subject is None:
        return
    after = await stored(api, subject.id)
    if status == 200:
        assert {k: response.json()[k] for k in REPLACEMENT} == REPLACEMENT
        assert {k: after[k] for k in REPLACEMENT} == REPLACEMENT
    else:
        assert (after["email"], after["username"]) == (subject.email, subject.username)


# --- PATCH /users/{id} ---------------------------------------------------------------------------

EMAIL = {"email": "patched@example.com"}
USERNAME = {"username": "patched_name"}
FULL_NAME = {"full_name": "Patched Name"}
NO_NAME = {"full_name": None}
DEACTIVATE = {"is_active": False}
ACTIVATE = {"is_active": True}
PROFILE: list[dict[str, Any]] = [EMAIL, USERNAME, FULL_NAME, NO_NAME]


def rows(who: str, target: str, status: int, *bodies: dict[str, Any]) -> list[Any]:
    return [pytest.param(who, target, body, status, id=f"{who}-{target}-{body}") for body in bodies]


@pytest.mark.parametrize(
    ("who", "target", "body", "status"),
    [
        *rows("user", "self", 200, *PROFILE),
        *rows("user", "self", 403, {"role": "admin"}, {"role": "moderator"}, DEACTIVATE, ACTIVATE),
        *rows("moderator", "self", 200, *PROFILE),
        *rows("moderator", "self", 403, {"role": "admin"}, {"role": "user"}, DEACTIVATE),
        *rows("moderator", "user", 200, DEACTIVATE, ACTIVATE),
        *rows("moderator", "user", 403, EMAIL, USERNAME, FULL_NAME, {"role": "moderator"}),
        *rows("moderator", "user", 403, {**DEACTIVATE, **FULL_NAME}),
        *rows("moderator", "moderator", 403, DEACTIVATE),
        *rows("moderator", "admin", 403, DEACTIVATE),
        *rows("moderator", "missing", 404, DEACTIVATE),
        *rows("user", "user", 403, FULL_NAME, DEACTIVATE),
        *rows("user", "admin", 403, {"role": "user"}),
        *rows("user", "missing", 403, FULL_NAME),
        *rows("admin", "self", 200, *PROFILE),
        *rows("admin", "user", 200, *PROFILE, {"role": "moderator"}, {"role": "admin"}, DEACTIVATE),
        *rows("admin", "user", 200, {**EMAIL, **USERNAME, **FULL_NAME, "role": "moderator", **DEACTIVATE}),
        *rows("admin", "moderator", 200, {"role": "user"}, {"role": "admin"}, DEACTIVATE),
        *rows("admin", "admin", 200, {"role": "user"}, DEACTIVATE),
        *rows("admin", "missing", 404, FULL_NAME),
        *rows("anonymous", "user", 401, FULL_NAME),
    ],
)
async def test_patching_a_field_is_allowed_exactly_as_the_table_says(
    api: Api, who: str, target: str, body: dict[str, Any], status: int
) -> None:
    me = await caller(api, who)
    subject = await target_of(api, me, target)
    before = await stored(api, subject.id) if subject is not None else {}
    response = await api.client.patch(f"{USERS}/{id_of(subject)}", json=body, headers=headers(me))
    expect(response, status)
    if subject is None:
        return
    after = await stored(api, subject.id)
    if status == 200:
        assert {k: response.json()[k] for k in body} == body
        assert {k: after[k] for k in body} == body
    else:
        assert after == before
