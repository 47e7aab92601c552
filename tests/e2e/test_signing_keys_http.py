"""§13 public-key signing over HTTP, through the real container and app: tokens another service
verifies from `/.well-known/jwks.json` alone (with joserfc, another JOSE library), the discovery
document, and the 401 of every token in another algorithm."""

import time
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from joserfc import jwt as jose_jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import KeySet, KeySetSerialization

from gatehouse.adapters.signing_keys import PrivateKey, thumbprint
from tests.conftest import TEST_SECRET
from tests.e2e.conftest import Api, assert_envelope, start, test_settings
from tests.token_forgery import hmac_token, private_pem, public_pem, unsigned_token

JWKS = "/.well-known/jwks.json"
DISCOVERY = "/.well-known/openid-configuration"
ME = "/api/v1/users/me"
ALGORITHMS = ["EdDSA", "ES256"]


def new_key(algorithm: str) -> PrivateKey:
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def keyed(algorithm: str, key: PrivateKey, **more: Any) -> dict[str, Any]:
    return {"jwt_algorithm": algorithm, "jwt_private_key": private_pem(key).decode(), **more}


@asynccontextmanager
async def serving(tmp_path: Path, **settings: Any) -> AsyncIterator[Api]:
    """The real app on the SQLite file in `tmp_path` (the same file for every app of one test)."""
    container, app = await start(test_settings(tmp_path, **settings))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, container)
    finally:
        await container.database().dispose()
        container.hasher().close()


def verify_with_joserfc(token: str, jwks: KeySetSerialization, algorithm: str) -> dict[str, Any]:
    """What another service does: import the published key set, verify signature and claims."""
    key_set = KeySet.import_key_set(jwks)
    with warnings.catch_warnings():
        # joserfc flags `EdDSA` as superseded by RFC 9864's `Ed25519`; the contract names EdDSA.
        warnings.filterwarnings("ignore", "EdDSA is deprecated", SecurityWarning)
        decoded = jose_jwt.decode(token, key_set, algorithms=[algorithm])
    jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": "gatehouse"},
        aud={"essential": True, "value": "gatehouse-api"},
        sub={"essential": True},
        exp={"essential": True},
    ).validate(decoded.claims)
    return dict(decoded.claims)


def claims_like(token: str) -> dict[str, Any]:
    """The claims of an issued token, fresh: a forgery differs from it only by how it is signed."""
    now = int(time.time())
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return {**claims, "iat": now, "exp": now + 600}


@pytest.fixture(params=ALGORITHMS)
def algorithm(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_token_verifies_with_another_jose_library_from_the_jwks_alone(
    tmp_path: Path, algorithm: str
) -> None:
    async with serving(tmp_path, **keyed(algorithm, new_key(algorithm))) as api:
        account = await api.create_account()
        jwks = (await api.client.get(JWKS)).json()

    claims = verify_with_joserfc(account.token, jwks, algorithm)

    assert claims["sub"] == str(account.id)
    assert claims["typ"] == "access"


async def test_the_jwks_publishes_the_signing_key_by_its_thumbprint(tmp_path: Path, algorithm: str) -> None:
    key = new_key(algorithm)
    async with serving(tmp_path, **keyed(algorithm, key)) as api:
        account = await api.create_account()
        response = await api.client.get(JWKS)
        me = await api.client.get(ME, headers=account.auth)

    [jwk] = response.json()["keys"]
    expected = {"kty", "crv", "x", "kid", "alg", "use"} | ({"y"} if algorithm == "ES256" else set())
    assert set(jwk) == expected
    assert (jwk["kty"], jwk["crv"]) == (("OKP", "Ed25519") if algorithm == "EdDSA" else ("EC", "P-256"))
    assert (jwk["alg"], jwk["use"]) == (algorithm, "sig")
    assert jwk["kid"] == thumbprint(key.public_key()) == jwt.get_unverified_header(account.token)["kid"]
    assert jwt.get_unverified_header(account.token)["alg"] == algorithm
    assert me.status_code == 200, me.text


async def test_both_documents_are_cacheable_and_never_rate_limited(tmp_path: Path) -> None:
    async with serving(tmp_path, rate_limit_per_minute=1, **keyed("EdDSA", new_key("EdDSA"))) as api:
        answers = [await api.client.get(path) for path in (JWKS, DISCOVERY) * 3]
        limited = [await api.client.get("/api/v1/users/1") for _ in range(2)]

    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "public, max-age=300"
        assert "ratelimit-limit" not in answer.headers
    assert limited[-1].status_code == 429  # the control: the limit is on


async def test_in_hs256_mode_the_jwks_is_empty_and_tokens_still_hs256(tmp_path: Path) -> None:
    async with serving(tmp_path) as api:
        account = await api.create_account()
        response = await api.client.get(JWKS)

    assert response.status_code == 200
    assert response.json() == {"keys": []}
    assert response.headers["cache-control"] == "public, max-age=300"
    assert jwt.get_unverified_header(account.token)["alg"] == "HS256"


async def test_an_hs256_token_signed_with_the_secret_gets_401(tmp_path: Path, algorithm: str) -> None:
    key = new_key(algorithm)
    async with serving(tmp_path, **keyed(algorithm, key)) as api:
        account = await api.create_account()
        claims = claims_like(account.token)
        answers = [
            await api.client.get(ME, headers={"Authorization": f"Bearer {token}"})
            for token in (
                jwt.encode(
                    claims, TEST_SECRET, algorithm="HS256", headers={"kid": thumbprint(key.public_key())}
                ),
                jwt.encode(claims, TEST_SECRET, algorithm="HS256"),
            )
        ]

    for answer in answers:
        assert_envelope(answer, 401, "AuthenticationError")
        assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_an_hs256_token_hmac_signed_with_the_published_public_key_gets_401(
    tmp_path: Path, algorithm: str
) -> None:
    key = new_key(algorithm)
    async with serving(tmp_path, **keyed(algorithm, key)) as api:
        account = await api.create_account()
        forged = hmac_token(claims_like(account.token), public_pem(key), kid=thumbprint(key.public_key()))
        answer = await api.client.get(ME, headers={"Authorization": f"Bearer {forged}"})

    assert_envelope(answer, 401, "AuthenticationError")


async def test_an_alg_none_token_gets_401(tmp_path: Path, algorithm: str) -> None:
    key = new_key(algorithm)
    async with serving(tmp_path, **keyed(algorithm, key)) as api:
        account = await api.create_account()
        forged = unsigned_token(claims_like(account.token), kid=thumbprint(key.public_key()))
        answer = await api.client.get(ME, headers={"Authorization": f"Bearer {forged}"})

    assert_envelope(answer, 401, "AuthenticationError")


async def test_a_public_key_token_gets_401_in_hs256_mode(tmp_path: Path, algorithm: str) -> None:
    key = new_key(algorithm)
    async with serving(tmp_path) as api:
        account = await api.create_account()
        claims = claims_like(account.token)
        signed = jwt.encode(claims, key, algorithm=algorithm, headers={"kid": thumbprint(key.public_key())})
        answer = await api.client.get(ME, headers={"Authorization": f"Bearer {signed}"})

    assert_envelope(answer, 401, "AuthenticationError")


async def test_switching_the_algorithm_ends_access_tokens_but_refresh_tokens_still_work(
    tmp_path: Path, algorithm: str
) -> None:
    async with serving(tmp_path) as before:
        account = await before.create_account()
    async with serving(tmp_path, **keyed(algorithm, new_key(algorithm))) as after:
        me = await after.client.get(ME, headers=account.auth)
        refreshed = await after.client.post(
            "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
        )
        fresh = refreshed.json().get("access_token", "")
        me_again = await after.client.get(ME, headers={"Authorization": f"Bearer {fresh}"})

    assert_envelope(me, 401, "AuthenticationError")
    assert refreshed.status_code == 200, refreshed.text
    assert jwt.get_unverified_header(fresh)["alg"] == algorithm
    assert me_again.status_code == 200, me_again.text


async def test_a_previous_keys_tokens_still_work_and_both_keys_are_published(
    tmp_path: Path, algorithm: str
) -> None:
    old, new = new_key(algorithm), new_key(algorithm)
    old_file = tmp_path / "old.pem"
    old_file.write_bytes(private_pem(old))
    async with serving(tmp_path, **keyed(algorithm, old)) as before:
        account = await before.create_account()
    async with serving(tmp_path, **keyed(algorithm, new, jwt_previous_keys=(str(old_file),))) as after:
        me = await after.client.get(ME, headers=account.auth)
        jwks = (await after.client.get(JWKS)).json()
    async with serving(tmp_path, **keyed(algorithm, new)) as retired:
        me_retired = await retired.client.get(ME, headers=account.auth)

    assert me.status_code == 200, me.text
    assert [k["kid"] for k in jwks["keys"]] == [thumbprint(new.public_key()), thumbprint(old.public_key())]
    assert verify_with_joserfc(account.token, jwks, algorithm)["sub"] == str(account.id)
    assert_envelope(me_retired, 401, "AuthenticationError")


async def test_the_discovery_document_names_the_issuer_and_where_the_keys_are(tmp_path: Path) -> None:
    public_url = "https://accounts.example.org/gatehouse"
    async with serving(tmp_path, public_url=public_url) as api:
        response = await api.client.get(DISCOVERY)

    assert response.status_code == 200
    assert response.json() == {
        "issuer": "gatehouse",
        "jwks_uri": f"{public_url}/.well-known/jwks.json",
        "token_endpoint": f"{public_url}/api/v1/auth/token",
        "grant_types_supported": ["password"],
    }
    assert response.headers["cache-control"] == "public, max-age=300"


@pytest.mark.parametrize("prefix", ["/api/v1", "/api/v2"])
async def test_the_well_known_documents_are_served_at_the_root_only(tmp_path: Path, prefix: str) -> None:
    async with serving(tmp_path, **keyed("EdDSA", new_key("EdDSA"))) as api:
        answers = [await api.client.get(f"{prefix}{path}") for path in (JWKS, DISCOVERY)]
        with_header = await api.client.get(JWKS, headers={"X-API-Version": "2"})

    for answer in answers:
        assert_envelope(answer, 404, "NotFoundError")
    assert with_header.status_code == 200


async def test_both_documents_are_described_in_the_openapi_document(tmp_path: Path) -> None:
    async with serving(tmp_path) as api:
        document = (await api.client.get("/openapi.json")).json()
    (tmp_path / "keyed").mkdir()
    async with serving(tmp_path / "keyed", **keyed("ES256", new_key("ES256"))) as keyed_api:
        same = (await keyed_api.client.get("/openapi.json")).json()

    jwks, discovery = document["paths"][JWKS]["get"], document["paths"][DISCOVERY]["get"]
    assert (jwks["operationId"], discovery["operationId"]) == ("listSigningKeys", "readOpenIdConfiguration")
    assert jwks["tags"] == discovery["tags"] == ["keys"]
    assert jwks["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JwkSetOut"
    }
    assert "Cache-Control" in jwks["responses"]["200"]["headers"]
    assert not [path for path in document["paths"] if path.startswith("/api/") and ".well-known" in path]
    assert same == document  # the key in force changes no byte of it
