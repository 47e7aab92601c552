"""Ed25519 and P-256 signing keys (cryptography): PEM in and out, RFC 7638 thumbprints, the JWK Set."""

import base64
import hashlib
import json
from collections.abc import Sequence

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519

from gatehouse.application.ports.credentials import (
    PUBLIC_KEY_ALGORITHMS,
    NewSigningKey,
    PublicJwk,
    PublishedKeys,
    SigningKeyFactory,
)

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
# What each algorithm signs with, in the words of the error messages.
WANTED = {"EdDSA": "an Ed25519 key", "ES256": "a P-256 (secp256r1) EC key"}
CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
P256_BYTES = 32


class SigningKeyError(ValueError):
    """A key Gatehouse can't sign or verify with. The message completes a sentence whose subject
    is where the key came from ("… is not a PEM private key"); it never shows the key."""


def load_private_key(pem: bytes, algorithm: str) -> PrivateKey:
    """An unencrypted PEM private key of the kind `algorithm` signs with."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError:  # cryptography's word for "encrypted, and no password given"
        raise SigningKeyError("is an encrypted private key; Gatehouse reads it unencrypted") from None
    except (ValueError, UnsupportedAlgorithm):
        raise SigningKeyError("is not a PEM private key (-----BEGIN PRIVATE KEY-----)") from None
    if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        _checked(key.public_key(), algorithm)  # the other algorithm's key, or an EC key on another curve
        return key
    raise _refusal(key.public_key(), algorithm)


def load_public_key(pem: bytes, algorithm: str) -> PublicKey:
    """A PEM public key, or the public half of a PEM private key, of the kind `algorithm` verifies."""
    if b"PRIVATE KEY-----" in pem:
        return load_private_key(pem, algorithm).public_key()
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):
        raise SigningKeyError("is not a PEM public or private key (-----BEGIN PUBLIC KEY-----)") from None
    return _checked(key, algorithm)


def _checked(key: object, algorithm: str) -> PublicKey:
    if algorithm == "EdDSA" and isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if (
        algorithm == "ES256"
        and isinstance(key, ec.EllipticCurvePublicKey)
        and isinstance(key.curve, ec.SECP256R1)
    ):
        return key
    raise _refusal(key, algorithm)


def _refusal(key: object, algorithm: str) -> SigningKeyError:
    return SigningKeyError(f"is {_kind(key)}, not {WANTED[algorithm]} for {algorithm}")


def _kind(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"a {CURVE_NAMES.get(key.curve.name, key.curve.name)} EC key"
    kinds = {
        ed25519.Ed25519PublicKey: "an Ed25519 key",
        ed448.Ed448PublicKey: "an Ed448 key",
        x25519.X25519PublicKey: "an X25519 key",
        x448.X448PublicKey: "an X448 key",
        rsa.RSAPublicKey: "an RSA key",
    }
    return next((name for kind, name in kinds.items() if isinstance(key, kind)), "a key of another kind")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _members(key: PublicKey) -> dict[str, str]:
    """The JWK's required members (RFC 8037 for OKP, RFC 7518 §6.2 for EC)."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": _b64(raw)}
    numbers = key.public_numbers()
    return {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64(numbers.x.to_bytes(P256_BYTES, "big")),
        "y": _b64(numbers.y.to_bytes(P256_BYTES, "big")),
    }


def thumbprint(key: PublicKey) -> str:
    """The RFC 7638 JWK thumbprint: SHA-256 of the required members, sorted, without whitespace."""
    canonical = json.dumps(_members(key), sort_keys=True, separators=(",", ":"))
    return _b64(hashlib.sha256(canonical.encode()).digest())


def public_jwk(key: PublicKey, algorithm: str) -> PublicJwk:
    members = _members(key)
    return PublicJwk(
        kty=members["kty"],
        crv=members["crv"],
        x=members["x"],
        y=members.get("y"),
        kid=thumbprint(key),
        alg=algorithm,
    )


class SigningKeyRing(PublishedKeys):
    """The private key that signs access tokens, and every public key that verifies them by `kid`:
    its own first, then the previous keys' (still trusted until their tokens expire)."""

    def __init__(self, algorithm: str, private_key: PrivateKey, previous: Sequence[PublicKey] = ()) -> None:
        if algorithm not in PUBLIC_KEY_ALGORITHMS:
            raise SigningKeyError(f"names {algorithm!r}, not one of {', '.join(PUBLIC_KEY_ALGORITHMS)}")
        keys = [_checked(private_key.public_key(), algorithm), *(_checked(k, algorithm) for k in previous)]
        self.algorithm = algorithm
        self.private_key = private_key
        self.kid = thumbprint(keys[0])
        self.verifying_keys: dict[str, PublicKey] = {}
        for key in keys:  # a previous key listed twice, or the current key again, counts once
            self.verifying_keys.setdefault(thumbprint(key), key)
        self._published = tuple(public_jwk(key, algorithm) for key in self.verifying_keys.values())

    def public_keys(self) -> Sequence[PublicJwk]:
        return self._published


class NoPublishedKeys(PublishedKeys):
    """HS256: tokens are signed with a shared secret, which is never published."""

    def public_keys(self) -> Sequence[PublicJwk]:
        return ()


class PemKeyGenerator(SigningKeyFactory):
    def generate(self, algorithm: str) -> NewSigningKey:
        """A fresh key from the operating system's randomness, as unencrypted PKCS#8 PEM."""
        key: PrivateKey
        if algorithm == "EdDSA":
            key = ed25519.Ed25519PrivateKey.generate()
        elif algorithm == "ES256":
            key = ec.generate_private_key(ec.SECP256R1())
        else:
            raise SigningKeyError(f"names {algorithm!r}, not one of {', '.join(PUBLIC_KEY_ALGORITHMS)}")
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return NewSigningKey(algorithm=algorithm, kid=thumbprint(key.public_key()), pem=pem)
