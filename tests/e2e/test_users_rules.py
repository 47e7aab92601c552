"""The rules of an account through HTTP (CONTRACT §2, §3): validation, uniqueness, what is shown, path ids.

Listing (pages, filters, sorts) is in `test_users_listing`.
"""

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Api, assert_envelope

USERS = "/api/v1/users"
VALID = {"email": "valid@example.com", "username": "valid_name", "password": "Secret123"}
USER_KEYS = {
    "id",
    "email",
    "username",
    "full_name",
    "role",
    "is_active",
    "email_verified",
    "mfa_enabled",
    "created_at",
    "updated_at",
}


async def sign_up(api: Api, **fields: Any) -> httpx.Response:
    return await api.client.post(USERS, json={**VALID, **fields})


def problem_fields(response: httpx.Response) -> list[str]:
    """The 422 envelope's details, checked to be a list of `{field, message}`; their fields."""
    body = assert_envelope(response, 422, "ValidationError")
    details = body["details"]
    assert isinstance(details, list)
    assert details
    for detail in details:
        assert set(detail) == {"field", "message"}
        assert isinstance(detail["message"], str)
        assert detail["message"]
    return [detail["field"] for detail in details]


# --- 422 with details ----------------------------------------------------------------------------

BAD_SIGN_UPS = [
    ("email", "not-an-email", "email"),
    ("email", "ada@example", "email"),
    ("email", "ada lovelace@example.com", "email"),
    ("email", "ada@example.c", "email"),
    ("email", "a" * 243 + "@example.com", "email"),
    ("username", "ab", "username"),
    ("username", "a" * 51, "username"),
    ("username", "ada-l", "username"),
    ("username", "ada l", "username"),
    ("username", "ada!", "username"),
    ("username", "adé_l", "username"),
    ("full_name", "x" * 201, "full_name"),
    ("password", "Short1a", "password"),
    ("password", "alllowercase1", "password"),
    ("password", "ALLUPPERCASE1", "password"),
    ("password", "NoDigitsAtAll", "password"),
    ("password", "Aa1" * 43, "password"),
    ("nickname", "ada", "nickname"),
    ("username", 123, "username"),
    ("email", None, "email"),
    ("full_name", 42, "full_name"),
    ("password", ["Secret123"], "password"),
]


@pytest.mark.parametrize(("key", "value", "field"), BAD_SIGN_UPS)
async def test_a_sign_up_breaking_a_rule_is_422_naming_the_field(
    api: Api, key: str, value: object, field: str
) -> None:
    response = await sign_up(api, **{key: value})
    assert field in problem_fields(response)
    assert "Secret123" not in response.text
    assert (await sign_up(api)).status_code == 201  # nothing was stored under the valid email


@pytest.mark.parametrize("missing", ["email", "username", "password"])
async def test_a_sign_up_missing_a_required_field_is_422_naming_it(api: Api, missing: str) -> None:
    body = {k: v for k, v in VALID.items() if k != missing}
    assert missing in problem_fields(await api.client.post(USERS, json=body))


async def test_the_longest_and_shortest_allowed_values_are_accepted(api: Api) -> None:
    longest = await sign_up(
        api,
        email="a" * 242 + "@example.com",
        username="u" * 50,
        full_name="n" * 200,
        password="Aa1" + "x" * 125,
    )
    assert longest.status_code == 201, longest.text
    shortest = await api.client.post(
        USERS, json={"email": "b@ex.io", "username": "abc", "password": "Abcdef12", "full_name": ""}
    )
    assert shortest.status_code == 201, shortest.text


@pytest.mark.parametrize(
    ("method", "body", "field"),
    [
        ("PATCH", {"email": "bad"}, "email"),
        ("PATCH", {"username": "x"}, "username"),
        ("PATCH", {"full_name": "x" * 201}, "full_name"),
        ("PATCH", {"role": "superuser"}, "role"),
        ("PATCH", {"is_active": "no"}, "is_active"),
        ("PATCH", {"nickname": "ada"}, "nickname"),
        ("PUT", {"email": "ok@example.com", "username": "ok_name"}, "full_name"),
        ("PUT", {"email": "ok@example.com", "username": "x!", "full_name": None}, "username"),
    ],
)
async def test_a_change_breaking_a_rule_is_422_naming_the_field(
    api: Api, method: str, body: dict[str, Any], field: str
) -> None:
    admin = await api.admin()
    target = await api.create_account("user")
    url = f"{USERS}/{target.id}"
    before = (await api.client.get(url, headers=admin.auth)).json()

    response = await api.client.request(method, url, json=body, headers=admin.auth)

    assert field in problem_fields(response)
    assert (await api.client.get(url, headers=admin.auth)).json() == before


async def test_malformed_json_is_400(api: Api) -> None:
    response = await api.client.post(
        USERS, content=b'{"email": ', headers={"Content-Type": "application/json"}
    )
    assert_envelope(response, 400, "BadRequestError")


# --- Email and username uniqueness ---------------------------------------------------------------


async def test_the_email_is_stored_lower_cased(api: Api) -> None:
    response = await sign_up(api, email="Grace.Hopper@Example.COM")
    assert response.status_code == 201
    assert response.json()["email"] == "grace.hopper@example.com"
    admin = await api.admin()
    stored = await api.client.get(f"{USERS}/{response.json()['id']}", headers=admin.auth)
    assert stored.json()["email"] == "grace.hopper@example.com"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"email": "Ada@Example.com"}, {"email": "ada@example.com", "username": "other_name"}),
        ({"email": "ada@example.com"}, {"email": "ADA@EXAMPLE.COM", "username": "other_name"}),
        ({"username": "Ada_L"}, {"username": "ada_l", "email": "other@example.com"}),
        ({"username": "ada_l"}, {"username": "ADA_L", "email": "other@example.com"}),
    ],
)
async def test_a_taken_email_or_username_in_any_case_is_409(
    api: Api, first: dict[str, str], second: dict[str, str]
) -> None:
    assert (await sign_up(api, **first)).status_code == 201
    assert_envelope(await sign_up(api, **second), 409, "ConflictError")
    admin = await api.admin()
    listed = await api.client.get(USERS, params={"search": "example.com"}, headers=admin.auth)
    assert listed.json()["total"] == 2  # the admin and the first sign-up


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("PATCH", {"email": "TAKEN@example.com"}),
        ("PATCH", {"username": "Taken_Name"}),
        ("PUT", {"email": "taken@EXAMPLE.com", "username": "free_name", "full_name": None}),
        ("PUT", {"email": "free@example.com", "username": "TAKEN_NAME", "full_name": None}),
    ],
)
async def test_changing_to_a_taken_email_or_username_in_any_case_is_409(
    api: Api, method: str, body: dict[str, Any]
) -> None:
    assert (await sign_up(api, email="taken@example.com", username="taken_name")).status_code == 201
    me = await api.create_account("user")
    url = f"{USERS}/{me.id}"
    before = (await api.client.get(url, headers=me.auth)).json()

    response = await api.client.request(method, url, json=body, headers=me.auth)

    assert_envelope(response, 409, "ConflictError")
    assert (await api.client.get(url, headers=me.auth)).json() == before


async def test_keeping_ones_own_email_and_username_is_not_a_conflict(api: Api) -> None:
    me = await api.create_account("user")
    body = {"email": me.email.upper(), "username": me.username.upper(), "full_name": "Same Me"}
    response = await api.client.put(f"{USERS}/{me.id}", json=body, headers=me.auth)
    assert response.status_code == 200, response.text
    assert response.json()["email"] == me.email


# --- What a response shows -----------------------------------------------------------------------


def assert_user_shape(user: dict[str, Any]) -> None:
    assert set(user) == USER_KEYS
    assert isinstance(user["id"], int)
    for stamp in ("created_at", "updated_at"):
        assert datetime.fromisoformat(user[stamp]).utcoffset() is not None


async def test_no_user_response_contains_a_password_or_its_hash(api: Api) -> None:
    admin = await api.admin()
    created = await sign_up(api, full_name="Shown Name")
    uid = created.json()["id"]
    token = (await api.login(VALID["email"], VALID["password"]))[0]
    auth = {"Authorization": f"Bearer {token}"}
    responses = [
        created,
        await api.client.get(f"{USERS}/{uid}", headers=auth),
        await api.client.get(f"{USERS}/me", headers=auth),
        await api.client.put(
            f"{USERS}/{uid}",
            json={"email": VALID["email"], "username": "renamed", "full_name": None},
            headers=auth,
        ),
        await api.client.patch(f"{USERS}/{uid}", json={"full_name": "Again"}, headers=auth),
        await api.client.get(USERS, headers=admin.auth),
    ]
    for response in responses:
        assert response.status_code in (200, 201), response.text
        assert "password" not in response.text.lower()
        assert "$argon2" not in response.text
        assert VALID["password"] not in response.text
    for user in [*(r.json() for r in responses[:-1]), *responses[-1].json()["items"]]:
        assert_user_shape(user)


# --- Ids in paths --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("raw_id", ["abc", "0", "-1", "99999999999999999999999", "1.5"])
async def test_an_id_that_is_not_a_positive_integer_is_400(api: Api, method: str, raw_id: str) -> None:
    admin = await api.admin()
    body = (
        {"email": "x@example.com", "username": "xyz", "full_name": None}
        if method in ("PUT", "PATCH")
        else None
    )
    response = await api.client.request(method, f"{USERS}/{raw_id}", json=body, headers=admin.auth)
    assert_envelope(response, 400, "BadRequestError")
