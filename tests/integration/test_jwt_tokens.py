"""JwtTokenIssuer against real PyJWT: what it signs, and every token it must refuse."""

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from gatehouse.adapters.jwt_tokens import JwtTokenIssuer, WeakSecretError
from gatehouse.application.errors import AuthenticationError
from gatehouse.application.ports.credentials import AccessClaims
from tests.conftest import TEST_SECRET

OLD_SECRET = "a-retired-signing-secret-still-trusted-0123456789"
STRANGER_SECRET = "a-signing-secret-nobody-told-gatehouse-about-42"
KID = hashlib.sha256(TEST_SECRET.encode()).hexdigest()[:16]


def issuer(secret: str = TEST_SECRET, **kwargs: Any) -> JwtTokenIssuer:
    return JwtTokenIssuer(secret, **kwargs)


def claims(**overrides: Any) -> dict[str, Any]:
    """Claims exactly like the issuer's own, so a test changes only one thing."""
    now = int(datetime.now(UTC).timestamp())
    base = {"sub": "7", "sid": "42", "iat": now, "exp": now + 600, "jti": "j1"}
    return {**base, "iss": "gatehouse", "aud": "gatehouse-api", "typ": "access", **overrides}


def forge(
    payload: dict[str, Any], *, key: str = TEST_SECRET, algorithm: str = "HS256", kid: str = KID
) -> str:
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_an_issued_token_reads_back_as_its_user_and_session() -> None:
    token = issuer().issue_access(user_id=7, session_id=42, now=datetime.now(UTC))

    assert issuer().read_access(token) == AccessClaims(user_id=7, session_id=42)


def test_an_issued_token_carries_every_claim_and_the_kid_of_its_secret() -> None:
    now = datetime.now(UTC)
    first, second = (issuer(access_ttl=900).issue_access(user_id=7, session_id=42, now=now) for _ in range(2))

    header = jwt.get_unverified_header(first)
    body = jwt.decode(first, TEST_SECRET, algorithms=["HS256"], audience="gatehouse-api")
    assert (header["alg"], header["kid"]) == ("HS256", KID)
    assert re.fullmatch(r"[0-9a-f]{16}", header["kid"])
    assert (body["sub"], body["sid"], body["iss"], body["typ"]) == ("7", "42", "gatehouse", "access")
    assert (body["iat"], body["exp"] - body["iat"]) == (int(now.timestamp()), 900)
    assert (
        body["jti"] != jwt.decode(second, TEST_SECRET, algorithms=["HS256"], audience="gatehouse-api")["jti"]
    )


def test_a_forged_token_like_the_issuers_is_accepted() -> None:
    # The control for the refusals below: only the one named change makes them fail.
    assert issuer().read_access(forge(claims())) == AccessClaims(user_id=7, session_id=42)


@pytest.mark.parametrize("claim", ["sub", "exp", "iat", "jti", "iss", "aud", "sid", "typ"])
def test_a_token_missing_any_claim_is_refused(claim: str) -> None:
    payload = claims()
    del payload[claim]

    with pytest.raises(AuthenticationError):
        issuer().read_access(forge(payload))


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "someone-else"},
        {"iss": "evil"},
        {"typ": "refresh"},
        {"sub": "seven"},
        {"sub": 7},
        {"sid": "-1"},
        {"exp": int(datetime.now(UTC).timestamp()) - 5},
    ],
    ids=[
        "wrong-aud",
        "wrong-iss",
        "typ-refresh",
        "sub-not-decimal",
        "sub-not-string",
        "sid-negative",
        "expired",
    ],
)
def test_a_token_with_a_wrong_claim_is_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(AuthenticationError):
        issuer().read_access(forge(claims(**overrides)))


def test_a_token_issued_too_long_ago_has_expired() -> None:
    token = issuer().issue_access(user_id=7, session_id=42, now=datetime.now(UTC) - timedelta(seconds=1801))

    with pytest.raises(AuthenticationError, match="expired"):
        issuer().read_access(token)


def test_an_unsigned_alg_none_token_is_refused() -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": KID}).encode())
    token = f"{header}.{_b64(json.dumps(claims()).encode())}."

    with pytest.raises(AuthenticationError):
        issuer().read_access(token)


def test_an_hs512_token_signed_with_a_known_secret_is_refused() -> None:
    long_secret = "x" * 64  # HS512 wants a 64-byte key
    token = forge(
        claims(), key=long_secret, algorithm="HS512", kid=hashlib.sha256(b"x" * 64).hexdigest()[:16]
    )

    with pytest.raises(AuthenticationError):
        issuer(long_secret).read_access(token)


def test_an_rs256_header_over_an_hmac_of_the_secret_is_refused() -> None:
    header = {"alg": "RS256", "typ": "JWT", "kid": KID}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims()).encode())}"
    signature = hmac.new(TEST_SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()

    with pytest.raises(AuthenticationError):
        issuer().read_access(f"{signing_input}.{_b64(signature)}")


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "a.b"])
def test_a_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(AuthenticationError):
        issuer().read_access(token)


def test_a_token_signed_with_a_previous_secret_still_reads() -> None:
    old_token = issuer(OLD_SECRET).issue_access(user_id=7, session_id=42, now=datetime.now(UTC))

    assert issuer(previous_secrets=[OLD_SECRET]).read_access(old_token) == AccessClaims(7, 42)
    with pytest.raises(AuthenticationError):
        issuer().read_access(old_token)  # once retired from the list, it is refused


def test_a_token_signed_with_an_unknown_secret_is_refused() -> None:
    stranger = issuer(STRANGER_SECRET).issue_access(user_id=7, session_id=42, now=datetime.now(UTC))
    wearing_our_kid = forge(claims(), key=STRANGER_SECRET)

    for token in (stranger, wearing_our_kid):
        with pytest.raises(AuthenticationError):
            issuer(previous_secrets=[OLD_SECRET]).read_access(token)


def test_a_token_without_a_kid_is_refused() -> None:
    token = jwt.encode(claims(), TEST_SECRET, algorithm="HS256")

    with pytest.raises(AuthenticationError):
        issuer().read_access(token)


@pytest.mark.parametrize("weak", ["s" * 31, "é" * 15 + "s"], ids=["31-ascii", "31-bytes-utf8"])
def test_a_secret_under_32_bytes_is_refused_as_current_or_previous(weak: str) -> None:
    with pytest.raises(WeakSecretError):
        JwtTokenIssuer(weak)
    with pytest.raises(WeakSecretError):
        JwtTokenIssuer(TEST_SECRET, previous_secrets=[OLD_SECRET, weak])


@pytest.mark.parametrize("secret", ["s" * 32, "é" * 16], ids=["32-ascii", "32-bytes-utf8"])
def test_a_secret_of_32_bytes_signs_and_verifies(secret: str) -> None:
    tokens = JwtTokenIssuer(secret)

    token = tokens.issue_access(user_id=1, session_id=2, now=datetime.now(UTC))

    assert tokens.read_access(token) == AccessClaims(user_id=1, session_id=2)


def test_the_fingerprint_is_the_sha256_hex_of_the_token() -> None:
    fingerprint = issuer().fingerprint("opaque-token")

    assert fingerprint == hashlib.sha256(b"opaque-token").hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint)
    assert issuer().fingerprint("opaque-token2") != fingerprint


def test_opaque_tokens_are_url_safe_carry_32_bytes_and_never_repeat() -> None:
    tokens = [issuer().new_opaque_token() for _ in range(200)]

    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43,}", t) for t in tokens)
    assert len(set(tokens)) == len(tokens)
