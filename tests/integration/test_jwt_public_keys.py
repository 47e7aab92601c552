"""JwtTokenIssuer with a key ring (§13, EdDSA and ES256) against real PyJWT: what it signs, what a
previous key still verifies, and every token it must refuse — above all a token in another
algorithm, whatever key signed it (the algorithm-confusion attacks)."""

from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from gatehouse.adapters.jwt_tokens import JwtTokenIssuer
from gatehouse.adapters.signing_keys import PrivateKey, SigningKeyRing, thumbprint
from gatehouse.application.errors import AuthenticationError
from gatehouse.application.ports.credentials import AccessClaims
from tests.conftest import TEST_SECRET
from tests.token_forgery import hmac_token, public_pem, unsigned_token

ALGORITHMS = ["EdDSA", "ES256"]


def new_key(algorithm: str) -> PrivateKey:
    return (
        ed25519.Ed25519PrivateKey.generate()
        if algorithm == "EdDSA"
        else ec.generate_private_key(ec.SECP256R1())
    )


def issuer(algorithm: str, key: PrivateKey, previous: list[PrivateKey] | None = None) -> JwtTokenIssuer:
    ring = SigningKeyRing(algorithm, key, [k.public_key() for k in previous or []])
    return JwtTokenIssuer(TEST_SECRET, key_ring=ring)


def kid(key: PrivateKey) -> str:
    return thumbprint(key.public_key())


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    base = {"sub": "7", "sid": "42", "iat": now, "exp": now + 600, "jti": "j1"}
    return {**base, "iss": "gatehouse", "aud": "gatehouse-api", "typ": "access", **overrides}


def issue(tokens: JwtTokenIssuer) -> str:
    return tokens.issue_access(user_id=7, session_id=42, now=datetime.now(UTC))


@pytest.fixture(params=ALGORITHMS)
def algorithm(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_token_is_signed_with_the_private_key_and_names_it_by_its_thumbprint(algorithm: str) -> None:
    key = new_key(algorithm)

    token = issue(issuer(algorithm, key))

    header = jwt.get_unverified_header(token)
    body = jwt.decode(token, key.public_key(), algorithms=[algorithm], audience="gatehouse-api")
    assert (header["alg"], header["kid"]) == (algorithm, kid(key))
    assert (body["sub"], body["sid"], body["iss"], body["typ"]) == ("7", "42", "gatehouse", "access")
    assert issuer(algorithm, key).read_access(token) == AccessClaims(user_id=7, session_id=42)


def test_a_token_read_twice_is_the_same_claims(algorithm: str) -> None:
    tokens = issuer(algorithm, new_key(algorithm))
    token = issue(tokens)

    assert tokens.read_access(token) == tokens.read_access(token) == AccessClaims(7, 42)


def test_a_token_of_a_previous_key_verifies_until_the_key_is_no_longer_listed(algorithm: str) -> None:
    old, new = new_key(algorithm), new_key(algorithm)
    old_token = issue(issuer(algorithm, old))

    assert issuer(algorithm, new, previous=[old]).read_access(old_token) == AccessClaims(7, 42)
    with pytest.raises(AuthenticationError):
        issuer(algorithm, new).read_access(old_token)


def test_a_token_of_an_unknown_key_is_refused_whatever_kid_it_wears(algorithm: str) -> None:
    ours, stranger = new_key(algorithm), new_key(algorithm)
    own_kid = jwt.encode(claims(), stranger, algorithm=algorithm, headers={"kid": kid(stranger)})
    our_kid = jwt.encode(claims(), stranger, algorithm=algorithm, headers={"kid": kid(ours)})
    no_kid = jwt.encode(claims(), ours, algorithm=algorithm)

    for token in (own_kid, our_kid, no_kid):
        with pytest.raises(AuthenticationError):
            issuer(algorithm, ours).read_access(token)


def test_an_hs256_token_signed_with_the_secret_is_refused(algorithm: str) -> None:
    key = new_key(algorithm)
    hs256 = JwtTokenIssuer(TEST_SECRET)  # the same secret, still configured for the cursors
    secret_kid = jwt.get_unverified_header(issue(hs256))["kid"]

    for header_kid in (secret_kid, kid(key)):
        token = jwt.encode(claims(), TEST_SECRET, algorithm="HS256", headers={"kid": header_kid})
        with pytest.raises(AuthenticationError):
            issuer(algorithm, key).read_access(token)


def test_an_hs256_token_hmac_signed_with_the_public_key_pem_is_refused(algorithm: str) -> None:
    """The classic confusion: the public key, published in the JWKS, used as an HMAC secret."""
    key = new_key(algorithm)

    for secret in (public_pem(key), public_pem(key).strip()):
        with pytest.raises(AuthenticationError):
            issuer(algorithm, key).read_access(hmac_token(claims(), secret, kid=kid(key)))


def test_an_unsigned_alg_none_token_is_refused(algorithm: str) -> None:
    key = new_key(algorithm)

    with pytest.raises(AuthenticationError):
        issuer(algorithm, key).read_access(unsigned_token(claims(), kid=kid(key)))


def test_a_token_of_the_other_public_key_algorithm_is_refused() -> None:
    ed, p256 = new_key("EdDSA"), new_key("ES256")
    es256_token = jwt.encode(claims(), p256, algorithm="ES256", headers={"kid": kid(ed)})
    eddsa_token = jwt.encode(claims(), ed, algorithm="EdDSA", headers={"kid": kid(p256)})

    with pytest.raises(AuthenticationError):
        issuer("EdDSA", ed).read_access(es256_token)
    with pytest.raises(AuthenticationError):
        issuer("ES256", p256).read_access(eddsa_token)


def test_a_public_key_token_presented_in_hs256_mode_is_refused(algorithm: str) -> None:
    token = issue(issuer(algorithm, new_key(algorithm)))

    with pytest.raises(AuthenticationError):
        JwtTokenIssuer(TEST_SECRET).read_access(token)


def test_switching_from_hs256_ends_the_tokens_issued_before(algorithm: str) -> None:
    before = issue(JwtTokenIssuer(TEST_SECRET))

    with pytest.raises(AuthenticationError):
        issuer(algorithm, new_key(algorithm)).read_access(before)


@pytest.mark.parametrize("claim", ["sub", "exp", "iat", "jti", "iss", "aud", "sid", "typ"])
def test_every_claim_is_still_required(algorithm: str, claim: str) -> None:
    key = new_key(algorithm)
    payload = claims()
    del payload[claim]

    with pytest.raises(AuthenticationError):
        issuer(algorithm, key).read_access(
            jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid(key)})
        )


@pytest.mark.parametrize(
    "overrides",
    [{"aud": "someone-else"}, {"iss": "evil"}, {"typ": "refresh"}, {"exp": 1}],
    ids=["wrong-aud", "wrong-iss", "typ-refresh", "expired"],
)
def test_a_wrong_claim_is_still_refused(algorithm: str, overrides: dict[str, Any]) -> None:
    key = new_key(algorithm)
    token = jwt.encode(claims(**overrides), key, algorithm=algorithm, headers={"kid": kid(key)})

    with pytest.raises(AuthenticationError):
        issuer(algorithm, key).read_access(token)


def test_a_signature_altered_by_one_character_is_refused(algorithm: str) -> None:
    key = new_key(algorithm)
    token = issue(issuer(algorithm, key))
    head, body, signature = token.split(".")
    altered = f"{head}.{body}.{signature[:10]}{'A' if signature[10] != 'A' else 'B'}{signature[11:]}"

    with pytest.raises(AuthenticationError):
        issuer(algorithm, key).read_access(altered)
