"""signing_keys.py against real cryptography (and joserfc as a second opinion): PEM in and out,
RFC 7638 thumbprints, the published JWKs, and every key it must refuse, without showing it."""

import base64
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from joserfc.jwk import ECKey, OKPKey

from gatehouse.adapters.signing_keys import (
    NoPublishedKeys,
    PemKeyGenerator,
    PrivateKey,
    SigningKeyError,
    SigningKeyRing,
    load_private_key,
    load_public_key,
    public_jwk,
    thumbprint,
)
from tests.token_forgery import private_pem, public_pem

# RFC 8037 Appendix A.2 and A.3: an Ed25519 public key and its RFC 7638 thumbprint.
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def p256_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def assert_no_key_material(message: str, pem: bytes) -> None:
    for line in pem.decode().splitlines():
        if not line.startswith("-----"):
            assert line[:16] not in message, message


def test_the_thumbprint_of_the_rfc_8037_example_key_is_the_rfcs() -> None:
    raw = base64.urlsafe_b64decode(RFC8037_X + "=")

    assert thumbprint(ed25519.Ed25519PublicKey.from_public_bytes(raw)) == RFC8037_THUMBPRINT


@pytest.mark.parametrize("make", [ed_key, p256_key], ids=["Ed25519", "P-256"])
def test_the_thumbprint_and_the_jwk_agree_with_joserfc(make: Callable[[], PrivateKey]) -> None:
    key = make()
    other = (OKPKey if isinstance(key, ed25519.Ed25519PrivateKey) else ECKey).import_key(public_pem(key))
    algorithm = "EdDSA" if isinstance(key, ed25519.Ed25519PrivateKey) else "ES256"

    jwk = public_jwk(key.public_key(), algorithm)

    assert jwk.kid == thumbprint(key.public_key()) == other.thumbprint()
    assert {"kty": jwk.kty, "crv": jwk.crv, "x": jwk.x, **({"y": jwk.y} if jwk.y else {})} == dict(
        other.as_dict()
    )
    assert (jwk.alg, jwk.use) == (algorithm, "sig")


def test_a_p256_coordinate_keeps_its_leading_zero_bytes() -> None:
    """RFC 7518 §6.2.1.2: x and y are the full 32 bytes, however small the number."""
    for _ in range(64):
        jwk = public_jwk(p256_key().public_key(), "ES256")
        assert jwk.y is not None
        assert len(base64.urlsafe_b64decode(jwk.x + "=")) == len(base64.urlsafe_b64decode(jwk.y + "=")) == 32


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256"])
def test_a_generated_key_is_unencrypted_pkcs8_and_its_kid_is_its_thumbprint(algorithm: str) -> None:
    new = PemKeyGenerator().generate(algorithm)

    key = load_private_key(new.pem, algorithm)
    assert new.pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert (new.algorithm, new.kid) == (algorithm, thumbprint(key.public_key()))
    assert new.pem.decode() not in repr(new)
    assert PemKeyGenerator().generate(algorithm).kid != new.kid


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256"])
def test_a_public_key_reads_from_a_public_or_a_private_pem(algorithm: str) -> None:
    key = ed_key() if algorithm == "EdDSA" else p256_key()

    from_public = load_public_key(public_pem(key), algorithm)
    from_private = load_public_key(private_pem(key), algorithm)

    assert thumbprint(from_public) == thumbprint(from_private) == thumbprint(key.public_key())


@pytest.mark.parametrize(
    ("key", "algorithm", "words"),
    [
        (rsa.generate_private_key(public_exponent=65537, key_size=2048), "EdDSA", ["RSA", "Ed25519"]),
        (rsa.generate_private_key(public_exponent=65537, key_size=2048), "ES256", ["RSA", "P-256"]),
        (ec.generate_private_key(ec.SECP384R1()), "ES256", ["P-384", "P-256"]),
        (ed25519.Ed25519PrivateKey.generate(), "ES256", ["Ed25519", "P-256"]),
        (ec.generate_private_key(ec.SECP256R1()), "EdDSA", ["P-256", "Ed25519"]),
        (ed448.Ed448PrivateKey.generate(), "EdDSA", ["Ed448", "Ed25519"]),
    ],
    ids=["rsa-for-eddsa", "rsa-for-es256", "p384-for-es256", "ed25519-for-es256", "p256-for-eddsa", "ed448"],
)
def test_a_key_of_another_kind_is_refused_saying_which_without_showing_it(
    key: object, algorithm: str, words: list[str]
) -> None:
    pem = private_pem(key)
    for load, material in ((load_private_key, pem), (load_public_key, pem), (load_public_key, _public(key))):
        with pytest.raises(SigningKeyError) as refused:
            load(material, algorithm)
        for word in words:
            assert word in str(refused.value)
        assert_no_key_material(str(refused.value), material)


def _public(key: object) -> bytes:
    public = key.public_key()  # type: ignore[attr-defined]
    pem: bytes = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem


@pytest.mark.parametrize(
    "pem",
    [b"", b"not a key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"],
    ids=["empty", "text", "truncated"],
)
def test_what_is_not_a_pem_key_is_refused(pem: bytes) -> None:
    with pytest.raises(SigningKeyError, match="not a PEM private key"):
        load_private_key(pem, "EdDSA")
    with pytest.raises(SigningKeyError, match="not a PEM"):
        load_public_key(pem, "EdDSA")


def test_an_encrypted_private_key_is_refused_as_encrypted() -> None:
    pem = ed_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"a passphrase"),
    )

    with pytest.raises(SigningKeyError, match="encrypted"):
        load_private_key(pem, "EdDSA")


def test_the_key_ring_publishes_its_own_key_first_then_each_previous_key_once() -> None:
    current, old, older = ed_key(), ed_key(), ed_key()

    ring = SigningKeyRing(
        "EdDSA", current, [old.public_key(), older.public_key(), old.public_key(), current.public_key()]
    )

    kids = [thumbprint(k.public_key()) for k in (current, old, older)]
    assert ring.kid == kids[0]
    assert [jwk.kid for jwk in ring.public_keys()] == kids
    assert list(ring.verifying_keys) == kids


def test_a_key_ring_refuses_a_previous_key_of_another_kind() -> None:
    with pytest.raises(SigningKeyError, match="P-256"):
        SigningKeyRing("EdDSA", ed_key(), [p256_key().public_key()])


def test_without_a_key_ring_nothing_is_published() -> None:
    assert list(NoPublishedKeys().public_keys()) == []
