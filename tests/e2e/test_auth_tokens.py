"""§5 tokens: what the service issues, and every kind of token it must refuse with 401."""

import hashlib
import time
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import TEST_SECRET
from tests.e2e.conftest import Account, Api, assert_envelope

ME = "/api/v1/users/me"
REFRESH = "/api/v1/auth/refresh"
OTHER_SECRET = "another-signing-secret-that-is-also-long-enough-42"
REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti", "iss", "aud", "sid"]


def kid(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def issued_claims(account: Account) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(account.token, options={"verify_signature": False})
    return claims


def forge(
    account: Account,
    changes: dict[str, Any] | None = None,
    *,
    secret: str = TEST_SECRET,
    algorithm: str = "HS256",
    key_id: str | None = None,
    drop: str | None = None,
) -> str:
    """A token like the one the service issued to `account`, re-signed after the given changes."""
    now = int(time.time())
    claims = {**issued_claims(account), "iat": now, "exp": now + 600, "jti": f"forged-{now}"}
    claims.update(changes or {})
    if drop is not None:
        del claims[drop]
    headers = {"kid": key_id if key_id is not None else kid(secret)}
    return jwt.encode(claims, secret, algorithm=algorithm, headers=headers)


async def me_with(api: Api, token: str) -> httpx.Response:
    return await api.client.get(ME, headers={"Authorization": f"Bearer {token}"})


def assert_unauthorized(response: httpx.Response) -> None:
    assert_envelope(response, 401, "AuthenticationError")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_issued_access_token_is_hs256_with_the_contract_claims(api: Api) -> None:
    account = await api.create_account()

    header = jwt.get_unverified_header(account.token)
    claims = jwt.decode(
        account.token, TEST_SECRET, algorithms=["HS256"], audience="gatehouse-api", issuer="gatehouse"
    )

    assert header["alg"] == "HS256"
    assert header["kid"] == kid(TEST_SECRET)
    assert claims["sub"] == str(account.id)
    assert claims["iss"] == "gatehouse"
    assert claims["aud"] == "gatehouse-api"
    assert claims["exp"] - claims["iat"] == 1800
    assert claims["jti"]
    assert str(claims["sid"]).isdigit()


async def test_each_login_gets_its_own_session_and_jti(api: Api) -> None:
    account = await api.create_account()
    second, _ = await api.login(account.email, account.password)

    first_claims = issued_claims(account)
    second_claims = jwt.decode(second, options={"verify_signature": False})

    assert first_claims["sid"] != second_claims["sid"]
    assert first_claims["jti"] != second_claims["jti"]


async def test_a_correctly_forged_token_is_accepted_so_the_refusals_below_mean_something(api: Api) -> None:
    account = await api.create_account()

    response = await me_with(api, forge(account))

    assert response.status_code == 200, response.text
    assert response.json()["id"] == account.id


async def test_tampered_signature_is_401(api: Api) -> None:
    account = await api.create_account()
    head, payload, signature = account.token.split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    tampered = f"{head}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"

    assert_unauthorized(await me_with(api, tampered))


async def test_payload_changed_without_re_signing_is_401(api: Api) -> None:
    account, other = await api.create_account(), await api.create_account()
    _, _, signature = account.token.split(".")
    head, payload, _ = forge(account, {"sub": str(other.id)}).split(".")

    assert_unauthorized(await me_with(api, f"{head}.{payload}.{signature}"))


async def test_unsigned_alg_none_token_is_401(api: Api) -> None:
    account = await api.create_account()
    claims = {**issued_claims(account), "exp": int(time.time()) + 600}
    unsigned = jwt.encode(claims, "", algorithm="none", headers={"kid": kid(TEST_SECRET)})

    assert_unauthorized(await me_with(api, unsigned))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
async def test_other_hmac_algorithms_with_the_right_secret_are_401(api: Api, algorithm: str) -> None:
    account = await api.create_account()

    assert_unauthorized(await me_with(api, forge(account, algorithm=algorithm)))


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("aud", "someone-else"),
        ("aud", ["someone-else"]),
        ("iss", "not-gatehouse"),
        ("iss", "Gatehouse"),
    ],
    ids=["other-audience", "other-audience-in-a-list", "other-issuer", "issuer-in-another-case"],
)
async def test_wrong_audience_or_issuer_is_401(api: Api, claim: str, value: object) -> None:
    account = await api.create_account()

    assert_unauthorized(await me_with(api, forge(account, {claim: value})))


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
async def test_a_token_missing_a_required_claim_is_401(api: Api, claim: str) -> None:
    account = await api.create_account()

    assert_unauthorized(await me_with(api, forge(account, drop=claim)))


async def test_expired_token_is_401(api: Api) -> None:
    account = await api.create_account()
    now = int(time.time())

    assert_unauthorized(await me_with(api, forge(account, {"iat": now - 120, "exp": now - 60})))


@pytest.mark.parametrize("shape", ["word", "plus sign", "leading space", "decimal point", "int", "fullwidth"])
async def test_a_sub_that_is_not_a_decimal_string_is_401(api: Api, shape: str) -> None:
    account = await api.create_account()
    fullwidth = "".join(chr(ord("０") + int(d)) for d in str(account.id))
    sub: object = {
        "word": "user",
        "plus sign": f"+{account.id}",
        "leading space": f" {account.id}",
        "decimal point": f"{account.id}.0",
        "int": account.id,
        "fullwidth": fullwidth,
    }[shape]

    assert_unauthorized(await me_with(api, forge(account, {"sub": sub})))


@pytest.mark.parametrize("key_id", ["own", "service"], ids=["kid-of-the-other-key", "kid-of-the-service"])
async def test_a_token_signed_with_another_strong_secret_is_401(api: Api, key_id: str) -> None:
    account = await api.create_account()
    named = kid(OTHER_SECRET) if key_id == "own" else kid(TEST_SECRET)

    assert_unauthorized(await me_with(api, forge(account, secret=OTHER_SECRET, key_id=named)))


async def test_a_sub_naming_another_user_of_the_same_session_is_401(api: Api) -> None:
    account, other = await api.create_account(), await api.create_account()

    assert_unauthorized(await me_with(api, forge(account, {"sub": str(other.id)})))


async def test_a_refresh_token_is_not_accepted_as_a_bearer_token(api: Api) -> None:
    account = await api.create_account()

    assert_unauthorized(await me_with(api, account.refresh_token))


async def test_an_access_token_is_not_accepted_as_a_refresh_token(api: Api) -> None:
    account = await api.create_account()

    assert_unauthorized(await api.client.post(REFRESH, json={"refresh_token": account.token}))


async def test_tokens_of_a_deleted_user_are_401(api: Api) -> None:
    account = await api.create_account()
    admin = await api.admin()
    deleted = await api.client.delete(f"/api/v1/users/{account.id}", headers=admin.auth)
    assert deleted.status_code == 204, deleted.text

    assert_unauthorized(await me_with(api, account.token))
    assert_unauthorized(await api.client.post(REFRESH, json={"refresh_token": account.refresh_token}))


async def test_tokens_of_a_deactivated_user_are_401(api: Api) -> None:
    account = await api.create_account(active=False)

    assert_unauthorized(await me_with(api, account.token))
    assert_unauthorized(await api.client.post(REFRESH, json={"refresh_token": account.refresh_token}))


@pytest.mark.parametrize(
    "header", ["Basic x", "Bearer", "Bearer ", "Token abc", "Bearer not.a.jwt", "Bearer a b", "bearer"]
)
async def test_a_malformed_authorization_header_is_401(api: Api, header: str) -> None:
    await api.create_account()

    assert_unauthorized(await api.client.get(ME, headers={"Authorization": header}))


async def test_a_request_without_authorization_is_401(api: Api) -> None:
    assert_unauthorized(await api.client.get(ME))
